"""The one exception tree of composer.

Every error a person can cause derives from :class:`ComposerError`, carries an
exit code and a message written for a person. The CLI catches ``ComposerError``,
prints ``str(error)`` on one line and exits with ``error.exit_code``; anything
else escaping is a bug.

::

    ComposerError
    ├── ConfigError                 bad compose input (exit 15, as Docker Compose)
    │   ├── YamlError               not parseable as YAML / not a mapping / too large
    │   ├── SchemaError             fails the compose-spec JSON schema
    │   ├── InterpolationError      ${VAR:?msg} unset, bad ${...} syntax
    │   ├── EnvFileError            .env / env_file missing or malformed
    │   ├── MergeError              files that cannot be merged
    │   ├── ExtendsError            extends target missing, cycles
    │   ├── IncludeError            include cycles, missing files
    │   ├── ProfileError            depends on a disabled service
    │   └── ValidationError         semantic checks (undefined volume, cycles, ...)
    ├── DiscoveryError              no compose file found, bad project name (exit 14)
    ├── UsageError                  bad command-line usage (exit 2)
    ├── LockError                   the project lock cannot be had (exit 1)
    └── EngineError                 the engine refused or failed (exit 1)
        ├── EngineUnreachableError  no engine at the address tried
        ├── ExecutionError          steps of a plan failed (one line per service)
        ├── WaitError               a dependency condition cannot be met
        ├── NotFoundError           no such container, network, volume or image
        ├── ConflictError           a name or resource in use
        ├── UnsupportedError        this engine (or API version) cannot do it
        └── BuildError              an image build failed (names service and step)

What v2 prints as ``WARN[0000] ...`` and goes on (an unset variable, an obsolete
key) is a warning, not an error: the library reports it through the ``warn``
callback it is given, else as Python's ``warnings`` in this category::

    UserWarning
    └── ComposerWarning             a project loaded, with something to say about it
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mark:
    """A place in a source file: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def format_path(path: tuple[str | int, ...]) -> str:
    """Render a key path as compose users write it: ``services.web.ports[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class ComposerError(Exception):
    """Root of every error composer raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ComposerError):
    """The compose input is wrong. Knows where, when it can."""

    exit_code = 15

    def __init__(
        self,
        message: str,
        *,
        mark: Mark | None = None,
        path: tuple[str | int, ...] | None = None,
        file: str | None = None,
    ) -> None:
        super().__init__(message)
        self.mark = mark
        self.path = path
        self.file = file if file is not None else (mark.file if mark else None)

    def __str__(self) -> str:
        prefix = ""
        if self.mark is not None:
            prefix = f"{self.mark}: "
        elif self.file:
            prefix = f"{self.file}: "
        if self.path:
            prefix += f"{format_path(self.path)}: "
        return prefix + self.message


class YamlError(ConfigError):
    """The file is not YAML we accept."""


class SchemaError(ConfigError):
    """The file does not follow the compose-spec schema."""


class InterpolationError(ConfigError):
    """A ``${...}`` expression is malformed or a required variable is unset."""


class EnvFileError(ConfigError):
    """An env file is missing or malformed."""


class MergeError(ConfigError):
    """Files cannot be merged."""


class ExtendsError(ConfigError):
    """``extends`` names something missing, or loops."""


class IncludeError(ConfigError):
    """``include`` names something missing, or loops."""


class ProfileError(ConfigError):
    """A service depends on a service whose profile is not enabled."""


class ValidationError(ConfigError):
    """The project is well-formed but inconsistent."""


class DiscoveryError(ComposerError):
    """No compose file found, or the project cannot be named."""

    exit_code = 14


class UsageError(ComposerError):
    """The command line is wrong."""

    exit_code = 2


class LockError(ComposerError):
    """The project's lock cannot be had: composer's state directory is not private
    to this user, or a bounded wait for another command ran out
    (:mod:`composer.runtime.lock`)."""

    exit_code = 1


class EngineError(ComposerError):
    """The container engine refused or failed a request."""

    exit_code = 1


class EngineUnreachableError(EngineError):
    """No engine answers at the address tried."""


class NotFoundError(EngineError):
    """The engine has no such container, network, volume or image."""


class ConflictError(EngineError):
    """The engine refused because of a conflict (a name in use, a resource in use)."""


class UnsupportedError(EngineError):
    """The project asks for something this engine (or its API version) cannot do."""


class BuildError(EngineError):
    """An image build failed: one line naming the service, the step and the engine's
    message (``service "app" failed to build at step 2/3 (RUN make): ...``)."""


@dataclass(frozen=True, slots=True)
class StepFailure:
    """One step that failed: what it acted on (``subject``: ``service "web"``,
    ``network "p_default"``...), the plan step, and why."""

    subject: str
    step: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


class WaitError(EngineError):
    """A dependency condition cannot be met (unhealthy, exited, timed out)."""


class ExecutionError(EngineError):
    """Some steps of a plan failed. One line per failure, each naming the service
    (or network, volume, image) and the cause; the steps that depended on a
    failed one did not run and are listed in ``skipped``."""

    def __init__(self, failures: list[StepFailure], skipped: list[str],
                 warnings: list[str] | None = None) -> None:
        super().__init__("\n".join(str(f) for f in failures))
        self.failures = tuple(failures)
        self.skipped = tuple(skipped)
        #: Warnings met on the way (the plan's, optional dependencies that failed).
        self.warnings: list[str] = list(warnings or ())


class ComposerWarning(UserWarning):
    """A warning about a project that loaded anyway (v2's ``WARN[0000]`` lines).

    The loader's default when no ``warn`` callback is given; the CLI passes its
    own callback and prints them as v2 does."""

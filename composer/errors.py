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
    ├── OperationCancelled          interrupted before it ended (exit 130)
    └── EngineError                 the engine refused or failed (exit 1)
        ├── EngineUnreachableError  no engine at the address tried
        ├── ExecutionError          steps of a plan failed (one line per service)
        ├── WaitError               a dependency condition cannot be met
        │   └── NotReadyError       a readiness probe timed out (service, probe, logs)
        ├── ExecFailedError         exec(check=True): the command exited non-zero
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

from composer.frozen import frozen


@frozen(slots=True)
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
    """The container engine refused or failed a request. ``status`` is the engine's
    HTTP status when it answered one (404, 409, 500...), else None."""

    exit_code = 1

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EngineUnreachableError(EngineError):
    """No engine answers at the address tried."""


class NotFoundError(EngineError):
    """The engine (or the project) has no such container, network, volume, image or
    service: ``kind`` and ``name`` say which, when known."""

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None,
                 name: str | None = None) -> None:
        super().__init__(message, status=status)
        self.kind = kind
        self.name = name


class ConflictError(EngineError):
    """The engine refused because of a conflict (a name in use, a resource in use);
    ``name`` is the contested name, when known."""

    def __init__(self, message: str, *, status: int | None = None,
                 name: str | None = None) -> None:
        super().__init__(message, status=status)
        self.name = name


class UnsupportedError(EngineError):
    """The project asks for something this engine (or its API version) cannot do."""


class BuildError(EngineError):
    """An image build failed: one line naming the service, the step and the engine's
    message (``service "app" failed to build at step 2/3 (RUN make): ...``)."""


@frozen(slots=True)
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


class NotReadyError(WaitError):
    """A service did not become ready within its timeout, or a probe cannot run where
    its container is (``cannot_run``).

    Fields: ``service``, ``container``, ``probe`` (the one that failed last, or
    None), ``detail`` (its last error, also as ``last_error``), ``timeout``
    (seconds), ``health_log`` (the engine's last healthcheck runs, as text, when the
    container has a healthcheck) and ``logs_tail`` (the container's last lines of
    output; the library fills both in, the CLI's one-line message leaves them out).
    ``str()`` shows them all."""

    def __init__(self, *, service: str, container: str, probe: object | None,
                 detail: str, timeout: float, cannot_run: bool = False,
                 health_log: tuple[str, ...] = (), logs_tail: tuple[str, ...] = ()) -> None:
        self.service = service
        self.container = container
        self.probe = probe
        self.detail = detail
        self.timeout = timeout
        self.cannot_run = cannot_run
        self.health_log = tuple(health_log)
        self.logs_tail = tuple(logs_tail)
        what = f"{probe}: {detail}" if probe is not None else detail
        if cannot_run:
            #: The message without the service (for a line that names it already).
            self.reason = f"readiness cannot be checked: {what}"
            message = f'service "{service}": {self.reason}'
        else:
            self.reason = f"not ready after {timeout:g}s: {what} (container {container})"
            message = f'service "{service}" is {self.reason}'
        super().__init__(message)

    def __str__(self) -> str:
        text = self.message
        if self.health_log:
            text += "\nhealth log:\n" + "\n".join(f"  {line}" for line in self.health_log)
        if self.logs_tail:
            text += "\nlast logs:\n" + "\n".join(f"  {line}" for line in self.logs_tail)
        return text

    @property
    def last_error(self) -> str:
        """The probe's last error (``detail``)."""
        return self.detail

    def with_context(self, *, health_log: tuple[str, ...] = (),
                     logs_tail: tuple[str, ...] = ()) -> NotReadyError:
        """The same error with the health log and logs tail filled in."""
        return NotReadyError(service=self.service, container=self.container, probe=self.probe,
                             detail=self.detail, timeout=self.timeout,
                             cannot_run=self.cannot_run, health_log=health_log,
                             logs_tail=logs_tail)


class ExecFailedError(EngineError):
    """A command run with ``exec(..., check=True)`` exited non-zero: ``service``,
    ``cmd``, ``returncode`` (the command's exit code, named as
    subprocess.CalledProcessError's: ``exit_code`` stays every composer error's
    exit status for the command line, 1 here), ``stdout`` and ``stderr`` (text)."""

    def __init__(self, *, service: str, cmd: tuple[str, ...], exit_code: int, stdout: str,
                 stderr: str) -> None:
        self.service = service
        self.cmd = cmd
        self.returncode = exit_code
        self.stdout = stdout
        self.stderr = stderr
        last = (stderr.strip() or stdout.strip()).splitlines()[-1:] or [""]
        super().__init__(f'service "{service}": {" ".join(cmd)} exited {exit_code}'
                         + (f": {last[0]}" if last[0] else ""))


class OperationCancelled(ComposerError):
    """An operation was interrupted (Ctrl-C, a cancelled task) before it ended; what
    it had made is left for ``down`` (or a rerun) to converge from. Exit 130."""

    exit_code = 130


class ComposerWarning(UserWarning):
    """A warning about a project that loaded anyway (v2's ``WARN[0000]`` lines).

    The loader's default when no ``warn`` callback is given; the CLI passes its
    own callback and prints them as v2 does."""

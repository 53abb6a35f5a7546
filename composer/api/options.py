"""The typed options and outcomes of :class:`composer.api.Compose`'s verbs.

One frozen ``*Options`` dataclass per verb, mirroring its command-line flags
(``UpOptions(wait=True)`` is ``up --wait``), and the :class:`Outcome` a verb
returns. Pure data: nothing here talks to an engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from composer.frozen import frozen
from composer.plan.plan import Plan
from composer.plan.run import OneOffOptions
from composer.runtime.executor import ExecutionResult

__all__ = [
    "BuildOptions",
    "CreateOptions",
    "DownOptions",
    "KillOptions",
    "Outcome",
    "PauseOptions",
    "PsOptions",
    "RestartOptions",
    "RmOptions",
    "RunOptions",
    "RunOutcome",
    "StartOptions",
    "StopOptions",
    "UnpauseOptions",
    "UpOptions",
]


@frozen(kw_only=True)
class CreateOptions:
    """``create``: the services to converge (empty: all) and how.

    ``pull`` is ``always``, ``missing``, ``never`` or ``policy`` (each service's
    own ``pull_policy``, the default). ``timeout``: seconds to wait for a
    replaced container to stop. ``build`` rebuilds the images of services with a
    ``build:`` section (``--build``); ``no_build`` never builds (``--no-build``);
    otherwise an image is built when missing or when ``pull_policy: build``;
    ``quiet_build`` streams no build output; ``quiet_pull`` shows no per-layer
    pull progress (each image's Pulling/Pulled lines stay). ``always_recreate_deps`` recreates the
    dependencies of the named services; ``renew_anon_volumes`` recreates the named
    services (all, when none is named) with new anonymous volumes.
    """

    services: Sequence[str] = ()
    scale: Mapping[str, int] = field(default_factory=dict)
    no_deps: bool = False
    force_recreate: bool = False
    always_recreate_deps: bool = False
    no_recreate: bool = False
    renew_anon_volumes: bool = False
    remove_orphans: bool = False
    pull: str = "policy"
    timeout: int | None = None
    dry_run: bool = False
    build: bool = False
    no_build: bool = False
    quiet_build: bool = False
    quiet_pull: bool = False


@frozen(kw_only=True)
class BuildOptions:
    """``build``: the services (empty: all) and, with ``with_dependencies``,
    theirs; ``build_args`` override the files' args (None: from the
    environment); ``no_cache``, ``pull``; ``quiet`` streams no build output;
    ``memory`` (bytes) limits the RUN steps' containers; ``push`` then pushes the
    selected services' ``image:`` names (v2's ``build --push``)."""

    services: Sequence[str] = ()
    with_dependencies: bool = False
    build_args: Mapping[str, str | None] = field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    quiet: bool = False
    dry_run: bool = False
    memory: int | None = None
    push: bool = False


@frozen(kw_only=True)
class UpOptions(CreateOptions):
    """``up``: ``create``, then start. ``no_start`` only creates; ``wait`` waits
    for every service to be running or healthy, each wait bounded by
    ``wait_timeout`` seconds. (Attaching to the logs is the CLI's business.)"""

    no_start: bool = False
    wait: bool = False
    wait_timeout: float | None = None


@frozen(kw_only=True)
class RunOptions(OneOffOptions):
    """``run SERVICE``: the one-off container's flags (see
    :class:`~composer.plan.run.OneOffOptions`), and what comes first: the
    service's dependencies are brought up as ``up`` would (unless ``no_deps``),
    their ``depends_on`` conditions awaited; ``build`` rebuilds the images
    (``--build``), ``pull`` is ``up``'s; ``remove_orphans`` as ``up``'s. The
    container is created, not started: the caller attaches, then starts it.
    ``environment`` is the project's (``-e KEY`` values), ``slug`` the one-off's
    (random when empty)."""

    no_deps: bool = False
    remove_orphans: bool = False
    build: bool = False
    quiet_build: bool = False
    quiet_pull: bool = False
    pull: str = "policy"
    timeout: int | None = None
    dry_run: bool = False
    project_environment: Mapping[str, str] = field(default_factory=dict)
    slug: str = ""


@frozen(kw_only=True)
class DownOptions:
    """``down``: ``volumes`` also removes named and anonymous volumes; ``rmi`` is
    ``local`` or ``all``; ``timeout`` in seconds."""

    services: Sequence[str] = ()
    volumes: bool = False
    remove_orphans: bool = False
    rmi: str | None = None
    timeout: int | None = None
    dry_run: bool = False


@frozen(kw_only=True)
class StartOptions:
    services: Sequence[str] = ()
    wait: bool = False
    wait_timeout: float | None = None
    dry_run: bool = False


@frozen(kw_only=True)
class StopOptions:
    services: Sequence[str] = ()
    timeout: int | None = None
    dry_run: bool = False


@frozen(kw_only=True)
class RestartOptions:
    services: Sequence[str] = ()
    timeout: int | None = None
    no_deps: bool = False
    dry_run: bool = False


@frozen(kw_only=True)
class KillOptions:
    services: Sequence[str] = ()
    signal: str = "SIGKILL"
    remove_orphans: bool = False
    dry_run: bool = False


@frozen(kw_only=True)
class RmOptions:
    """``rm``: ``stop`` stops running containers first (else they are kept);
    ``volumes`` removes their anonymous volumes. Asking for confirmation
    (``-f``) is the CLI's business."""

    services: Sequence[str] = ()
    stop: bool = False
    volumes: bool = False
    dry_run: bool = False


@frozen(kw_only=True)
class PauseOptions:
    services: Sequence[str] = ()
    dry_run: bool = False


@frozen(kw_only=True)
class UnpauseOptions:
    services: Sequence[str] = ()
    dry_run: bool = False


@frozen(kw_only=True)
class PsOptions:
    """``ps``: ``all`` includes stopped containers; ``status`` keeps only these
    states (``running``, ``exited``...)."""

    services: Sequence[str] = ()
    all: bool = False
    status: Sequence[str] = ()


@dataclass
class Outcome:
    """What a verb did: its plans in order (``up`` may pull first), the warnings
    for the person (orphans, optional dependencies that failed, resources still
    in use) and whether the plans ran (``dry_run`` only plans)."""

    plans: list[Plan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    executed: bool = False
    results: list[ExecutionResult] = field(default_factory=list)

    @property
    def plan(self) -> Plan:
        """The main plan (the last one)."""
        return self.plans[-1] if self.plans else Plan()


@dataclass
class RunOutcome(Outcome):
    """``run``'s outcome: the one-off container's name and, once created, its ID."""

    container_name: str = ""
    container_id: str = ""

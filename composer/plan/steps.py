"""The plan's operations: one frozen dataclass per kind of step. Pure data.

Each operation holds everything its engine call needs (names, engine bodies,
timeouts), so running a step is one call with no lookups in the project; the
executor (:mod:`composer.runtime.executor`) dispatches on the operation's type
through a table. An operation's class name is the word a plan prints
(``#2 <- #1 service:db:1 CreateContainer: no existing container``).

Every operation also has ``display``, what a person reads in progress lines
(``Container proj-web-1``, ``Network proj_default``), and may set ``progress``,
the ``(while working, once done)`` words that replace the executor's defaults
(``("Recreate", "")``; ``""`` says nothing).

=================== =========================================================
operation           what it does
=================== =========================================================
CreateNetwork       create network ``name`` from ``body``
RemoveNetwork       remove network ``name`` (gone or in use: a warning)
CreateVolume        create volume ``name`` from ``body``
RemoveVolume        remove volume ``name`` (gone or in use: a warning)
PullImage           pull ``image`` for ``platform``; ``buildable``: a failed
                    pull leaves the image to a build
BuildImage          build ``request`` (a :class:`~composer.backends.base.BuildRequest`)
RemoveImage         remove ``image`` (gone or in use: a warning)
CreateContainer     create container ``name`` from ``body``; ``inherit`` is the
                    ID of the replaced container (whose anonymous volumes the
                    body takes over); ``hash_service``/``hash_refs``: hash the
                    service once the containers it refers to have IDs
ConnectNetwork      connect ``container`` to ``network`` with ``endpoint``
CopyToContainer     copy ``file`` (a secret or config from ``environment:``
                    or ``content:``, a :class:`~composer.backends.spec.files.
                    ContainerFile`) into ``container`` before it starts; the
                    step prints its name and target, never its value
StartContainer      start ``container`` (an ID, or the name a step created)
StopContainer       stop ``container`` within ``timeout`` seconds
KillContainer       send ``signal`` to ``container``
RemoveContainer     remove ``container`` (gone already: done)
RenameContainer     rename ``container`` to ``name``
PauseContainer      pause ``container``
UnpauseContainer    unpause ``container``
CreateService       create the swarm service ``spec`` (a stack's ``ServiceSpec``),
                    its secrets and configs referenced by name (the executor
                    reads their IDs)
UpdateService       replace the spec of service ``service_id`` (at ``version``)
                    by ``spec``: a rolling update, by its ``UpdateConfig``
RemoveService       remove the swarm service ``service_id``
CreateSwarmObject   create the secret or config (``kind``) ``spec``
UpdateSwarmObject   update the secret or config ``object_id`` (at ``version``)
RemoveSwarmObject   remove the secret or config ``object_id``
WaitService         wait until the swarm service ``name`` has converged: its
                    tasks running (healthy, where it has a check: a swarm task
                    is not running before), its update done; with a job, done
WaitCondition       wait until the ``containers`` of ``service`` meet
                    ``condition`` (see :mod:`composer.model.conditions`),
                    with readiness ``probes`` (:class:`TcpProbe`,
                    :class:`HttpProbe`, :class:`LogProbe`) when the service
                    declares ``x-composer-ready`` and no ``healthcheck``;
                    ``required=False`` turns a failure into a warning
=================== =========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from composer.frozen import frozen

if TYPE_CHECKING:
    from composer.backends.base import BuildRequest
    from composer.backends.spec.files import ContainerFile
    from composer.model.project import ServiceConfig

__all__ = [
    "OPERATIONS",
    "BuildImage",
    "ConnectNetwork",
    "CreateService",
    "CreateSwarmObject",
    "CopyToContainer",
    "CreateContainer",
    "CreateNetwork",
    "CreateVolume",
    "HttpProbe",
    "KillContainer",
    "LogProbe",
    "Operation",
    "PauseContainer",
    "PullImage",
    "AnyProbe",
    "ExecProbe",
    "ReadinessProbe",
    "RemoveContainer",
    "RemoveImage",
    "RemoveNetwork",
    "RemoveService",
    "RemoveSwarmObject",
    "RemoveVolume",
    "RenameContainer",
    "StartContainer",
    "SyncFiles",
    "StopContainer",
    "TcpProbe",
    "UnpauseContainer",
    "UpdateService",
    "UpdateSwarmObject",
    "WaitCondition",
    "WaitService",
]


@frozen(kw_only=True, slots=True)
class Operation:
    """What one step does. ``display``: the progress line's subject; ``progress``:
    ``(while working, once done)`` words overriding the executor's."""

    display: str = ""
    progress: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        """The operation's word in a plan (its class name)."""
        return type(self).__name__


# -- networks, volumes, images


@frozen(kw_only=True, slots=True)
class CreateNetwork(Operation):
    name: str
    body: Mapping[str, Any]


@frozen(kw_only=True, slots=True)
class RemoveNetwork(Operation):
    name: str


@frozen(kw_only=True, slots=True)
class CreateVolume(Operation):
    name: str
    body: Mapping[str, Any]


@frozen(kw_only=True, slots=True)
class RemoveVolume(Operation):
    name: str


@frozen(kw_only=True, slots=True)
class PullImage(Operation):
    image: str
    platform: str | None = None
    service: str | None = None
    buildable: bool = False


@frozen(kw_only=True, slots=True)
class BuildImage(Operation):
    service: str
    image: str
    request: BuildRequest


@frozen(kw_only=True, slots=True)
class RemoveImage(Operation):
    image: str


# -- containers


@frozen(kw_only=True, slots=True)
class CreateContainer(Operation):
    name: str
    body: Mapping[str, Any]
    service: str
    number: int
    platform: str | None = None
    inherit: str | None = None
    #: A service referring to other services' containers (``network_mode:
    #: service:x``, ``volumes_from``...): v2 hashes it with their IDs, known once
    #: they exist, so the executor writes the config-hash label then.
    hash_service: ServiceConfig | None = None
    hash_refs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    oneoff: bool = False


@frozen(kw_only=True, slots=True)
class ConnectNetwork(Operation):
    container: str
    network: str
    endpoint: Mapping[str, Any]


@frozen(kw_only=True, slots=True)
class CopyToContainer(Operation):
    """Copy a secret's or config's file into ``container`` (v2 does it before each
    start). ``file``'s ``repr`` hides its value."""

    container: str
    file: ContainerFile


@frozen(kw_only=True, slots=True)
class SyncFiles(Operation):
    """A watch's sync into ``container`` of ``service``: ``deletions`` (paths in the
    container) removed, then ``copies`` (``(path here, path there)``) written in one
    archive (a folder as a folder: what is in it is listed apart)."""

    container: str
    service: str
    copies: tuple[tuple[str, str], ...] = ()
    deletions: tuple[str, ...] = ()


@frozen(kw_only=True, slots=True)
class StartContainer(Operation):
    container: str


@frozen(kw_only=True, slots=True)
class StopContainer(Operation):
    container: str
    timeout: int | None = None
    # Removed right after (down, rm --stop): stopped and removed in one engine call
    # where the engine has one; the remove step then finds it gone.
    then_remove: bool = False
    volumes: bool = False


@frozen(kw_only=True, slots=True)
class KillContainer(Operation):
    container: str
    signal: str = "SIGKILL"


@frozen(kw_only=True, slots=True)
class RemoveContainer(Operation):
    container: str
    force: bool = False
    volumes: bool = False


@frozen(kw_only=True, slots=True)
class RenameContainer(Operation):
    container: str
    name: str


@frozen(kw_only=True, slots=True)
class PauseContainer(Operation):
    container: str


@frozen(kw_only=True, slots=True)
class UnpauseContainer(Operation):
    container: str


# -- waits


@frozen(slots=True)
class TcpProbe:
    """Ready once ``port`` (of the container) accepts a TCP connection on the
    container's own address; the runtime checks it
    (:func:`composer.runtime.readiness.check_tcp`)."""

    port: int

    def __str__(self) -> str:
        return f"tcp port {self.port}"


@frozen(slots=True)
class HttpProbe:
    """Ready once a ``GET`` of ``path`` on ``port`` of the container's own address
    answers with ``status`` (:func:`composer.runtime.readiness.check_http`)."""

    port: int
    path: str = "/"
    status: int = 200

    def __str__(self) -> str:
        return f"http port {self.port} GET {self.path} (want {self.status})"


@frozen(slots=True)
class LogProbe:
    """Ready once ``count`` lines of the container's output since its last start
    match ``pattern``, a Python regular expression searched in each line
    (:func:`composer.runtime.readiness.check_log`)."""

    pattern: str
    count: int = 1

    def __str__(self) -> str:
        times = f" {self.count} times" if self.count != 1 else ""
        return f"log line matching {self.pattern!r}{times}"


@frozen(slots=True)
class ExecProbe:
    """Ready once ``command`` run inside the container (the engine's exec, no TTY)
    exits 0 (:func:`composer.runtime.readiness.check_exec`)."""

    command: tuple[str, ...]

    def __str__(self) -> str:
        return f"exec {' '.join(self.command)}"


@frozen(slots=True)
class AnyProbe:
    """Ready once any one of ``probes`` passes
    (:func:`composer.runtime.readiness.check_any`); from the library's
    ``probes.any_of``."""

    probes: tuple[TcpProbe | HttpProbe | LogProbe | ExecProbe, ...]

    def __str__(self) -> str:
        return "any of (" + ", ".join(str(p) for p in self.probes) + ")"


#: One readiness probe of ``x-composer-ready``: every kind is a frozen dataclass.
ReadinessProbe = TcpProbe | HttpProbe | LogProbe | ExecProbe | AnyProbe


@frozen(kw_only=True, slots=True)
class WaitCondition(Operation):
    """Wait for ``service``'s ``containers`` (names) to meet ``condition``.

    ``dependents`` name the services waiting (for the failure's wording);
    ``healthcheck`` says the service declares one; ``probes`` are the readiness
    probes of its ``x-composer-ready`` extension (all must pass; they stand in
    for a healthcheck under ``service_healthy`` and ``up --wait``), run from a
    helper container of ``probe_image`` when the container's address cannot be
    reached from here; ``timeout`` bounds the wait (seconds, None: no bound).
    """

    service: str
    condition: str
    containers: tuple[str, ...] = ()
    dependents: tuple[str, ...] = ()
    required: bool = True
    restart: bool = False
    healthcheck: bool = False
    probes: tuple[ReadinessProbe, ...] = ()
    probe_image: str = ""
    timeout: float | None = None

    @property
    def tcp(self) -> tuple[int, ...]:
        """The ports of the TCP probes (what this step carried before it had probes)."""
        return tuple(p.port for p in self.probes if isinstance(p, TcpProbe))


#: Every operation type, in the order of the table above.
# -- swarm stacks


@frozen(kw_only=True, slots=True)
class CreateService(Operation):
    name: str
    spec: Mapping[str, Any]
    registry_auth: bool = False


@frozen(kw_only=True, slots=True)
class UpdateService(Operation):
    name: str
    service_id: str
    version: int
    spec: Mapping[str, Any]
    registry_auth: bool = False


@frozen(kw_only=True, slots=True)
class RemoveService(Operation):
    name: str
    service_id: str


@frozen(kw_only=True, slots=True)
class CreateSwarmObject(Operation):
    kind: str  # "secrets" | "configs"
    name: str
    spec: Mapping[str, Any] = field(repr=False)


@frozen(kw_only=True, slots=True)
class UpdateSwarmObject(Operation):
    kind: str
    name: str
    object_id: str
    version: int
    spec: Mapping[str, Any] = field(repr=False)


@frozen(kw_only=True, slots=True)
class RemoveSwarmObject(Operation):
    kind: str
    name: str
    object_id: str


@frozen(kw_only=True, slots=True)
class WaitService(Operation):
    name: str
    #: Wait for the tasks' health too (the service has a healthcheck).
    healthy: bool = False
    #: Give up after this many seconds (None: wait as long as it takes).
    timeout: float | None = None


OPERATIONS: tuple[type[Operation], ...] = (
    CreateNetwork, RemoveNetwork, CreateVolume, RemoveVolume, PullImage, BuildImage,
    RemoveImage, CreateContainer, ConnectNetwork, CopyToContainer, StartContainer,
    StopContainer, KillContainer, RemoveContainer, RenameContainer, PauseContainer,
    UnpauseContainer, WaitCondition, CreateService, UpdateService, RemoveService,
    CreateSwarmObject, UpdateSwarmObject, RemoveSwarmObject, WaitService,
)

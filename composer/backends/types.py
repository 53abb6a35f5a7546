"""The data the :class:`~composer.backends.base.Backend` protocol takes and returns.

Engine-neutral, frozen and typed: a backend turns its engine's answers (the
Docker Engine API's JSON, Podman's, LXC's) into these, so nothing above
``backends/`` reads an engine's own field names. They are re-exported by
:mod:`composer.backends.base`; import them from there.

Two kinds of result stay mappings on purpose: the *request* bodies
(``create_container``'s ``ContainerCreate`` JSON, built by
:mod:`composer.backends.spec`), and the few listing fields the planner compares
as a whole (``ContainerState.ports``/``mounts``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any, Literal, NamedTuple

from composer.frozen import frozen

__all__ = [
    "BuildRequest",
    "ContainerInfo",
    "ContainerState",
    "EngineEvent",
    "ExecConfig",
    "ExecInfo",
    "ExecOutput",
    "ExitCondition",
    "Frame",
    "HealthProbe",
    "HealthSchedule",
    "ImageInfo",
    "ImageSummary",
    "NetworkInfo",
    "NetworkState",
    "Observed",
    "PathStat",
    "PortBinding",
    "ProcessList",
    "RegistryCredentials",
    "StatsSample",
    "VolumeInfo",
    "VolumeState",
]

#: What :meth:`~composer.backends.base.Backend.wait_container` waits for:
#: ``not-running`` (returns at once for a stopped container), ``next-exit`` (the
#: next stop after the call) or ``removed``.
ExitCondition = Literal["not-running", "next-exit", "removed"]


# -- the project snapshot ----------------------------------------------------------------------


@frozen(slots=True)
class ContainerState:
    """One container of a project, as the engine's listing shows it."""

    id: str
    name: str
    project: str
    service: str
    number: int
    oneoff: bool
    state: str  # created | running | paused | restarting | exited | dead | removing
    status: str  # the engine's human status ("Up 3 seconds (healthy)")
    health: str | None  # starting | healthy | unhealthy | None (no healthcheck)
    exit_code: int | None
    config_hash: str
    image: str
    labels: Mapping[str, str]
    created: int = 0
    ports: tuple[Mapping[str, Any], ...] = ()
    networks: tuple[str, ...] = ()
    command: str = ""  # as the engine's listing shows it ("sh -c 'sleep 1'")
    # The listing's mounts (Type, Name, Source, Destination, RW...): a replacement
    # container takes over the anonymous volumes among them.
    mounts: tuple[Mapping[str, Any], ...] = ()
    image_id: str = ""  # sha256:... of the image the container runs
    #: Why the engine's last start of a ``created`` container (never started since)
    #: failed, as it recorded it; "" otherwise. ``up`` recreates such a container
    #: rather than start it: a start the engine lost midway (it stopped) can leave
    #: its runtime holding the container's task, refusing every later start.
    start_error: str = ""


@frozen(slots=True)
class NetworkState:
    id: str
    name: str
    key: str  # the compose key (label com.docker.compose.network), "" if not ours
    labels: Mapping[str, str]
    config_hash: str = ""
    created: str = ""  # RFC 3339 as the engine wrote it; orders duplicates of a name


@frozen(slots=True)
class VolumeState:
    name: str
    key: str
    labels: Mapping[str, str]


@frozen(slots=True)
class Observed:
    """A snapshot of one project on the engine: one listing per resource kind."""

    containers: tuple[ContainerState, ...] = ()
    networks: tuple[NetworkState, ...] = ()
    volumes: tuple[VolumeState, ...] = ()


@frozen(slots=True)
class EngineEvent:
    """A container event from the engine's event stream."""

    action: str  # start | die | health_status: healthy | ... (the engine's words)
    container_id: str
    service: str
    project: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    time_nano: int = 0


# -- containers --------------------------------------------------------------------------------


@frozen(slots=True)
class HealthProbe:
    """One run of a container's healthcheck (the last few are kept by the engine)."""

    start: str  # RFC 3339
    end: str
    exit_code: int
    output: str


@frozen(slots=True)
class HealthSchedule:
    """When a container's healthcheck runs, in seconds (the engine's defaults
    filled in: interval 30, timeout 30, start period 0, start interval 5,
    retries 3), as Docker schedules it."""

    interval: float = 30.0
    timeout: float = 30.0
    start_period: float = 0.0
    start_interval: float = 5.0
    retries: int = 3


@frozen(slots=True)
class PortBinding:
    """Where a container port is published on the host (``0.0.0.0``/``::``: everywhere)."""

    host_ip: str
    host_port: int


@frozen(slots=True)
class ContainerInfo:
    """One container, inspected: what callers read of ``docker inspect``.

    ``state`` is the engine's status word (``created``, ``running``, ``paused``,
    ``restarting``, ``removing``, ``exited``, ``dead``); ``running`` stays true
    while a container restarts, as the engine reports it. ``health`` is None
    without a healthcheck. Times are RFC 3339 strings (``0001-01-01T00:00:00Z``:
    never). ``ip_addresses`` maps each network the container is attached to
    (with an address) to its IPv4 address; ``ports`` maps ``"80/tcp"`` to the
    host bindings of that port (empty when exposed but not published).
    """

    id: str
    name: str  # without the engine's leading "/"
    image: str  # as configured ("busybox:latest")
    image_id: str  # sha256:...
    state: str
    running: bool = False
    paused: bool = False
    restarting: bool = False
    exit_code: int = 0
    pid: int = 0
    started_at: str = ""
    finished_at: str = ""
    health: str | None = None  # starting | healthy | unhealthy
    health_log: tuple[HealthProbe, ...] = ()
    has_healthcheck: bool = False  # configured (in the container or its image), not NONE
    healthcheck: HealthSchedule | None = None  # its timing, when it has one
    tty: bool = False
    open_stdin: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    network_mode: str = ""
    ip_addresses: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, tuple[PortBinding, ...]] = field(default_factory=dict)


@frozen(slots=True)
class ProcessList:
    """``top``: the column titles and one row per process, as ``ps`` printed them."""

    titles: tuple[str, ...]
    processes: tuple[tuple[str, ...], ...]


# -- images, networks, volumes -----------------------------------------------------------------


@frozen(slots=True)
class ImageInfo:
    """One local image, inspected. ``volumes``: the paths its ``VOLUME`` declares;
    ``last_tag_time`` is "" when it was never tagged here."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    created: str = ""  # RFC 3339
    size: int = 0
    os: str = ""
    architecture: str = ""
    variant: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    volumes: tuple[str, ...] = ()
    last_tag_time: str = ""

    @property
    def platform(self) -> str:
        """``linux/amd64`` (with the variant when there is one: ``linux/arm/v7``)."""
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@frozen(slots=True)
class ImageSummary:
    """One entry of the image listing."""

    id: str
    repo_tags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    created: int = 0  # unix seconds
    size: int = 0


@frozen(slots=True)
class NetworkInfo:
    id: str
    name: str
    driver: str = ""
    scope: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@frozen(slots=True)
class VolumeInfo:
    name: str
    driver: str = ""
    mountpoint: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@frozen(slots=True)
class RegistryCredentials:
    """What a registry login left in the client's configuration (Docker's
    ``config.json``, a credential helper): a user and password, or an identity
    token. ``server_address`` is the registry they belong to."""

    server_address: str
    username: str = ""
    password: str = ""
    identity_token: str = ""

    def __repr__(self) -> str:  # never show a secret in a traceback or a log
        return (f"RegistryCredentials(server_address={self.server_address!r}, "
                f"username={self.username!r}, password=***)")


@frozen(kw_only=True)
class BuildRequest:
    """One image to build.

    ``context`` is an absolute folder; ``dockerfile`` a path relative to it (or
    absolute), ignored when ``dockerfile_inline`` is given. ``tag`` is the
    image's name; ``extra_tags`` are applied to the same image afterwards.
    ``args`` are build args (a None value is left out). ``shm_size`` is in
    bytes; ``extra_hosts`` maps host names to addresses; ``network`` is the
    network RUN steps use (``none``, ``host``, a network name). ``memory`` (bytes)
    limits the containers of RUN steps (``build -m``; the API's ``memory``).
    """

    service: str
    tag: str
    context: str
    dockerfile: str = "Dockerfile"
    dockerfile_inline: str | None = None
    args: Mapping[str, str | None] = field(default_factory=dict)
    target: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    cache_from: Sequence[str] = ()
    network: str | None = None
    shm_size: int | None = None
    extra_hosts: Mapping[str, str] = field(default_factory=dict)
    extra_tags: Sequence[str] = ()
    no_cache: bool = False
    pull: bool = False
    platform: str | None = None
    isolation: str | None = None
    quiet: bool = False
    memory: int | None = None


# -- output, exec, stats, files ----------------------------------------------------------------


class Frame(NamedTuple):
    """A piece of a container's output: ``stream`` is ``stdout`` or ``stderr`` (a TTY's
    output is all ``stdout``). A tuple, so ``for stream, data in frames`` works."""

    stream: str
    data: bytes


@frozen(slots=True)
class ExecConfig:
    """A command to run in a running container (``exec``)."""

    command: Sequence[str]
    tty: bool = False
    stdin: bool = False
    environment: Sequence[str] = ()  # KEY=VALUE
    user: str = ""
    workdir: str = ""
    privileged: bool = False


@frozen(slots=True)
class ExecInfo:
    """An exec instance: ``exit_code`` is None while it runs."""

    id: str
    container_id: str
    running: bool
    exit_code: int | None
    pid: int = 0


@frozen(slots=True)
class ExecOutput:
    """A finished one-shot exec: its exit code and its output, stdout and stderr apart
    (with a TTY everything is ``stdout``)."""

    exit_code: int
    stdout: bytes
    stderr: bytes


@frozen(slots=True)
class StatsSample:
    """One resource-usage sample of a running container, as the docker CLI shows it.

    ``cpu_percent`` is over all CPUs (200.0: two busy cores); ``memory_usage``
    leaves out the page cache; network and block I/O are byte counters since the
    container started. A stopped container's sample is all zeros.
    """

    cpu_percent: float = 0.0
    memory_usage: float = 0.0
    memory_limit: float = 0.0
    network_rx: float = 0.0
    network_tx: float = 0.0
    block_read: float = 0.0
    block_write: float = 0.0
    pids: int = 0

    @property
    def memory_percent(self) -> float:
        return self.memory_usage / self.memory_limit * 100.0 if self.memory_limit else 0.0


#: Go's ``os.FileMode`` bits the engine reports in a path's stat.
MODE_DIR = 1 << 31
MODE_SYMLINK = 1 << 27


@frozen(slots=True)
class PathStat:
    """A path in a container (``cp``): ``mode`` holds Go's ``os.FileMode`` bits, as the
    engine reports them (permissions in the low 9 bits)."""

    name: str
    size: int = 0
    mode: int = 0
    mtime: str = ""
    link_target: str = ""

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & MODE_DIR)

    @property
    def is_symlink(self) -> bool:
        return bool(self.mode & MODE_SYMLINK)


# -- Swarm (composer.backends.base.SwarmBackend) --------------------------------------------


@frozen(slots=True)
class SwarmInfo:
    """The engine's part in a swarm: ``state`` is ``inactive``, ``pending``,
    ``active``, ``error`` or ``locked``; ``manager`` when it can take orders."""

    state: str
    manager: bool
    node_id: str = ""


@frozen(slots=True)
class SwarmObject:
    """A service, secret or config: its ID, the version an update must name, and
    its spec as the engine keeps it (the Engine API's JSON)."""

    id: str
    name: str
    version: int
    spec: Mapping[str, Any]
    labels: Mapping[str, str] = field(default_factory=dict)
    #: A service's rolling update: ``State`` (``updating``, ``completed``,
    #: ``paused``, ``rollback_completed``...) and ``Message``; empty if none ran.
    update_status: Mapping[str, str] = field(default_factory=dict)


@frozen(slots=True)
class SwarmTask:
    """One task of a service: where it runs and how it is doing."""

    id: str
    service_id: str
    slot: int | None
    node_id: str
    desired_state: str
    state: str
    message: str = ""
    error: str = ""
    container_id: str = ""
    image: str = ""
    timestamp: str = ""
    #: ``healthy``/``unhealthy``/``starting`` once the container runs with a check.
    health: str = ""


@frozen(slots=True)
class SwarmNode:
    id: str
    hostname: str
    role: str
    availability: str
    state: str
    addr: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

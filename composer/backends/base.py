"""The Backend protocol: everything composer asks of a container engine.

``runtime/``, ``cli/`` and ``api.py`` see an engine only through
:class:`Backend` and the data types of :mod:`composer.backends.types`
(re-exported here); :func:`composer.backends.connect` gives one. Implementations:

* :class:`composer.backends.docker.DockerBackend` — the Docker Engine API over the
  docker SDK (also Podman's Docker-compatible API);
* :class:`composer.backends.memory.MemoryBackend` — an engine in memory, for tests
  and for running plans without an engine.

Conventions every implementation follows:

* All calls are async and safe to call concurrently from one event loop; each is
  one engine round trip where the engine allows it.
* Results that callers read field by field are frozen dataclasses
  (:class:`ContainerInfo`, :class:`ImageInfo`, :class:`StatsSample`...), never
  the engine's JSON. The request bodies are the exception: ``create_container``,
  ``create_network`` and ``create_volume`` take the Engine API's
  ``ContainerCreate`` / ``NetworkCreate`` / ``VolumeCreate`` JSON as
  :mod:`composer.backends.spec` builds it (Podman speaks it too; another engine
  translates it).
* Errors are :mod:`composer.errors`' engine errors: ``NotFoundError`` (no such
  container, image, network, volume, exec), ``ConflictError`` (name in use,
  not running, in use), ``EngineUnreachableError``, else ``EngineError`` with
  the engine's words (``Error response from daemon: ...``).
* Streams (``events``, ``logs``, ``log_batches``, ``attach_output``,
  ``stats_stream``) are async iterators that end when the engine ends them
  and release their connection when the consumer stops iterating or is
  cancelled. Output arrives as :class:`Frame` ``(stream, bytes)``.
* Interactive sessions (``attach``, ``exec_start``) return a :class:`RawStream`,
  a blocking two-way connection meant for a worker thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from composer.backends.frames import RawStream
from composer.backends.types import (
    BuildRequest,
    ContainerInfo,
    ContainerState,
    EngineEvent,
    ExecConfig,
    ExecInfo,
    ExecOutput,
    ExitCondition,
    Frame,
    HealthProbe,
    ImageInfo,
    ImageSummary,
    NetworkInfo,
    NetworkState,
    Observed,
    PathStat,
    PortBinding,
    ProcessList,
    RegistryCredentials,
    StatsSample,
    SwarmInfo,
    SwarmNode,
    SwarmObject,
    SwarmTask,
    VolumeInfo,
    VolumeState,
)

__all__ = [
    "Backend",
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
    "ImageInfo",
    "ImageSummary",
    "NetworkInfo",
    "NetworkState",
    "Observed",
    "PathStat",
    "PendingExit",
    "PortBinding",
    "ProcessList",
    "RawStream",
    "RegistryCredentials",
    "StatsSample",
    "SwarmBackend",
    "SwarmInfo",
    "SwarmKind",
    "SwarmNode",
    "SwarmObject",
    "SwarmTask",
    "VolumeInfo",
    "VolumeState",
    "as_sequence",
]

#: Called with each progress message of a pull or push (the Engine API's JSON:
#: ``id``, ``status``, ``progressDetail``...), on the event loop.
ProgressCallback = Callable[[Mapping[str, Any]], None]


class PendingExit(Protocol):
    """A wait registered with the engine (:meth:`Backend.wait_begin`)."""

    async def exit_code(self) -> int:
        """Wait for the condition; the container's exit code."""
        ...

    def close(self) -> None:
        """Give up waiting (frees the connection)."""
        ...


class Backend(Protocol):
    """A container engine, as composer uses it (see the module docstring)."""

    #: Where the engine is (``unix:///var/run/docker.sock``, ``memory://``).
    address: str

    @property
    def api_version(self) -> str:
        """The engine API version requests use (negotiated on the first call)."""
        ...

    # -- the connection

    async def ping(self) -> None:
        """Raise ``EngineUnreachableError`` unless the engine answers."""
        ...

    async def aclose(self) -> None:
        """Close the connection; the backend is not used afterwards."""
        ...

    async def settle(self) -> None:
        """Wait, briefly, for the engine calls a cancellation abandoned to finish
        (what they make must be seen by the listing of a ``down`` that follows)."""
        ...

    async def proxy_environment(self) -> dict[str, str]:
        """Variables the client adds to every container it creates (the docker CLI's
        ``proxies`` of ``config.json``, for this engine's address)."""
        ...

    async def registry_credentials(self, registry: str) -> RegistryCredentials | None:
        """The client's stored login for ``registry`` (``docker.io``, ``host:5000``),
        or None. Pulls and pushes use it by themselves."""
        ...

    # -- the project: one snapshot, then the events

    async def observe(self, project: str, *, all_projects: bool = False) -> Observed:
        """One listing each of the project's containers (all states), networks and
        volumes (with ``all_projects``: of every compose project)."""
        ...

    def events(self, project: str, since: int | None = None) -> AsyncIterator[EngineEvent]:
        """Container events of ``project`` (``since``: unix seconds, for events a moment
        old), until the consumer stops."""
        ...

    # -- images

    async def image_exists(self, image: str) -> bool: ...

    async def image_id(self, image: str) -> str | None:
        """The local image's ID (``sha256:...``), or None when it is not here."""
        ...

    async def inspect_image(self, image: str) -> ImageInfo: ...

    async def list_images(self, *, labels: Sequence[str] = ()) -> list[ImageSummary]:
        """The local images, only those with all ``labels`` (``key`` or ``key=value``)."""
        ...

    async def remove_image(self, image: str, *, force: bool = False) -> None: ...

    async def pull_image(self, image: str, *, platform: str | None = None,
                         on_progress: ProgressCallback | None = None) -> None:
        """Pull ``image`` (tag ``latest`` when none), with the stored credentials of its
        registry; an error in the progress stream raises."""
        ...

    async def push_image(self, image: str, *,
                         on_progress: ProgressCallback | None = None) -> None:
        """Push ``image`` (tag ``latest`` when none), as :meth:`pull_image`."""
        ...

    async def build_image(self, request: BuildRequest, *,
                          on_line: Callable[[str], None] | None = None) -> str:
        """Build ``request``; the image ID. ``on_line`` gets each output line, on the
        event loop; a failed step raises ``BuildError`` naming it."""
        ...

    # -- networks and volumes

    async def create_network(self, name: str, body: Mapping[str, Any]) -> str:
        """Create a network from a ``NetworkCreate`` body; its ID."""
        ...

    async def remove_network(self, name_or_id: str) -> None: ...
    async def inspect_network(self, name: str) -> NetworkInfo: ...

    async def connect_network(self, network: str, container: str,
                              endpoint: Mapping[str, Any]) -> None:
        """Connect ``container`` with an ``EndpointSettings`` body."""
        ...

    async def disconnect_network(self, network: str, container: str, *,
                                 force: bool = False) -> None: ...

    async def create_volume(self, name: str, body: Mapping[str, Any]) -> str:
        """Create a volume from a ``VolumeCreate`` body; its name."""
        ...

    async def remove_volume(self, name: str) -> None: ...
    async def inspect_volume(self, name: str) -> VolumeInfo: ...

    # -- containers

    def unsupported(self, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        """What of a ``create_container`` body this engine cannot honour, as
        ``(compose key under the service, why)`` pairs (``("devices", "not supported
        on LXC")``); empty when it can all be. Asked before a plan runs, so such a
        file is refused before anything is created."""
        ...


    async def create_container(self, name: str, body: Mapping[str, Any], *,
                               platform: str | None = None) -> str:
        """Create a container from a ``ContainerCreate`` body; its ID."""
        ...

    async def start_container(self, container: str) -> None: ...

    async def stop_container(self, container: str, timeout: int | None = None) -> None:
        """Stop; ``timeout`` None lets the container's own ``StopTimeout`` decide."""
        ...

    async def kill_container(self, container: str, signal: str = "SIGKILL") -> None: ...

    async def remove_container(self, container: str, *, force: bool = False,
                               volumes: bool = False) -> None: ...

    async def stop_and_remove_container(self, container: str, timeout: int | None = None,
                                        *, volumes: bool = False) -> None:
        """:meth:`stop_container`, then ``remove_container(force=True, volumes=...)``:
        in one engine call where the engine has one (Podman: libpod's forced delete
        with the stop's timeout, which it does in about 17% less time than the two
        calls, measured on 20 containers)."""
        ...

    async def rename_container(self, container: str, name: str) -> None: ...
    async def pause_container(self, container: str) -> None: ...
    async def unpause_container(self, container: str) -> None: ...
    async def inspect_container(self, container: str) -> ContainerInfo: ...

    async def top_container(self, container: str,
                            ps_args: str | None = None) -> ProcessList: ...

    async def resize_container(self, container: str, height: int, width: int) -> None:
        """Set the size of a container's TTY."""
        ...

    async def wait_container(self, container: str,
                             condition: ExitCondition = "not-running") -> int:
        """Wait until ``condition``; the container's exit code."""
        ...

    async def wait_begin(self, container: str,
                         condition: ExitCondition = "next-exit") -> PendingExit:
        """Register a wait and return once the engine holds it, so that a start
        that follows cannot be missed (``run``: wait, then start)."""
        ...

    # -- output

    def logs(self, container: str, *, follow: bool, tail: str = "all",
             timestamps: bool = False, since: str | None = None,
             until: str | None = None) -> AsyncIterator[Frame]:
        """The container's output so far (``tail``: the last N lines, or ``all``);
        with ``follow``, then what it writes until it stops. ``since``/``until``: unix
        seconds (``"1700000000.5"``); ``timestamps`` prefixes each line with its
        RFC 3339 time."""
        ...

    def log_batches(self, container: str, *, follow: bool, tail: str = "all",
                    timestamps: bool = False, since: str | None = None,
                    until: str | None = None) -> AsyncIterator[list[Frame]]:
        """As :meth:`logs`, in batches: whatever has arrived, one batch per step."""
        ...

    def attach_output(self, container: str, *,
                      on_attached: Callable[[], None] | None = None
                      ) -> AsyncIterator[list[Frame]]:
        """The container's output from now on (no past output), in batches, until it
        stops. Attach to a created container before starting it and nothing is
        lost; ``on_attached`` is called once the engine has accepted the attachment."""
        ...

    # -- interactive sessions

    async def attach(self, container: str, *, stdin: bool, tty: bool | None = None,
                     logs: bool = False) -> RawStream:
        """A session on the container's main process: its output (with ``logs``, the
        past output first), and its input if ``stdin``. ``tty`` (None: ask the engine)
        says whether the output is raw or multiplexed."""
        ...

    async def exec_create(self, container: str, config: ExecConfig) -> str:
        """Create an exec instance in a running container; its ID."""
        ...

    async def exec_start(self, exec_id: str, *, tty: bool) -> RawStream:
        """Start an exec instance; the session's connection."""
        ...

    async def exec_start_detached(self, exec_id: str) -> None: ...
    async def exec_resize(self, exec_id: str, height: int, width: int) -> None: ...

    async def exec_inspect(self, exec_id: str) -> ExecInfo:
        """The exec's state; its exit code once it ended."""
        ...

    async def exec_run(self, container: str, config: ExecConfig, *,
                       input: bytes | None = None) -> ExecOutput:
        """Run a command to its end: exit code, stdout and stderr apart (all ``stdout``
        with ``config.tty``). ``input`` is sent to its stdin, which is then closed."""
        ...

    # -- healthchecks

    async def runs_healthchecks(self) -> bool:
        """Whether the engine runs containers' healthchecks by itself (Docker does;
        Podman does only through systemd timers, so not without systemd). When it
        does not, composer runs them (:mod:`composer.runtime.health`) while it waits
        on them."""
        ...

    async def is_rootless(self) -> bool:
        """Whether the engine runs as an ordinary user (rootless Podman or Docker): its
        containers' networks live in a network namespace of its own, so their
        addresses are not this machine's to reach, whatever its routes say (a
        rootful network on the same subnet may be). Readiness probes then run
        inside the containers' namespaces."""
        ...

    async def run_healthcheck(self, container: str) -> None:
        """Run the container's healthcheck once now and record the result where
        ``inspect_container`` reports health (its status after Docker's rules:
        retries, start period), as the engine's own schedule would."""
        ...

    # -- resource usage

    async def stats(self, container: str) -> StatsSample:
        """One sample (the engine takes two readings, so CPU % can be computed)."""
        ...

    def stats_stream(self, container: str) -> AsyncIterator[StatsSample]:
        """A sample about every second until the container is gone or the consumer
        stops."""
        ...

    # -- files

    async def stat_path(self, container: str, path: str) -> PathStat | None:
        """What is at ``path`` in the container, or None when there is nothing
        (``NotFoundError``: no such container)."""
        ...

    async def get_archive(self, container: str, path: str) -> bytes:
        """``path`` in the container as a tar archive, its root named after ``path``."""
        ...

    async def put_archive(self, container: str, path: str, data: bytes, *,
                          copy_uid_gid: bool = False) -> None:
        """Extract the tar ``data`` into the folder ``path`` of the container."""
        ...


#: The kinds of swarm object :class:`SwarmBackend` keeps by name beside services.
SwarmKind = Literal["secrets", "configs"]


class SwarmBackend(Protocol):
    """A swarm manager, as ``composer stack`` uses it: services, their tasks, the
    nodes, and the secrets and configs services reference. Only the Docker Engine
    has one (Podman and LXC have no orchestrator); a backend that does says so by
    implementing this protocol beside :class:`Backend`. Specs are the Engine API's
    JSON as :mod:`composer.backends.spec.swarm` builds them."""

    async def swarm_info(self) -> SwarmInfo:
        """Whether this engine is in a swarm, and a manager of it."""
        ...

    async def list_services(self, *, labels: Sequence[str] = ()) -> list[SwarmObject]:
        """The services with all of ``labels`` (``key`` or ``key=value``)."""
        ...

    async def create_service(self, spec: Mapping[str, Any], *,
                             registry_auth: bool = False) -> tuple[str, list[str]]:
        """Create a service; its ID and the engine's warnings. ``registry_auth``:
        send the login stored for the image's registry (the nodes pull with it)."""
        ...

    async def update_service(self, service_id: str, version: int, spec: Mapping[str, Any],
                             *, registry_auth: bool = False) -> list[str]:
        """Replace the service's spec (a rolling update, by its ``UpdateConfig``);
        the engine's warnings. ``version`` is the one the spec was read at."""
        ...

    async def remove_service(self, service_id: str) -> None: ...

    async def list_tasks(self, *, services: Sequence[str] = (),
                         labels: Sequence[str] = ()) -> list[SwarmTask]:
        """The tasks of these services (IDs or names), or with these labels."""
        ...

    async def list_nodes(self) -> list[SwarmNode]: ...

    async def list_swarm_objects(self, kind: SwarmKind, *,
                                 labels: Sequence[str] = ()) -> list[SwarmObject]:
        """The secrets or configs with all of ``labels``."""
        ...

    async def create_swarm_object(self, kind: SwarmKind, spec: Mapping[str, Any]) -> str: ...

    async def update_swarm_object(self, kind: SwarmKind, object_id: str, version: int,
                                  spec: Mapping[str, Any]) -> None: ...

    async def remove_swarm_object(self, kind: SwarmKind, object_id: str) -> None: ...

    async def list_networks(self, *, labels: Sequence[str] = ()) -> list[NetworkInfo]:
        """The networks with all of ``labels``, any scope."""
        ...

    async def image_digest(self, image: str) -> str | None:
        """``image`` pinned to its registry digest (``name:tag@sha256:...``), or
        None when no registry answers for it (``--resolve-image``)."""
        ...


def as_sequence(value: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(value or ())

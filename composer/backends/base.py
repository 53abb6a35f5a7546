"""The Backend protocol: what the runtime needs from a container engine.

Everything here is engine-neutral data. ``docker.py`` implements it on the
docker SDK (Docker Engine, and Podman's Docker-compatible API).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from composer.backends.build import BuildRequest


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class NetworkState:
    id: str
    name: str
    key: str  # the compose key (label com.docker.compose.network), "" if not ours
    labels: Mapping[str, str]
    config_hash: str = ""


@dataclass(frozen=True, slots=True)
class VolumeState:
    name: str
    key: str
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Observed:
    """A snapshot of one project on the engine: one listing per resource kind."""

    containers: tuple[ContainerState, ...] = ()
    networks: tuple[NetworkState, ...] = ()
    volumes: tuple[VolumeState, ...] = ()


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """A container event from the engine's event stream."""

    action: str  # start | die | health_status: healthy | ... (the engine's words)
    container_id: str
    service: str
    project: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    time_nano: int = 0


class Backend(Protocol):
    """The engine calls the executor makes. Each method is one engine round trip
    (or as few as the API allows); all are async and safe to call concurrently."""

    address: str

    @property
    def api_version(self) -> str:
        """The engine API version requests use (negotiated on the first call)."""
        ...

    async def ping(self) -> None: ...
    async def observe(self, project: str, *, all_projects: bool = False) -> Observed: ...
    async def image_exists(self, image: str) -> bool: ...
    async def image_id(self, image: str) -> str | None: ...
    async def pull_image(
        self, image: str, *, platform: str | None = None,
        on_progress: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None: ...
    async def build_image(
        self, request: BuildRequest, *, on_line: Callable[[str], None] | None = None
    ) -> str: ...
    async def push_image(self, image: str) -> None: ...
    async def list_images(self, *, labels: Sequence[str] = ()) -> list[Mapping[str, Any]]: ...
    async def create_network(self, name: str, body: Mapping[str, Any]) -> str: ...
    async def remove_network(self, name_or_id: str) -> None: ...
    async def inspect_network(self, name: str) -> Mapping[str, Any]: ...
    async def inspect_volume(self, name: str) -> Mapping[str, Any]: ...
    async def create_volume(self, name: str, body: Mapping[str, Any]) -> str: ...
    async def remove_volume(self, name: str) -> None: ...
    async def create_container(
        self, name: str, body: Mapping[str, Any], *, platform: str | None = None
    ) -> str: ...
    async def connect_network(
        self, network: str, container: str, endpoint: Mapping[str, Any]
    ) -> None: ...
    async def start_container(self, container: str) -> None: ...
    async def stop_container(self, container: str, timeout: int | None = None) -> None: ...
    async def kill_container(self, container: str, signal: str = "SIGKILL") -> None: ...
    async def remove_container(
        self, container: str, *, force: bool = False, volumes: bool = False
    ) -> None: ...
    async def rename_container(self, container: str, name: str) -> None: ...
    async def pause_container(self, container: str) -> None: ...
    async def unpause_container(self, container: str) -> None: ...
    async def inspect_container(self, container: str) -> Mapping[str, Any]: ...
    async def inspect_image(self, image: str) -> Mapping[str, Any]: ...
    async def remove_image(self, image: str, *, force: bool = False) -> None: ...
    async def disconnect_network(
        self, network: str, container: str, *, force: bool = False
    ) -> None: ...
    async def top_container(
        self, container: str, ps_args: str | None = None
    ) -> Mapping[str, Any]: ...
    async def wait_container(self, container: str) -> int: ...
    def events(self, project: str, since: int | None = None) -> AsyncIterator[EngineEvent]: ...
    def logs(
        self, container: str, *, follow: bool, tail: str = "all", timestamps: bool = False,
        since: str | None = None, until: str | None = None,
    ) -> AsyncIterator[tuple[str, bytes]]: ...
    async def aclose(self) -> None: ...


def as_sequence(value: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(value or ())

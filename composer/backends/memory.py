"""An engine in memory: :class:`MemoryBackend` implements the whole
:class:`~composer.backends.base.Backend` protocol without a container engine.

For the library's users (run a project's plans, try a readiness rule, test code
that drives composer, all without Docker) and for composer's own unit tests::

    from composer.api import Compose, UpOptions
    from composer.backends.memory import MemoryBackend

    engine = MemoryBackend(images={"postgres:16": "sha256:..."})
    engine.script("db", health=[(2.0, "healthy")], output=[(0.1, "stdout", b"ready\\n")])
    await Compose(engine).up(project, UpOptions(wait=True))

It is a state machine, not a mock: containers are created, started, stopped,
renamed and removed as the Docker Engine would do it, with its errors
(``ConflictError`` for a name in use, ``NotFoundError`` for a missing image or
network...), and an event stream reports every change. Per service, a
:class:`Script` says how its containers behave once started: health changes
after some seconds, output lines, an exit with a code, a failing create or
start, the answer to ``exec``, the resource usage. Time is the event loop's
clock (``anyio.current_time()``), so a test can drive a fake clock; scripted
changes happen when their time has come, seen by the next call or by whoever
waits (event streams, followed logs, waits), with no background task.

What else it keeps: per container its output (``logs`` with ``tail``,
``since``/``until`` and ``timestamps``, ``attach_output``, interactive
``attach``), a small filesystem for ``cp`` (:class:`~.memory_files.FileTree`),
the exec instances, and the stdin an attached session sent. ``exec`` runs
:func:`~.memory_process.run_command` (``echo``, ``cat``, ``env``, ``sh -c`` ...)
unless the service's script gives its own handler. Builds succeed at once,
pulls succeed for images in :attr:`MemoryBackend.pullable`, pushes for
registries in :attr:`MemoryBackend.registries`.

What it does not do: run anything (a container's command is not executed,
unless its script says ``run_command=True``: then the small interpreter plays
it at start), restart policies, networking (every container's address is
127.0.0.1, so TCP readiness probes reach whatever listens on this host),
replay of events older than a subscription (``since`` is ignored), volumes'
contents.

Every call is logged in :attr:`MemoryBackend.calls` as ``Call(op, target, time)``,
so a test can assert what was asked, in which order. Constructing one needs no
running event loop; its methods run on anyio (asyncio or trio).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import posixpath
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio

from composer.backends.base import ProgressCallback
from composer.backends.frames import RawStream
from composer.backends.memory_files import FileTree
from composer.backends.memory_process import CommandHandler, SessionPipe, run_command
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
    VolumeInfo,
    VolumeState,
)
from composer.errors import ConflictError, EngineError, NotFoundError
from composer.model import labels as L

__all__ = ["Call", "MemoryBackend", "MemoryContainer", "Script"]

_NEVER = "0001-01-01T00:00:00Z"


@dataclass
class Script:
    """How a service's containers behave once started.

    ``health``: ``[(seconds after start, "healthy"|"unhealthy"|"starting")]``;
    ``exit``: ``(seconds after start, exit code)``; ``output``: ``[(seconds after
    start, "stdout"|"stderr", bytes)]``; ``fail_start`` / ``fail_create``: the
    engine's error text; ``healthcheck``: the container reports one even if its
    create body has none (an image HEALTHCHECK); ``run_command``: play the
    container's command with the small interpreter at start (its output, then its
    exit); ``exec``: the handler of ``exec`` commands (default
    :func:`~composer.backends.memory_process.run_command`); ``stats``: the sample
    a running container reports.
    """

    health: list[tuple[float, str]] = field(default_factory=list)
    exit: tuple[float, int] | None = None
    output: list[tuple[float, str, bytes]] = field(default_factory=list)
    fail_start: str | None = None
    fail_create: str | None = None
    healthcheck: bool = False
    run_command: bool = False
    exec: CommandHandler | None = None
    stats: StatsSample | None = None


@dataclass
class Call:
    op: str
    target: str
    time: float

    def __str__(self) -> str:
        return f"{self.op} {self.target}"


@dataclass
class MemoryContainer:
    """A container of the memory engine (what tests may read and change)."""

    id: str
    name: str
    labels: dict[str, str]
    body: Mapping[str, Any]
    created: int
    state: str = "created"
    health: str | None = None
    exit_code: int | None = None
    networks: list[str] = field(default_factory=list)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    generation: int = 0  # bumped on stop: cancels scripted transitions of the last start
    exits: int = 0  # how many times it stopped
    started_at: str = _NEVER
    finished_at: str = _NEVER
    output: list[tuple[int, str, bytes]] = field(default_factory=list)  # (ns, stream, line)
    stdin: bytearray = field(default_factory=bytearray)
    files: FileTree = field(default_factory=FileTree)
    sessions: list[SessionPipe] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.labels.get(L.SERVICE, "")

    @property
    def project(self) -> str:
        return self.labels.get(L.PROJECT, "")

    @property
    def tty(self) -> bool:
        return bool(self.body.get("Tty"))


@dataclass
class _Exec:
    id: str
    container: MemoryContainer
    config: ExecConfig
    running: bool = False
    exit_code: int | None = None


@dataclass
class _Subscriber:
    project: str
    queue: deque[EngineEvent] = field(default_factory=deque)


def _id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _rfc3339(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}.{nanos:09d}Z"


def _seconds(value: str | None) -> float | None:
    return None if value in (None, "") else float(str(value))


class _PendingExit:
    def __init__(self, backend: MemoryBackend, container: MemoryContainer,
                 condition: ExitCondition) -> None:
        self._backend = backend
        self._container = container
        self._condition = condition
        self._exits = container.exits

    def _met(self) -> bool:
        c = self._container
        if self._condition == "removed":
            return c.id not in self._backend.containers
        if self._condition == "next-exit":
            return c.exits > self._exits
        return c.state not in ("running", "paused", "restarting")

    async def exit_code(self) -> int:
        while not self._met():
            await self._backend._wait_change()
        return self._container.exit_code or 0

    def close(self) -> None:
        pass


class MemoryBackend:
    """The in-memory engine (see the module docstring).

    ``images`` maps image references to IDs (default: ``busybox``); ``delays``
    maps a method name to the seconds it takes; ``events_broken`` makes the event
    stream fail (to exercise the pollers' fallback).
    """

    address = "memory://"
    api_version = "1.41"

    def __init__(self, *, images: Mapping[str, str] | None = None,
                 delays: Mapping[str, float] | None = None,
                 events_broken: bool = False) -> None:
        self.containers: dict[str, MemoryContainer] = {}
        self.networks: dict[str, dict[str, Any]] = {}
        self.volumes: dict[str, dict[str, Any]] = {}
        self.images: dict[str, str] = dict(images if images is not None
                                           else {"busybox": "sha256:" + _id("busybox")})
        #: Labels of images (by ID), as a build gives them.
        self.image_labels: dict[str, dict[str, str]] = {}
        #: Paths an image declares as ``VOLUME`` (by reference).
        self.image_volumes: dict[str, tuple[str, ...]] = {}
        #: What a pull can fetch: image reference -> ID.
        self.pullable: dict[str, str] = {}
        #: Per image, the progress messages its pull streams (as the Engine API sends them).
        self.pull_messages: dict[str, list[dict[str, Any]]] = {}
        #: Registry hosts a push succeeds to (the pushed image becomes pullable).
        self.registries: set[str] = set()
        #: Stored logins by registry host, and the client's proxy variables.
        self.credentials: dict[str, RegistryCredentials] = {}
        self.proxies: dict[str, str] = {}
        self.scripts: dict[str, Script] = {}
        self.delays = dict(delays or {})
        self.events_broken = events_broken
        #: Seconds between two samples of ``stats_stream``.
        self.stats_interval = 1.0
        self.calls: list[Call] = []
        self.inspections = 0
        self.execs: dict[str, _Exec] = {}
        self._counter = itertools.count(1)
        self._timeline: list[tuple[float, int, Callable[[], None]]] = []
        self._subscribers: list[_Subscriber] = []
        self._changed: anyio.Event | None = None

    # -- set-up and inspection helpers (tests, examples)

    def script(self, service: str, **behaviour: Any) -> Script:
        """Set how ``service``'s containers behave (the fields of :class:`Script`)."""
        self.scripts[service] = Script(**behaviour)
        return self.scripts[service]

    def ops(self, *ops: str) -> list[str]:
        """The calls made, as ``"op target"`` strings, optionally only these ops."""
        return [str(c) for c in self.calls if not ops or c.op in ops]

    def index(self, op: str, target: str) -> int:
        """Position of the first ``op`` call on ``target`` (raises if absent)."""
        return self.ops().index(f"{op} {target}")

    def time_of(self, op: str, target: str) -> float:
        for call in self.calls:
            if call.op == op and call.target == target:
                return call.time
        raise AssertionError(f"no call {op} {target} in {self.ops()}")

    def add_container(self, project: str, service: str, number: int, *,
                      state: str = "running", config_hash: str = "", image_id: str = "",
                      name: str | None = None, oneoff: bool = False,
                      networks: tuple[str, ...] = (), health: str | None = None,
                      depends_on: str = "", mounts: list[dict[str, Any]] | None = None
                      ) -> MemoryContainer:
        """A container that already exists (made by an earlier run, or by hand)."""
        name = name or f"{project}-{service}-{number}"
        labels = {
            L.PROJECT: project, L.SERVICE: service, L.CONTAINER_NUMBER: str(number),
            L.ONEOFF: "True" if oneoff else "False", L.CONFIG_HASH: config_hash,
            L.IMAGE_DIGEST: image_id, L.DEPENDS_ON: depends_on,
        }
        c = MemoryContainer(_id(name + str(next(self._counter))), name, labels, {},
                            next(self._counter), state=state, health=health,
                            networks=list(networks), mounts=list(mounts or ()))
        self.containers[c.id] = c
        return c

    def add_network(self, name: str, *, project: str = "", key: str = "",
                    external: bool = False) -> None:
        lab = {} if external else {L.PROJECT: project, L.NETWORK: key}
        self.networks[name] = {"Id": _id(name), "Labels": lab}

    def add_volume(self, name: str, *, project: str = "", key: str = "") -> None:
        self.volumes[name] = {"Labels": {L.PROJECT: project, L.VOLUME: key} if project else {}}

    def by_name(self, name: str) -> MemoryContainer:
        return self._find(name)

    def write_output(self, container: str, data: bytes, stream: str = "stdout") -> None:
        """The container writes ``data`` now (seen by its logs and attached sessions)."""
        self._output(self._find(container), stream, data)

    def exit_container(self, container: str, code: int = 0) -> None:
        """The container's process ends now with ``code``."""
        self._die(self._find(container), code)

    # -- machinery

    async def _call(self, op: str, target: str) -> None:
        self.calls.append(Call(op, target, anyio.current_time()))
        self._advance()
        delay = self.delays.get(op, 0.0)
        await anyio.sleep(delay)  # a checkpoint even at 0: calls interleave as on an engine
        self._advance()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def _wait_change(self) -> None:
        """Until something changes, or the next scripted change is due."""
        if self._changed is None:
            self._changed = anyio.Event()
        changed = self._changed
        due = self._timeline[0][0] - anyio.current_time() if self._timeline else None
        with anyio.move_on_after(max(due, 0.0) if due is not None else None):
            await changed.wait()
        self._advance()

    def _at(self, delay: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._timeline, (anyio.current_time() + delay, next(self._counter),
                                        action))
        self._notify()  # waiters recompute when to wake

    def _advance(self) -> None:
        now = anyio.current_time()
        while self._timeline and self._timeline[0][0] <= now:
            _, _, action = heapq.heappop(self._timeline)
            action()

    def _emit(self, action: str, c: MemoryContainer, **attributes: str) -> None:
        event = EngineEvent(action, c.id, c.service, c.project,
                            {"name": c.name, **attributes}, time.time_ns())
        for sub in self._subscribers:
            if sub.project == c.project:
                sub.queue.append(event)
        self._notify()

    def _find(self, ref: str) -> MemoryContainer:
        if ref in self.containers:
            return self.containers[ref]
        for c in self.containers.values():
            if c.name == ref or (len(ref) >= 12 and c.id.startswith(ref)):
                return c
        raise NotFoundError(f"Error response from daemon: No such container: {ref}")

    def _running(self, c: MemoryContainer) -> None:
        if c.state != "running":
            raise ConflictError(f"Error response from daemon: Container {c.id} is not running")

    def _output(self, c: MemoryContainer, stream: str, data: bytes) -> None:
        if c.tty:
            stream = "stdout"
        now = time.time_ns()
        for line in data.splitlines(keepends=True):
            c.output.append((now, stream, line))
        for session in c.sessions:
            session.send(stream, data)
        self._notify()

    def _die(self, c: MemoryContainer, code: int, *extra: tuple[str, dict[str, str]]) -> None:
        c.state = "exited"
        c.exit_code = code
        c.generation += 1
        c.exits += 1
        c.finished_at = _rfc3339(time.time_ns())
        for action, attributes in extra:
            self._emit(action, c, **attributes)
        self._emit("die", c, exitCode=str(code))
        for session in c.sessions:
            session.finish()
        c.sessions.clear()

    def _has_healthcheck(self, c: MemoryContainer) -> bool:
        script = self.scripts.get(c.service)
        test = (c.body.get("Healthcheck") or {}).get("Test")
        return bool(script and script.healthcheck) or bool(test and test != ["NONE"])

    def _command(self, c: MemoryContainer) -> list[str]:
        return [*(c.body.get("Entrypoint") or ()), *(c.body.get("Cmd") or ())]

    def _environment(self, c: MemoryContainer, extra: Sequence[str] = ()) -> dict[str, str]:
        env: dict[str, str] = {}
        for entry in [*(c.body.get("Env") or ()), *extra]:
            key, _, value = str(entry).partition("=")
            env[key] = value
        return env

    # -- the connection

    async def ping(self) -> None:
        await self._call("ping", "")

    async def aclose(self) -> None:
        pass

    async def proxy_environment(self) -> dict[str, str]:
        return dict(self.proxies)

    async def registry_credentials(self, registry: str) -> RegistryCredentials | None:
        return self.credentials.get(registry)

    # -- the project

    async def observe(self, project: str, *, all_projects: bool = False) -> Observed:
        await self._call("observe", project)
        containers = []
        for c in sorted(self.containers.values(), key=lambda c: c.created):
            if not all_projects and c.project != project:
                continue
            if not c.project:
                continue
            containers.append(ContainerState(
                id=c.id, name=c.name, project=c.project, service=c.service,
                number=int(c.labels.get(L.CONTAINER_NUMBER) or 0),
                oneoff=c.labels.get(L.ONEOFF) == "True", state=c.state,
                status=c.state, health=c.health, exit_code=c.exit_code,
                config_hash=c.labels.get(L.CONFIG_HASH, ""),
                image=str(c.body.get("Image", "")), labels=dict(c.labels),
                created=c.created, networks=tuple(c.networks),
                mounts=tuple({**m, "Type": "volume"} for m in c.mounts),
                image_id=self.images.get(str(c.body.get("Image", "")), ""),
                command=" ".join(self._command(c))))
        networks = tuple(
            NetworkState(n["Id"], name, n["Labels"].get(L.NETWORK, ""), dict(n["Labels"]),
                         n["Labels"].get(L.CONFIG_HASH, ""))
            for name, n in sorted(self.networks.items())
            if all_projects or n["Labels"].get(L.PROJECT) == project)
        volumes = tuple(
            VolumeState(name, v["Labels"].get(L.VOLUME, ""), dict(v["Labels"]))
            for name, v in sorted(self.volumes.items())
            if all_projects or v["Labels"].get(L.PROJECT) == project)
        return Observed(tuple(containers), networks, volumes)

    async def events(self, project: str, since: int | None = None
                     ) -> AsyncIterator[EngineEvent]:
        if self.events_broken:
            raise EngineError("events stream broken")
        sub = _Subscriber(project)
        self._subscribers.append(sub)
        try:
            while True:
                self._advance()
                while sub.queue:
                    yield sub.queue.popleft()
                    self._advance()
                await self._wait_change()
        finally:
            self._subscribers.remove(sub)

    # -- images

    async def image_exists(self, image: str) -> bool:
        await self._call("image_exists", image)
        return image in self.images

    async def image_id(self, image: str) -> str | None:
        await self._call("image_id", image)
        return self.images.get(image)

    async def inspect_image(self, image: str) -> ImageInfo:
        await self._call("inspect_image", image)
        ident = self.images.get(image) or (image if image in self.images.values() else None)
        if ident is None:
            raise NotFoundError(f"Error response from daemon: No such image: {image}")
        tags = tuple(sorted(name for name, i in self.images.items() if i == ident))
        return ImageInfo(id=ident, repo_tags=tags, os="linux", architecture="amd64",
                         labels=dict(self.image_labels.get(ident, {})),
                         volumes=self.image_volumes.get(image, ()))

    async def list_images(self, *, labels: Sequence[str] = ()) -> list[ImageSummary]:
        await self._call("list_images", ",".join(labels))
        found: dict[str, list[str]] = {}
        for name, ident in self.images.items():
            found.setdefault(ident, []).append(name)
        out = []
        for ident, names in found.items():
            have = self.image_labels.get(ident, {})
            if all((have.get(k) == v) if sep else k in have
                   for k, sep, v in (label.partition("=") for label in labels)):
                out.append(ImageSummary(ident, tuple(sorted(names)), dict(have)))
        return out

    async def remove_image(self, image: str, *, force: bool = False) -> None:
        await self._call("remove_image", image)
        if self.images.pop(image, None) is None:
            raise NotFoundError(f"Error response from daemon: No such image: {image}")

    async def pull_image(self, image: str, *, platform: str | None = None,
                         on_progress: ProgressCallback | None = None) -> None:
        await self._call("pull_image", image)
        for message in self.pull_messages.get(image, ()):
            if message.get("error"):
                raise EngineError(f"Error response from daemon: {message['error']}")
            if on_progress is not None:
                on_progress(message)
        if image not in self.pullable:
            raise NotFoundError(f"pull access denied for {image}, repository does not exist")
        self.images[image] = self.pullable[image]

    async def push_image(self, image: str, *,
                         on_progress: ProgressCallback | None = None) -> None:
        await self._call("push_image", image)
        host = image.split("/", 1)[0] if "/" in image else "docker.io"
        if host not in self.registries or image not in self.images:
            raise EngineError(f"Error response from daemon: no registry to push {image} to")
        if on_progress is not None:
            on_progress({"status": "Pushed", "id": image})
        self.pullable[image] = self.images[image]

    async def build_image(self, request: BuildRequest, *,
                          on_line: Callable[[str], None] | None = None) -> str:
        """Builds at once: the image (and its extra tags) get an ID from the tag."""
        await self._call("build_image", str(request.tag))
        if on_line is not None:
            on_line(f"Step 1/1 : FROM busybox ({request.service})")
        ident = "sha256:" + _id(f"built {request.tag}")
        for tag in (request.tag, *request.extra_tags):
            self.images[tag] = ident
        self.image_labels[ident] = dict(request.labels)
        return ident

    # -- networks and volumes

    async def create_network(self, name: str, body: Mapping[str, Any]) -> str:
        await self._call("create_network", name)
        if name in self.networks:
            raise ConflictError(f"network with name {name} already exists")
        self.networks[name] = {"Id": _id(name), "Labels": dict(body.get("Labels") or {}),
                               "Body": body}
        return str(self.networks[name]["Id"])

    async def remove_network(self, name_or_id: str) -> None:
        await self._call("remove_network", name_or_id)
        if name_or_id not in self.networks:
            raise NotFoundError(f"network {name_or_id} not found")
        if any(name_or_id in c.networks for c in self.containers.values()):
            raise ConflictError(f"error while removing network: network {name_or_id} "
                                "has active endpoints")
        del self.networks[name_or_id]

    async def inspect_network(self, name: str) -> NetworkInfo:
        if name not in self.networks:
            raise NotFoundError(f"network {name} not found")
        network = self.networks[name]
        return NetworkInfo(id=str(network["Id"]), name=name,
                           driver=str((network.get("Body") or {}).get("Driver") or "bridge"),
                           scope="local", labels=dict(network["Labels"]))

    async def connect_network(self, network: str, container: str,
                              endpoint: Mapping[str, Any]) -> None:
        await self._call("connect_network", f"{network} {container}")
        c = self._find(container)
        if network not in self.networks:
            raise NotFoundError(f"network {network} not found")
        c.networks.append(network)

    async def disconnect_network(self, network: str, container: str, *,
                                 force: bool = False) -> None:
        await self._call("disconnect_network", f"{network} {container}")
        c = self._find(container)
        if network in c.networks:
            c.networks.remove(network)

    async def create_volume(self, name: str, body: Mapping[str, Any]) -> str:
        await self._call("create_volume", name)
        self.volumes.setdefault(name, {"Labels": dict(body.get("Labels") or {})})
        return name

    async def remove_volume(self, name: str) -> None:
        await self._call("remove_volume", name)
        if name not in self.volumes:
            raise NotFoundError(f"get {name}: no such volume")
        if any(m.get("Name") == name for c in self.containers.values() for m in c.mounts):
            raise ConflictError(f"remove {name}: volume is in use")
        del self.volumes[name]

    async def inspect_volume(self, name: str) -> VolumeInfo:
        if name not in self.volumes:
            raise NotFoundError(f"get {name}: no such volume")
        return VolumeInfo(name=name, driver="local",
                          mountpoint=f"/var/lib/docker/volumes/{name}/_data",
                          labels=dict(self.volumes[name]["Labels"]))

    # -- containers

    async def create_container(self, name: str, body: Mapping[str, Any], *,
                               platform: str | None = None) -> str:
        await self._call("create_container", name)
        labels = dict(body.get("Labels") or {})
        script = self.scripts.get(labels.get(L.SERVICE, ""))
        if script is not None and script.fail_create:
            raise EngineError(script.fail_create)
        if any(c.name == name for c in self.containers.values()):
            raise ConflictError(f'Conflict. The container name "/{name}" is already in use')
        if body.get("Image") not in self.images:
            raise NotFoundError(f"No such image: {body.get('Image')}")
        host = body.get("HostConfig") or {}
        networks = list((body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})
        for net in networks:
            if net not in self.networks:
                raise NotFoundError(f"network {net} not found")
        mounts = []
        for m in host.get("Mounts") or ():
            if m.get("Type") == "volume":
                source = m.get("Source") or _id(name + m.get("Target", ""))
                if not m.get("Source"):
                    self.volumes.setdefault(source, {"Labels": {}, "Anonymous": True})
                mounts.append({"Type": "volume", "Name": source,
                               "Destination": m.get("Target")})
        c = MemoryContainer(_id(name + str(next(self._counter))), name, labels, body,
                            next(self._counter), networks=networks, mounts=mounts)
        c.files.write("/etc/hostname", (str(body.get("Hostname") or c.id[:12]) + "\n").encode())
        self.containers[c.id] = c
        self._emit("create", c)
        return c.id

    async def start_container(self, container: str) -> None:
        await self._call("start_container", container)
        c = self._find(container)
        script = self.scripts.get(c.service) or Script()
        if script.fail_start:
            raise EngineError(script.fail_start)
        if c.state == "running":
            return
        c.state = "running"
        c.exit_code = None
        c.health = "starting" if self._has_healthcheck(c) else None
        c.generation += 1
        c.started_at = _rfc3339(time.time_ns())
        generation = c.generation
        self._emit("start", c)
        for delay, status in script.health:
            self._at(delay, self._health_setter(c, generation, status))
        for delay, stream, data in script.output:
            self._at(delay, self._writer(c, generation, stream, data))
        exit_at = script.exit
        if script.run_command:
            code, out, err = run_command(self._command(c), b"", self._environment(c),
                                         str(c.body.get("WorkingDir") or "/"))
            self._at(0.0, self._writer(c, generation, "stdout", out))
            self._at(0.0, self._writer(c, generation, "stderr", err))
            exit_at = exit_at or (0.0, code)
        if exit_at is not None:
            delay, code = exit_at
            self._at(delay, self._exiter(c, generation, code))

    def _live(self, c: MemoryContainer, generation: int) -> bool:
        return c.generation == generation and c.state == "running" and c.id in self.containers

    def _health_setter(self, c: MemoryContainer, generation: int,
                       status: str) -> Callable[[], None]:
        def apply() -> None:
            if self._live(c, generation):
                c.health = status
                self._emit(f"health_status: {status}", c)
        return apply

    def _writer(self, c: MemoryContainer, generation: int, stream: str,
                data: bytes) -> Callable[[], None]:
        def apply() -> None:
            if self._live(c, generation) and data:
                self._output(c, stream, data)
        return apply

    def _exiter(self, c: MemoryContainer, generation: int, code: int) -> Callable[[], None]:
        def apply() -> None:
            if self._live(c, generation):
                self._die(c, code)
        return apply

    async def stop_container(self, container: str, timeout: int | None = None) -> None:
        await self._call("stop_container", container)
        c = self._find(container)
        if c.state in ("running", "paused", "restarting"):
            self._die(c, 0)
            self._emit("stop", c)

    async def kill_container(self, container: str, signal: str = "SIGKILL") -> None:
        await self._call("kill_container", f"{container} {signal}")
        c = self._find(container)
        if c.state != "running":
            raise ConflictError(f"Container {c.id} is not running")
        self._die(c, 137, ("kill", {"signal": signal}))

    async def remove_container(self, container: str, *, force: bool = False,
                               volumes: bool = False) -> None:
        await self._call("remove_container", container)
        c = self._find(container)
        if c.state in ("running", "paused") and not force:
            raise ConflictError(f"You cannot remove a running container {c.id}")
        for session in c.sessions:
            session.finish()
        c.sessions.clear()
        del self.containers[c.id]
        if volumes:
            for m in c.mounts:
                if self.volumes.get(m["Name"], {}).get("Anonymous"):
                    del self.volumes[m["Name"]]
        self._emit("destroy", c)

    async def rename_container(self, container: str, name: str) -> None:
        await self._call("rename_container", f"{container} {name}")
        c = self._find(container)
        if any(o.name == name for o in self.containers.values() if o is not c):
            raise ConflictError(f'Conflict. The container name "/{name}" is already in use')
        c.name = name
        self._emit("rename", c)

    async def pause_container(self, container: str) -> None:
        await self._call("pause_container", container)
        self._find(container).state = "paused"

    async def unpause_container(self, container: str) -> None:
        await self._call("unpause_container", container)
        self._find(container).state = "running"

    async def inspect_container(self, container: str) -> ContainerInfo:
        self.inspections += 1
        self._advance()
        await anyio.sleep(0)
        c = self._find(container)
        host = c.body.get("HostConfig") or {}
        ports = {str(port): tuple(PortBinding(str(b.get("HostIp") or ""), int(b["HostPort"]))
                                  for b in bindings or ()
                                  if str(b.get("HostPort") or "").isdigit())
                 for port, bindings in (host.get("PortBindings") or {}).items()}
        return ContainerInfo(
            id=c.id, name=c.name, image=str(c.body.get("Image") or ""),
            image_id=self.images.get(str(c.body.get("Image", "")), ""), state=c.state,
            running=c.state in ("running", "paused"), paused=c.state == "paused",
            exit_code=c.exit_code or 0, pid=1 if c.state == "running" else 0,
            started_at=c.started_at, finished_at=c.finished_at, health=c.health,
            has_healthcheck=self._has_healthcheck(c), tty=c.tty,
            open_stdin=bool(c.body.get("OpenStdin")), labels=dict(c.labels),
            network_mode=str(host.get("NetworkMode") or ""),
            ip_addresses=self._addresses(c), ports=ports)

    def _addresses(self, c: MemoryContainer) -> dict[str, str]:
        # Every address is this host's: a TCP probe reaches what listens here.
        mode = str((c.body.get("HostConfig") or {}).get("NetworkMode") or "")
        if mode in ("none", "host") or mode.startswith(("container:", "service:")):
            return {}
        return {n: "127.0.0.1" for n in c.networks or [mode or "bridge"]}

    async def top_container(self, container: str,
                            ps_args: str | None = None) -> ProcessList:
        await self._call("top_container", container)
        c = self._find(container)
        if c.state != "running":
            raise ConflictError(f"Container {c.id} is not running")
        return ProcessList(("PID", "CMD"), (("1", " ".join(self._command(c)) or "sleep"),))

    async def resize_container(self, container: str, height: int, width: int) -> None:
        await self._call("resize_container", f"{container} {height}x{width}")
        self._running(self._find(container))

    async def wait_container(self, container: str,
                             condition: ExitCondition = "not-running") -> int:
        await self._call("wait_container", container)
        return await _PendingExit(self, self._find(container), condition).exit_code()

    async def wait_begin(self, container: str,
                         condition: ExitCondition = "next-exit") -> _PendingExit:
        await self._call("wait_begin", container)
        return _PendingExit(self, self._find(container), condition)

    # -- output

    async def log_batches(self, container: str, *, follow: bool, tail: str = "all",
                          timestamps: bool = False, since: str | None = None,
                          until: str | None = None) -> AsyncIterator[list[Frame]]:
        await self._call("logs", container)
        c = self._find(container)
        after, before = _seconds(since), _seconds(until)

        def frames(records: Sequence[tuple[int, str, bytes]]) -> list[Frame]:
            out = []
            for ns, stream, line in records:
                if (after is not None and ns / 1e9 < after) or (
                        before is not None and ns / 1e9 > before):
                    continue
                stamp = (_rfc3339(ns) + " ").encode() if timestamps else b""
                out.append(Frame(stream, stamp + line))
            return out

        seen = len(c.output)
        past = c.output[:seen]
        if tail != "all":
            past = past[len(past) - int(tail):] if int(tail) > 0 else []
        batch = frames(past)
        if batch:
            yield batch
        while follow and c.id in self.containers:
            if c.state not in ("running", "paused", "restarting") and seen == len(c.output):
                return
            if seen == len(c.output):
                await self._wait_change()
                continue
            batch, seen = frames(c.output[seen:]), len(c.output)
            if batch:
                yield batch

    async def logs(self, container: str, *, follow: bool, tail: str = "all",
                   timestamps: bool = False, since: str | None = None,
                   until: str | None = None) -> AsyncIterator[Frame]:
        async for batch in self.log_batches(container, follow=follow, tail=tail,
                                            timestamps=timestamps, since=since, until=until):
            for frame in batch:
                yield frame

    async def attach_output(self, container: str, *,
                            on_attached: Callable[[], None] | None = None
                            ) -> AsyncIterator[list[Frame]]:
        await self._call("attach_output", container)
        c = self._find(container)
        seen, exits = len(c.output), c.exits
        done = c.state in ("exited", "dead")
        if on_attached is not None:
            on_attached()
        while not done:
            if len(c.output) > seen:
                batch = [Frame(s, d) for _, s, d in c.output[seen:]]
                seen = len(c.output)
                yield batch
                continue
            if c.exits > exits or c.id not in self.containers:
                return
            await self._wait_change()

    # -- interactive sessions

    async def attach(self, container: str, *, stdin: bool, tty: bool | None = None,
                     logs: bool = False) -> RawStream:
        await self._call("attach", container)
        c = self._find(container)
        pipe = SessionPipe(tty=c.tty if tty is None else tty, read_input=stdin)
        if logs:
            for _, stream, line in c.output:
                pipe.send(stream, line)
        if c.state in ("exited", "dead"):
            pipe.finish()
        else:
            c.sessions.append(pipe)
        if stdin:
            c.stdin = pipe.input  # what the session sends is the container's stdin
        return pipe.stream

    async def exec_create(self, container: str, config: ExecConfig) -> str:
        await self._call("exec_create", container)
        c = self._find(container)
        self._running(c)
        ident = _id(f"exec {c.id} {next(self._counter)}")
        self.execs[ident] = _Exec(ident, c, config)
        return ident

    def _exec(self, exec_id: str) -> _Exec:
        found = self.execs.get(exec_id)
        if found is None:
            raise NotFoundError(f"Error response from daemon: No such exec instance: {exec_id}")
        return found

    def _handler(self, e: _Exec) -> Callable[[bytes], tuple[int, bytes, bytes]]:
        script = self.scripts.get(e.container.service)
        handler = script.exec if script is not None and script.exec is not None else run_command
        env = self._environment(e.container, e.config.environment)
        workdir = e.config.workdir or str(e.container.body.get("WorkingDir") or "/")
        command = list(e.config.command)
        return lambda stdin: handler(command, stdin, env, workdir)

    async def exec_start(self, exec_id: str, *, tty: bool) -> RawStream:
        await self._call("exec_start", exec_id)
        e = self._exec(exec_id)
        self._running(e.container)
        pipe = SessionPipe(tty=tty, read_input=e.config.stdin)
        play = self._handler(e)
        e.running = True

        def run() -> None:
            pipe.input_done.wait()
            code, out, err = play(bytes(pipe.input))
            pipe.send("stdout", out)
            pipe.send("stderr", err)
            e.exit_code, e.running = code, False
            pipe.finish()

        threading.Thread(target=run, name="composer-memory-exec", daemon=True).start()
        return pipe.stream

    async def exec_start_detached(self, exec_id: str) -> None:
        await self._call("exec_start", exec_id)
        e = self._exec(exec_id)
        self._running(e.container)
        e.exit_code, _out, _err = self._handler(e)(b"")

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        await self._call("exec_resize", f"{exec_id} {height}x{width}")
        self._exec(exec_id)

    async def exec_inspect(self, exec_id: str) -> ExecInfo:
        await self._call("exec_inspect", exec_id)
        e = self._exec(exec_id)
        return ExecInfo(e.id, e.container.id, e.running,
                        None if e.running else e.exit_code, 1 if e.running else 0)

    async def exec_run(self, container: str, config: ExecConfig, *,
                       input: bytes | None = None) -> ExecOutput:
        exec_id = await self.exec_create(container, config)
        await self._call("exec_start", exec_id)
        e = self._exec(exec_id)
        code, out, err = self._handler(e)(input or b"")
        e.exit_code = code
        if config.tty:
            out, err = out + err, b""
        return ExecOutput(code, out, err)

    # -- resource usage

    def _sample(self, c: MemoryContainer) -> StatsSample:
        if c.state != "running":
            return StatsSample()
        script = self.scripts.get(c.service)
        if script is not None and script.stats is not None:
            return script.stats
        return StatsSample(memory_usage=1 << 20, memory_limit=float(1 << 30), pids=1)

    async def stats(self, container: str) -> StatsSample:
        await self._call("stats", container)
        return self._sample(self._find(container))

    async def stats_stream(self, container: str) -> AsyncIterator[StatsSample]:
        await self._call("stats", container)
        c = self._find(container)
        while c.id in self.containers:
            yield self._sample(c)
            if c.state != "running":
                return
            await anyio.sleep(self.stats_interval)
            self._advance()

    # -- files

    async def stat_path(self, container: str, path: str) -> PathStat | None:
        await self._call("stat_path", f"{container}:{path}")
        return self._find(container).files.stat(path)

    async def get_archive(self, container: str, path: str) -> bytes:
        await self._call("get_archive", f"{container}:{path}")
        c = self._find(container)
        return c.files.archive(posixpath.normpath(path), c.name)

    async def put_archive(self, container: str, path: str, data: bytes, *,
                          copy_uid_gid: bool = False) -> None:
        await self._call("put_archive", f"{container}:{path}")
        c = self._find(container)
        c.files.extract(path, data, c.name, copy_uid_gid=copy_uid_gid)

"""The state machine of :class:`~composer.backends.memory.MemoryBackend`: its
containers (create, start, stop, kill, remove, rename, pause, inspect, wait), the
scripts that drive them on the event loop's clock, the event stream and the
project listing. :mod:`composer.backends.memory` adds images, networks, volumes
and the streaming calls on top, and documents the whole.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio

from composer.backends.health import HealthState, health_schedule
from composer.backends.memory_files import FileTree
from composer.backends.memory_process import CommandHandler, SessionPipe, run_command
from composer.backends.types import (
    ContainerInfo,
    ContainerState,
    EngineEvent,
    ExecConfig,
    ExitCondition,
    NetworkState,
    Observed,
    PortBinding,
    ProcessList,
    RegistryCredentials,
    StatsSample,
    VolumeState,
)
from composer.errors import ConflictError, EngineError, NotFoundError
from composer.model import labels as L

__all__ = ["Call", "MemoryContainer", "MemoryEngine", "Script"]

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
    stdin: bytearray = field(default_factory=bytearray)  # what attached sessions sent
    stdin_closed: threading.Event = field(default_factory=threading.Event)  # at its end
    files: FileTree = field(default_factory=FileTree)
    sessions: list[SessionPipe] = field(default_factory=list)
    #: The status kept from ``run_healthcheck`` runs (an engine without its own checks).
    health_state: HealthState | None = None
    #: Why its last start failed, while it has not started since (Docker's
    #: ``State.Error``).
    start_error: str = ""

    def fresh_health(self) -> HealthState:
        """A new check history from the body's ``Healthcheck`` (a start begins one)."""
        self.health_state = HealthState(health_schedule(self.body.get("Healthcheck") or {}),
                                        time.time())
        return self.health_state

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


class _PendingExit:
    def __init__(self, backend: MemoryEngine, container: MemoryContainer,
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


class MemoryEngine:
    """The containers' state machine and the shared state (see
    :class:`~composer.backends.memory.MemoryBackend`).

    ``images`` maps image references to IDs (default: ``busybox``); ``delays``
    maps a method name to the seconds it takes; ``events_broken`` makes the event
    stream fail (to exercise the pollers' fallback).
    """

    address = "memory://"
    api_version = "1.41"

    def __init__(self, *, images: Mapping[str, str] | None = None,
                 delays: Mapping[str, float] | None = None,
                 events_broken: bool = False, engine_healthchecks: bool = True) -> None:
        self.containers: dict[str, MemoryContainer] = {}
        #: False: like Podman without systemd, the engine never runs a healthcheck
        #: by itself (``Script.health`` is ignored); ``run_healthcheck`` runs one.
        self.engine_healthchecks = engine_healthchecks
        #: What ``is_rootless`` answers (tests of the rootless paths set it).
        self.rootless = False
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
                command=" ".join(self._command(c)),
                start_error=c.start_error if c.state == "created" else ""))
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
            c.start_error = script.fail_start
            raise EngineError(script.fail_start)
        if c.state == "running":
            return
        c.state, c.start_error = "running", ""
        c.exit_code = None
        c.health = "starting" if self._has_healthcheck(c) else None
        c.generation += 1
        c.started_at = _rfc3339(time.time_ns())
        generation = c.generation
        self._emit("start", c)
        c.health_state = None
        if not self.engine_healthchecks and c.health:
            c.fresh_health()
        for delay, status in script.health if self.engine_healthchecks else ():
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

    async def stop_and_remove_container(self, container: str, timeout: int | None = None,
                                        *, volumes: bool = False) -> None:
        await self.stop_container(container, timeout)
        await self.remove_container(container, force=True, volumes=volumes)

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
            health_log=tuple(c.health_state.log) if c.health_state else (),
            has_healthcheck=self._has_healthcheck(c),
            healthcheck=(health_schedule(c.body.get("Healthcheck") or {})
                         if self._has_healthcheck(c) else None), tty=c.tty,
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

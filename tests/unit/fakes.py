"""An in-memory engine implementing composer.backends.base.Backend, for unit tests.

State machine, not a mock: containers are created, started, stopped, renamed and
removed as the Docker Engine would, and an event stream reports it. Per service,
a :class:`Script` tells how its containers behave once started (health
transitions after some delay, exiting with a code, failing to start). Time is
the event loop's clock: scripted transitions happen when their time has come,
seen by the next call or by the event stream, so no background task is needed.

Every call is logged in ``calls`` as ``Call(op, target, time)`` so tests can
assert on what was called and in which order.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from composer.backends.base import (
    ContainerState,
    EngineEvent,
    NetworkState,
    Observed,
    VolumeState,
)
from composer.backends.errors import ConflictError, NotFoundError
from composer.errors import EngineError
from composer.model import labels as L


@dataclass
class Script:
    """How a service's containers behave once started.

    ``health``: ``[(seconds after start, "healthy"|"unhealthy"|"starting")]``;
    ``exit``: ``(seconds after start, exit code)``; ``fail_start`` / ``fail_create``:
    the engine's error text; ``healthcheck``: the container reports one in inspect
    even if the create body has none (an image HEALTHCHECK).
    """

    health: list[tuple[float, str]] = field(default_factory=list)
    exit: tuple[float, int] | None = None
    fail_start: str | None = None
    fail_create: str | None = None
    healthcheck: bool = False


@dataclass
class Call:
    op: str
    target: str
    time: float

    def __str__(self) -> str:
        return f"{self.op} {self.target}"


@dataclass
class FakeContainer:
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

    @property
    def service(self) -> str:
        return self.labels.get(L.SERVICE, "")

    @property
    def project(self) -> str:
        return self.labels.get(L.PROJECT, "")


@dataclass
class _Subscriber:
    project: str
    queue: deque[EngineEvent] = field(default_factory=deque)
    wake: anyio.Event = field(default_factory=anyio.Event)


def _id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FakeBackend:
    """The in-memory engine. ``delays`` maps a method name to seconds it takes."""

    address = "fake://engine"
    api_version = "1.41"

    def __init__(self, *, images: Mapping[str, str] | None = None,
                 delays: Mapping[str, float] | None = None,
                 events_broken: bool = False) -> None:
        self.containers: dict[str, FakeContainer] = {}
        self.networks: dict[str, dict[str, Any]] = {}
        self.volumes: dict[str, dict[str, Any]] = {}
        self.images: dict[str, str] = dict(images if images is not None
                                           else {"busybox": "sha256:" + _id("busybox")})
        self.pullable: dict[str, str] = {}
        #: Per image, the progress messages its pull streams (as the Engine API sends them).
        self.pull_messages: dict[str, list[dict[str, Any]]] = {}
        self.scripts: dict[str, Script] = {}
        self.delays = dict(delays or {})
        self.events_broken = events_broken
        self.calls: list[Call] = []
        self.inspections = 0
        self._counter = itertools.count(1)
        self._timeline: list[tuple[float, int, Callable[[], None]]] = []
        self._subscribers: list[_Subscriber] = []

    # -- test helpers

    def script(self, service: str, **behaviour: Any) -> Script:
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
                      ) -> FakeContainer:
        """A container that already exists (made by an earlier run, or by hand)."""
        name = name or f"{project}-{service}-{number}"
        labels = {
            L.PROJECT: project, L.SERVICE: service, L.CONTAINER_NUMBER: str(number),
            L.ONEOFF: "True" if oneoff else "False", L.CONFIG_HASH: config_hash,
            L.IMAGE_DIGEST: image_id, L.DEPENDS_ON: depends_on,
        }
        c = FakeContainer(_id(name + str(next(self._counter))), name, labels, {},
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

    def by_name(self, name: str) -> FakeContainer:
        return self._find(name)

    # -- machinery

    async def _call(self, op: str, target: str) -> None:
        self.calls.append(Call(op, target, anyio.current_time()))
        self._advance()
        delay = self.delays.get(op, 0.0)
        await anyio.sleep(delay)  # a checkpoint even at 0: calls interleave as on an engine
        self._advance()

    def _at(self, delay: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._timeline, (anyio.current_time() + delay, next(self._counter),
                                        action))
        for sub in self._subscribers:
            sub.wake.set()

    def _advance(self) -> None:
        now = anyio.current_time()
        while self._timeline and self._timeline[0][0] <= now:
            _, _, action = heapq.heappop(self._timeline)
            action()

    def _emit(self, action: str, c: FakeContainer, **attributes: str) -> None:
        event = EngineEvent(action, c.id, c.service, c.project,
                            {"name": c.name, **attributes})
        for sub in self._subscribers:
            if sub.project == c.project:
                sub.queue.append(event)
                sub.wake.set()

    def _find(self, ref: str) -> FakeContainer:
        if ref in self.containers:
            return self.containers[ref]
        for c in self.containers.values():
            if c.name == ref or (len(ref) >= 12 and c.id.startswith(ref)):
                return c
        raise NotFoundError(f"Error response from daemon: No such container: {ref}")

    # -- the Backend protocol

    async def ping(self) -> None:
        await self._call("ping", "")

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
                image_id=self.images.get(str(c.body.get("Image", "")), "")))
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

    async def image_exists(self, image: str) -> bool:
        await self._call("image_exists", image)
        return image in self.images

    async def image_id(self, image: str) -> str | None:
        await self._call("image_id", image)
        return self.images.get(image)

    async def pull_image(self, image: str, *, platform: str | None = None,
                         on_progress: Callable[[Mapping[str, Any]], None] | None = None,
                         ) -> None:
        await self._call("pull_image", image)
        for message in self.pull_messages.get(image, ()):
            if message.get("error"):
                raise EngineError(f"Error response from daemon: {message['error']}")
            if on_progress is not None:
                on_progress(message)
        if image not in self.pullable:
            raise NotFoundError(f"pull access denied for {image}, repository does not exist")
        self.images[image] = self.pullable[image]

    async def build_image(self, request: Any, *,
                          on_line: Callable[[str], None] | None = None) -> str:
        """Builds instantly: the image (and its extra tags) get an ID from the tag."""
        await self._call("build_image", str(request.tag))
        if on_line is not None:
            on_line(f"Step 1/1 : FROM busybox ({request.service})")
        ident = "sha256:" + _id(f"built {request.tag}")
        for tag in (request.tag, *request.extra_tags):
            self.images[tag] = ident
        return ident

    async def push_image(self, image: str) -> None:
        """No registry: every push fails, as on a machine with none."""
        await self._call("push_image", image)
        raise EngineError(f"Error response from daemon: no registry to push {image} to")

    async def list_images(self, *, labels: Sequence[str] = ()) -> list[Mapping[str, Any]]:
        # The fake's images carry no labels: a label filter matches none of them.
        await self._call("list_images", ",".join(labels))
        if labels:
            return []
        return [{"Id": i, "RepoTags": [name], "Labels": {}} for name, i in self.images.items()]

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

    async def inspect_network(self, name: str) -> Mapping[str, Any]:
        if name not in self.networks:
            raise NotFoundError(f"network {name} not found")
        return self.networks[name]

    async def inspect_volume(self, name: str) -> Mapping[str, Any]:
        if name not in self.volumes:
            raise NotFoundError(f"get {name}: no such volume")
        return self.volumes[name]

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
        c = FakeContainer(_id(name + str(next(self._counter))), name, labels, body,
                          next(self._counter), networks=networks, mounts=mounts)
        self.containers[c.id] = c
        self._emit("create", c)
        return c.id

    async def connect_network(self, network: str, container: str,
                              endpoint: Mapping[str, Any]) -> None:
        await self._call("connect_network", f"{network} {container}")
        c = self._find(container)
        if network not in self.networks:
            raise NotFoundError(f"network {network} not found")
        c.networks.append(network)

    def _has_healthcheck(self, c: FakeContainer) -> bool:
        script = self.scripts.get(c.service)
        test = (c.body.get("Healthcheck") or {}).get("Test")
        return bool(script and script.healthcheck) or bool(test and test != ["NONE"])

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
        generation = c.generation
        self._emit("start", c)
        for delay, status in script.health:
            self._at(delay, self._health_setter(c, generation, status))
        if script.exit is not None:
            delay, code = script.exit
            self._at(delay, self._exiter(c, generation, code))

    def _health_setter(self, c: FakeContainer, generation: int,
                       status: str) -> Callable[[], None]:
        def apply() -> None:
            if c.generation == generation and c.state == "running" and c.id in self.containers:
                c.health = status
                self._emit(f"health_status: {status}", c)
        return apply

    def _exiter(self, c: FakeContainer, generation: int, code: int) -> Callable[[], None]:
        def apply() -> None:
            if c.generation == generation and c.state == "running" and c.id in self.containers:
                c.state = "exited"
                c.exit_code = code
                self._emit("die", c, exitCode=str(code))
        return apply

    async def stop_container(self, container: str, timeout: int | None = None) -> None:
        await self._call("stop_container", container)
        c = self._find(container)
        if c.state in ("running", "paused", "restarting"):
            c.state = "exited"
            c.exit_code = 0
            c.generation += 1
            self._emit("die", c, exitCode="0")
            self._emit("stop", c)

    async def kill_container(self, container: str, signal: str = "SIGKILL") -> None:
        await self._call("kill_container", f"{container} {signal}")
        c = self._find(container)
        if c.state != "running":
            raise ConflictError(f"Container {c.id} is not running")
        c.state = "exited"
        c.exit_code = 137
        c.generation += 1
        self._emit("kill", c, signal=signal)
        self._emit("die", c, exitCode="137")

    async def remove_container(self, container: str, *, force: bool = False,
                               volumes: bool = False) -> None:
        await self._call("remove_container", container)
        c = self._find(container)
        if c.state in ("running", "paused") and not force:
            raise ConflictError(f"You cannot remove a running container {c.id}")
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

    async def inspect_container(self, container: str) -> Mapping[str, Any]:
        self.inspections += 1
        self._advance()
        await anyio.sleep(0)
        c = self._find(container)
        state: dict[str, Any] = {"Status": c.state, "ExitCode": c.exit_code or 0,
                                 "Running": c.state == "running"}
        if c.health is not None:
            state["Health"] = {"Status": c.health}
        check = c.body.get("Healthcheck")
        if check is None and self._has_healthcheck(c):
            check = {"Test": ["CMD", "true"]}
        return {
            "Id": c.id, "Name": "/" + c.name, "State": state,
            "Config": {"Labels": dict(c.labels), "Healthcheck": check,
                       "Image": c.body.get("Image")},
            "HostConfig": dict(c.body.get("HostConfig") or {}),
            "Mounts": list(c.mounts),
            "NetworkSettings": {"IPAddress": "127.0.0.1",
                                "Networks": {n: {"IPAddress": "127.0.0.1"}
                                             for n in c.networks}, "Ports": {}},
        }

    async def inspect_image(self, image: str) -> Mapping[str, Any]:
        await self._call("inspect_image", image)
        if image not in self.images:
            raise NotFoundError(f"No such image: {image}")
        return {"Id": self.images[image], "Config": {"Volumes": None}}

    async def remove_image(self, image: str, *, force: bool = False) -> None:
        await self._call("remove_image", image)
        if self.images.pop(image, None) is None:
            raise NotFoundError(f"No such image: {image}")

    async def disconnect_network(self, network: str, container: str, *,
                                 force: bool = False) -> None:
        await self._call("disconnect_network", f"{network} {container}")
        c = self._find(container)
        if network in c.networks:
            c.networks.remove(network)

    async def top_container(self, container: str, ps_args: str | None = None
                            ) -> Mapping[str, Any]:
        await self._call("top_container", container)
        c = self._find(container)
        if c.state != "running":
            raise ConflictError(f"Container {c.id} is not running")
        return {"Titles": ["PID", "CMD"], "Processes": [["1", "sleep"]]}

    async def wait_container(self, container: str) -> int:
        await self._call("wait_container", container)
        c = self._find(container)
        while c.state == "running":
            await anyio.sleep(0.01)
            self._advance()
        return c.exit_code or 0

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
                sub.wake = anyio.Event()
                due = self._timeline[0][0] - anyio.current_time() if self._timeline else None
                with anyio.move_on_after(max(due, 0.0) if due is not None else None):
                    await sub.wake.wait()
        finally:
            self._subscribers.remove(sub)

    async def logs(self, container: str, *, follow: bool, tail: str = "all",
                   timestamps: bool = False, since: str | None = None,
                   until: str | None = None) -> AsyncIterator[tuple[str, bytes]]:
        await self._call("logs", container)
        for _ in ():
            yield ("stdout", b"")

    async def aclose(self) -> None:
        pass

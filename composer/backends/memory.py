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
running event loop; its methods run on anyio (asyncio or trio). Interactive
sessions and exec streams use a socket pair and two daemon threads each.

The parts: :mod:`.memory_engine` (the containers' state machine, scripts,
events, listing), this module (images, networks, volumes, output, sessions,
exec, stats, files), :mod:`.memory_files` and :mod:`.memory_process`.
"""

from __future__ import annotations

import posixpath
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import anyio

from composer.backends.base import ProgressCallback
from composer.backends.frames import RawStream
from composer.backends.health import check_command
from composer.backends.memory_engine import (
    Call,
    MemoryContainer,
    MemoryEngine,
    Script,
    _Exec,
    _id,
    _rfc3339,
)
from composer.backends.memory_process import SessionPipe, run_command
from composer.backends.types import (
    BuildRequest,
    ExecConfig,
    ExecInfo,
    ExecOutput,
    Frame,
    ImageInfo,
    ImageSummary,
    NetworkInfo,
    PathStat,
    RegistryCredentials,
    StatsSample,
    VolumeInfo,
)
from composer.errors import ConflictError, EngineError, NotFoundError

__all__ = ["Call", "MemoryBackend", "MemoryContainer", "Script"]


def _seconds(value: str | None) -> float | None:
    return None if value in (None, "") else float(str(value))


class MemoryBackend(MemoryEngine):
    """The in-memory engine (see the module docstring). ``images`` maps image
    references to IDs (default: ``busybox``); ``delays`` maps a method name to the
    seconds it takes; ``events_broken`` makes the event stream fail."""

    # -- the connection

    async def ping(self) -> None:
        await self._call("ping", "")

    async def aclose(self) -> None:
        pass

    def unsupported(self, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    async def settle(self) -> None:
        pass  # no call outlives its caller here

    async def proxy_environment(self) -> dict[str, str]:
        return dict(self.proxies)

    async def registry_credentials(self, registry: str) -> RegistryCredentials | None:
        return self.credentials.get(registry)

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
            # What the session sends is the container's stdin.
            c.stdin, c.stdin_closed = pipe.input, pipe.input_done
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

    # -- healthchecks

    async def runs_healthchecks(self) -> bool:
        await self._call("runs_healthchecks", "")
        return self.engine_healthchecks

    async def is_rootless(self) -> bool:
        return self.rootless

    async def run_healthcheck(self, container: str) -> None:
        await self._call("run_healthcheck", container)
        c = self._find(container)
        command = check_command((c.body.get("Healthcheck") or {}).get("Test") or ())
        if c.state != "running" or command is None:
            raise EngineError(f"container {c.id} has no defined healthcheck"
                              if command is None else f"container {c.id} is not running")
        state = c.health_state or c.fresh_health()
        began = time.time()
        result = await self.exec_run(c.id, ExecConfig(command=tuple(command)))
        ended = time.time()
        before = c.health
        c.health = state.record(
            result.exit_code, (result.stdout + result.stderr).decode(errors="replace"),
            began=began, ended=ended, start=_rfc3339(int(began * 1e9)),
            end=_rfc3339(int(ended * 1e9)))
        if c.health != before:
            self._emit(f"health_status: {c.health}", c)

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

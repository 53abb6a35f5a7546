"""The LXC backend: :class:`~composer.backends.base.Backend` on LXC's Python binding.

Selected explicitly (``--engine lxc``, ``COMPOSER_ENGINE=lxc``, ``connect("lxc://")``):
LXC has no daemon to discover. The container bodies are the Engine API's
(:mod:`composer.backends.spec` builds them for every engine); :mod:`.host` turns
them into LXC containers, bridges and volume folders, and keeps each container
as the Engine API would show it, so ``observe``/``inspect`` read the same labels
and states as on Docker. Images come from :mod:`.images` (an OCI image unpacked
once per digest: from a local Docker or Podman store, an OCI or docker archive,
or a root filesystem folder), each container an overlay over it.

What LXC cannot do the way the Engine API does is refused with one line naming
it (:class:`~composer.errors.EngineError`): building images from a Dockerfile
(build with Docker or Podman, then ``pull`` imports the result; the one build
LXC makes is ``x-composer-rootfs``'s, a folder imported as it is), pushing, a
terminal or input for
the main process (``run -it``, ``attach`` with input), renaming a running
container, and connecting a network to a running
container. ``exec -it`` gets a pseudo-terminal; ``attach`` follows the console
log (one stream: stdout and stderr merged; ``since`` by run, the log having no
time stamps); ``top`` reads ``/proc``, ``stats`` the container's cgroup (no
network or block I/O counters yet), both leaving out LXC's init and composer's
shell; ``cp`` runs composer's own busybox ``tar`` in the container. Healthchecks are run by composer
(:mod:`composer.runtime.health`), as on Podman without systemd; events come from
watching the containers' states.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from functools import partial
from typing import Any

import anyio
import anyio.to_thread

from composer.backends.base import ExitCondition, PendingExit, ProgressCallback
from composer.backends.frames import RawStream
from composer.backends.health import HealthState, check_command, health_schedule
from composer.backends.lxc.console import Splitter, split_lines
from composer.backends.lxc.host import LxcHost, exit_code_if_stopped, now_rfc3339
from composer.backends.types import (
    BuildRequest,
    ContainerInfo,
    ContainerState,
    EngineEvent,
    ExecConfig,
    ExecInfo,
    ExecOutput,
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
from composer.errors import ComposerError, ConflictError, EngineError, NotFoundError
from composer.model import labels as L
from composer.model.naming import ROOTFS_DOCKERFILE

__all__ = ["LxcBackend"]

#: Seconds between two looks at the containers' states (events, waits, logs -f).
POLL = 0.2
_EPOCH = "0001-01-01T00:00:00Z"


def _unsupported(what: str) -> EngineError:
    return EngineError(f"{what} is not supported on LXC")


def _seconds(stamp: str) -> int:
    """Unix seconds of an RFC 3339 time (``0001-...``, Go's zero time: 0)."""
    return int(_seconds_exact(stamp))


def _published(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """The host ports a container publishes: those in use while it runs (a port asked
    without a host port has the one given at start), else those asked for."""
    if state["State"].get("Running") and state.get("Ports"):
        ports: Mapping[str, Any] = state["Ports"]
        return ports
    bindings: Mapping[str, Any] = state["HostConfig"].get("PortBindings") or {}
    return bindings


def _log_offset(state: Mapping[str, Any], since: str | None) -> int:
    """Where ``logs --since`` begins in the console log, which has no time stamps:
    at the first run started at or after ``since`` (unix seconds, or RFC 3339),
    else at the current run (its lines before ``since`` shown too, rather than
    any after it lost)."""
    runs = [(str(start), int(offset)) for start, offset in state.get("LogRuns") or ()]
    if since is None or not runs:
        return 0
    try:
        floor = float(since)
    except ValueError:
        floor = _seconds_exact(since)
    for start, offset in runs:
        if _seconds_exact(start) >= floor:
            return offset
    return runs[-1][1]


def _seconds_exact(stamp: str) -> float:
    """Unix seconds of an RFC 3339 time, any number of fractional digits (Docker's
    and LXC's states have nine: Python reads six)."""
    import re
    from datetime import datetime

    if not stamp or stamp.startswith("0001-"):
        return 0.0
    found = re.fullmatch(r"([^.Z+]+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", stamp.strip())
    if found is None:
        raise ValueError(f"not an RFC 3339 time: {stamp!r}")
    whole, fraction, zone = found.groups()
    zone = "+00:00" if zone in (None, "Z") else zone
    base = datetime.fromisoformat(whole + zone).timestamp()
    return base + (float("0." + fraction) if fraction else 0.0)


def _status(state: Mapping[str, Any]) -> str:
    run = state["State"]
    health = (run.get("Health") or {}).get("Status")
    suffix = f" ({'health: starting' if health == 'starting' else health})" if health else ""
    if run.get("Paused"):
        return "Up (Paused)"
    if run.get("Running"):
        return "Up" + suffix
    if run["Status"] == "created":
        return "Created"
    return f"Exited ({run.get('ExitCode', 0)})"


def _process_row(pid: int) -> tuple[str, ...] | None:
    """One process as ``ps -ef`` shows it (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            stat = handle.read()
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = [a.decode(errors="replace") for a in handle.read().split(b"\0") if a]
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    used = (int(fields[11]) + int(fields[12])) // ticks
    with open("/proc/stat", encoding="utf-8") as handle:
        boot = next(int(line.split()[1]) for line in handle if line.startswith("btime"))
    started = time.strftime("%H:%M", time.localtime(boot + int(fields[19]) / ticks))
    if argv[:3] == ["/.composer/busybox", "sh", "-c"] and len(argv) > 7:
        argv = ["composer-init", *argv[7:]]  # composer's shell: its command, not its script
    command = " ".join(argv) or "[" + stat[stat.index("(") + 1:stat.rindex(")")] + "]"
    return (str(uid), str(pid), fields[1], "0", started, "?",
            f"{used // 3600:02d}:{used // 60 % 60:02d}:{used % 60:02d}", command)


async def _wait_exit(host: LxcHost, ref: str) -> int:
    """The container's exit code once its run ends: one look at a time in a worker
    thread, so that a cancelled wait (an attached ``up`` ending while a dependency
    runs on) leaves no thread blocked behind it."""
    while True:
        code: int | None = await anyio.to_thread.run_sync(exit_code_if_stopped, host, ref)
        if code is not None:
            return code
        await anyio.sleep(POLL / 2)


class _Pending:
    def __init__(self, host: LxcHost, ref: str) -> None:
        self.host, self.ref = host, ref

    async def exit_code(self) -> int:
        # Next exit: wait for it to run first when it is about to start.
        return await _wait_exit(self.host, self.ref)

    def close(self) -> None:
        return None


class LxcBackend:
    """Compose projects as LXC containers on this machine (root)."""

    address = "lxc://"

    def __init__(self, root: str | None = None) -> None:
        from composer.backends.lxc.host import ROOT
        from composer.backends.lxc.images import ImageStore

        self.root = root or os.environ.get("COMPOSER_LXC_ROOT") or ROOT
        self.host = LxcHost(self.root)
        self.images = ImageStore(os.path.join(self.root, "images"))  # its own images/ inside
        self.health: dict[str, HealthState] = {}
        self._execs: dict[str, tuple[str, ExecConfig, int | None]] = {}
        self._terminals: dict[str, int] = {}  # exec ID -> its pty's leader side

    @property
    def api_version(self) -> str:
        return "1.41"

    async def _t(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args)

    # -- the connection

    async def ping(self) -> None:
        from composer.backends.lxc.host import _lxc

        await self._t(_lxc)

    async def aclose(self) -> None:
        return None

    async def settle(self) -> None:
        return None

    async def proxy_environment(self) -> dict[str, str]:
        return {}

    async def registry_credentials(self, registry: str) -> RegistryCredentials | None:
        return None

    # -- the project

    def _container_state(self, state: Mapping[str, Any]) -> ContainerState:
        config = state["Config"]
        labels: Mapping[str, str] = config.get("Labels") or {}
        number = labels.get(L.CONTAINER_NUMBER, "")
        run = state["State"]
        health = (run.get("Health") or {}).get("Status")
        return ContainerState(
            id=state["Id"], name=state["Name"], project=labels.get(L.PROJECT, ""),
            service=labels.get(L.SERVICE, ""), number=int(number) if number.isdigit() else 0,
            oneoff=labels.get(L.ONEOFF, "False") == "True",
            state="paused" if run.get("Paused") else run["Status"], status=_status(state),
            health=health, exit_code=None if run.get("Running") else run.get("ExitCode"),
            config_hash=labels.get(L.CONFIG_HASH, ""), image=str(config.get("Image") or ""),
            labels=dict(labels), created=_seconds(state["Created"]),
            ports=tuple(self._ports_listing(state)),
            networks=tuple(sorted(state["Networks"])),
            mounts=tuple(self._mounts_listing(state)), image_id=state["Image"],
            command=" ".join(list(config.get("Entrypoint") or ()) +
                             list(config.get("Cmd") or ())))

    @staticmethod
    def _ports_listing(state: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = []
        for port, hosts in _published(state).items():
            number, _, proto = str(port).partition("/")
            for binding in hosts or ():
                out.append({"IP": binding.get("HostIp") or "0.0.0.0",
                            "PrivatePort": int(number),
                            "PublicPort": int(str(binding.get("HostPort") or "0"))
                            if str(binding.get("HostPort") or "0").isdigit() else 0,
                            "Type": proto or "tcp"})
        return out

    def _mounts_listing(self, state: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = []
        for mount in state["HostConfig"].get("Mounts") or ():
            if mount.get("Type") == "volume":
                out.append({"Type": "volume", "Name": mount.get("Source") or "",
                            "Destination": mount.get("Target"), "RW": not mount.get("ReadOnly")})
        return out

    def _states(self, project: str, all_projects: bool) -> list[dict[str, Any]]:
        """The project's containers as LXC shows them now (one listing); a finished
        run of an ``AutoRemove`` container is removed, as the engine would."""
        out = []
        for state in self.host.states():
            state = self.host.refresh(state)
            if state["HostConfig"].get("AutoRemove") and not state["State"]["Running"] \
                    and state["State"]["Status"] != "created":
                with contextlib.suppress(NotFoundError):
                    self.host.remove(state["Name"], force=False)
                continue
            labels = state["Config"].get("Labels") or {}
            if all_projects or labels.get(L.PROJECT) == project:
                out.append(state)
        return out

    def _observe(self, project: str, all_projects: bool) -> Observed:
        containers = [self._container_state(s) for s in self._states(project, all_projects)]
        networks = [NetworkState(id=n["Id"], name=n["Name"],
                                 key=n["Labels"].get(L.NETWORK, ""), labels=n["Labels"],
                                 config_hash=n["Labels"].get(L.CONFIG_HASH, ""),
                                 created=n["Created"])
                    for n in self.host.networks()
                    if all_projects or n["Labels"].get(L.PROJECT) == project]
        volumes = [VolumeState(name=v["Name"], key=v["Labels"].get(L.VOLUME, ""),
                               labels=v["Labels"])
                   for v in self.host.volumes()
                   if all_projects or v["Labels"].get(L.PROJECT) == project]
        return Observed(containers=tuple(sorted(containers, key=lambda c: c.created)),
                        networks=tuple(networks), volumes=tuple(volumes))

    async def observe(self, project: str, *, all_projects: bool = False) -> Observed:
        result: Observed = await self._t(self._observe, project, all_projects)
        return result

    async def events(self, project: str, since: int | None = None
                     ) -> AsyncIterator[EngineEvent]:
        """Create, start, die and health events, read off the containers' states
        every ``POLL`` seconds: a container new since the last look is a ``create``,
        a run that began (or ended) a ``start`` (``die``); with ``since``,
        containers made and runs since that time count too."""
        seen: dict[str, tuple[str, str, str | None]] = {}
        first = True
        while True:
            for state in await self._t(self._states, project, False):
                c = self._container_state(state)
                run = state["State"]
                now = (str(run.get("StartedAt")), str(run.get("FinishedAt")), c.health)
                before = seen.get(c.id)
                seen[c.id] = now
                timed: list[tuple[str, str]] = []
                if before is None:
                    if first and since is None:
                        continue
                    floor = since if since is not None else 0
                    before = ("" if _seconds(now[0]) >= floor else now[0],
                              "" if _seconds(now[1]) >= floor else now[1], None)
                    created = str(state.get("Created") or "")
                    if _seconds(created) >= floor:
                        timed.append((created, "create"))
                if now[0] != before[0] and _seconds(now[0]):
                    timed.append((now[0], "start"))
                # A run that ended: the container stopped, or it ended before the
                # run going now began (a restart between two looks).
                if now[1] != before[1] and _seconds(now[1]) and (
                        not run.get("Running") or now[1] <= now[0]):
                    timed.append((now[1], "die"))
                actions = [action for _, action in sorted(timed)]
                if c.health and c.health != before[2]:
                    actions.append(f"health_status: {c.health}")
                for action in actions:
                    # As Docker's container events: the labels, name and image.
                    attributes = {**c.labels, "name": state["Name"],
                                  "image": str(state["Config"].get("Image") or "")}
                    if action == "die":
                        attributes["exitCode"] = str(run.get("ExitCode") or 0)
                    yield EngineEvent(action=action, container_id=c.id, service=c.service,
                                      project=c.project, attributes=attributes,
                                      time_nano=time.time_ns())
            first = False
            await anyio.sleep(POLL)

    # -- images

    async def image_exists(self, image: str) -> bool:
        return await self._t(self.images.lookup, image) is not None

    async def image_id(self, image: str) -> str | None:
        found = await self._t(self.images.lookup, image)
        return found.id if found is not None else None

    async def _image(self, image: str) -> Any:
        found = await self._t(self.images.lookup, image)
        if found is None:
            raise NotFoundError(f"No such image: {image}", kind="image", name=image)
        return found

    async def inspect_image(self, image: str) -> ImageInfo:
        found = await self._image(image)
        return ImageInfo(id=found.id, repo_tags=tuple(found.tags), created=found.created,
                         size=found.size, os="linux", labels=dict(found.config.get("Labels") or {}),
                         volumes=tuple(sorted(found.config.get("Volumes") or {})))

    async def list_images(self, *, labels: Sequence[str] = ()) -> list[ImageSummary]:
        out: dict[str, ImageSummary] = {}
        for image in await self._t(self.images.list):
            if not image.reference:
                continue
            image_labels = dict(image.config.get("Labels") or {})
            if any(("=" in f and image_labels.get(f.split("=", 1)[0]) != f.split("=", 1)[1])
                   or ("=" not in f and f not in image_labels) for f in labels):
                continue
            prev = out.get(image.id)
            tags = (prev.repo_tags if prev else ()) + (image.reference,)
            out[image.id] = ImageSummary(id=image.id, repo_tags=tags, labels=image_labels,
                                         created=_seconds(image.created), size=image.size)
        return list(out.values())

    async def remove_image(self, image: str, *, force: bool = False) -> None:
        found = await self._image(image)
        users = [c for c in (await self.observe("", all_projects=True)).containers
                 if c.image_id == found.id]
        if users and len(found.tags) <= 1:
            raise ConflictError(f"conflict: unable to remove repository reference \"{image}\" "
                                f"(must force) - container {users[0].id[:12]} is using its "
                                f"referenced image {found.id.removeprefix('sha256:')[:12]}")
        await self._t(self.images.remove, image)

    async def pull_image(self, image: str, *, platform: str | None = None,
                         on_progress: ProgressCallback | None = None) -> None:
        """Import ``image`` (no registry: from a local Docker or Podman store, or an
        archive); see :mod:`composer.backends.lxc.images`."""
        await self._t(self.images.ensure, image)

    async def push_image(self, image: str, *,
                         on_progress: ProgressCallback | None = None) -> None:
        raise _unsupported("pushing an image")

    async def build_image(self, request: BuildRequest, *,
                          on_line: Callable[[str], None] | None = None) -> str:
        """The one build LXC makes: a folder copied as it is as the whole filesystem
        (``FROM scratch`` + ``COPY . /``, what ``x-composer-rootfs`` means), imported
        into the image store with the build's labels; any other build is refused."""
        if (request.dockerfile_inline or "").strip() != ROOTFS_DOCKERFILE.strip():
            raise _unsupported(f'building an image (service "{request.service}": build it '
                               "with Docker or Podman, then composer imports it; LXC makes "
                               "only x-composer-rootfs images)")
        config = {"Labels": dict(request.labels)} if request.labels else {}
        image = await self._t(self.images.import_rootfs, request.tag, request.context, config)
        for tag in request.extra_tags:
            await self._t(self.images.tag, image.id, tag)
        if on_line is not None:
            on_line(f"imported {request.context} as {request.tag}")
        image_id: str = image.id
        return image_id

    # -- networks and volumes

    async def create_network(self, name: str, body: Mapping[str, Any]) -> str:
        result: str = await self._t(self.host.create_network, name, body)
        return result

    async def remove_network(self, name_or_id: str) -> None:
        await self._t(self.host.remove_network, name_or_id)

    async def inspect_network(self, name: str) -> NetworkInfo:
        n = await self._t(self.host.network, name)
        return NetworkInfo(id=n["Id"], name=n["Name"], driver="bridge", scope="local",
                           labels=n["Labels"])

    async def connect_network(self, network: str, container: str,
                              endpoint: Mapping[str, Any]) -> None:
        def connect() -> None:
            with self.host.locked():
                state = self.host.find(container)
                if state["State"]["Running"]:
                    raise _unsupported("connecting a network to a running container")
                self.host.network(network)
                state["Networks"][network] = {
                    "Aliases": list(endpoint.get("Aliases") or ()), "IPAddress": ""}
                self.host.save(state)

        await self._t(connect)

    async def disconnect_network(self, network: str, container: str, *,
                                 force: bool = False) -> None:
        def disconnect() -> None:
            with self.host.locked():
                state = self.host.find(container)
                if state["State"]["Running"]:
                    raise _unsupported("disconnecting a network from a running container")
                state["Networks"].pop(network, None)
                self.host.save(state)

        await self._t(disconnect)

    async def create_volume(self, name: str, body: Mapping[str, Any]) -> str:
        result: str = await self._t(self.host.create_volume, name, body)
        return result

    async def remove_volume(self, name: str) -> None:
        await self._t(self.host.remove_volume, name)

    async def inspect_volume(self, name: str) -> VolumeInfo:
        v = await self._t(self.host.volume, name)
        return VolumeInfo(name=v["Name"], driver="local", mountpoint=v["Mountpoint"],
                          labels=v["Labels"])

    # -- containers

    def unsupported(self, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        from composer.backends.lxc.refusals import refusals

        out = []
        for key in refusals(body):
            name, _, value = key.partition(": ")
            out.append((name, f"{value} is not supported on LXC" if value
                        else "not supported on LXC"))
        return out

    async def create_container(self, name: str, body: Mapping[str, Any], *,
                               platform: str | None = None) -> str:
        refused = self.unsupported(body)
        if refused:
            service = (body.get("Labels") or {}).get(L.SERVICE) or name
            key, why = refused[0]
            raise EngineError(f"services.{service}.{key}: {why}")
        image = await self._image(str(body.get("Image") or ""))
        result: str = await self._t(self.host.create, name, body, image.rootfs, image.id,
                                    dict(image.config))
        return result

    async def start_container(self, container: str) -> None:
        await self._t(self.host.start, container)
        state = await self._t(self.host.find, container)
        self.health.pop(state["Id"], None)

    async def stop_container(self, container: str, timeout: int | None = None) -> None:
        state = await self._t(self.host.find, container)
        config = state["Config"]
        grace = timeout if timeout is not None else config.get("StopTimeout")
        name = await self._t(self.host.stop_begin, container,
                             str(config.get("StopSignal") or "SIGTERM"))
        if name is None:
            return
        # The grace waited a second at a time, so a cancelled stop (a second
        # Ctrl-C, which then kills) does not wait for a blocked thread.
        left = math.ceil(10 if grace is None else grace)
        stopped = await self._t(self.host.stopped_within, name, 0)
        while not stopped and left > 0:
            stopped = await self._t(self.host.stopped_within, name, 1)
            left -= 1
        await self._t(partial(self.host.stop_end, name, force=not stopped))

    async def stop_and_remove_container(self, container: str, timeout: int | None = None,
                                        *, volumes: bool = False) -> None:
        await self.stop_container(container, timeout)
        await self.remove_container(container, force=True, volumes=volumes)

    async def kill_container(self, container: str, signal: str = "SIGKILL") -> None:
        await self._t(self.host.kill, container, signal)

    async def remove_container(self, container: str, *, force: bool = False,
                               volumes: bool = False) -> None:
        state = await self._t(self.host.find, container)
        await self._t(self.host.remove, container, force)
        if volumes:
            for mount in state["HostConfig"].get("Mounts") or ():
                source = str(mount.get("Source") or "")
                if mount.get("Type") == "volume" and source.startswith("anon-"):
                    try:
                        await self._t(self.host.remove_volume, source)
                    except ComposerError:
                        continue

    async def rename_container(self, container: str, name: str) -> None:
        await self._t(self.host.rename, container, name)

    async def pause_container(self, container: str) -> None:
        state = await self._t(self.host.find, container)
        c = self.host.container(state["Name"])
        if not await self._t(c.freeze):
            raise EngineError(f"container {state['Id']} could not be paused")

    async def unpause_container(self, container: str) -> None:
        state = await self._t(self.host.find, container)
        c = self.host.container(state["Name"])
        if not await self._t(c.unfreeze):
            raise EngineError(f"container {state['Id']} could not be unpaused")

    async def inspect_container(self, container: str) -> ContainerInfo:
        state = await self._t(self.host.find, container)
        config, run = state["Config"], state["State"]
        test = list((config.get("Healthcheck") or {}).get("Test") or ())
        has_check = bool(test) and test[:1] != ["NONE"]
        health = self.health.get(state["Id"])
        ports: dict[str, tuple[PortBinding, ...]] = {}
        for port, hosts in _published(state).items():
            ports[str(port)] = tuple(PortBinding(str(b.get("HostIp") or "0.0.0.0"),
                                                 int(str(b.get("HostPort") or "0"))
                                                 if str(b.get("HostPort") or "0").isdigit()
                                                 else 0)
                                     for b in hosts or ())
        return ContainerInfo(
            id=state["Id"], name=state["Name"], image=str(config.get("Image") or ""),
            image_id=state["Image"], state="paused" if run.get("Paused") else run["Status"],
            running=bool(run.get("Running")), paused=bool(run.get("Paused")),
            exit_code=int(run.get("ExitCode") or 0), pid=int(run.get("Pid") or 0),
            started_at=run.get("StartedAt") or _EPOCH,
            finished_at=run.get("FinishedAt") or _EPOCH,
            health=(health.status if health is not None else
                    (run.get("Health") or {}).get("Status") or "starting")
            if has_check and run.get("Running") else None,
            health_log=tuple(health.log) if health is not None else (),
            has_healthcheck=has_check,
            healthcheck=health_schedule(config.get("Healthcheck") or {}) if has_check else None,
            tty=bool(config.get("Tty")), open_stdin=bool(config.get("OpenStdin")),
            labels=dict(config.get("Labels") or {}),
            network_mode=str(state["HostConfig"].get("NetworkMode") or ""),
            ip_addresses={n: e["IPAddress"] for n, e in state["Networks"].items()
                          if e.get("IPAddress")},
            ports=ports)

    async def top_container(self, container: str,
                            ps_args: str | None = None) -> ProcessList:
        """The container's processes in ``ps -ef``'s columns, read from ``/proc``."""
        if ps_args:
            raise _unsupported("top with ps options")
        pids = await self._t(self.host.pids, container)
        return ProcessList(titles=("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"),
                           processes=tuple(row for row in map(_process_row, pids) if row))

    async def resize_container(self, container: str, height: int, width: int) -> None:
        from composer.backends.lxc.stdin import resize_console

        state = await self._t(self.host.find, container)
        if not state["State"]["Running"]:
            raise ConflictError(f"Container {state['Id']} is not running", status=409)
        if state["Config"].get("Tty"):
            pid = int(self.host.container(state["Name"]).init_pid)
            if pid > 0:
                await self._t(resize_console, pid, height, width)

    async def wait_container(self, container: str,
                             condition: ExitCondition = "not-running") -> int:
        result: int = await _wait_exit(self.host, container)
        return result

    async def wait_begin(self, container: str,
                         condition: ExitCondition = "next-exit") -> PendingExit:
        return _Pending(self.host, container)

    # -- output

    async def log_batches(self, container: str, *, follow: bool, tail: str = "all",
                          timestamps: bool = False, since: str | None = None,
                          until: str | None = None) -> AsyncIterator[list[Frame]]:
        state = await self._t(self.host.find, container)
        path = os.path.join(self.host.container_dir(state["Name"]), "console.log")
        offset = _log_offset(state, since)
        pending = b""
        first = True
        while True:
            data = b""
            try:
                with open(path, "rb") as handle:
                    handle.seek(offset)
                    data = handle.read()
            except FileNotFoundError:
                pass
            offset += len(data)
            pending += data
            lines = pending.split(b"\n")
            pending = lines.pop()
            if first and tail != "all" and tail.isdigit():
                lines = lines[-int(tail):] if int(tail) else []
            first = False
            frames = ([Frame("stdout", line.rstrip(b"\r") + b"\n") for line in lines]
                      if state["Config"].get("Tty") else split_lines(lines))
            if frames:
                yield frames
            if not follow:
                break
            state = await self._t(self.host.find, container)
            if not state["State"]["Running"] and not data:
                break
            await anyio.sleep(POLL)
        if pending:
            yield [Frame("stdout", pending)] if state["Config"].get("Tty") else \
                Splitter().feed(pending)

    async def logs(self, container: str, *, follow: bool, tail: str = "all",
                   timestamps: bool = False, since: str | None = None,
                   until: str | None = None) -> AsyncIterator[Frame]:
        async for batch in self.log_batches(container, follow=follow, tail=tail,
                                            since=since):
            for frame in batch:
                yield frame

    async def attach_output(self, container: str, *,
                            on_attached: Callable[[], None] | None = None
                            ) -> AsyncIterator[list[Frame]]:
        """What :meth:`attach` follows (the console log, until the next run ends), in
        batches of frames."""
        stream = await self.attach(container, stdin=False)
        if on_attached is not None:
            on_attached()
        try:
            while frames := await anyio.to_thread.run_sync(stream.read,
                                                           abandon_on_cancel=True):
                yield frames
        finally:
            stream.close()

    # -- interactive sessions

    async def attach(self, container: str, *, stdin: bool, tty: bool | None = None,
                     logs: bool = False) -> RawStream:
        """The container's output (its console log) from now (``logs``: from the
        start) until its next run ends, raw for a container with a terminal (the
        ``tty`` asked for is the container's own); with ``stdin``, the caller's
        input to its command once it runs (an ``OpenStdin`` container: see
        :mod:`.stdin`; what is sent to any other is dropped, as on Docker)."""
        import queue
        import threading

        from composer.backends.lxc import stdin as feeding
        from composer.backends.memory_process import SessionPipe

        state = await self._t(self.host.find, container)
        config = state["Config"]
        terminal = bool(config.get("Tty"))
        forward = stdin and bool(config.get("OpenStdin"))
        chunks: feeding.Chunks = queue.SimpleQueue()
        pipe = SessionPipe(tty=terminal, read_input=stdin,
                           deliver=chunks.put if forward else (lambda _data: None))
        ended = threading.Event()
        path = os.path.join(self.host.container_dir(state["Name"]), "console.log")
        started = state["State"].get("StartedAt")
        was_running = bool(state["State"]["Running"])
        try:
            offset = 0 if logs else os.path.getsize(path)
        except OSError:
            offset = 0

        splitter = None if terminal else Splitter()

        def send(data: bytes) -> None:
            for stream, chunk in (splitter.feed(data) if splitter is not None
                                  else [Frame("stdout", data)] if data else []):
                pipe.send(stream, chunk)

        def follow() -> None:
            nonlocal offset
            seen_run = was_running
            # One handle kept open: a container that removes itself (run --rm) as
            # soon as it ends has its last output read from the removed file.
            handle: Any = None
            try:
                while True:
                    if handle is None:
                        with contextlib.suppress(FileNotFoundError):
                            handle = open(path, "rb")  # noqa: SIM115 (closed below)
                    data = b""
                    if handle is not None:
                        if os.fstat(handle.fileno()).st_size < offset:
                            offset = 0
                        handle.seek(offset)
                        data = handle.read()
                    offset += len(data)
                    send(data)
                    try:
                        now = self.host.find(state["Id"])
                    except NotFoundError:
                        if handle is not None:
                            send(handle.read())
                        break
                    run = now["State"]
                    seen_run = (seen_run or bool(run["Running"])
                                or run.get("StartedAt") != started)
                    if seen_run and not run["Running"] and not data:
                        break
                    time.sleep(POLL / 2)
            finally:
                ended.set()
                if handle is not None:
                    handle.close()
                for stream, chunk in splitter.flush() if splitter is not None else ():
                    pipe.send(stream, chunk)
                pipe.finish()

        def give() -> None:
            """The input, once the command runs (``run`` attaches before it starts)."""
            while not ended.is_set():
                try:
                    now = self.host.find(state["Id"])
                except NotFoundError:
                    return
                if now["State"]["Running"]:
                    break
                ended.wait(POLL / 2)
            if ended.is_set():
                return
            try:
                if terminal:
                    feeding.feed_console(self.host.container(state["Name"]), chunks, ended)
                else:
                    feeding.feed_fifo(
                        self.host.stdin_path(state["Name"]), chunks, ended,
                        partial(self._close_input, state["Id"])
                        if config.get("StdinOnce") else None)
            except ComposerError as exc:
                pipe.send("stderr", f"{exc}\n".encode())

        threading.Thread(target=follow, name="composer-lxc-attach", daemon=True).start()
        if forward:
            threading.Thread(target=give, name="composer-lxc-attach-in", daemon=True).start()
        return pipe.stream

    def _close_input(self, container: str) -> None:
        """(Worker thread.) A StdinOnce session's input has ended: composer's shell
        in the container lets go of the input FIFO, and the command reads its end."""
        with contextlib.suppress(NotFoundError):
            state = self.host.find(container)
            if state["State"]["Running"]:
                self.host.signal(state, "SIGPWR")

    async def exec_create(self, container: str, config: ExecConfig) -> str:
        state = await self._t(self.host.find, container)
        if not state["State"]["Running"]:
            raise ConflictError(f"Container {state['Id']} is not running", status=409)
        ident = os.urandom(16).hex()
        self._execs[ident] = (state["Id"], config, None)
        return ident

    async def exec_start(self, exec_id: str, *, tty: bool) -> RawStream:
        """Without a terminal: the exec's output once it has ended (its input: all
        of the caller's first). With one: a pseudo-terminal, both ways, live."""
        import threading

        from composer.backends.memory_process import SessionPipe

        container, config, _ = self._execs[exec_id]
        if tty:
            return self._exec_terminal(exec_id, container, config)
        pipe = SessionPipe(tty=False, read_input=config.stdin)

        def run() -> None:
            pipe.input_done.wait()
            try:
                code, out, err = self.host.exec(
                    container, list(config.command), list(config.environment), config.user,
                    config.workdir, bytes(pipe.input))
            except ComposerError as exc:
                code, out, err = 126, b"", f"{exc}\n".encode()
            pipe.send("stdout", out)
            pipe.send("stderr", err)
            self._execs[exec_id] = (container, config, code)
            pipe.finish()

        threading.Thread(target=run, name="composer-lxc-exec", daemon=True).start()
        return pipe.stream

    def _exec_terminal(self, exec_id: str, container: str, config: ExecConfig) -> RawStream:
        import pty
        import socket
        import threading

        leader, follower = pty.openpty()
        ours, theirs = socket.socketpair()
        self._terminals[exec_id] = leader

        def run() -> None:
            try:
                code = self.host.exec_terminal(container, list(config.command),
                                               list(config.environment), config.user,
                                               config.workdir, follower)
            except ComposerError as exc:
                code = 126
                with contextlib.suppress(OSError):
                    ours.sendall(f"{exc}\r\n".encode())
            self._execs[exec_id] = (container, config, code)
            os.close(follower)

        def output() -> None:
            while True:
                try:
                    data = os.read(leader, 65536)
                except OSError:
                    break
                if not data:
                    break
                try:
                    ours.sendall(data)
                except OSError:
                    break
            with contextlib.suppress(OSError):
                ours.shutdown(socket.SHUT_WR)
            self._terminals.pop(exec_id, None)
            with contextlib.suppress(OSError):
                os.close(leader)

        def given() -> None:
            while True:
                try:
                    data = ours.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                try:
                    os.write(leader, data)
                except OSError:
                    break

        for target, label in ((run, "exec"), (output, "out"), (given, "in")):
            threading.Thread(target=target, name=f"composer-lxc-tty-{label}",
                             daemon=True).start()
        return RawStream(theirs, multiplexed=False)

    async def exec_start_detached(self, exec_id: str) -> None:
        container, config, _ = self._execs[exec_id]
        out = await self.exec_run(container, config)
        self._execs[exec_id] = (container, config, out.exit_code)

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        import fcntl
        import struct
        import termios

        leader = self._terminals.get(exec_id)
        if leader is not None:
            with contextlib.suppress(OSError):
                fcntl.ioctl(leader, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    async def exec_inspect(self, exec_id: str) -> ExecInfo:
        container, _, code = self._execs[exec_id]
        return ExecInfo(id=exec_id, container_id=container, running=code is None,
                        exit_code=code)

    async def exec_run(self, container: str, config: ExecConfig, *,
                       input: bytes | None = None) -> ExecOutput:
        code, out, err = await self._t(self.host.exec, container, list(config.command),
                                       list(config.environment), config.user, config.workdir,
                                       input or b"")
        if config.tty:
            out, err = out + err, b""
        return ExecOutput(code, out, err)

    # -- healthchecks

    async def runs_healthchecks(self) -> bool:
        return False

    async def is_rootless(self) -> bool:
        return False  # composer runs LXC as root

    async def run_healthcheck(self, container: str) -> None:
        state = await self._t(self.host.find, container)
        check = state["Config"].get("Healthcheck") or {}
        command = check_command(check.get("Test") or ())
        if command is None:
            raise EngineError(f"container {state['Id']} has no defined healthcheck")
        if not state["State"]["Running"]:
            raise ConflictError(f"Container {state['Id']} is not running", status=409)
        health = self.health.get(state["Id"])
        if health is None:
            health = HealthState(health_schedule(check), started=time.time())
            self.health[state["Id"]] = health
        began = time.time()
        result = await self.exec_run(state["Id"], ExecConfig(command=tuple(command)))
        ended = time.time()
        health.record(result.exit_code, (result.stdout + result.stderr).decode(
            errors="replace"), began=began, ended=ended, start=now_rfc3339(),
            end=now_rfc3339())

        def keep() -> None:
            with self.host.locked():
                fresh = self.host.load(state["Name"])
                fresh["State"]["Health"] = {"Status": health.status}
                self.host.save(fresh)

        await self._t(keep)

    # -- resource usage and files

    async def _usage(self, container: str) -> tuple[float, dict[str, float]]:
        return time.monotonic(), await self._t(self.host.usage, container)

    @staticmethod
    def _sample(first: tuple[float, dict[str, float]],
                second: tuple[float, dict[str, float]]) -> StatsSample:
        (t0, a), (t1, b) = first, second
        if not b:
            return StatsSample()
        elapsed = max(t1 - t0, 1e-6)
        cpu = max(0.0, b.get("cpu_ns", 0.0) - a.get("cpu_ns", 0.0)) / (elapsed * 1e9) * 100.0
        limit = b.get("memory_limit") or float(os.sysconf("SC_PAGE_SIZE") *
                                               os.sysconf("SC_PHYS_PAGES"))
        return StatsSample(cpu_percent=cpu, memory_usage=b.get("memory", 0.0),
                           memory_limit=limit, pids=int(b.get("pids", 0)))

    async def stats(self, container: str) -> StatsSample:
        """One sample from the container's cgroup (CPU over a 0.5 s window, as the
        docker CLI's first sample; network and block I/O are not counted yet)."""
        first = await self._usage(container)
        await anyio.sleep(0.5)
        return self._sample(first, await self._usage(container))

    async def stats_stream(self, container: str) -> AsyncIterator[StatsSample]:
        previous = await self._usage(container)
        while True:
            await anyio.sleep(1)
            current = await self._usage(container)
            yield self._sample(previous, current)
            previous = current

    # `cp` runs composer's own busybox inside the running container (its ``stat`` and
    # ``tar``), so every path is resolved in the container's view, links included.

    async def _helper(self, container: str, argv: Sequence[str],
                      stdin: bytes = b"") -> tuple[int, bytes, bytes]:
        state = await self._t(self.host.find, container)
        if not state["State"]["Running"]:  # on its filesystem, mounted for the call
            offline: tuple[int, bytes, bytes] = await self._t(
                self.host.offline, state["Name"], list(argv), stdin)
            return offline
        result: tuple[int, bytes, bytes] = await self._t(
            self.host.exec, state["Name"], ["/.composer/busybox", *argv], [], "0:0", "/",
            stdin)
        return result

    async def stat_path(self, container: str, path: str) -> PathStat | None:
        code, out, err = await self._helper(container, [
            "stat", "-c", "%s|%f|%Y|%N", path])
        if code != 0:
            text = err.decode(errors="replace")
            if "No such file" in text:
                return None  # nothing there (the protocol's answer; the caller words it)
            raise EngineError(text.strip() or f"stat {path} failed")
        size, raw_mode, mtime, shown = out.decode(errors="replace").strip().split("|", 3)
        mode = int(raw_mode, 16)
        go_mode = mode & 0o777
        kind = mode & 0o170000
        if kind == 0o040000:
            go_mode |= 1 << 31
        elif kind == 0o120000:
            go_mode |= 1 << 27
        target = shown.split(" -> ", 1)[1].strip("'\"") if " -> " in shown else ""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(mtime)))
        return PathStat(name=os.path.basename(path.rstrip("/")) or "/", size=int(size),
                        mode=go_mode, mtime=stamp, link_target=target)

    async def get_archive(self, container: str, path: str) -> bytes:
        if await self.stat_path(container, path) is None:
            raise NotFoundError(f"Could not find the file {path} in container {container}",
                                kind="path", name=path)
        parent, name = os.path.split(path.rstrip("/") or "/")
        code, out, err = await self._helper(container, [
            "tar", "-c", "-f", "-", "-C", parent or "/", name or "."])
        if code != 0:
            raise EngineError(err.decode(errors="replace").strip() or f"tar {path} failed")
        return out

    async def put_archive(self, container: str, path: str, data: bytes, *,
                          copy_uid_gid: bool = False) -> None:
        found = await self.stat_path(container, path)
        if found is None or not found.is_dir:
            raise EngineError(f"extraction point is not a directory: {path}")
        argv = ["tar", "-x", "-f", "-", "-C", path]
        if not copy_uid_gid:
            argv.insert(1, "-o")  # owned by the container's root, as docker cp does
        code, _, err = await self._helper(container, argv, data)
        if code != 0:
            raise EngineError(err.decode(errors="replace").strip() or f"untar in {path} failed")

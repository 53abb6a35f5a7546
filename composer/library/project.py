"""The project handle: a compose project on an engine, driven from Python.

::

    import composer
    from composer import probes

    async with composer.open(["compose.yaml"]) as project:   # a unique name
        await project.up()                                    # waits, as up --wait
        web = project.service("web")
        await web.ready(probes.http(80, "/health"))
        url = (await web.endpoint(80)).url("/")
        result = await project.exec("db", ["psql", "-c", "select 1"])
        async for line in project.logs(follow=True):
            ...
    # leaving the block takes the project down (shielded from cancellation)

Every verb goes through :class:`composer.api.Compose` (observe, plan,
execute: the command's own path); nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import anyio.abc

from composer.api import (
    Compose,
    DownOptions,
    PsOptions,
    RestartOptions,
    RunOptions,
    StartOptions,
    StopOptions,
    UpOptions,
)
from composer.backends.base import Backend, ContainerInfo, ContainerState, ExecConfig
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import (
    ComposerError,
    NotFoundError,
    NotReadyError,
)
from composer.library.logstream import LogStream
from composer.library.results import Endpoint, Event, ExecResult
from composer.model.project import Project as Model
from composer.probes import Probe, flatten
from composer.runtime.logs import LineBuffer
from composer.runtime.progress import Reporter
from composer.runtime.readiness import wait_ready

if TYPE_CHECKING:
    import networkx

    from composer.library.stack import StackHandle
    from composer.library.watch import Watch

__all__ = ["Project", "Service", "open", "unique_name"]

#: Seconds the exit of ``open()`` may spend taking the project down.
DOWN_TIMEOUT = 120.0
#: Lines of a service's output an ``NotReadyError`` carries.
LOGS_TAIL = 20
#: Default bound of a readiness wait (seconds).
READY_TIMEOUT = 60.0


def unique_name(prefix: str = "composer") -> str:
    """A fresh project name: ``composer-<8 hex digits>``."""
    return f"{prefix}-{secrets.token_hex(4)}"


def _command(cmd: str | Sequence[str]) -> tuple[str, ...]:
    return ("/bin/sh", "-c", cmd) if isinstance(cmd, str) else tuple(cmd)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class Service:
    """One service of a running project (``project.service("web")``)."""

    def __init__(self, project: Project, name: str) -> None:
        self.project = project
        self.name = name

    def __repr__(self) -> str:
        return f"<Service {self.name} of {self.project.name}>"

    async def containers(self) -> list[ContainerState]:
        """The service's containers (all states), by number."""
        rows = await self.project.ps(all=True)
        return sorted((c for c in rows if c.service == self.name and not c.oneoff),
                      key=lambda c: c.number)

    async def container(self, index: int = 1) -> ContainerState:
        """The service's container number ``index`` (1: the first replica)."""
        for container in await self.containers():
            if container.number == index:
                return container
        raise NotFoundError(f'service "{self.name}" has no container {index} in project '
                            f'"{self.project.name}"', kind="container",
                            name=f"{self.name}-{index}")

    async def inspect(self, index: int = 1) -> ContainerInfo:
        """The engine's view of container ``index``: state, health, addresses, ports."""
        container = await self.container(index)
        return await self.project.backend.inspect_container(container.id)

    async def endpoint(self, port: int, index: int = 1, protocol: str = "tcp") -> Endpoint:
        """Where ``port`` of container ``index`` is published: the host and port to
        connect to from this machine. :class:`NotFoundError` when it is not published."""
        info = await self.inspect(index)
        for binding in info.ports.get(f"{port}/{protocol}", ()):
            if binding.host_port:
                return Endpoint(self.project._host(binding.host_ip), binding.host_port)
        raise NotFoundError(f'service "{self.name}": port {port}/{protocol} of {info.name} '
                            f"is not published", kind="port", name=f"{port}/{protocol}")

    async def ips(self, network: str | None = None, index: int = 1) -> list[str]:
        """The container's IPv4 addresses, one per network; with ``network`` (its
        compose key or its engine name) only that network's."""
        info = await self.inspect(index)
        if network is None:
            return list(info.ip_addresses.values())
        names = {network, self.project._network_name(network)}
        return [ip for name, ip in info.ip_addresses.items() if name in names]

    async def exec(self, cmd: str | Sequence[str], **kwargs: Any) -> ExecResult:
        """Run ``cmd`` in the service's container (see :meth:`Project.exec`)."""
        return await self.project.exec(self.name, cmd, **kwargs)

    def logs(self, **kwargs: Any) -> LogStream:
        """The service's output (see :meth:`Project.logs`)."""
        return self.project.logs([self.name], **kwargs)

    async def ready(self, probe: Probe | Iterable[Probe], *, timeout: float = READY_TIMEOUT,
                    interval: float = 0.5) -> None:
        """Return once every probe passes on each of the service's running containers.

        Raises :class:`~composer.errors.NotReadyError` after ``timeout`` seconds
        (or at once when a probe cannot run where the container is), carrying the
        probe, its last error, the engine's health log and the service's last
        lines of output; :class:`~composer.errors.WaitError` when a container exits;
        :class:`~composer.errors.NotFoundError` when the service has no container
        (not up yet: nothing could become ready)."""
        wanted = flatten(probe)
        began = anyio.current_time()
        containers = await self.containers()
        if not containers:
            raise NotFoundError(f'service "{self.name}" has no container in project '
                                f'"{self.project.name}"', kind="container",
                                name=f"{self.name}-1")
        for container in containers:
            try:
                await wait_ready(self.project.backend, container.id, wanted,
                                 service=self.name, timeout=timeout, began=began,
                                 interval=interval)
            except NotReadyError as exc:
                raise exc.with_context(**await self.project._context(container)) from None


class Project:
    """A compose project on an engine: ``name``, ``model`` (the typed project),
    ``graph`` (networkx), and its verbs. Made by :func:`open`."""

    def __init__(self, loaded: LoadedProject, backend: Backend, group: anyio.abc.TaskGroup,
                 *, events: Reporter | None = None) -> None:
        self.loaded = loaded
        self.backend = backend
        self.compose = Compose(backend, events=events)
        self._group = group
        #: Stacks deployed through :meth:`stack`, removed with the project.
        self._stacks_deployed: set[str] = set()

    def __repr__(self) -> str:
        return f"<Project {self.name}>"

    # -- what it is

    @property
    def name(self) -> str:
        """The project's name (the ``com.docker.compose.project`` label)."""
        return self.loaded.name

    @property
    def model(self) -> Model:
        """The typed project (:class:`composer.model.project.Project`)."""
        return self.loaded.model

    @property
    def graph(self) -> networkx.DiGraph:
        """The services as a ``networkx.DiGraph``: an edge from each service to each
        service it depends on, carrying ``condition``, ``required`` and ``kind``."""
        from composer.api.graph import project_graph

        return project_graph(self.model)

    @property
    def config_hash(self) -> str:
        """A hash of the project's configuration (its ``config --format json``, the
        project's name left out, also where it prefixes network and volume names):
        the same files and variables under another name hash the same."""
        data = {k: v for k, v in self.loaded.data.items() if k != "name"}
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        text = text.replace(f'"{self.name}_', '"\0_')
        return hashlib.sha256(text.encode()).hexdigest()

    def service(self, name: str) -> Service:
        """One service; :class:`NotFoundError` when the project has none of that name."""
        if name not in self.model.services:
            raise NotFoundError(f'no such service: {name}', kind="service", name=name)
        return Service(self, name)

    def stack(self, name: str | None = None) -> StackHandle:
        """The project as a Swarm stack called ``name`` (default: the project's
        name): deploy, services, tasks, wait, remove (see
        :class:`composer.library.stack.StackHandle`)."""
        from composer.library.stack import StackHandle

        return StackHandle(self, name or self.name)

    def watch(self, services: Sequence[str] = (), *, prune: bool = True,
              quiet_period: float | None = None) -> AbstractAsyncContextManager[Watch]:
        """Follow the ``develop.watch`` rules of ``services`` (empty: all that have
        some) while the ``async with`` block runs: ``async with project.watch() as
        watch`` (see :class:`composer.library.watch.Watch`). The rules are checked
        and the files watched when the block starts; ``prune`` removes the image a
        rebuild replaced; ``quiet_period``: seconds without a change that end a
        batch."""
        from composer.library.watch import watching

        return watching(self, services, prune=prune, quiet_period=quiet_period)

    # -- verbs

    async def up(self, services: Sequence[str] = (), *, wait: bool = True,
                 wait_timeout: float | None = None, probes: Mapping[str, Any] | None = None,
                 probe_timeout: float = READY_TIMEOUT, **options: Any) -> None:
        """Create and start the services (empty: all) and their dependencies, as
        ``up -d``; with ``wait`` (the default) as ``up --wait``: every service
        running, or healthy where it has a healthcheck. ``probes`` maps services to
        readiness probes checked afterwards. Other keywords are
        :class:`composer.api.UpOptions`'s (``build``, ``pull``, ``force_recreate``,
        ``scale``, ``remove_orphans``...)."""
        await self.compose.up(self.loaded, UpOptions(
            services=tuple(services), wait=wait, wait_timeout=wait_timeout, **options))
        for name, probe in (probes or {}).items():
            await self.service(name).ready(probe, timeout=probe_timeout)

    async def down(self, *, volumes: bool = False, remove_orphans: bool = False,
                   timeout: int | None = None) -> None:
        """Stop and remove the containers and networks (with ``volumes``, the
        project's volumes too)."""
        await self.compose.down(self.loaded, DownOptions(
            volumes=volumes, remove_orphans=remove_orphans, timeout=timeout))

    async def ps(self, *, all: bool = False,  # noqa: A002 - the flag's name
                 services: Sequence[str] = ()) -> list[ContainerState]:
        """The project's containers (running ones; with ``all`` every state)."""
        return await self.compose.ps(self.loaded, PsOptions(all=all, services=tuple(services)))

    async def start(self, services: Sequence[str] = ()) -> None:
        """Start the services' stopped containers (empty: all), dependencies first."""
        await self.compose.start(self.loaded, StartOptions(services=tuple(services)))

    async def stop(self, services: Sequence[str] = (), *, timeout: int | None = None) -> None:
        """Stop the services' containers (empty: all), dependents first; ``timeout``
        seconds before the engine kills them (default: each service's grace period)."""
        await self.compose.stop(self.loaded, StopOptions(services=tuple(services),
                                                         timeout=timeout))

    async def restart(self, services: Sequence[str] = (), *,
                      timeout: int | None = None) -> None:
        """Restart the services' containers (empty: all), as ``composer restart``."""
        await self.compose.restart(self.loaded, RestartOptions(services=tuple(services),
                                                               timeout=timeout))

    async def scale(self, replicas: Mapping[str, int], *, wait: bool = True) -> None:
        """Run ``replicas[service]`` containers of each service named (as ``up --scale``)."""
        await self.up(tuple(replicas), wait=wait, scale=dict(replicas))

    async def wait(self, services: Sequence[str] = (), *,
                   timeout: float | None = None) -> None:
        """Wait until the services (empty: all) run, and are healthy where they have a
        healthcheck (``up --wait`` without changing anything that is right)."""
        await self.up(services, wait=True, wait_timeout=timeout)

    async def exec(self, service: str, cmd: str | Sequence[str], *, index: int = 1,
                   user: str = "", workdir: str = "", env: Mapping[str, str] | None = None,
                   tty: bool = False, stdin: bytes | str | None = None,
                   privileged: bool = False, check: bool = False) -> ExecResult:
        """Run ``cmd`` (a list, or a string run by ``/bin/sh -c``) in container
        ``index`` of ``service`` and wait for it: an :class:`ExecResult` with the
        exit code, stdout and stderr apart (no TTY unless asked). ``stdin`` is sent
        to the command, then closed. With ``check``, a non-zero exit raises
        :class:`~composer.errors.ExecFailedError`."""
        container = await self.service(service).container(index)
        command = _command(cmd)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        out = await self.backend.exec_run(container.id, ExecConfig(
            command=command, tty=tty, stdin=data is not None, user=user, workdir=workdir,
            privileged=privileged,
            environment=tuple(f"{k}={v}" for k, v in (env or {}).items())), input=data)
        result = ExecResult(out.exit_code, _text(out.stdout), _text(out.stderr),
                            service=service, cmd=command)
        return result.check() if check else result

    async def run(self, service: str, cmd: str | Sequence[str] = (), *,
                  env: Mapping[str, str] | None = None, user: str = "", workdir: str = "",
                  no_deps: bool = False, check: bool = False) -> ExecResult:
        """Run a one-off container of ``service`` (as ``run --rm``, no TTY): its
        dependencies first, then the command (empty: the service's own) to its end.
        The container is removed afterwards; its output comes back apart."""
        command = _command(cmd) if cmd else ()
        outcome = await self.compose.run(self.loaded, RunOptions(
            service=service, command=command, interactive=False, no_deps=no_deps,
            environment=tuple(f"{k}={v}" for k, v in (env or {}).items()), user=user,
            workdir=workdir, project_environment=dict(self.loaded.environment)))
        container = outcome.container_id
        try:
            waiter = await self.backend.wait_begin(container, "next-exit")
            await self.backend.start_container(container)
            code = await waiter.exit_code()
            streams: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
            async for stream, data in self.backend.logs(container, follow=False):
                streams.setdefault(stream, bytearray()).extend(data)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self.backend.remove_container(container, force=True)
                except ComposerError:
                    pass
        result = ExecResult(code, _text(bytes(streams["stdout"])),
                            _text(bytes(streams["stderr"])), service=service, cmd=command)
        return result.check() if check else result

    def logs(self, services: Sequence[str] = (), *, follow: bool = False,
             since: datetime | float | None = None, tail: int | None = None) -> LogStream:
        """The output of the services' containers (empty: all) as :class:`LogLine`
        values. Without ``follow``, everything written so far, merged by time
        (each container's lines in their order). With ``follow``, in the order
        they arrive, until the consumer stops: ``break`` is enough, the readers
        end at once. ``since``: a datetime or unix seconds; ``tail``: the last N
        lines of each container."""
        if isinstance(since, datetime):
            since = since.timestamp()
        wanted = tuple(services)
        for service in wanted:
            self.service(service)  # NotFoundError for an unknown service

        async def containers() -> list[ContainerState]:
            return [c for c in await self.ps(all=True)
                    if not c.oneoff and (not wanted or c.service in wanted)]

        return LogStream(self.backend, self._group, containers, follow=follow,
                         since=None if since is None else f"{since:.6f}",
                         tail="all" if tail is None else str(tail))

    async def events(self, services: Sequence[str] = (), *,
                     since: datetime | float | None = None) -> AsyncGenerator[Event, None]:
        """The project's container events from now on (with ``since``, a datetime or
        unix seconds: from then on, so nothing between a decision and the
        subscription is missed), until the consumer stops."""
        wanted = set(services)
        if isinstance(since, datetime):
            since = since.timestamp()
        start = None if since is None else int(since)
        async for event in self.backend.events(self.name, since=start):
            if wanted and event.service not in wanted:
                continue
            time = (datetime.fromtimestamp(event.time_nano / 1e9).astimezone()
                    if event.time_nano else None)
            yield Event(action=event.action, service=event.service,
                        container=event.container_id, time=time,
                        attributes=dict(event.attributes))

    # -- helpers

    def _host(self, host_ip: str) -> str:
        address = getattr(self.backend, "address", "") or ""
        if address.startswith(("tcp://", "ssh://", "http://", "https://")):
            return urlsplit(address).hostname or "127.0.0.1"
        if host_ip in ("", "0.0.0.0"):
            return "127.0.0.1"
        if host_ip == "::":
            return "::1"
        return host_ip

    def _network_name(self, key: str) -> str:
        network = self.model.networks.get(key)
        name = getattr(network, "name", None) if network is not None else None
        return name or f"{self.name}_{key}"

    async def _context(self, container: ContainerState) -> dict[str, tuple[str, ...]]:
        """A failing service's health log and last lines of output."""
        health: tuple[str, ...] = ()
        tail: list[str] = []
        try:
            info = await self.backend.inspect_container(container.id)
            health = tuple(f"{p.end or p.start} exit {p.exit_code}: {p.output.strip()}"
                           for p in info.health_log)
            # This one container's last lines: one engine call, no reader tasks.
            buffers: dict[str, LineBuffer] = {}
            async for stream, data in self.backend.logs(container.id, follow=False,
                                                        tail=str(LOGS_TAIL)):
                tail += buffers.setdefault(stream, LineBuffer()).feed(data)
            for buffer in buffers.values():
                tail += buffer.flush()
        except ComposerError:
            pass
        return {"health_log": health, "logs_tail": tuple(tail[-LOGS_TAIL:])}


@asynccontextmanager
async def open(files: Sequence[str] | str | None = None, *,  # noqa: A001 - composer.open
               name: str | None = None, project_directory: str | None = None,
               profiles: Sequence[str] = (), env_files: Sequence[str] = (),
               env: Mapping[str, str] | None = None, backend: Backend | None = None,
               engine: str | None = None, keep: bool = False,
               remove_volumes: bool | None = None,
               events: Reporter | None = None) -> AsyncIterator[Project]:
    """Load a compose project and give its handle; take it down on the way out.

    ``files`` as ``-f`` (None: ``compose.yaml`` and friends in
    ``project_directory`` or the current folder); ``name=None`` gives a unique
    name (``composer-<hex>``), so parallel tests never collide. ``env`` replaces
    the process environment for interpolation. ``backend`` is any
    :class:`~composer.backends.base.Backend` (the in-memory one in tests);
    otherwise the engine found as the command finds it (``engine``: ``docker``,
    ``podman`` or ``auto``, default ``COMPOSER_ENGINE``, else ``auto``).

    On the way out, even when cancelled (shielded, at most two minutes), the
    project is taken down (``down --remove-orphans``), with its volumes when
    composer named it (``remove_volumes`` overrides); ``keep=True`` leaves it
    running. Loading errors are :class:`~composer.errors.ConfigError` and touch
    no engine.
    """
    if isinstance(files, str):
        files = [files]
    loaded = load_project(LoadOptions(
        files=tuple(files or ()), project_directory=project_directory,
        project_name=name or unique_name(), profiles=tuple(profiles),
        env_files=tuple(env_files), environ=env))
    own_backend = backend is None
    if backend is None:
        from composer.backends import connect

        backend = connect(engine=engine)
    volumes = (name is None) if remove_volumes is None else remove_volumes
    try:
        async with anyio.create_task_group() as group:
            project = Project(loaded, backend, group, events=events)
            try:
                yield project
            finally:
                group.cancel_scope.cancel()  # log readers and such
                if not keep:
                    with anyio.move_on_after(DOWN_TIMEOUT, shield=True):
                        for stack in sorted(project._stacks_deployed):
                            await project.stack(stack).remove()
                        await project.down(volumes=volumes, remove_orphans=True)
    finally:
        if own_backend:
            with anyio.CancelScope(shield=True):
                await backend.aclose()

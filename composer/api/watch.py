"""Watch: the running services follow the files a developer edits (``develop.watch``).

:meth:`Watcher.run` compiles the rules (:func:`composer.plan.watch.watch_rules`;
a bad rule is one located line), runs each rule's ``initial_sync``, then takes
the file changes batch by batch (:func:`composer.runtime.filewatch.batches`)
and does what their rules ask, in Docker Compose v2's order: rebuilds first
(``build``, then ``up`` of those services alone, recreated; ``prune``: the image
they replaced is removed once no container uses it), then syncs (one
:class:`~composer.plan.steps.SyncFiles` step per container, on the executor),
then restarts (the ``restart`` verb), then ``sync+exec`` hooks (in every
running container of the service, at once).

Everything it has to say goes to ``on_event`` as a :class:`WatchEvent` in v2's
words (``Syncing service "web" after 3 changes were detected``); events with
no ``message`` are for code (``synced``: a sync is done). A batch that fails
is reported (``error``) and the watch goes on, as v2's does. The watch ends
when its caller cancels it.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import anyio

from composer.api.compose import Compose, _located
from composer.api.options import BuildOptions, RestartOptions, UpOptions
from composer.backends.base import ContainerState, ExecConfig
from composer.config.loader import LoadedProject
from composer.errors import ComposerError, ConfigError
from composer.frozen import frozen
from composer.model.project import Project, ServiceConfig
from composer.plan import watch as rules_plan
from composer.plan.patterns import read_ignore_text
from composer.runtime import filewatch
from composer.runtime.executor import execute

__all__ = ["WatchEvent", "WatchOptions", "Watcher"]

# The kinds of WatchEvent.
ENABLED = "enabled"
WARNING = "warning"
SYNCING = "syncing"
SYNCED = "synced"
REBUILDING = "rebuilding"
BUILT = "built"
RECREATED = "recreated"
RESTARTED = "restarted"
OUTPUT = "output"
ERROR = "error"


@frozen(kw_only=True)
class WatchOptions:
    """``watch``: the services to watch (empty: every service with rules); ``prune``
    removes the image a rebuild replaced; ``quiet`` builds without output;
    ``quiet_period``: seconds without a new change that end a batch."""

    services: Sequence[str] = ()
    prune: bool = True
    quiet: bool = False
    quiet_period: float = filewatch.QUIET


@frozen(kw_only=True)
class WatchEvent:
    """One thing a watch did or saw. ``kind``: ``enabled``, ``syncing``, ``synced``,
    ``rebuilding``, ``built``, ``recreated``, ``restarted``, ``output`` (a
    ``sync+exec`` command's, ``stream`` says which), ``warning``, ``error``;
    ``message``: v2's words ("" for the kinds only code needs); ``paths``: the
    changed files (on this machine) behind it."""

    kind: str
    message: str = ""
    services: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    stream: str = "stdout"


def _go_list(names: Iterable[str]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(f'"{n}"' for n in names) + "]"


def _dockerignore(service: ServiceConfig) -> list[str]:
    """The patterns of the ``.dockerignore`` of ``service``'s build context (the
    Dockerfile's own ``<Dockerfile>.dockerignore`` first), as v2's watch reads them."""
    build = service.build
    if build is None or not build.context or "://" in build.context:
        return []
    dockerfile = build.dockerfile or "Dockerfile"
    for name in (dockerfile + ".dockerignore", ".dockerignore"):
        path = name if os.path.isabs(name) else os.path.join(build.context, name)
        try:
            with open(path, encoding="utf-8") as handle:
                return read_ignore_text(handle.read())
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    return []


def _with_dependencies(model: Project, names: Iterable[str]) -> list[str]:
    """``names`` and the services they depend on, in the project's order (compose-go's
    ``WithSelectedServices``, which v2's watch uses)."""
    wanted: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in wanted or name not in model.services:
            continue
        wanted.add(name)
        pending.extend(model.services[name].depends_on or {})
    return [name for name in model.services if name in wanted]


def _binds(service: ServiceConfig) -> list[str]:
    return [posixpath.normpath(v.source) for v in service.volumes or ()
            if v.type == "bind" and v.source and v.source.startswith("/")]


def _expand(paths: Iterable[str]) -> set[str]:
    """The changed paths, with what is inside each changed folder (a folder moved
    in, or made with its files before the watch looked into it)."""
    out: set[str] = set()
    for path in paths:
        out.add(path)
        if os.path.isdir(path) and not os.path.islink(path):
            for folder, dirs, files in os.walk(path):
                out.update(os.path.join(folder, n) for n in dirs + files)
    return out


_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def _rfc3339(text: str) -> float:
    """An engine's RFC 3339 time (nanoseconds allowed) as a POSIX timestamp (0 when
    it cannot be read: every file is then newer)."""
    found = _TIME.match(text or "")
    if found is None:
        return 0.0
    zone = found.group(3) or "Z"
    stamp = datetime.fromisoformat(found.group(1) + ("+00:00" if zone == "Z" else zone))
    return stamp.timestamp() + float("0" + (found.group(2) or ".0"))


@dataclass
class Watcher:
    """A watch of ``project`` on ``compose``'s engine (see the module docstring)."""

    compose: Compose
    project: LoadedProject
    options: WatchOptions = field(default_factory=WatchOptions)
    on_event: Callable[[WatchEvent], None] = lambda event: None
    rules: list[rules_plan.WatchRule] = field(default_factory=list)

    @property
    def model(self) -> Project:
        return self.project.model

    def _emit(self, kind: str, message: str = "", *, services: Iterable[str] = (),
              paths: Iterable[str] = (), stream: str = "stdout") -> None:
        self.on_event(WatchEvent(kind=kind, message=message, services=tuple(services),
                                 paths=tuple(paths), stream=stream))

    # -- the rules

    def compile(self) -> list[rules_plan.WatchRule]:
        """The rules, checked (a bad one: :class:`~composer.errors.ConfigError` with
        its file and line); rules inside a bind mount's source are dropped with v2's
        warning (the container sees those files already)."""
        model = self.model
        chosen = list(self.options.services) or list(model.services)
        for name in chosen:
            if name not in model.services:
                raise ConfigError(f"no such service: {name}")
        if self.options.services:
            chosen = _with_dependencies(model, chosen)  # as v2 selects them
        ignores = {name: _dockerignore(model.services[name]) for name in chosen}
        with _located(self.project):
            rules = rules_plan.watch_rules(model, chosen, dockerignore=ignores,
                                           project_dir=self.project.working_dir)
        kept = []
        for rule in rules:
            binds = _binds(model.services[rule.service])
            if rule.action in rules_plan.SYNCING and any(
                    rule.path == b or rule.path.startswith(b + "/") for b in binds):
                self._emit(WARNING, f"path '{rule.path}' also declared by a bind mount "
                           "volume, this path won't be monitored!", services=[rule.service])
                continue
            kept.append(rule)
        self.rules = kept
        return kept

    async def _containers(self) -> list[ContainerState]:
        observed = await self.compose.backend.observe(self.project.name)
        return [c for c in observed.containers
                if c.project == self.project.name and not c.oneoff]

    async def check_containers(self) -> None:
        """A rule that syncs needs its service's containers: one located line when a
        service has none."""
        have = {c.service for c in await self._containers()}
        for rule in self.rules:
            if rule.action in rules_plan.SYNCING and rule.service not in have:
                with _located(self.project):
                    raise ConfigError(f'service "{rule.service}" has no container to sync '
                                      "files to (start it first)", path=(*rule.key, "action"))

    # -- running

    async def run(self, *, ready: anyio.Event | None = None) -> None:
        """Compile the rules, sync what ``initial_sync`` asks, then follow the changes
        until cancelled; ``ready`` is set once changes are seen (after ``Watch
        enabled``)."""
        if not self.rules:
            self.compile()
        await self.check_containers()
        await self.initial_sync()
        watching = anyio.Event()
        paths = sorted({rule.path for rule in self.rules})
        changes = filewatch.batches(paths, quiet=self.options.quiet_period, ready=watching)

        async def announce() -> None:
            await watching.wait()
            self._emit(ENABLED, "Watch enabled")
            if ready is not None:
                ready.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(announce)
            try:
                async for batch in changes:
                    await self.handle(batch)
            finally:
                await changes.aclose()

    async def handle(self, changed: Iterable[str]) -> None:
        """Do what one batch of changed paths asks (errors: an ``error`` event)."""
        paths = await anyio.to_thread.run_sync(_expand, list(changed))
        batch = rules_plan.classify(self.rules, paths)
        if not batch:
            return
        try:
            if batch.rebuild and not await self._rebuild(batch.rebuild):
                return
            containers = await self._containers() if (batch.sync or batch.exec) else []
            for service, mappings in batch.sync.items():
                await self._sync(service, mappings, containers)
            if batch.restart:
                # Quietly, as v2 (its one line follows).
                await Compose(self.compose.backend).restart(
                    self.project, RestartOptions(services=batch.restart))
                self._emit(RESTARTED, f"service(s) {_go_list(batch.restart)} restarted",
                           services=batch.restart)
            if batch.exec:
                # Listed again, as v2 does: the restart may have started some.
                containers = await self._containers()
                async with anyio.create_task_group() as tg:
                    for service, hooks in batch.exec.items():
                        for hook in hooks:
                            for c in containers:
                                if c.service == service and c.state == "running":
                                    tg.start_soon(self._exec, hook, c)
        except ComposerError as exc:
            self._emit(ERROR, f"Error handling changed files: {exc}")

    async def _sync(self, service: str, mappings: Sequence[tuple[str, str]],
                    containers: Sequence[ContainerState], *, quiet: bool = False) -> None:
        def split() -> tuple[list[tuple[str, str]], list[str]]:
            copies = [(here, there) for here, there in mappings if os.path.lexists(here)]
            gone = sorted({there for here, there in mappings if not os.path.lexists(here)})
            return copies, gone

        copies, deletions = await anyio.to_thread.run_sync(split)
        paths = sorted({here for here, _ in mappings})
        if not quiet:
            self._emit(SYNCING, f'Syncing service "{service}" after {len(mappings)} changes '
                       "were detected", services=[service], paths=paths)
        plan = rules_plan.plan_sync(self.project.name, service, containers, copies, deletions)
        await execute(plan, self.compose.backend)
        self._emit(SYNCED, services=[service], paths=paths)

    async def _rebuild(self, services: Sequence[str]) -> bool:
        self._emit(REBUILDING, f"Rebuilding service(s) {_go_list(services)} after changes "
                   "were detected...", services=services)
        before = {c.image_id for c in await self._containers()
                  if c.service in services and c.image_id}
        try:
            await self.compose.build(self.project, BuildOptions(
                services=services, quiet=self.options.quiet))
        except ComposerError as exc:
            self._emit(ERROR, f"Build failed. Error: {exc}", services=services)
            return False
        self._emit(BUILT, f"service(s) {_go_list(services)} successfully built",
                   services=services)
        try:
            await self.compose.up(self.project, UpOptions(
                services=services, no_deps=True, force_recreate=True, no_build=True))
        except ComposerError as exc:
            self._emit(ERROR, f"Failed to recreate services after update. Error: {exc}",
                       services=services)
            return False
        # As v2, whose recreate sees the whole project: the services that depend on a
        # rebuilt one with ``restart: true`` are restarted (v2 stops them before the
        # recreate and starts them after it).
        dependents = self._restart_dependents(services)
        if dependents:
            try:
                await Compose(self.compose.backend).restart(
                    self.project, RestartOptions(services=dependents, no_deps=True))
            except ComposerError as exc:
                self._emit(ERROR, f"Application failed to start after update. Error: {exc}",
                           services=services)
        if self.options.prune:
            await self._prune(before)
        # Once the rebuild is done, the replaced image pruned included.
        self._emit(RECREATED, services=services)
        return True

    def _restart_dependents(self, services: Sequence[str]) -> tuple[str, ...]:
        """The services declaring ``depends_on.<one of services>.restart: true``."""
        return tuple(name for name, service in self.model.services.items()
                     if name not in services and any(
                         dep.restart for key, dep in (service.depends_on or {}).items()
                         if key in services))

    async def _prune(self, images: Iterable[str]) -> None:
        """Remove the replaced images no tag names any more and no container uses."""
        backend = self.compose.backend
        used = {c.image_id for c in await self._containers()}
        for image in sorted(set(images) - used):
            try:
                info = await backend.inspect_image(image)
                if not info.repo_tags:
                    await backend.remove_image(image)
            except ComposerError:
                continue  # used by another project's container, or gone: left as it is

    async def _exec(self, rule: rules_plan.WatchRule, container: ContainerState) -> None:
        hook = rule.exec
        if hook is None or not hook.command:
            self._emit(ERROR, "Error handling changed files: No exec command specified",
                       services=[rule.service])
            return
        command = [hook.command] if isinstance(hook.command, str) else list(hook.command)
        environment = [f"{k}={v}" if v is not None else k
                       for k, v in (hook.environment or {}).items()]
        try:
            out = await self.compose.backend.exec_run(container.id, ExecConfig(
                command=command, user=hook.user or "", workdir=hook.working_dir or "",
                privileged=bool(hook.privileged), environment=environment))
        except ComposerError as exc:
            self._emit(ERROR, f"Error handling changed files: {exc}", services=[rule.service])
            return
        for stream, data in (("stdout", out.stdout), ("stderr", out.stderr)):
            if data:
                self._emit(OUTPUT, data.decode(errors="replace"), services=[rule.service],
                           stream=stream)
        if out.exit_code != 0:
            self._emit(ERROR, f"Error handling changed files: {' '.join(command)!r} exited "
                       f"with code {out.exit_code} in {container.name}",
                       services=[rule.service])

    async def initial_sync(self) -> None:
        """``initial_sync`` rules (``sync``, ``sync+restart``): the files changed since
        the image of the service's first container was made are copied (v2: quietly)."""
        wanted = [r for r in self.rules if r.initial_sync
                  and r.action in (rules_plan.SYNC, rules_plan.SYNC_RESTART)]
        if not wanted:
            return
        containers = await self._containers()
        for rule in wanted:
            mine = sorted((c for c in containers if c.service == rule.service),
                          key=lambda c: c.number)
            if not mine:
                continue
            info = await self.compose.backend.inspect_image(mine[0].image_id or mine[0].image)
            since = _rfc3339(info.created)

            def newer(rule: rules_plan.WatchRule = rule, since: float = since) -> list[str]:
                found = []
                for path in _expand([rule.path]):
                    try:
                        info = os.lstat(path)
                        # Files only, as v2: a folder would carry this machine's owner
                        # and mode into the container.
                        if (not stat.S_ISDIR(info.st_mode) and info.st_mtime > since
                                and rule.matches(path)):
                            found.append(path)
                    except FileNotFoundError:
                        continue
                return found

            paths = await anyio.to_thread.run_sync(newer)
            if paths:
                await self._sync(rule.service, [(p, rule.container_path(p)) for p in paths],
                                 mine, quiet=True)

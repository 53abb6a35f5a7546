"""Running the engine commands: flags -> ``*Options`` -> :class:`composer.api.Compose`.

Which project a command acts on follows Docker Compose v2: with ``-p NAME`` and
no ``-f``, the commands that work from labels (``down``, ``ps``, ``stop``...)
use the name alone and read no compose file; otherwise the project is loaded,
and if that fails while ``COMPOSE_PROJECT_NAME`` is set, its name is used.
``up`` and ``create`` always need the compose file.

Progress goes to stderr (:mod:`composer.cli.progress`), listings to stdout
(:mod:`composer.cli.render`); ``--dry-run`` prints the plan on stdout and
changes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import anyio

from composer.cli.engine_cmds import (
    parse_filter,
    parse_scale,
    validate_format,
    validate_pull,
    validate_rmi,
)
from composer.cli.progress import ProgressPrinter
from composer.errors import ComposerError, UsageError

if TYPE_CHECKING:
    from composer.api import Compose, Outcome
    from composer.backends.base import Backend, ContainerState
    from composer.cli import render
    from composer.config.loader import LoadedProject

T = TypeVar("T")

# Commands v2 runs from the project's labels when given -p without -f.
_LABEL_COMMANDS = frozenset({"down", "ps", "start", "stop", "restart", "kill", "rm", "pause",
                             "unpause", "top", "port", "images", "logs"})


@dataclass
class Target:
    """The project a command acts on: loaded from its files, or known by name only."""

    name: str
    loaded: LoadedProject | None = None

    @property
    def ref(self) -> LoadedProject | str:
        """What :class:`composer.api.Compose` takes: the loaded project or the name."""
        return self.loaded if self.loaded is not None else self.name


def resolve_target(args: argparse.Namespace, services: Sequence[str] = ()) -> Target:
    """The project of this command line (see the module docstring)."""
    from composer.cli.options import load_options
    from composer.config.loader import load_project

    labels_ok = args.command in _LABEL_COMMANDS
    if labels_ok and args.project_name and not args.files:
        from composer.config.discovery import normalize_project_name

        return Target(normalize_project_name(args.project_name))
    try:
        loaded = load_project(load_options(args, services=services))
    except ComposerError:
        env_name = os.environ.get("COMPOSE_PROJECT_NAME")
        if labels_ok and env_name:
            return Target(env_name)
        raise
    return Target(loaded.name, loaded)


# -- the session -------------------------------------------------------------------------------


class Session:
    """One command's engine connection, api facade and progress printer."""

    def __init__(self, args: argparse.Namespace, backend: Backend) -> None:
        from composer.api import Compose

        self.args = args
        self.dry_run = bool(getattr(args, "dry_run", False))
        self.printer = ProgressPrinter(sys.stderr, mode=args.progress, dry_run=self.dry_run,
                                       ansi=getattr(args, "ansi", "auto"))
        self.backend = backend
        self.compose: Compose = Compose(backend, events=self.printer)

    def warn(self, message: str) -> None:
        self.printer.message(f"WARN[0000] {message}")

    def report(self, outcome: Outcome) -> int:
        """Print the outcome's warnings (stderr) and, in dry-run mode, its plans (stdout)."""
        for warning in outcome.warnings:
            self.warn(warning)
        if self.dry_run:
            text = "\n".join(str(p) for p in outcome.plans if p)
            sys.stdout.write(text + "\n" if text else "nothing to do\n")
        return 0


def run_engine(args: argparse.Namespace, body: Callable[[Session], Awaitable[T]]) -> T:
    """Connect to the engine (``DOCKER_HOST`` or the default socket), run ``body``."""
    from composer.backends import connect

    async def main() -> T:
        backend = connect(engine=getattr(args, "engine", None))
        try:
            return await body(Session(args, backend))
        finally:
            await backend.aclose()

    try:
        return anyio.run(main)
    except BaseExceptionGroup as group:
        # Concurrent tasks may fail together; a person needs the first cause, once.
        raise _first_composer_error(group) from None


def _first_composer_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf of ``group`` if every leaf is a ComposerError, else ``group`` itself."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            pending[:0] = list(exc.exceptions)
        else:
            leaves.append(exc)
    if leaves and all(isinstance(e, ComposerError) for e in leaves):
        return leaves[0]
    if any(isinstance(e, KeyboardInterrupt) for e in leaves):
        return KeyboardInterrupt()
    return group


# -- up / create -------------------------------------------------------------------------------


def _create_options(args: argparse.Namespace) -> dict[str, object]:
    if args.force_recreate and args.no_recreate:
        raise UsageError("--force-recreate and --no-recreate are incompatible")
    return dict(
        services=tuple(args.services),
        scale=parse_scale(args.scale),
        force_recreate=args.force_recreate,
        no_recreate=args.no_recreate,
        remove_orphans=args.remove_orphans,
        pull=validate_pull(args.pull),
        dry_run=bool(args.dry_run),
        build=_build_flags(args),
        no_build=bool(args.no_build),
        quiet_pull=bool(getattr(args, "quiet_pull", False)),
    )


def _build_flags(args: argparse.Namespace) -> bool:
    """``--build``, checked against ``--no-build`` as v2 does."""
    if args.build and args.no_build:
        raise UsageError("--build and --no-build are incompatible")
    return bool(args.build)


def _check_up_recreate_flags(args: argparse.Namespace) -> None:
    """v2's checks of ``-V`` and ``--always-recreate-deps`` against ``--no-recreate``."""
    if not args.no_recreate:
        return
    if getattr(args, "renew_anon_volumes", False):
        raise UsageError("--no-recreate and --renew-anon-volumes are incompatible")
    if getattr(args, "always_recreate_deps", False) and not args.force_recreate:
        raise UsageError("--always-recreate-deps and --no-recreate are incompatible")


def up(args: argparse.Namespace) -> int:
    """``up``: converge, then (without ``-d``/``--wait``/``--no-start``) follow the logs."""
    from composer.api import UpOptions

    if args.wait_timeout is not None and args.wait_timeout < 0:
        raise UsageError("--wait-timeout must not be negative")
    _check_up_recreate_flags(args)
    options = UpOptions(
        **_create_options(args),  # type: ignore[arg-type]
        always_recreate_deps=bool(getattr(args, "always_recreate_deps", False)),
        renew_anon_volumes=bool(getattr(args, "renew_anon_volumes", False)),
        quiet_build=bool(getattr(args, "quiet_build", False)),
        no_deps=args.no_deps,
        timeout=args.timeout,
        no_start=args.no_start,
        wait=args.wait,
        wait_timeout=float(args.wait_timeout) if args.wait_timeout else None,
    )
    from composer.cli import logview

    logview.validate_attach_flags(args)
    watch = bool(getattr(args, "watch", False))
    if watch and options.no_build:
        raise UsageError("--no-build and --watch are incompatible")
    target = resolve_target(args, args.services)
    attach = not (args.detach or args.wait or args.no_start or args.dry_run)

    async def body(s: Session) -> int:
        assert target.loaded is not None
        if attach:
            watcher = None
            if watch:
                from composer.api.watch import Watcher, WatchOptions
                from composer.cli.watch_cmd import event_printer

                # As v2, every service of the project with rules, no pruning; checked
                # before anything is created.
                watcher = Watcher(s.compose, target.loaded, WatchOptions(prune=False),
                                  on_event=event_printer(sys.stdout, sys.stderr, warn=s.warn))
                watcher.compile()
            return await logview.attached_up(s, target, args, options, watcher)
        return s.report(await s.compose.up(target.loaded, options))

    return run_engine(args, body)


def create(args: argparse.Namespace) -> int:
    """``create``: converge without starting anything."""
    from composer.api import CreateOptions

    options = CreateOptions(**_create_options(args))  # type: ignore[arg-type]
    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        assert target.loaded is not None
        return s.report(await s.compose.create(target.loaded, options))

    return run_engine(args, body)


# -- down and the lifecycle verbs --------------------------------------------------------------


def down(args: argparse.Namespace) -> int:
    from composer.api import DownOptions

    options = DownOptions(services=tuple(args.services), volumes=args.volumes,
                          remove_orphans=args.remove_orphans, rmi=validate_rmi(args.rmi),
                          timeout=args.timeout, dry_run=bool(args.dry_run))
    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        return s.report(await s.compose.down(target.ref, options))

    return run_engine(args, body)


def _lifecycle(args: argparse.Namespace, verb: str, options: object) -> int:
    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        method: Callable[..., Awaitable[Outcome]] = getattr(s.compose, verb)
        return s.report(await method(target.ref, options))

    return run_engine(args, body)


def start(args: argparse.Namespace) -> int:
    from composer.api import StartOptions

    return _lifecycle(args, "start", StartOptions(services=tuple(args.services),
                                                  dry_run=bool(args.dry_run)))


def stop(args: argparse.Namespace) -> int:
    from composer.api import StopOptions

    return _lifecycle(args, "stop", StopOptions(services=tuple(args.services),
                                                timeout=args.timeout,
                                                dry_run=bool(args.dry_run)))


def restart(args: argparse.Namespace) -> int:
    from composer.api import RestartOptions

    return _lifecycle(args, "restart", RestartOptions(
        services=tuple(args.services), timeout=args.timeout, no_deps=args.no_deps,
        dry_run=bool(args.dry_run)))


def kill(args: argparse.Namespace) -> int:
    from composer.api import KillOptions

    return _lifecycle(args, "kill", KillOptions(
        services=tuple(args.services), signal=args.signal,
        remove_orphans=args.remove_orphans, dry_run=bool(args.dry_run)))


def pause(args: argparse.Namespace) -> int:
    from composer.api import PauseOptions

    return _lifecycle(args, "pause", PauseOptions(services=tuple(args.services),
                                                  dry_run=bool(args.dry_run)))


def unpause(args: argparse.Namespace) -> int:
    from composer.api import UnpauseOptions

    return _lifecycle(args, "unpause", UnpauseOptions(services=tuple(args.services),
                                                      dry_run=bool(args.dry_run)))


def rm(args: argparse.Namespace) -> int:
    """``rm``: without ``-f``, name the containers and ask (a non-interactive stdin
    answers no, as v2's prompt does)."""
    from composer.api import PsOptions, RmOptions

    options = RmOptions(services=tuple(args.services), stop=args.stop, volumes=args.volumes,
                        dry_run=bool(args.dry_run))
    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        containers = await s.compose.ps(target.ref, PsOptions(services=options.services,
                                                              all=True))
        doomed = [c.name for c in containers if not c.oneoff
                  and (options.stop or c.state not in ("running", "paused", "restarting"))]
        if not doomed:
            s.printer.message("No stopped containers")
            return 0
        if not (args.force or s.dry_run):
            sys.stdout.write(f"Going to remove {', '.join(doomed)}\n")
            sys.stdout.flush()
            if not _confirm("Are you sure?"):
                return 0
        return s.report(await s.compose.rm(target.ref, options))

    return run_engine(args, body)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    sys.stdout.write(f"? {question} (y/N) ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


# -- listings ----------------------------------------------------------------------------------


def _ps_row(c: ContainerState) -> render.PsRow:
    from composer.cli import render

    mounts = tuple(str(m.get("Name") or m.get("Source") or "") for m in c.mounts)
    return render.PsRow(
        id=c.id, name=c.name, image=c.image, command=str(getattr(c, "command", "") or ""),
        project=c.project, service=c.service, created=c.created, state=c.state,
        status=c.status, health=c.health or "", exit_code=c.exit_code or 0, ports=c.ports,
        labels=c.labels, networks=c.networks, mounts=mounts,
        local_volumes=sum(1 for m in c.mounts if m.get("Driver") == "local"),
    )


def ps(args: argparse.Namespace) -> int:
    from composer.api import PsOptions
    from composer.cli import render

    fmt = validate_format(args.format, "ps")
    status = list(args.status)
    flt = parse_filter(args.filter, ("status",))
    if flt is not None:
        status.append(flt[1])
    from composer.cli.goflags import go_bool

    orphans = go_bool(args, "orphans")
    target = resolve_target(args, args.services)
    services = tuple(args.services)
    if not orphans and not services and target.loaded is not None:
        # As v2: only the services the project declares (not known by name alone).
        from composer.api import project_model

        services = tuple(project_model(target.loaded).services)

    async def body(s: Session) -> int:
        containers = await s.compose.ps(target.ref, PsOptions(
            services=services, all=args.all, status=tuple(status)))
        if args.quiet:
            sys.stdout.write("".join(c.id + "\n" for c in containers))
        elif args.list_services:
            names: list[str] = []
            for c in containers:
                if c.service not in names:
                    names.append(c.service)
            sys.stdout.write("\n".join(names) + "\n")
        else:
            rows = [_ps_row(c) for c in containers]
            now = time.time()
            trunc = not args.no_trunc
            sys.stdout.write(render.ps_json_lines(rows, now=now, trunc=trunc) if fmt == "json"
                             else render.ps_table(rows, now=now, trunc=trunc))
        return 0

    return run_engine(args, body)


def top(args: argparse.Namespace) -> int:
    from composer.cli import queries, render

    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        rows = await queries.top(s.backend, target.name, args.services)
        sys.stdout.write(render.top_table(rows))
        return 0

    return run_engine(args, body)


def port(args: argparse.Namespace) -> int:
    from composer.cli import queries

    try:
        private = int(args.private_port)
        if not 0 < private < 65536:
            raise ValueError
    except ValueError:
        raise UsageError(f'invalid port "{args.private_port}": expected 1-65535') from None
    protocol = args.protocol.lower()
    target = resolve_target(args, [args.service])

    async def body(s: Session) -> int:
        sys.stdout.write(await queries.port(s.backend, target.name, args.service, private,
                                            protocol, args.index) + "\n")
        return 0

    return run_engine(args, body)


def images(args: argparse.Namespace) -> int:
    from composer.cli import queries, render

    fmt = validate_format(args.format, "images")
    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        rows = await queries.images(s.backend, target.name, args.services)
        if args.quiet:
            sys.stdout.write(render.images_quiet(rows))
        elif fmt == "json":
            sys.stdout.write(render.images_json(rows))
        else:
            sys.stdout.write(render.images_table(rows, now=time.time()))
        return 0

    return run_engine(args, body)


def _name_matches(pattern: str, name: str) -> bool:
    """``--filter name=...`` as the docker CLI's filters match: a regexp search."""
    import re

    try:
        return re.search(pattern, name) is not None
    except re.error:
        return pattern in name


def ls(args: argparse.Namespace) -> int:
    """``ls``: every project on the engine; needs no compose file."""
    from composer.cli import queries, render

    fmt = validate_format(args.format, "ls")
    flt = parse_filter(args.filter, ("name",))

    async def body(s: Session) -> int:
        stacks = await queries.list_projects(s.backend, all=args.all)
        if flt is not None:
            stacks = [st for st in stacks if _name_matches(flt[1], st.name)]
        if args.quiet:
            sys.stdout.write("".join(st.name + "\n" for st in stacks))
        elif fmt == "json":
            sys.stdout.write(render.ls_json(stacks))
        else:
            sys.stdout.write(render.ls_table(stacks))
        return 0

    return run_engine(args, body)

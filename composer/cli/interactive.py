"""The commands a person types into: ``exec``, ``run``, ``attach`` (the
container-level tools ``events``, ``wait``, ``cp``, ``stats`` are in
:mod:`composer.cli.container_cmds`).

Flags and wording follow Docker Compose v2. ``exec`` and ``run`` get a TTY when
stdin is a terminal (not with ``-T``); the terminal is then put in raw mode for
the session and restored afterwards, its size is passed to the engine and
updated on SIGWINCH. Without a TTY, stdin is still forwarded (``-i``, the
default) and the command's stdout and stderr stay apart. The exit code of the
command (or of the container, for ``run`` and ``attach``) is composer's.

Nothing here imports anyio or docker at module level: the parser is built for
every command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from composer.errors import ComposerError, EngineError, UsageError

if TYPE_CHECKING:
    from composer.backends.base import ContainerState, RawStream
    from composer.cli.engine_run import Session, Target

__all__ = ["COMMANDS", "register"]

COMMANDS = ("exec", "run", "attach")


# -- the parser --------------------------------------------------------------------------------


def dry_run_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", dest="dry_run", action="store_true", default=argparse.SUPPRESS,
                   help="execute command in dry run mode")


def register(sub: Any) -> None:
    """Add this module's commands to the ``composer`` subparsers."""
    # ``exec``/``run`` end with COMMAND [ARGS...], whose own flags must stay theirs:
    # those parsers take arguments in order (the intermixing parser cannot do that).
    saved = sub._parser_class
    sub._parser_class = argparse.ArgumentParser
    try:
        _register_exec(sub)
        _register_run(sub)
    finally:
        sub._parser_class = saved

    p = sub.add_parser("attach", help="Attach local standard input, output, and error "
                                      "streams to a service's running container")
    dry_run_flag(p)
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("--index", type=int, default=0,
                   help="index of the container if service has multiple replicas")
    p.add_argument("--no-stdin", action="store_true", help="do not attach STDIN")
    p.add_argument("--sig-proxy", default="true", metavar="BOOL",
                   help="proxy all received signals to the process (default true; "
                        "--sig-proxy=false turns it off)")
    p.add_argument("--detach-keys", default=None,
                   help="override the key sequence for detaching from a container")
    p.set_defaults(func=_lazy(attach))


def _register_exec(sub: Any) -> None:
    p = sub.add_parser("exec", help="Execute a command in a running container")
    dry_run_flag(p)
    p.add_argument("-d", "--detach", action="store_true",
                   help="detached mode: run command in the background")
    p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VAL",
                   help="set environment variables")
    p.add_argument("--index", type=int, default=0,
                   help="index of the container if service has multiple replicas")
    p.add_argument("-T", "--no-tty", "--no-TTY", dest="no_tty", action="store_true",
                   help="disable pseudo-TTY allocation (by default one is allocated when "
                        "stdin is a terminal)")
    p.add_argument("-t", "--tty", dest="tty", action="store_true", help=argparse.SUPPRESS)
    # v2's -i defaults to true: accepted, and stdin is always forwarded.
    p.add_argument("-i", "--interactive", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--privileged", action="store_true",
                   help="give extended privileges to the process")
    p.add_argument("-u", "--user", default="", help="run the command as this user")
    p.add_argument("-w", "--workdir", default="", help="path to workdir directory for this "
                                                        "command")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS...]")
    p.set_defaults(func=_lazy(exec_))


def _register_run(sub: Any) -> None:
    p = sub.add_parser("run", help="Run a one-off command on a service")
    dry_run_flag(p)
    p.add_argument("-d", "--detach", action="store_true",
                   help="run container in background and print container ID")
    p.add_argument("--entrypoint", default=None, help="override the entrypoint of the image")
    p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VAL",
                   help="set environment variables")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="keep STDIN open even if not attached (always on, as v2's default)")
    p.add_argument("-l", "--label", action="append", default=[], metavar="KEY=VAL",
                   help="add or override a label")
    p.add_argument("--name", default="", help="assign a name to the container")
    p.add_argument("-T", "--no-TTY", "--no-tty", dest="no_tty", action="store_true",
                   help="disable pseudo-TTY allocation (default: auto-detected)")
    p.add_argument("-t", "--tty", dest="tty", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-deps", action="store_true", help="don't start linked services")
    p.add_argument("-p", "--publish", action="append", default=[],
                   help="publish a container's port(s) to the host")
    p.add_argument("-P", "--service-ports", action="store_true",
                   help="run command with all service's ports enabled and mapped to the host")
    p.add_argument("--use-aliases", action="store_true",
                   help="use the service's network aliases in the network(s) the container "
                        "connects to")
    p.add_argument("--rm", action="store_true",
                   help="automatically remove the container when it exits")
    p.add_argument("-u", "--user", default="", help="run as specified username or uid")
    p.add_argument("-v", "--volume", action="append", default=[], help="bind mount a volume")
    p.add_argument("-w", "--workdir", default="", help="working directory inside the "
                                                        "container")
    p.add_argument("--cap-add", action="append", default=[], help="add Linux capabilities")
    p.add_argument("--cap-drop", action="append", default=[], help="drop Linux capabilities")
    p.add_argument("--pull", default="policy", help="pull image before running")
    p.add_argument("--remove-orphans", action="store_true",
                   help="remove containers for services not defined in the Compose file")
    p.add_argument("-q", "--quiet", action="store_true", help="don't print anything to STDOUT")
    p.add_argument("--quiet-pull", action="store_true",
                   help="pull without printing progress information")
    p.add_argument("--build", action="store_true", help="build image before starting container")
    p.add_argument("--quiet-build", action="store_true",
                   help="suppress progress output from the build process")
    p.add_argument("--env-from-file", dest="env_from_file", action="append", default=[],
                   metavar="FILE", help="set environment variables from file (repeatable)")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS...]")
    p.set_defaults(func=_lazy(run))


def _lazy(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    return fn


def _flag(value: str | None) -> bool:
    """A Go-style boolean flag value (``--sig-proxy=false``)."""
    text = (value or "true").strip().lower()
    if text in ("1", "t", "true", "yes"):
        return True
    if text in ("0", "f", "false", "no"):
        return False
    raise UsageError(f'invalid boolean value "{value}"')


# -- shared ------------------------------------------------------------------------------------


def project_target(args: argparse.Namespace, services: Sequence[str]) -> Target:
    """The project: by name alone with ``-p`` and no ``-f`` (as v2 does), else loaded."""
    from composer.cli.engine_run import Target, resolve_target

    if args.project_name and not args.files:
        from composer.config.discovery import normalize_project_name

        return Target(normalize_project_name(args.project_name))
    return resolve_target(args, services)


async def project_containers(s: Session, project: str, service: str | None, *,
                      oneoff: bool = False) -> list[ContainerState]:
    observed = await s.backend.observe(project)
    found = [c for c in observed.containers if c.project == project
             and (service is None or c.service == service) and (oneoff or not c.oneoff)]
    return sorted(found, key=lambda c: (c.oneoff, c.number, c.name))


async def _running(s: Session, project: str, service: str, index: int) -> ContainerState:
    """The running container ``index`` (1-based; 0: the first) of ``service``."""
    running = [c for c in await project_containers(s, project, service) if c.state == "running"]
    if index:
        running = [c for c in running if c.number == index]
        if not running:
            raise EngineError(f'service "{service}" is not running container #{index}')
    if not running:
        raise EngineError(f'service "{service}" is not running')
    return running[0]


def fd_writer(fd: int) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            view = view[written:]

    return write


def _stdin_fd() -> int | None:
    try:
        return sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):
        return None


async def _session(stream: RawStream, *, stdin: bool, tty: bool,
                   resize: Callable[[int, int], Any] | None) -> None:
    """Pump ``stream`` until the engine closes it; keep the remote TTY's size in step."""
    import signal

    import anyio
    import anyio.to_thread

    from composer.cli.terminal import raw_mode, window_size
    from composer.runtime.stream import pump

    sys.stdout.flush()
    sys.stderr.flush()
    in_fd = _stdin_fd() if stdin else None
    async with anyio.create_task_group() as tg:
        if tty and resize is not None:

            async def follow_size() -> None:
                last = window_size()
                if last:
                    await resize(*last)
                with anyio.open_signal_receiver(signal.SIGWINCH) as signals:
                    async for _ in signals:
                        size = window_size()
                        if size and size != last:
                            last = size
                            try:
                                await resize(*size)
                            except ComposerError:
                                pass

            tg.start_soon(follow_size)
        with raw_mode(in_fd if in_fd is not None else 0, tty and in_fd is not None):
            await anyio.to_thread.run_sync(
                lambda: pump(stream, stdin_fd=in_fd, out=fd_writer(1), err=fd_writer(2)),
                abandon_on_cancel=True)
        tg.cancel_scope.cancel()


def _environment(entries: Sequence[str], lookup: Mapping[str, str]) -> list[str]:
    """``-e KEY=VAL`` as given; ``-e KEY`` takes KEY's value here, or is dropped."""
    out = []
    for entry in entries:
        key, sep, _ = entry.partition("=")
        if sep:
            out.append(entry)
        elif key in lookup:
            out.append(f"{key}={lookup[key]}")
    return out


def _wants_tty(args: argparse.Namespace) -> bool:
    from composer.cli.terminal import is_terminal

    if args.no_tty:
        return False
    fd = _stdin_fd()
    return bool(args.tty) or (fd is not None and is_terminal(fd))


# -- exec --------------------------------------------------------------------------------------


def exec_(args: argparse.Namespace) -> int:
    """``exec SERVICE COMMAND [ARGS...]``: the command's exit code."""
    from composer.backends.base import ExecConfig
    from composer.cli.engine_run import run_engine

    if not args.argv:
        raise UsageError('"exec" requires at least 2 arguments')
    target = project_target(args, [args.service])
    tty = _wants_tty(args) and not args.detach
    interactive = not args.detach

    async def body(s: Session) -> int:
        container = await _running(s, target.name, args.service, args.index)
        if s.dry_run:
            return 0
        config = ExecConfig(command=tuple(args.argv), tty=tty, stdin=interactive,
                            environment=tuple(_environment(args.env, os.environ)),
                            user=args.user, workdir=args.workdir,
                            privileged=args.privileged)
        exec_id = await s.backend.exec_create(container.id, config)
        if args.detach:
            await s.backend.exec_start_detached(exec_id)
            return 0
        stream = await s.backend.exec_start(exec_id, tty=tty)

        async def resize(rows: int, cols: int) -> None:
            await s.backend.exec_resize(exec_id, rows, cols)

        await _session(stream, stdin=interactive, tty=tty, resize=resize)
        info = await s.backend.exec_inspect(exec_id)
        return info.exit_code or 0

    rc: int = run_engine(args, body)
    return rc


# -- run ---------------------------------------------------------------------------------------


def _labels(values: Sequence[str]) -> dict[str, str]:
    out = {}
    for value in values:
        key, _, val = value.partition("=")
        out[key] = val
    return out


def run(args: argparse.Namespace) -> int:
    """``run SERVICE [COMMAND] [ARGS...]``: a one-off container; its exit code.

    The dependencies, their waits and the container's creation are one plan
    (:meth:`composer.api.Compose.run`, shown by ``--dry-run``); then the
    container is attached to and started here."""
    from composer.cli.engine_run import resolve_target, run_engine
    from composer.config.dotenv import env_from_files

    target = resolve_target(args, [args.service])
    loaded = target.loaded
    assert loaded is not None
    if args.service_ports and args.publish:
        raise UsageError("--service-ports and --publish are incompatible")
    tty = _wants_tty(args) and not args.detach
    interactive = True
    entrypoint: list[str] | None = None
    if args.entrypoint is not None:
        import shlex

        entrypoint = shlex.split(args.entrypoint)
    lookup = {**os.environ, **loaded.environment}
    file_environment = env_from_files(args.env_from_file, _environment(args.env, lookup))

    async def body(s: Session) -> int:
        from composer.api import RunOptions

        outcome = await s.compose.run(loaded, RunOptions(
            service=args.service, command=tuple(args.argv), entrypoint=entrypoint,
            environment=tuple(args.env), file_environment=file_environment,
            labels=_labels(args.label), name=args.name,
            user=args.user, workdir=args.workdir, tty=tty, interactive=interactive,
            remove=args.rm, service_ports=args.service_ports, publish=tuple(args.publish),
            volumes=tuple(args.volume), use_aliases=args.use_aliases,
            cap_add=tuple(args.cap_add), cap_drop=tuple(args.cap_drop),
            no_deps=args.no_deps, remove_orphans=args.remove_orphans, build=args.build,
            quiet_build=args.quiet_build, quiet_pull=args.quiet_pull, pull=args.pull,
            dry_run=s.dry_run, project_environment=lookup))
        s.report(outcome)
        if s.dry_run:
            return 0
        container_id = outcome.container_id
        if args.detach:
            await s.backend.start_container(container_id)
            if not args.quiet:
                sys.stdout.write(container_id + "\n")
            return 0
        return await _attach_and_start(s, container_id, tty=tty, stdin=interactive,
                                       remove=args.rm)

    rc: int = run_engine(args, body)
    return rc


async def _attach_and_start(s: Session, container_id: str, *, tty: bool, stdin: bool,
                            remove: bool) -> int:
    """Attach first (no output is lost), start, pump the session; the exit code."""
    stream = await s.backend.attach(container_id, stdin=stdin, tty=tty)
    waiter = await s.backend.wait_begin(container_id, "removed" if remove else "next-exit")
    try:
        await s.backend.start_container(container_id)
    except ComposerError:
        stream.close()
        waiter.close()
        if remove:
            import contextlib

            with contextlib.suppress(ComposerError):
                await s.backend.remove_container(container_id, force=True)
        raise

    async def resize(rows: int, cols: int) -> None:
        await s.backend.resize_container(container_id, rows, cols)

    await _session(stream, stdin=stdin, tty=tty, resize=resize)
    return await waiter.exit_code()


# -- attach ------------------------------------------------------------------------------------


def attach(args: argparse.Namespace) -> int:
    """``attach SERVICE``: the container's streams here until it stops; its exit code."""
    from composer.cli.engine_run import run_engine

    target = project_target(args, [args.service])
    sig_proxy = _flag(args.sig_proxy)

    async def body(s: Session) -> int:
        import signal

        import anyio

        container = await _running(s, target.name, args.service, args.index)
        info = await s.backend.inspect_container(container.id)
        tty = info.tty
        stdin = not args.no_stdin and info.open_stdin
        if s.dry_run:
            return 0
        stream = await s.backend.attach(container.id, stdin=stdin, tty=tty)
        waiter = await s.backend.wait_begin(container.id, "next-exit")

        async def resize(rows: int, cols: int) -> None:
            await s.backend.resize_container(container.id, rows, cols)

        async with anyio.create_task_group() as tg:
            if sig_proxy and not tty:

                async def proxy() -> None:
                    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                        async for signum in signals:
                            await s.backend.kill_container(container.id,
                                                           signal.Signals(signum).name)

                tg.start_soon(proxy)
            await _session(stream, stdin=stdin, tty=tty, resize=resize)
            tg.cancel_scope.cancel()
        return await waiter.exit_code()

    rc: int = run_engine(args, body)
    return rc

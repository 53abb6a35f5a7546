"""The commands a person types into: ``exec``, ``run``, ``attach``, and the
container-level tools ``events``, ``wait``, ``cp``, ``stats``.

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
    from composer.backends.base import ContainerState, RawStream, StatsSample
    from composer.cli.engine_run import Session, Target

__all__ = ["COMMANDS", "register"]

COMMANDS = ("exec", "run", "attach", "events", "wait", "cp", "stats")


# -- the parser --------------------------------------------------------------------------------


def _dry_run(p: argparse.ArgumentParser) -> None:
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
    _dry_run(p)
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

    p = sub.add_parser("events", help="Receive real time events from containers")
    _dry_run(p)
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.add_argument("--json", action="store_true", help="output events as a stream of json "
                                                       "objects")
    p.add_argument("--since", default=None, help="show all events created since timestamp")
    p.add_argument("--until", default=None, help="stream events until this timestamp")
    p.set_defaults(func=_lazy(events))

    p = sub.add_parser("wait", help="Block until containers of all (or specified) services "
                                    "stop")
    _dry_run(p)
    p.add_argument("services", nargs="+", metavar="SERVICE")
    p.add_argument("--down-project", action="store_true",
                   help="drops project when the first container stops")
    p.set_defaults(func=_lazy(wait))

    p = sub.add_parser("cp", help="Copy files/folders between a service container and the "
                                  "local filesystem")
    _dry_run(p)
    p.add_argument("source", metavar="SRC")
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--all", action="store_true",
                   help="include containers created by the run command")
    p.add_argument("-a", "--archive", action="store_true",
                   help="archive mode (copy all uid/gid information)")
    p.add_argument("-L", "--follow-link", action="store_true",
                   help="always follow symbol link in SRC_PATH")
    p.add_argument("--index", type=int, default=0,
                   help="index of the container if service has multiple replicas")
    p.set_defaults(func=_lazy(cp))

    p = sub.add_parser("stats", help="Display a live stream of container(s) resource usage "
                                     "statistics")
    _dry_run(p)
    p.add_argument("services", nargs="?", default=None, metavar="SERVICE")
    p.add_argument("-a", "--all", action="store_true",
                   help="show all containers (default shows just running)")
    p.add_argument("--format", default="table", help="table | json")
    p.add_argument("--no-stream", action="store_true",
                   help="disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    p.set_defaults(func=_lazy(stats))


def _register_exec(sub: Any) -> None:
    p = sub.add_parser("exec", help="Execute a command in a running container")
    _dry_run(p)
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
    _dry_run(p)
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


def _target(args: argparse.Namespace, services: Sequence[str]) -> Target:
    """The project: by name alone with ``-p`` and no ``-f`` (as v2 does), else loaded."""
    from composer.cli.engine_run import Target, resolve_target

    if args.project_name and not args.files:
        from composer.config.discovery import normalize_project_name

        return Target(normalize_project_name(args.project_name))
    return resolve_target(args, services)


async def _containers(s: Session, project: str, service: str | None, *,
                      oneoff: bool = False) -> list[ContainerState]:
    observed = await s.backend.observe(project)
    found = [c for c in observed.containers if c.project == project
             and (service is None or c.service == service) and (oneoff or not c.oneoff)]
    return sorted(found, key=lambda c: (c.oneoff, c.number, c.name))


async def _running(s: Session, project: str, service: str, index: int) -> ContainerState:
    """The running container ``index`` (1-based; 0: the first) of ``service``."""
    running = [c for c in await _containers(s, project, service) if c.state == "running"]
    if index:
        running = [c for c in running if c.number == index]
        if not running:
            raise EngineError(f'service "{service}" is not running container #{index}')
    if not running:
        raise EngineError(f'service "{service}" is not running')
    return running[0]


def _write(fd: int) -> Callable[[bytes], None]:
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
                lambda: pump(stream, stdin_fd=in_fd, out=_write(1), err=_write(2)),
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
    target = _target(args, [args.service])
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

    target = _target(args, [args.service])
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


# -- events ------------------------------------------------------------------------------------


def go_time(time_nano: int) -> str:
    """A Unix time in nanoseconds as Go's RFC 3339 with nanoseconds (trailing zeros cut)."""
    import datetime as dt

    seconds, nanos = divmod(time_nano, 1_000_000_000)
    moment = dt.datetime.fromtimestamp(seconds).astimezone()
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    offset = moment.strftime("%z")
    return text + ("Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}")


def event_text(time_nano: int, action: str, container: str,
               attributes: Mapping[str, str]) -> str:
    """One event as v2 prints it (a blank line follows each)."""
    import datetime as dt

    seconds, nanos = divmod(time_nano, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(attributes.items()))
    return f"{stamp}.{nanos // 1000:06d} container {action} {container} ({attrs})\n\n"


def event_json(time_nano: int, action: str, container: str, service: str,
               attributes: Mapping[str, str]) -> str:
    """One event as v2's ``--json`` prints it (keys sorted, as Go marshals a map)."""
    import json

    return json.dumps({"action": action, "attributes": dict(sorted(attributes.items())),
                       "id": container, "service": service, "time": go_time(time_nano),
                       "type": "container"}, separators=(",", ":")) + "\n"


def _unix(value: str | None) -> int | None:
    if value is None:
        return None
    import time

    from composer.cli.timestamps import engine_timestamp

    return int(float(engine_timestamp(value, time.time())))


def events(args: argparse.Namespace) -> int:
    """``events``: the project's container events until interrupted."""
    from composer.cli.engine_run import run_engine

    target = _target(args, args.services)
    since, until = _unix(args.since), _unix(args.until)

    async def body(s: Session) -> int:
        import anyio

        from composer.model.labels import ONEOFF

        async def consume() -> None:
            async for ev in s.backend.events(target.name, since=since):
                if ev.attributes.get(ONEOFF) == "True":
                    continue
                if args.services and ev.service not in args.services:
                    continue
                if until is not None and ev.time_nano // 1_000_000_000 > until:
                    return
                attrs = {k: v for k, v in ev.attributes.items()
                         if not k.startswith("com.docker.compose.")}
                sys.stdout.write(
                    event_json(ev.time_nano, ev.action, ev.container_id, ev.service, attrs)
                    if args.json else event_text(ev.time_nano, ev.action, ev.container_id,
                                                 attrs))
                sys.stdout.flush()

        if until is None:
            await consume()
        else:
            import time

            with anyio.move_on_after(max(0.0, until - time.time()) + 0.5):
                await consume()
        return 0

    rc: int = run_engine(args, body)
    return rc


# -- wait --------------------------------------------------------------------------------------


def wait(args: argparse.Namespace) -> int:
    """``wait SERVICE...``: until the services' containers stop; the last exit code."""
    from composer.cli.engine_run import run_engine

    target = _target(args, args.services)

    async def body(s: Session) -> int:
        import anyio

        from composer.api import DownOptions

        containers = [c for c in await _containers(s, target.name, None, oneoff=True)
                      if c.state == "running" and c.service in args.services]
        if not containers:
            raise EngineError(f'no containers for project "{target.name}"')
        status = 0
        async with anyio.create_task_group() as tg:

            async def one(c: ContainerState) -> None:
                nonlocal status
                code = await s.backend.wait_container(c.id)
                sys.stdout.write(f'container "{c.id}" exited with status code {code}\n')
                sys.stdout.flush()
                status = code
                if args.down_project:
                    tg.cancel_scope.cancel()

            for c in containers:
                tg.start_soon(one, c)
        if args.down_project:
            s.report(await s.compose.down(target.ref, DownOptions(remove_orphans=True)))
        return status

    rc: int = run_engine(args, body)
    return rc


# -- cp ----------------------------------------------------------------------------------------


def _split_cp(arg: str) -> tuple[str | None, str]:
    """``SERVICE:PATH`` as (service, path); a local path as (None, path)."""
    if arg.startswith(("/", ".", "~")) or arg == "-":
        return None, arg
    service, sep, path = arg.partition(":")
    if not sep:
        return None, arg
    return service, path


def cp(args: argparse.Namespace) -> int:
    """``cp``: copy between a service container and here, as ``docker cp`` does."""
    from composer.cli.engine_run import run_engine

    src_service, src = _split_cp(args.source)
    dst_service, dst = _split_cp(args.dest)
    if (src_service is None) == (dst_service is None):
        raise UsageError("copying between services is not supported" if src_service
                         else "must specify at least one container source")
    service = src_service or dst_service
    assert service is not None
    target = _target(args, [service])

    async def body(s: Session) -> int:
        from composer.runtime import copying

        containers = [c for c in await _containers(s, target.name, service, oneoff=args.all)]
        if args.index:
            containers = [c for c in containers if c.number == args.index]
        if not containers:
            raise EngineError(f"no container found for service {service!r}")
        if s.dry_run:
            return 0
        if src_service is not None:
            c = containers[0]
            text = f"copy {c.name}:{src} to {dst}"
            s.printer.event(c.name, "Copying", text)
            await copying.from_container(s.backend, c.id, src, dst, follow_link=args.follow_link,
                                         write=_write(1))
            s.printer.event(c.name, "Copied", text)
        else:
            chosen = containers if args.all else containers[:1]
            for c in chosen:
                text = f"copy {src} to {c.name}:{dst}"
                s.printer.event(c.name, "Copying", text)
                await copying.to_container(s.backend, c.id, src, dst, archive=args.archive,
                                           follow_link=args.follow_link,
                                           read=sys.stdin.buffer.read)
                s.printer.event(c.name, "Copied", text)
        return 0

    rc: int = run_engine(args, body)
    return rc


# -- stats -------------------------------------------------------------------------------------


def stats(args: argparse.Namespace) -> int:
    """``stats``: the docker CLI's live table until Ctrl-C (see :mod:`composer.cli.stats_live`);
    with ``--no-stream`` one sample per container."""
    from composer.cli.engine_run import run_engine

    service = args.services
    target = _target(args, [service] if service else [])
    if args.format not in ("table", "json", ""):
        raise UsageError(f'stats: format value "{args.format}" is not supported: use "table" '
                         'or "json"')

    async def body(s: Session) -> int:
        import time

        import anyio

        from composer.cli import stats_table

        since = int(time.time())  # events from before the listing: no start is missed
        # In the engine's listing order (newest first), as v2 shows them.
        observed = await s.backend.observe(target.name)
        containers = [c for c in observed.containers if c.project == target.name
                      and (service is None or c.service == service)
                      and (args.all or c.state == "running")]
        if not args.no_stream:
            from composer.cli import stats_live

            return await stats_live.run(s.backend, target.name, service, containers, args,
                                        since=since)
        samples: dict[str, StatsSample | None] = {}

        async def sample(c: ContainerState) -> None:
            samples[c.id] = await s.backend.stats(c.id) if c.state == "running" else None

        async with anyio.create_task_group() as tg:
            for c in containers:
                tg.start_soon(sample, c)
        rows = [stats_table.row(c.id, c.name, samples.get(c.id)) for c in containers]
        if args.format == "json":
            sys.stdout.write(stats_table.json_lines(rows, trunc=not args.no_trunc))
        else:
            sys.stdout.write(stats_table.table(rows, trunc=not args.no_trunc))
        return 0

    rc: int = run_engine(args, body)
    return rc

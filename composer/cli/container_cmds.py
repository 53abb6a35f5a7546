"""The container-level tools: ``events``, ``wait``, ``cp`` and ``stats``.

Flags and wording follow Docker Compose v2. Each works from the project's name
alone (``-p NAME`` without ``-f``), as v2's do, and sees the engine only
through the :class:`~composer.backends.base.Backend` protocol.

Nothing here imports anyio or docker at module level: the parser is built for
every command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from composer.cli.interactive import (
    dry_run_flag,
    fd_writer,
    project_containers,
    project_target,
)
from composer.errors import EngineError, UsageError

if TYPE_CHECKING:
    from composer.backends.base import ContainerState, StatsSample
    from composer.cli.engine_run import Session

__all__ = ["COMMANDS", "register"]

COMMANDS = ("events", "wait", "cp", "stats")


def register(sub: Any) -> None:
    """Add this module's commands to the ``composer`` subparsers."""
    p = sub.add_parser("events", help="Receive real time events from containers")
    dry_run_flag(p)
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.add_argument("--json", action="store_true", help="output events as a stream of json "
                                                       "objects")
    p.add_argument("--since", default=None, help="show all events created since timestamp")
    p.add_argument("--until", default=None, help="stream events until this timestamp")
    p.set_defaults(func=events)

    p = sub.add_parser("wait", help="Block until containers of all (or specified) services "
                                    "stop")
    dry_run_flag(p)
    p.add_argument("services", nargs="+", metavar="SERVICE")
    p.add_argument("--down-project", action="store_true",
                   help="drops project when the first container stops")
    p.set_defaults(func=wait)

    p = sub.add_parser("cp", help="Copy files/folders between a service container and the "
                                  "local filesystem")
    dry_run_flag(p)
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
    p.set_defaults(func=cp)

    p = sub.add_parser("stats", help="Display a live stream of container(s) resource usage "
                                     "statistics")
    dry_run_flag(p)
    p.add_argument("services", nargs="?", default=None, metavar="SERVICE")
    p.add_argument("-a", "--all", action="store_true",
                   help="show all containers (default shows just running)")
    p.add_argument("--format", default="table", help="table | json")
    p.add_argument("--no-stream", action="store_true",
                   help="disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    p.set_defaults(func=stats)


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

    target = project_target(args, args.services)
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

    target = project_target(args, args.services)

    async def body(s: Session) -> int:
        import anyio

        from composer.api import DownOptions

        containers = [c for c in await project_containers(s, target.name, None, oneoff=True)
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
    target = project_target(args, [service])

    async def body(s: Session) -> int:
        from composer.runtime import copying

        containers = [c for c in await project_containers(s, target.name, service, oneoff=args.all)]
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
                                         write=fd_writer(1))
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
    target = project_target(args, [service] if service else [])
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

"""``composer stack deploy|ls|ps|services|rm``: Swarm stacks, in docker's words.

``stack deploy -c FILE STACK`` loads the files as every other command does (the
global ``-f``, ``--env-file`` and ``--profile`` apply too; the project's name is
the stack's) and runs :meth:`composer.api.stack.Stacks.deploy`. Progress goes to
stderr; the listings print docker's columns on stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from composer.errors import UsageError

if TYPE_CHECKING:
    from composer.api.stack import Stacks
    from composer.cli.engine_run import Session

__all__ = ["register"]


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "t", "true", "yes"):
        return True
    if lowered in ("0", "f", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {value!r}")


def register(sub: Any) -> None:
    """Add ``stack`` and its subcommands to the ``composer`` subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "stack", help="Manage Swarm stacks", description="Manage Swarm stacks")
    verbs = p.add_subparsers(dest="stack_command", metavar="COMMAND", required=True)

    d = verbs.add_parser("deploy", aliases=["up"], help="Deploy a new stack or update an "
                         "existing stack")
    d.add_argument("stack", metavar="STACK")
    d.add_argument("-c", "--compose-file", dest="compose_files", action="append", default=[],
                   metavar="FILE", help="path to a Compose file, or - to read from stdin")
    d.add_argument("--prune", action="store_true", help="prune services that are no longer "
                   "referenced")
    d.add_argument("--resolve-image", default="always", metavar="MODE",
                   help='query the registry to resolve image digest and supported platforms '
                        '("always", "changed", "never")')
    d.add_argument("--with-registry-auth", action="store_true",
                   help="send registry authentication details to Swarm agents")
    d.add_argument("-d", "--detach", type=_bool, nargs="?", const=True, default=True,
                   metavar="BOOL", help="exit immediately instead of waiting for the stack "
                   "services to converge (--detach=false waits)")
    d.add_argument("--wait", action="store_true", help="wait for every service to converge "
                   "(as --detach=false)")
    d.add_argument("--wait-timeout", type=float, default=None, metavar="SECONDS",
                   help="give up waiting on a service after this long")
    d.add_argument("--ordered", action="store_true", help="create each service once the "
                   "services it depends_on meet their condition, as up does")
    d.add_argument("-q", "--quiet", action="store_true", help="suppress progress output")
    d.add_argument("--dry-run", dest="dry_run", action="store_true", default=argparse.SUPPRESS)
    d.set_defaults(func=deploy)

    ls = verbs.add_parser("ls", aliases=["list"], help="List stacks")
    ls.add_argument("--format", default="table", choices=("table", "json"))
    ls.set_defaults(func=list_stacks)

    ps = verbs.add_parser("ps", help="List the tasks in the stack")
    ps.add_argument("stack", metavar="STACK")
    ps.add_argument("-q", "--quiet", action="store_true", help="only display task IDs")
    ps.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    ps.set_defaults(func=tasks)

    sv = verbs.add_parser("services", help="List the services in the stack")
    sv.add_argument("stack", metavar="STACK")
    sv.add_argument("-q", "--quiet", action="store_true", help="only display IDs")
    sv.set_defaults(func=services)

    rm = verbs.add_parser("rm", aliases=["remove", "down"], help="Remove one or more stacks")
    rm.add_argument("stacks", nargs="+", metavar="STACK")
    rm.add_argument("--dry-run", dest="dry_run", action="store_true", default=argparse.SUPPRESS)
    rm.set_defaults(func=remove)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = []
    for row in [list(header), *rows]:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell
                 for i, cell in enumerate(row)]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _run(args: argparse.Namespace, body: Callable[[Stacks, Session], Awaitable[int]]) -> int:
    """``body(stacks, session)`` on the engine, as every engine command runs."""
    from composer.api.stack import Stacks
    from composer.cli.engine_run import run_engine

    async def main(s: Session) -> int:
        return await body(Stacks(s.backend, events=s.printer), s)

    return run_engine(args, main)


def deploy(args: argparse.Namespace) -> int:
    from composer.api.stack import StackDeployOptions
    from composer.cli.options import load_options
    from composer.config.loader import load_project

    files = list(args.compose_files) + list(args.files)
    if not files:
        raise UsageError("specify a Compose file (with --compose-file)")
    args.files = files
    args.project_name = args.stack
    loaded = load_project(load_options(args))
    if args.quiet:
        args.progress = "quiet"
    options = StackDeployOptions(
        prune=args.prune, resolve_image=args.resolve_image,
        with_registry_auth=args.with_registry_auth,
        detach=bool(args.detach) and not args.wait, wait_timeout=args.wait_timeout,
        ordered=args.ordered, dry_run=bool(getattr(args, "dry_run", False)))

    async def body(stacks: Stacks, s: Session) -> int:
        return s.report(await stacks.deploy(loaded, args.stack, options))

    return _run(args, body)


def list_stacks(args: argparse.Namespace) -> int:
    async def body(stacks: Stacks, s: Session) -> int:
        rows = await stacks.ls()
        if args.format == "json":
            import json

            for row in rows:
                sys.stdout.write(json.dumps({"Name": row.name,
                                             "Services": str(row.services)}) + "\n")
            return 0
        sys.stdout.write(_table(("NAME", "SERVICES"),
                                [(r.name, str(r.services)) for r in rows]))
        return 0

    return _run(args, body)


def services(args: argparse.Namespace) -> int:
    async def body(stacks: Stacks, s: Session) -> int:
        rows = await stacks.services(args.stack)
        if not rows:
            sys.stderr.write(f"Nothing found in stack: {args.stack}\n")
            return 0
        if args.quiet:
            sys.stdout.write("".join(f"{r.id}\n" for r in rows))
            return 0
        sys.stdout.write(_table(("ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"),
                                [(r.id[:12], r.name, r.mode, r.replicas, r.image, r.ports)
                                 for r in rows]))
        return 0

    return _run(args, body)


def tasks(args: argparse.Namespace) -> int:
    async def body(stacks: Stacks, s: Session) -> int:
        rows = await stacks.tasks(args.stack)
        if not rows:
            sys.stderr.write(f"nothing found in stack: {args.stack}\n")
            return 1
        if args.quiet:
            sys.stdout.write("".join(f"{r.id}\n" for r in rows))
            return 0
        def cut(text: str) -> str:
            return text if args.no_trunc else text[:12]

        sys.stdout.write(_table(
            ("ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"),
            [(cut(r.id), r.name, r.image, r.node, r.desired_state, r.current_state,
              f'"{r.error}"' if r.error else "") for r in rows]))
        return 0

    return _run(args, body)


def remove(args: argparse.Namespace) -> int:
    async def body(stacks: Stacks, s: Session) -> int:
        for stack in args.stacks:
            s.report(await stacks.remove(stack, dry_run=s.dry_run))
        return 0

    return _run(args, body)

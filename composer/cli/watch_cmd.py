"""``composer watch``: follow the ``develop.watch`` rules (and ``up --watch``'s lines).

As Docker Compose v2: the rules are checked first (a bad one is one line, and
nothing is created), then a detached ``up`` of the services (unless
``--no-up``; images of services with a ``build:`` section are built), then the
watch. Its lines go to stdout in v2's words, bare (``Watch enabled``,
``Syncing service "web" after 3 changes were detected``); a batch that fails is
a warning on stderr and the watch goes on. Ctrl-C ends it with exit code 130 and
leaves the containers running.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from composer.api.watch import WatchEvent

__all__ = ["event_printer", "register"]


def register(sub: Any) -> None:
    """Add ``watch`` to the ``composer`` subparsers."""
    from composer.cli.goflags import add_go_bool, go_bool_parser

    saved = sub._parser_class
    sub._parser_class = go_bool_parser(saved)
    try:
        text = "Watch build context for service and rebuild/refresh containers when files " \
               "are updated"
        p = sub.add_parser("watch", help=text, description=text)
    finally:
        sub._parser_class = saved
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.add_argument("--no-up", action="store_true",
                   help="do not build & start services before watching")
    add_go_bool(p, "prune", help="prune dangling images on rebuild")
    p.add_argument("--quiet", action="store_true", help="hide build output")
    p.add_argument("--dry-run", dest="dry_run", action="store_true",
                   default=argparse.SUPPRESS, help="execute command in dry run mode")
    p.set_defaults(func=watch)


def event_printer(out: TextIO, err: TextIO, *, warn: Callable[[str], None] | None = None,
                  line: Callable[[str], None] | None = None
                  ) -> Callable[[WatchEvent], None]:
    """Print watch events as v2 does: messages through ``line`` (default: bare lines
    on ``out``), a ``sync+exec`` command's output as it is, errors and warnings
    through ``warn`` (default: ``WARN[0000]`` lines on ``err``)."""
    from composer.api.watch import ERROR, OUTPUT, WARNING

    def warning(text: str) -> None:
        err.write(f"WARN[0000] {text}\n")
        err.flush()

    say = warn or warning

    def bare(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    write = line or bare

    def show(event: WatchEvent) -> None:
        if not event.message:
            return
        if event.kind == OUTPUT:
            stream = err if event.stream == "stderr" else out
            stream.write(event.message)
            stream.flush()
        elif event.kind in (ERROR, WARNING):
            say(event.message)
        else:
            write(event.message)

    return show


def watch(args: argparse.Namespace) -> int:
    """``watch [SERVICE...]``: up (unless ``--no-up``), then follow the rules."""
    from composer.api import UpOptions
    from composer.api.watch import Watcher, WatchOptions
    from composer.cli.engine_run import Session, resolve_target, run_engine
    from composer.cli.goflags import go_bool
    from composer.errors import UsageError

    if getattr(args, "dry_run", False):
        raise UsageError("watch does not take --dry-run (it changes the containers as files "
                         "change)")
    target = resolve_target(args, args.services)
    loaded = target.loaded
    assert loaded is not None
    options = WatchOptions(services=tuple(args.services), prune=go_bool(args, "prune"),
                           quiet=args.quiet)

    async def body(s: Session) -> int:
        watcher = Watcher(s.compose, loaded, options,
                          on_event=event_printer(sys.stdout, sys.stderr, warn=s.warn))
        watcher.compile()  # a bad rule: one line, before anything is created
        if not args.no_up:
            s.report(await s.compose.up(loaded, UpOptions(
                services=tuple(args.services), build=True, quiet_build=args.quiet,
                quiet_pull=args.quiet)))
        s.printer.finish()
        await watcher.run()
        return 0

    try:
        return run_engine(args, body)
    except KeyboardInterrupt:
        # As v2: one new line, the containers left running.
        sys.stderr.write("\n")
        return 130

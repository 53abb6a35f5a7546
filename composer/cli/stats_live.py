"""Streaming ``stats``: the docker CLI's live table, for one project's containers.

Docker Compose v2's ``stats`` is ``docker stats`` filtered by the project's label
(and the service's, when one is named). It reads one engine stats stream per
container (the engine pushes a sample about once a second), follows the project's
container events so containers that start later appear (``create`` too with
``--all``) and ones that die (without ``--all``) or are removed disappear, and
prints the table every half second until Ctrl-C (exit code 130, as v2's).

On a terminal each table is drawn over the previous one, as the docker CLI does:
cursor home, each line followed by "erase to end of line", then "erase below".
Not on a terminal the escape sequences are left out and a plain table (or, with
``--format json``, one JSON line per container) is printed once per sample
interval, so a pipe or a log file gets readable text. ``--ansi always`` redraws
anyway, ``--ansi never`` prints plain tables on a terminal too.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from composer.cli import stats_table
from composer.frozen import frozen

if TYPE_CHECKING:
    from composer.backends.base import Backend, ContainerState, EngineEvent, StatsSample

__all__ = ["PLAIN_INTERVAL", "REDRAW_INTERVAL", "Board", "LiveOptions", "frame", "live", "run"]

#: The docker CLI's ticker: the table is redrawn twice a second on a terminal.
REDRAW_INTERVAL = 0.5
#: Not on a terminal each table is printed whole: once per engine sample is enough.
PLAIN_INTERVAL = 1.0
#: How long the first table waits for the first sample of each container (as the
#: docker CLI's collector gives up on a silent stream).
FIRST_SAMPLE_WAIT = 2.0

HOME = "\033[H"
ERASE_LINE = "\033[K"
ERASE_BELOW = "\033[J"


@dataclass(slots=True)
class _Entry:
    id: str
    name: str
    sample: StatsSample | None = None


class Board:
    """The containers shown, in the order they were met (the engine's listing order,
    then later arrivals at the end), each with its latest sample."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __contains__(self, container: str) -> bool:
        return container in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, container: str, name: str) -> bool:
        """Show ``container``; False when it is already shown."""
        if container in self._entries:
            return False
        self._entries[container] = _Entry(container, name.lstrip("/"))
        return True

    def remove(self, container: str) -> None:
        """Stop showing ``container`` (unknown ids are ignored)."""
        self._entries.pop(container, None)

    def update(self, container: str, sample: StatsSample) -> None:
        """Record the latest sample of a shown container (others are ignored: a stream
        may deliver one last sample after its container was removed)."""
        entry = self._entries.get(container)
        if entry is not None:
            entry.sample = sample

    def waiting(self) -> list[str]:
        """Shown containers without a sample yet."""
        return [e.id for e in self._entries.values() if e.sample is None]

    def rows(self) -> list[stats_table.StatsRow]:
        """One row per shown container; zeros until its first sample arrives."""
        return [stats_table.row(e.id, e.name, e.sample) for e in self._entries.values()]



def frame(rows: Sequence[stats_table.StatsRow], *, fmt: str = "table", trunc: bool = True,
          tty: bool = True) -> str:
    """The text one tick writes. On a terminal, the docker CLI's redraw: cursor home,
    every line of the table (and the empty one after it) ends with a space and
    "erase line", and "erase below" drops rows of containers that went away."""
    body = stats_table.json_lines(rows, trunc=trunc) if fmt == "json" else stats_table.table(
        rows, trunc=trunc)
    if not tty:
        return body
    lines = body.split("\n")
    return HOME + "".join(f"{line} {ERASE_LINE}\n" for line in lines) + ERASE_BELOW


@frozen(slots=True)
class LiveOptions:
    """What ``composer stats`` asked for."""

    project: str
    service: str | None = None
    all: bool = False
    fmt: str = "table"
    trunc: bool = True
    tty: bool = True
    interval: float | None = None  # None: REDRAW_INTERVAL on a terminal, else PLAIN_INTERVAL


def _wanted(event: EngineEvent, options: LiveOptions) -> bool:
    return options.service is None or event.service == options.service


async def live(source: Backend, initial: Sequence[tuple[str, str]], options: LiveOptions,
               write: Callable[[str], None], *, since: int | None = None,
               stop: anyio.Event | None = None) -> int:
    """Print the live table of ``initial`` (``(id, name)`` pairs, in listing order) and
    of the project's containers that start later, until SIGINT/SIGTERM or ``stop``
    is set; returns the exit code: 130 after a signal (as v2's ``stats`` and ``logs -f``),
    else 0."""
    board = Board()
    interval = options.interval if options.interval is not None else (
        REDRAW_INTERVAL if options.tty else PLAIN_INTERVAL)
    finished = stop or anyio.Event()
    feeds: dict[str, anyio.CancelScope] = {}
    broken: BrokenPipeError | None = None
    rc = 0

    async def feed(container: str, scope: anyio.CancelScope) -> None:
        # One engine stream per container; a stream that ends (container stopped)
        # leaves its last sample, as the docker CLI does.
        with scope:
            try:
                async for sample in source.stats_stream(container):
                    board.update(container, sample)
            except Exception:  # noqa: BLE001 - the container went away mid-stream
                pass
        if feeds.get(container) is scope:
            del feeds[container]

    # The handlers stay installed until every stream is closed: ``timeout -s INT`` (or
    # a process-group kill) delivers the signal twice, and the second one must not
    # interrupt the clean-up.
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as tg:

            def show(container: str, name: str) -> None:
                board.add(container, name)
                if container not in feeds:  # new, or its stream ended and it started again
                    feeds[container] = scope = anyio.CancelScope()
                    tg.start_soon(feed, container, scope)

            def hide(container: str) -> None:
                board.remove(container)
                scope = feeds.pop(container, None)
                if scope is not None:
                    scope.cancel()

            async def follow_events() -> None:
                async for event in source.events(options.project, since=since):
                    action, cid = event.action, event.container_id
                    if not cid or not _wanted(event, options):
                        continue
                    if action == "start" or (action == "create" and options.all):
                        show(cid, event.attributes.get("name", cid[:12]))
                    elif (action == "die" and not options.all) or action == "destroy":
                        hide(cid)

            async def on_signals() -> None:
                nonlocal rc
                async for _ in signals:
                    rc = 130
                    finished.set()

            tg.start_soon(on_signals)
            tg.start_soon(follow_events)
            for cid, name in initial:
                show(cid, name)

            # As the docker CLI: the first table waits for each container's first sample.
            with anyio.move_on_after(FIRST_SAMPLE_WAIT):
                while board.waiting() and not finished.is_set():
                    await anyio.sleep(0.05)

            while not finished.is_set():
                try:
                    write(frame(board.rows(), fmt=options.fmt, trunc=options.trunc,
                                tty=options.tty))
                except BrokenPipeError as exc:
                    # Raised once the streams are closed, bare (not in an exception
                    # group), so the CLI ends quietly as for any closed pipe.
                    broken = exc
                    break
                with anyio.move_on_after(interval):
                    await finished.wait()
            tg.cancel_scope.cancel()
    if broken is not None:
        raise broken
    return rc


async def run(backend: Backend, project: str, service: str | None,
              containers: Sequence[ContainerState], args: argparse.Namespace, *,
              since: int | None = None) -> int:
    """``composer stats`` without ``--no-stream``: :func:`live` on the engine, to stdout."""

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    from composer.cli.terminal import ansi_enabled

    tty = ansi_enabled(getattr(args, "ansi", "auto"), sys.stdout)
    options = LiveOptions(project=project, service=service, all=bool(args.all),
                          fmt="json" if args.format == "json" else "table",
                          trunc=not args.no_trunc, tty=tty)
    return await live(backend, [(c.id, c.name) for c in containers], options, write,
                      since=since)

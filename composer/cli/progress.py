"""Progress lines on stderr, as Docker Compose v2 prints them without a terminal.

v2's plain writer prints one line per event: ``" Container proj-web-1  Created"``
(the resource, an optional text, the status), prefixed by ``" DRY-RUN MODE - "``
under ``--dry-run``; ``--progress json`` prints one JSON object per event and
``--progress quiet`` nothing. On a terminal (``--progress auto`` with stderr a
terminal, or ``--progress tty``, or ``--ansi always``) the lines are v2's live
view instead: a ``[+] Running 2/3`` header and one line per resource, redrawn
in place with a spinner and the elapsed time; ``--ansi never`` keeps the plain
lines.

Pulls report their layers too (events with a ``parent``: the image's line).
The live view shows them as v2 does: the image's line with a gauge per layer
and the bytes so far (``Image busybox [⣿⣿⣄] 1.2MB / 4.5MB Pulling``), each
layer below it (``   ⠋ 3f4d90098f5b Downloading 512kB / 2.2MB``); once pulled,
the image's line reads ``Pulled``. Plain and JSON output print a layer's line
only when its phase changes, not each byte count v2 repeats.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO

__all__ = ["DRY_RUN_PREFIX", "ProgressPrinter", "human_size"]

DRY_RUN_PREFIX = " DRY-RUN MODE - "
#: How often the live view redraws while something is working (spinner, timers, bytes).
TICK = 0.1


class _Event(Protocol):
    """What the runtime reports (:class:`composer.runtime.progress.ProgressEvent`)."""

    @property
    def resource(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def elapsed(self) -> float | None: ...


class ProgressPrinter:
    """Writes progress events; safe to call from worker threads as well as the event loop.

    The live view measures elapsed time with ``clock`` (``time.monotonic``) and
    redraws every ``tick`` seconds from a thread of its own while a resource is
    working; ``tick=None`` starts no thread, and :meth:`tick` draws the next frame
    (tests drive both, rather than waiting on the wall clock).
    """

    def __init__(
        self, stream: TextIO | None = None, *, mode: str = "plain", dry_run: bool = False,
        ansi: str = "auto", clock: Callable[[], float] = time.monotonic,
        tick: float | None = TICK,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.mode = _resolve_mode(mode, ansi, self.stream)
        self.dry_run = dry_run
        self._lock = threading.Lock()
        self._view: _LiveView | None = _LiveView(self.stream, self._lock, dry_run, clock, tick) \
            if self.mode == "tty" else None
        self._printed: dict[tuple[str, str], str] = {}  # (parent, resource) -> last status

    def __call__(self, event: _Event, /) -> None:
        """A runtime progress event. A failure reads `` Container x  Error``: its cause
        is in the error the command ends with, so it is not printed twice; a
        warning's detail ("Resource is still in use") is printed as its status.
        A pull's progress (an event with ``parent``, ``current``, ``total``) is
        drawn live on a terminal; elsewhere only its changes of phase are printed."""
        parent = getattr(event, "parent", None)
        status = event.detail if event.detail and event.state == "warning" else event.status
        if self._view is not None:
            self._view.update(event.resource, status, event.state, event.elapsed,
                              parent=parent or "", current=getattr(event, "current", 0),
                              total=getattr(event, "total", 0))
            return
        if parent is not None:
            key = (parent, event.resource)
            if self._printed.get(key) == status:
                return  # a byte count: the phase was printed already
            self._printed[key] = status
            if parent:
                # v2's layer line: the layer ID and the engine's own words.
                self.event(event.resource, "", status, parent=parent)
                return
        else:
            self._printed[("", event.resource)] = status
        self.event(event.resource, status)

    def event(self, ident: str, status: str, text: str = "", *, parent: str = "") -> None:
        """One line: ``ident`` ("Container proj-web-1"), a ``status`` ("Created",
        "Started"...) and an optional ``text`` between them; ``parent`` (JSON only)
        names the line it belongs under (a layer's image)."""
        if self.mode == "quiet":
            return
        if self._view is not None:
            self._view.update(ident, f"{text} {status}".strip(), "done", None)
            return
        if self.mode == "json":
            obj: dict[str, object] = {}
            if self.dry_run:
                obj["dry-run"] = True
            obj["id"] = ident
            if parent:
                obj["parent_id"] = parent
            if text:
                obj["text"] = text
            if status:
                obj["status"] = status
            from composer.cli.render import go_json  # only --progress json needs it

            line = go_json(obj)
        else:
            # Go's fmt.Fprintln(prefix, id, text, status): operands joined by one space.
            line = " ".join((DRY_RUN_PREFIX if self.dry_run else "", ident, text, status))
        self.write_line(line)

    def message(self, text: str) -> None:
        """A free-form line (warnings, "No stopped containers"), except in quiet mode."""
        if self.mode == "quiet":
            return
        if self._view is not None:
            self._view.message(text)
        else:
            self.write_line(text)

    def finish(self) -> None:
        """End the live view's current block (before other output, such as logs)."""
        if self._view is not None:
            self._view.finish()

    def tick(self) -> None:
        """Draw the live view's next frame (what its ticker does every ``tick`` seconds)
        if a resource is working; nothing otherwise or off a terminal."""
        if self._view is not None:
            self._view.tick()

    def write_line(self, line: str) -> None:
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


def _resolve_mode(mode: str, ansi: str, stream: TextIO) -> str:
    """``auto``/``tty`` -> ``tty`` or ``plain`` from the terminal and ``--ansi``."""
    if mode not in ("auto", "tty"):
        return mode
    if ansi == "never":
        return "plain"
    if mode == "tty":
        return "tty"
    from composer.cli.terminal import ansi_enabled

    return "tty" if ansi_enabled(ansi, stream) else "plain"


_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_DONE_STATES = ("done", "warning", "error")
# v2's gauge of one layer: from nothing to complete in eight steps.
_GAUGE = "⠀⡀⣀⣄⣤⣦⣶⣷⣿"


def human_size(size: float) -> str:
    """Bytes as Docker writes them (go-units ``HumanSize``): decimal units, four
    significant digits: ``512B``, ``1.235MB``."""
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    index = 0
    while size >= 1000 and index < len(units) - 1:
        size /= 1000
        index += 1
    return f"{size:.4g}{units[index]}"


@dataclass
class _Row:
    status: str
    state: str
    started: float
    elapsed: float | None = None
    current: int = 0
    total: int = 0

    @property
    def done(self) -> bool:
        return self.state in _DONE_STATES

    @property
    def percent(self) -> int:
        if self.done:
            return 100
        return min(100, self.current * 100 // self.total) if self.total > 0 else 0


class _LiveView:
    """v2's terminal view: a header and a line per resource, redrawn in place.

    One block per command: a ticker thread redraws it every ``tick`` seconds
    while a resource is working (for the spinner and elapsed time) and stops while
    all are done. ``finish`` closes the block (other output follows; a later event
    starts a new block below). A row with a ``parent`` (a layer of a pulled
    image) is drawn under its parent's row; a new byte count alone waits for the
    ticker, so a pull's thousands of messages cost no more than ten redraws a
    second.
    """

    def __init__(self, stream: TextIO, lock: threading.Lock, dry_run: bool,
                 clock: Callable[[], float] = time.monotonic, tick: float | None = TICK
                 ) -> None:
        self.stream = stream
        self.lock = lock
        self.dry_run = dry_run
        self.clock = clock
        self.interval = tick
        self.rows: dict[tuple[str, str], _Row] = {}  # (parent, id) -> row
        self.drawn = 0
        self.frame = 0
        self.ticking = False  # working rows: redraws are the ticker's (or tick()'s)
        self.ticker: threading.Thread | None = None

    def update(self, ident: str, status: str, state: str, elapsed: float | None, *,
               parent: str = "", current: int = 0, total: int = 0) -> None:
        with self.lock:
            key = (parent, ident)
            row = self.rows.get(key)
            now = self.clock()
            if row is None:
                row = self.rows[key] = _Row(status, state, now)
                changed = True
            else:
                changed = (row.status, row.state) != (status, state)
            row.status, row.state = status, state
            row.current, row.total = current, total
            if row.done:
                row.elapsed = elapsed if elapsed is not None else now - row.started
            else:
                row.elapsed = None
            if changed or not self.ticking:
                self._draw()
            if self._working() and not self.ticking:
                self.ticking = True
                if self.interval is not None:
                    self.ticker = threading.Thread(target=self._tick, args=(self.interval,),
                                                   daemon=True)
                    self.ticker.start()
            elif not self._working():
                # idle: the block stays, and grows with the next event
                self.ticking = False
                self.ticker = None

    def message(self, text: str) -> None:
        with self.lock:
            self._erase()
            self.stream.write(text + "\n")
            self.drawn = 0
            self._draw()

    def finish(self) -> None:
        with self.lock:
            if self.rows:
                self._draw()
            self._close_block()

    def _working(self) -> bool:
        return any(not row.done for row in self.rows.values())

    def _close_block(self) -> None:
        self.rows = {}
        self.drawn = 0
        self.ticking = False
        self.ticker = None

    def tick(self) -> None:
        with self.lock:
            if self._working():
                self.frame += 1
                self._draw()

    def _tick(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            with self.lock:
                if self.ticker is not threading.current_thread() or not self._working():
                    return
                self.frame += 1
                self._draw()

    def _erase(self) -> None:
        if self.drawn:
            self.stream.write(f"\033[{self.drawn}A\033[0G\033[J")

    def _label(self, ident: str, row: _Row) -> tuple[str, str]:
        """A row's name, with its layers' gauges and bytes while it pulls them: the
        plain text (to measure) and the coloured one."""
        if row.done:
            return ident, ident
        children = [r for (parent, _), r in self.rows.items() if parent == ident]
        if not children:
            return ident, ident
        gauge = "".join(_GAUGE[(len(_GAUGE) - 1) * c.percent // 100] for c in children)
        # As v2: no byte count while a layer's size is still unknown.
        known = all(c.done or c.total > 0 for c in children) and row.total > 0
        size = f" {human_size(row.current):>7} / {human_size(row.total):<7}" if known else ""
        return (f"{ident} [{gauge}]{size}",
                f"{ident} [\033[32m{gauge}\033[0m]{size}")

    def _draw(self) -> None:
        now = self.clock()
        total = len(self.rows)
        done = sum(1 for row in self.rows.values() if row.done)
        header = f"[+] Running {done}/{total}"
        if done == total:
            header = f"\033[34m{header}\033[0m"
        order: list[tuple[str, str, _Row]] = []  # (pad, id, row)
        for (parent, ident), row in self.rows.items():
            if parent and ("", parent) in self.rows:
                continue  # drawn under its parent
            order.append(("", ident, row))
            if not parent:
                order += [("  ", child, r) for (p, child), r in self.rows.items() if p == ident]
        labels = [(pad, self._label(ident, row) if not pad else (ident, ident), row)
                  for pad, ident, row in order]
        width = max((len(pad) + len(plain) for pad, (plain, _), _ in labels), default=0)
        lines = [(" DRY-RUN MODE - " if self.dry_run else "") + header]
        for pad, (plain, label), row in labels:
            seconds = row.elapsed if row.elapsed is not None else now - row.started
            status = row.status
            if row.state == "error":
                icon, shown = "\033[31m✘\033[0m", f"\033[31m{status}\033[0m"
            elif row.state == "warning":
                icon, shown = "\033[33m!\033[0m", f"\033[33m{status}\033[0m"
            elif row.state == "done":
                icon, shown = "\033[32m✔\033[0m", f"\033[32m{status}\033[0m"
            else:
                icon = f"\033[33m{_SPINNER[self.frame % len(_SPINNER)]}\033[0m"
                if pad and row.total > 0:
                    status += f" {human_size(row.current)} / {human_size(row.total)}"
                shown = status
            fill = " " * (width - len(pad) - len(plain))
            lines.append(f" {pad}{icon} {label}{fill}  {shown} \033[34m{seconds:.1f}s\033[0m")
        self._erase()
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self.drawn = len(lines)

"""Progress lines on stderr, as Docker Compose v2 prints them without a terminal.

v2's plain writer prints one line per event: ``" Container proj-web-1  Created"``
(the resource, an optional text, the status), prefixed by ``" DRY-RUN MODE - "``
under ``--dry-run``; ``--progress json`` prints one JSON object per event and
``--progress quiet`` nothing. On a terminal (``--progress auto`` with stderr a
terminal, or ``--progress tty``, or ``--ansi always``) the lines are v2's live
view instead: a ``[+] Running 2/3`` header and one line per resource, redrawn
in place with a spinner and the elapsed time; ``--ansi never`` keeps the plain
lines.
"""

from __future__ import annotations

import sys
import threading
from typing import Protocol, TextIO

from composer.cli.render import go_json

__all__ = ["DRY_RUN_PREFIX", "ProgressPrinter"]

DRY_RUN_PREFIX = " DRY-RUN MODE - "


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
    """Writes progress events; safe to call from worker threads as well as the event loop."""

    def __init__(
        self, stream: TextIO | None = None, *, mode: str = "plain", dry_run: bool = False,
        ansi: str = "auto",
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.mode = _resolve_mode(mode, ansi, self.stream)
        self.dry_run = dry_run
        self._lock = threading.Lock()
        self._view: _LiveView | None = _LiveView(self.stream, self._lock, dry_run) \
            if self.mode == "tty" else None

    def __call__(self, event: _Event, /) -> None:
        """A runtime progress event. A failure reads `` Container x  Error``: its cause
        is in the error the command ends with, so it is not printed twice; a
        warning's detail ("Resource is still in use") is printed as its status."""
        if self._view is not None:
            self._view.update(event.resource, event.detail if event.detail and
                              event.state == "warning" else event.status, event.state,
                              event.elapsed)
            return
        if event.detail and event.state == "warning":
            self.event(event.resource, event.detail)
        else:
            self.event(event.resource, event.status)

    def event(self, ident: str, status: str, text: str = "") -> None:
        """One line: ``ident`` ("Container proj-web-1"), a ``status`` ("Created",
        "Started"...) and an optional ``text`` between them."""
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
            if text:
                obj["text"] = text
            if status:
                obj["status"] = status
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
    if mode == "tty" or ansi == "always":
        return "tty"
    try:
        return "tty" if stream.isatty() else "plain"
    except (AttributeError, ValueError):
        return "plain"


_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_DONE_STATES = ("done", "warning", "error")


class _LiveView:
    """v2's terminal view: a header and a line per resource, redrawn in place.

    One block per command: a ticker thread redraws it every 100 ms while a
    resource is working (for the spinner and elapsed time) and stops while all
    are done. ``finish`` closes the block (other output follows; a later event
    starts a new block below).
    """

    def __init__(self, stream: TextIO, lock: threading.Lock, dry_run: bool) -> None:
        self.stream = stream
        self.lock = lock
        self.dry_run = dry_run
        self.rows: dict[str, list[object]] = {}  # id -> [status, state, start, elapsed]
        self.drawn = 0
        self.frame = 0
        self.ticker: threading.Thread | None = None

    def update(self, ident: str, status: str, state: str, elapsed: float | None) -> None:
        import time

        with self.lock:
            row = self.rows.get(ident)
            now = time.monotonic()
            if row is None:
                row = self.rows[ident] = [status, state, now, None]
            row[0], row[1] = status, state
            if state in _DONE_STATES:
                started = row[2]
                assert isinstance(started, float)
                row[3] = elapsed if elapsed is not None else now - started
            else:
                row[3] = None
            self._draw()
            if self._working() and self.ticker is None:
                self.ticker = threading.Thread(target=self._tick, daemon=True)
                self.ticker.start()
            elif not self._working():
                self.ticker = None  # idle: the block stays, and grows with the next event

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
        return any(row[1] not in _DONE_STATES for row in self.rows.values())

    def _close_block(self) -> None:
        self.rows = {}
        self.drawn = 0
        self.ticker = None

    def _tick(self) -> None:
        import time

        while True:
            time.sleep(0.1)
            with self.lock:
                if self.ticker is not threading.current_thread() or not self._working():
                    return
                self.frame += 1
                self._draw()

    def _erase(self) -> None:
        if self.drawn:
            self.stream.write(f"\033[{self.drawn}A\033[0G\033[J")

    def _draw(self) -> None:
        import time

        now = time.monotonic()
        total = len(self.rows)
        done = sum(1 for row in self.rows.values() if row[1] in _DONE_STATES)
        header = f"[+] Running {done}/{total}"
        if done == total:
            header = f"\033[34m{header}\033[0m"
        width = max((len(i) for i in self.rows), default=0)
        lines = [(" DRY-RUN MODE - " if self.dry_run else "") + header]
        for ident, (status, state, started, elapsed) in self.rows.items():
            assert isinstance(started, float)
            seconds = elapsed if isinstance(elapsed, float | int) else now - started
            if state == "error":
                icon, shown = "\033[31m✘\033[0m", f"\033[31m{status}\033[0m"
            elif state == "warning":
                icon, shown = "\033[33m!\033[0m", f"\033[33m{status}\033[0m"
            elif state == "done":
                icon, shown = "\033[32m✔\033[0m", f"\033[32m{status}\033[0m"
            else:
                icon = f"\033[33m{_SPINNER[self.frame % len(_SPINNER)]}\033[0m"
                shown = str(status)
            lines.append(f" {icon} {ident:<{width}}  {shown} \033[34m{seconds:.1f}s\033[0m")
        self._erase()
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self.drawn = len(lines)

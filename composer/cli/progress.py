"""Progress lines on stderr, as Docker Compose v2 prints them without a terminal.

v2's plain writer prints one line per event: ``" Container proj-web-1  Created"``
(the resource, an optional text, the status), prefixed by ``" DRY-RUN MODE - "``
under ``--dry-run``; ``--progress json`` prints one JSON object per event and
``--progress quiet`` nothing. A terminal gets the plain form too: the live
redrawing view is not needed for scripts and is left for later.
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


class ProgressPrinter:
    """Writes progress events; safe to call from worker threads as well as the event loop."""

    def __init__(
        self, stream: TextIO | None = None, *, mode: str = "plain", dry_run: bool = False
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.mode = "plain" if mode in ("auto", "tty") else mode
        self.dry_run = dry_run
        self._lock = threading.Lock()

    def __call__(self, event: _Event, /) -> None:
        """A runtime progress event. A failure reads `` Container x  Error``: its cause
        is in the error the command ends with, so it is not printed twice; a
        warning's detail ("Resource is still in use") is printed as its status."""
        if event.detail and event.state == "warning":
            self.event(event.resource, event.detail)
        else:
            self.event(event.resource, event.status)

    def event(self, ident: str, status: str, text: str = "") -> None:
        """One line: ``ident`` ("Container proj-web-1"), a ``status`` ("Created",
        "Started"...) and an optional ``text`` between them."""
        if self.mode == "quiet":
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
        if self.mode != "quiet":
            self.write_line(text)

    def write_line(self, line: str) -> None:
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

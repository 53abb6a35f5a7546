"""Progress events: what the executor tells the CLI while a plan runs.

The executor never prints; it calls a :class:`Reporter` with a
:class:`ProgressEvent` per change, worded as Docker Compose words its progress
lines (``Container proj-web-1  Started``). The CLI decides how to render them.
"""

from __future__ import annotations

from typing import Protocol

from composer.frozen import frozen

__all__ = ["DONE", "ERROR", "WARNING", "WORKING", "ProgressEvent", "Reporter"]

WORKING = "working"
DONE = "done"
WARNING = "warning"
ERROR = "error"


@frozen(slots=True)
class ProgressEvent:
    """One progress line.

    ``resource`` is what a person reads (``Container proj-web-1``, ``Network
    proj_default``); ``status`` the word for what happens (``Creating``,
    ``Created``, ``Waiting``, ``Healthy``, ``Exited``, ``Error``...); ``state``
    one of ``working``, ``done``, ``warning``, ``error``; ``elapsed`` the seconds
    since the step began, on finishing events; ``detail`` the error or warning text.
    """

    resource: str
    status: str
    state: str = WORKING
    elapsed: float | None = None
    detail: str = ""


class Reporter(Protocol):
    """Receives progress events; called from the executor's tasks, must not block."""

    def __call__(self, event: ProgressEvent, /) -> None: ...

"""An asyncio event loop on virtual time, for unit tests of code that waits on timers.

The loop's clock starts at 0 and moves only when every task is waiting: then it
jumps straight to the next timer (trio's ``MockClock(autojump_threshold=0)``, for
asyncio). ``anyio.sleep(0.5)``, ``move_on_after`` and ``fail_after`` behave as on
the wall clock, in order, but take no real time, and a loaded machine cannot
reorder them: a test asserts what happens, never how long it took.

Ready I/O (the loop's self-pipe, a signal's wake-up byte) is still served first; a
loop with no timer and nothing ready really blocks (as a deadlock would).

    anyio.run(main, backend_options={"loop_factory": VirtualClockLoop})

or, for ``@pytest.mark.anyio`` tests, the ``anyio_backend`` fixture returns
``("asyncio", {"loop_factory": VirtualClockLoop})``.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any

__all__ = ["VirtualClockLoop"]


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Never sleeps for a timer: moves the loop's clock to it instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[Any]:
        ready: list[Any] = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only I/O can wake the loop
            result: list[Any] = super().select(None)
            return result
        self.now += timeout
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is virtual (see the module docstring)."""

    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)

    def time(self) -> float:
        return self._jumping.now

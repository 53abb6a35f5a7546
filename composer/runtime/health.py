"""Healthchecks composer runs where the engine does not run them.

Podman runs a container's healthcheck from a systemd timer; without systemd
(containers, CI runners, WSL) no timer fires and the status stays ``starting``
for ever. :class:`HealthDriver` stands in for the timer while composer waits on
health (``depends_on: service_healthy``, ``up --wait``, the library's ``up``):
each time a waiter looks at a container, the driver asks the engine to run the
check if one is due, on Docker's schedule (the first ``interval`` after the
container started, then every ``interval`` after the previous run ends;
``start_interval`` instead while the container is inside its ``start_period``).
The engine runs the check and records the result (Podman keeps the status, the
failing streak and the log, applying ``retries`` and ``start_period``), so
``ps``, ``inspect`` and the waits read it as on Docker. After composer returns,
nothing runs the checks: the status stays what the last run made it.

On an engine that runs healthchecks itself the driver does nothing: checks never
run twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import anyio

from composer.backends.base import Backend
from composer.backends.types import ContainerInfo
from composer.errors import ComposerError, EngineUnreachableError

__all__ = ["HealthDriver", "unhealthy_detail"]


def _epoch(stamp: str) -> float | None:
    """Unix seconds of an RFC 3339 time (nanoseconds cut to microseconds)."""
    if not stamp or stamp.startswith("0001-"):
        return None
    text = stamp.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def unhealthy_detail(info: ContainerInfo) -> str:
    """The last check's output, on one line (empty when there is none)."""
    if not info.health_log:
        return ""
    last = info.health_log[-1]
    output = " ".join(last.output.split())
    return output or f"exit {last.exit_code}"


class HealthDriver:
    """Runs due healthchecks for the waits of one command (see the module)."""

    def __init__(self, backend: Backend, *, clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self._clock = clock
        self._active: bool | None = None
        #: container ID -> (its StartedAt, unix seconds the last run we asked ended)
        self._last: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, anyio.Lock] = {}

    async def active(self) -> bool:
        """Whether composer runs the checks (the engine does not)."""
        if self._active is None:
            self._active = not await self.backend.runs_healthchecks()
        return self._active

    def due_in(self, info: ContainerInfo) -> float | None:
        """Seconds until ``info``'s next check is due (0: now); None when there is
        nothing to run (no healthcheck, not running, already judged)."""
        schedule = info.healthcheck
        started = _epoch(info.started_at)
        if schedule is None or not info.running or info.paused or started is None:
            return None
        if info.health not in (None, "starting"):
            return None
        last = self._last.get(info.id)
        base = last[1] if last is not None and last[0] == info.started_at else started
        now = self._clock()
        early = schedule.start_period > 0 and now - started < schedule.start_period
        gap = schedule.start_interval if early else schedule.interval
        return max(0.0, base + gap - now)

    async def drive(self, info: ContainerInfo) -> tuple[ContainerInfo, float | None]:
        """Run ``info``'s check when due. Returns the container as it is now and the
        seconds until its next check (None: nothing more for the driver to do)."""
        if info.healthcheck is None or not await self.active():
            return info, None
        due = self.due_in(info)
        if due is None or due > 0:
            return info, due
        lock = self._locks.setdefault(info.id, anyio.Lock())
        async with lock:
            due = self.due_in(info)  # another waiter may have run it meanwhile
            if due == 0:
                try:
                    await self.backend.run_healthcheck(info.id)
                except EngineUnreachableError:
                    raise
                except ComposerError:
                    pass  # it stopped meanwhile, say: the inspect below tells the waiter
                self._last[info.id] = (info.started_at, self._clock())
        info = await self.backend.inspect_container(info.id)
        return info, self.due_in(info)

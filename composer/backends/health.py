"""Docker's healthcheck rules, for engines where composer keeps the status itself.

Podman records the result of a check it is asked to run (its libpod
``healthcheck`` endpoint); the in-memory engine, and engines without any
healthcheck machinery, keep a :class:`HealthState` per container started and
feed it each run's exit code. The rules are the Docker Engine's
(``daemon/health.go``): a success makes the container ``healthy`` and resets
the failing streak; a failure counts toward ``retries`` (then ``unhealthy``),
except while the container has never been healthy and is still inside its
``start_period``. The engine keeps the last five runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from composer.backends.types import HealthProbe, HealthSchedule
from composer.model.labels import HEALTH_START_INTERVAL

__all__ = ["KEPT_RUNS", "HealthState", "check_command", "health_schedule"]

#: Runs of the check an engine keeps in the container's health log.
KEPT_RUNS = 5


def check_command(test: Sequence[str]) -> list[str] | None:
    """The command a ``Healthcheck.Test`` runs (``CMD``: as given; ``CMD-SHELL``:
    through ``/bin/sh -c``), or None for ``NONE``/empty."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD":
        return list(test[1:])
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    return list(test)


def health_schedule(check: Mapping[str, Any],
                    labels: Mapping[str, str] | None = None) -> HealthSchedule:
    """A ``Config.Healthcheck``'s timing (nanoseconds; 0 or absent: the default);
    a ``start_interval`` the engine dropped comes from the container's ``labels``
    (:data:`~composer.model.labels.HEALTH_START_INTERVAL`)."""
    default = HealthSchedule()
    kept = (labels or {}).get(HEALTH_START_INTERVAL, "")
    if not check.get("StartInterval") and kept.isdigit():
        check = {**check, "StartInterval": int(kept)}

    def seconds(key: str, fallback: float) -> float:
        value = check.get(key)
        return int(value) / 1e9 if isinstance(value, int | float) and value > 0 else fallback

    retries = check.get("Retries")
    return HealthSchedule(
        interval=seconds("Interval", default.interval),
        timeout=seconds("Timeout", default.timeout),
        start_period=seconds("StartPeriod", default.start_period),
        start_interval=seconds("StartInterval", default.start_interval),
        retries=int(retries) if isinstance(retries, int) and retries > 0 else default.retries,
    )


@dataclass
class HealthState:
    """One container's health since it started (``started``: unix seconds)."""

    schedule: HealthSchedule
    started: float
    status: str = "starting"
    failing_streak: int = 0
    log: list[HealthProbe] = field(default_factory=list)

    def record(self, exit_code: int, output: str, *, began: float, ended: float,
               start: str = "", end: str = "") -> str:
        """Account one run (``began``/``ended``: unix seconds; ``start``/``end``:
        the same as RFC 3339 for the log); the status after it."""
        if exit_code == 0:
            self.status = "healthy"
            self.failing_streak = 0
        elif not (self.status == "starting"
                  and began - self.started < self.schedule.start_period):
            self.failing_streak += 1
            if self.failing_streak >= self.schedule.retries:
                self.status = "unhealthy"
        self.log.append(HealthProbe(start, end, exit_code, output))
        del self.log[:-KEPT_RUNS]
        return self.status

"""Errors of the executor.

``ExecutionError`` belongs in :mod:`composer.errors` under ``EngineError``; it
lives here until the error tree takes it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.errors import EngineError

__all__ = ["ExecutionError", "StepFailure", "WaitError"]


@dataclass(frozen=True, slots=True)
class StepFailure:
    """One step that failed: what it acted on (``subject``: ``service "web"``,
    ``network "p_default"``...), the plan step, and why."""

    subject: str
    step: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


class WaitError(EngineError):
    """A dependency condition cannot be met (unhealthy, exited, timed out)."""


class ExecutionError(EngineError):
    """Some steps of a plan failed. One line per failure, each naming the service
    (or network, volume, image) and the cause; the steps that depended on a
    failed one did not run and are listed in ``skipped``."""

    def __init__(self, failures: list[StepFailure], skipped: list[str],
                 warnings: list[str] | None = None) -> None:
        super().__init__("\n".join(str(f) for f in failures))
        self.failures = tuple(failures)
        self.skipped = tuple(skipped)
        #: Warnings met on the way (the plan's, optional dependencies that failed).
        self.warnings: list[str] = list(warnings or ())

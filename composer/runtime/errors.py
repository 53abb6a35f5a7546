"""Errors of the executor, re-exported from :mod:`composer.errors` (the one tree)."""

from composer.errors import ExecutionError, StepFailure, WaitError

__all__ = ["ExecutionError", "StepFailure", "WaitError"]

"""The runtime: runs plans on an engine (the executor), and what it reports.

::

    execute(plan, backend, events=reporter) -> ExecutionResult
        raises ExecutionError (an EngineError) naming each failed service
"""

from composer.runtime.errors import ExecutionError, StepFailure, WaitError
from composer.runtime.executor import ExecutionResult, evaluate_condition, execute
from composer.runtime.progress import ProgressEvent, Reporter

__all__ = [
    "ExecutionError",
    "ExecutionResult",
    "ProgressEvent",
    "Reporter",
    "StepFailure",
    "WaitError",
    "evaluate_condition",
    "execute",
]

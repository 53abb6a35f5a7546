"""Reconcile: desired project + observed engine state -> a :class:`Plan`. Pure.

The planners live one verb (or family) per module, as Docker Compose v2 keeps
one verb per file: :mod:`.up` (``up``/``create``), :mod:`.run`, :mod:`.pull`,
:mod:`.down`, :mod:`.start` (``start``/``stop``/``restart``), :mod:`.kill`
(``kill``/``pause``/``unpause``/``rm``), sharing :mod:`.shared`. This module
gathers their public names in one place.

Nothing here talks to an engine: what the engine knows comes in as an
:class:`~composer.backends.base.Observed` snapshot and a few facts in the
options (image IDs, which external resources exist, the engine's API version).
Every decision is taken here, so the executor only runs steps, and a plan
prints as text for golden tests and ``--dry-run``. Every planner reads the
typed model (:class:`composer.model.project.Project`); the lifecycle verbs
also accept just the project's name (services and dependencies from labels).
"""

from __future__ import annotations

from composer.model.conditions import (
    RUNNING_OR_HEALTHY,
    SERVICE_COMPLETED_SUCCESSFULLY,
    SERVICE_HEALTHY,
    SERVICE_STARTED,
)
from composer.plan.down import DownPlanOptions, plan_down
from composer.plan.kill import plan_kill, plan_pause, plan_rm, plan_unpause
from composer.plan.pull import PullPlanOptions, plan_pull
from composer.plan.run import (
    OneOffOptions,
    RunPlanOptions,
    check_run,
    oneoff_name,
    plan_run,
    run_dependencies,
)
from composer.plan.shared import (
    READY_EXTENSION,
    LifecyclePlanOptions,
    Readiness,
    orphan_containers,
    readiness_of,
)
from composer.plan.start import plan_restart, plan_start, plan_stop
from composer.plan.up import (
    RECREATE_DIVERGED,
    RECREATE_FORCE,
    RECREATE_NEVER,
    UpPlanOptions,
    check_up,
    plan_up,
)

__all__ = [
    "READY_EXTENSION",
    "RECREATE_DIVERGED",
    "RECREATE_FORCE",
    "RECREATE_NEVER",
    "RUNNING_OR_HEALTHY",
    "SERVICE_COMPLETED_SUCCESSFULLY",
    "SERVICE_HEALTHY",
    "SERVICE_STARTED",
    "DownPlanOptions",
    "LifecyclePlanOptions",
    "OneOffOptions",
    "PullPlanOptions",
    "Readiness",
    "RunPlanOptions",
    "UpPlanOptions",
    "check_run",
    "check_up",
    "orphan_containers",
    "plan_down",
    "plan_kill",
    "plan_pause",
    "plan_pull",
    "plan_restart",
    "plan_rm",
    "plan_run",
    "plan_start",
    "plan_stop",
    "plan_unpause",
    "plan_up",
    "oneoff_name",
    "readiness_of",
    "run_dependencies",
]

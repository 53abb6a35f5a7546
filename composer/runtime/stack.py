"""How the executor runs a stack's steps on a swarm manager (:mod:`composer.plan.stack`).

Each function takes the executor's runner (its ``backend``, ``plan``, ``emit``,
``poll_interval`` and ``result``) and one operation, and returns a warning or
``""``, as the executor's other handlers do. The backend is a
:class:`~composer.backends.base.SwarmBackend` (the api checked it).
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import Any, cast

import anyio

from composer.backends.base import SwarmBackend, SwarmObject, SwarmTask
from composer.backends.errors import NotFoundError
from composer.backends.spec.swarm import LABEL_NAMESPACE
from composer.errors import ComposerError
from composer.frozen import frozen
from composer.plan.steps import (
    CreateService,
    CreateSwarmObject,
    RemoveService,
    RemoveSwarmObject,
    UpdateService,
    UpdateSwarmObject,
    WaitService,
)
from composer.runtime.errors import WaitError
from composer.runtime.progress import WORKING

__all__ = [
    "FAILURES_BEFORE_GIVING_UP",
    "Convergence",
    "convergence",
    "create_service",
    "create_swarm_object",
    "remove_service",
    "remove_swarm_object",
    "update_service",
    "update_swarm_object",
    "wait_service",
]

#: A service whose tasks failed this many times since the wait began, none running
#: as it should, cannot converge: the wait fails with the last task's error.
FAILURES_BEFORE_GIVING_UP = 3
_FAILED = ("failed", "rejected")


def _swarm(r: Any) -> SwarmBackend:
    return cast(SwarmBackend, r.backend)


#: Per run (the executor's runner): the IDs of secrets and configs by (kind, name),
#: from the creates of the run, else from one listing per kind.
_IDS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], str]] = weakref.WeakKeyDictionary()


async def _with_ids(r: Any, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec with the IDs of the secrets and configs it names (created by
    earlier steps of the plan, so unknown when it was made)."""
    out = copy.deepcopy(dict(spec))
    container = out.get("TaskTemplate", {}).get("ContainerSpec", {})
    known = _IDS.setdefault(r, {})
    for kind, key in (("secrets", "Secret"), ("configs", "Config")):
        refs = container.get(kind.capitalize()) or []
        missing = [ref for ref in refs if not ref.get(f"{key}ID")]
        if any((kind, ref.get(f"{key}Name")) not in known for ref in missing):
            for obj in await _swarm(r).list_swarm_objects(kind):  # type: ignore[arg-type]
                known[(kind, obj.name)] = obj.id
        ids = {name: object_id for (k, name), object_id in known.items() if k == kind}
        for ref in missing:
            name = ref.get(f"{key}Name")
            if name not in ids:
                raise NotFoundError(f"{kind[:-1]} not found: {name}")
            ref[f"{key}ID"] = ids[name]
    return out


async def create_service(r: Any, op: CreateService) -> str:
    _, warnings = await _swarm(r).create_service(await _with_ids(r, op.spec),
                                                 registry_auth=op.registry_auth)
    r.result.warnings.extend(warnings)
    return ""


async def update_service(r: Any, op: UpdateService) -> str:
    warnings = await _swarm(r).update_service(op.service_id, op.version,
                                              await _with_ids(r, op.spec),
                                              registry_auth=op.registry_auth)
    r.result.warnings.extend(warnings)
    return ""


async def remove_service(r: Any, op: RemoveService) -> str:
    try:
        await _swarm(r).remove_service(op.service_id)
    except NotFoundError:
        return "No resource found to remove"
    return ""


async def create_swarm_object(r: Any, op: CreateSwarmObject) -> str:
    object_id = await _swarm(r).create_swarm_object(op.kind, op.spec)  # type: ignore[arg-type]
    _IDS.setdefault(r, {})[(op.kind, op.name)] = object_id
    return ""


async def update_swarm_object(r: Any, op: UpdateSwarmObject) -> str:
    try:
        await _swarm(r).update_swarm_object(op.kind, op.object_id, op.version,  # type: ignore[arg-type]
                                            op.spec)
    except ComposerError as exc:
        raise type(exc)(f"failed to update {op.kind[:-1]} {op.name}: {exc}") from None
    return ""


async def remove_swarm_object(r: Any, op: RemoveSwarmObject) -> str:
    try:
        await _swarm(r).remove_swarm_object(op.kind, op.object_id)  # type: ignore[arg-type]
    except NotFoundError:
        return "No resource found to remove"
    return ""


# -- waiting for a service to converge -----------------------------------------------------------


@frozen
class Convergence:
    """Where a service stands: tasks ``running`` of ``desired`` (a job: completed
    of total), ``done`` once converged, and the last task error seen."""

    running: int
    desired: int
    done: bool
    error: str = ""
    #: Set when the service cannot converge (an update paused or rolled back).
    failed: str = ""

    @property
    def detail(self) -> str:
        text = f"{self.running}/{self.desired}"
        return f"{text} ({self.error})" if self.error and not self.done else text


def _latest_by_slot(tasks: Sequence[SwarmTask]) -> dict[Any, SwarmTask]:
    latest: dict[Any, SwarmTask] = {}
    for task in sorted(tasks, key=lambda t: t.timestamp):
        latest[task.slot if task.slot is not None else task.node_id] = task
    return latest


def convergence(service: SwarmObject, tasks: Sequence[SwarmTask]) -> Convergence:
    """How far ``service`` is from its spec, from its tasks (pure)."""
    mode = service.spec.get("Mode") or {}
    failed_tasks = [t for t in tasks if t.state in _FAILED]
    error = ""
    if failed_tasks:
        last = max(failed_tasks, key=lambda t: t.timestamp)
        error = last.error or last.message
    update = service.update_status.get("State", "")
    failed = ""
    if update in ("paused", "rollback_paused", "rollback_completed"):
        failed = service.update_status.get("Message", "") or f"update {update}"
    if "ReplicatedJob" in mode or "GlobalJob" in mode:
        job = mode.get("ReplicatedJob") or {}
        total = int(job.get("TotalCompletions") or 1) if "ReplicatedJob" in mode else len(
            {t.node_id for t in tasks})
        completed = len({t.slot if t.slot is not None else t.node_id
                         for t in tasks if t.state == "complete"})
        return Convergence(completed, total, completed >= total, error, failed)
    current = [t for t in tasks if t.desired_state == "running"]
    running = sum(1 for t in _latest_by_slot(current).values() if t.state == "running")
    if "Global" in mode:
        desired = len({t.node_id for t in current})
    else:
        desired = int((mode.get("Replicated") or {}).get("Replicas", 1))
    updating = update in ("updating", "rollback_started")
    stale = [t for t in tasks if t.desired_state != "running" and t.state == "running"]
    done = running >= desired and not updating and not stale and not failed
    return Convergence(running, desired, done, error, failed)


async def wait_service(r: Any, op: WaitService) -> str:
    swarm = _swarm(r)
    display = op.display or op.name
    began = anyio.current_time()
    seen_failures: set[str] = set()
    old_failures: set[str] | None = None
    last = ""
    with anyio.fail_after(op.timeout) if op.timeout else nullcontext():
        while True:
            found = [s for s in await swarm.list_services(
                labels=[f"{LABEL_NAMESPACE}={r.plan.project}"]) if s.name == op.name]
            if not found:
                raise NotFoundError(f"service {op.name} not found")
            service = found[0]
            tasks = await swarm.list_tasks(services=[service.id])
            state = convergence(service, tasks)
            if state.failed:
                cause = f" (last task error: {state.error})" if state.error else ""
                raise WaitError(f"service {op.name}: {state.failed}{cause}")
            if state.done:
                return ""
            failures = {t.id for t in tasks if t.state in _FAILED}
            if old_failures is None:
                old_failures = failures  # a previous deploy's, not this one's
            seen_failures |= failures - old_failures
            if state.detail != last:
                # "Waiting 1/3 (No such image: ...)": tasks running of desired, last error.
                r.emit(display, f"Waiting {state.detail}", WORKING,
                       anyio.current_time() - began)
                last = state.detail
            if len(seen_failures) >= FAILURES_BEFORE_GIVING_UP and state.running < state.desired:
                raise WaitError(f"service {op.name} cannot converge: "
                                f"{state.error or 'its tasks keep failing'}")
            await anyio.sleep(r.poll_interval)

"""``kill``, ``pause``, ``unpause`` and ``rm``: one step per container. Pure."""

from __future__ import annotations

from collections.abc import Callable, Collection

from composer.backends.base import Observed
from composer.model.project import Project
from composer.plan.plan import Plan
from composer.plan.shared import (
    RUNNING_STATES,
    LifecyclePlanOptions,
    containers_of,
    display,
    orphan_containers,
    targets,
    topology,
)
from composer.plan.steps import (
    KillContainer,
    Operation,
    PauseContainer,
    RemoveContainer,
    StopContainer,
    UnpauseContainer,
)

__all__ = ["plan_kill", "plan_pause", "plan_rm", "plan_unpause"]


def _each(project: Project | str, observed: Observed, services: tuple[str, ...] | list[str],
          states: Collection[str], make: Callable[[str, str], Operation]) -> Plan:
    """One step per container of the selected services in one of ``states``;
    ``make(container id, display)`` gives its operation."""
    topo = topology(project, observed)
    plan = Plan(project=topo.name)
    for name in targets(topo, services):
        for c in containers_of(observed, topo.name, name):
            if c.state in states:
                plan.add(make(c.id, display(c.name)), f"service:{name}:{c.number}", c.state)
    return plan


KILLABLE = frozenset({*RUNNING_STATES, "stopping"})


def plan_kill(project: Project | str, observed: Observed,
              options: LifecyclePlanOptions | None = None) -> Plan:
    """Send ``signal`` to the running containers of the selected services (and to
    orphans' with ``remove_orphans``). Podman shows a container whose stop waits out
    its grace period as ``stopping``: a kill is what ends that wait (a second Ctrl-C)."""
    opts = options or LifecyclePlanOptions()
    plan = _each(project, observed, list(opts.services), KILLABLE,
                 lambda ident, shown: KillContainer(container=ident, signal=opts.signal,
                                                    display=shown))
    if opts.remove_orphans and not isinstance(project, str):
        for c in orphan_containers(project, observed):
            if c.state in KILLABLE:
                plan.add(KillContainer(container=c.id, signal=opts.signal,
                                       display=display(c.name)), f"orphan:{c.name}", c.state)
    return plan


def plan_pause(project: Project | str, observed: Observed,
               options: LifecyclePlanOptions | None = None) -> Plan:
    """Pause the running containers of the selected services."""
    opts = options or LifecyclePlanOptions()
    return _each(project, observed, list(opts.services), {"running"},
                 lambda ident, shown: PauseContainer(container=ident, display=shown))


def plan_unpause(project: Project | str, observed: Observed,
                 options: LifecyclePlanOptions | None = None) -> Plan:
    """Unpause the paused containers of the selected services."""
    opts = options or LifecyclePlanOptions()
    return _each(project, observed, list(opts.services), {"paused"},
                 lambda ident, shown: UnpauseContainer(container=ident, display=shown))


def plan_rm(project: Project | str, observed: Observed,
            options: LifecyclePlanOptions | None = None) -> Plan:
    """Remove the stopped containers of the selected services; with ``stop``, stop
    the running ones first and remove them too. ``volumes`` removes their
    anonymous volumes. Nothing to remove leaves a warning ``No stopped containers``."""
    opts = options or LifecyclePlanOptions()
    topo = topology(project, observed)
    plan = Plan(project=topo.name)
    for name in targets(topo, opts.services):
        for c in containers_of(observed, topo.name, name):
            resource = f"service:{name}:{c.number}"
            deps: tuple[int, ...] = ()
            if c.state in RUNNING_STATES:
                if not opts.stop:
                    continue
                deps = (plan.add(StopContainer(container=c.id, timeout=opts.timeout,
                                               then_remove=True, volumes=opts.volumes,
                                               display=display(c.name)),
                                 resource, "rm --stop"),)
            plan.add(RemoveContainer(container=c.id, force=True, volumes=opts.volumes,
                                     display=display(c.name)), resource, c.state, deps)
    if not plan:
        plan.warnings.append("No stopped containers")
    return plan

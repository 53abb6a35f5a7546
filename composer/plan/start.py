"""``start``, ``stop`` and ``restart`` of existing containers, in dependency order. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from composer.backends.base import ContainerState, Observed
from composer.backends.errors import NotFoundError
from composer.model.conditions import RUNNING_OR_HEALTHY, SERVICE_STARTED
from composer.model.project import Project
from composer.plan.files import FileCopies
from composer.plan.plan import Plan
from composer.plan.shared import (
    RUNNING_STATES,
    LifecyclePlanOptions,
    Topology,
    add_wait,
    containers_of,
    display,
    targets,
    topology,
    widen_wait,
)
from composer.plan.steps import StartContainer, StopContainer

__all__ = ["plan_restart", "plan_start", "plan_stop"]


def plan_stop(project: Project | str, observed: Observed,
              options: LifecyclePlanOptions | None = None) -> Plan:
    """Stop the running containers of the selected services, dependents first."""
    opts = options or LifecyclePlanOptions()
    topo = topology(project, observed)
    plan = Plan(project=topo.name)
    ends: dict[str, list[int]] = {}
    for name in reversed(targets(topo, opts.services)):
        after = tuple(s for d in topo.graph.predecessors(name) for s in ends.get(d, []))
        ends[name] = [
            plan.add(StopContainer(container=c.id, timeout=opts.timeout,
                                   display=display(c.name)),
                     f"service:{name}:{c.number}", c.state, after)
            for c in containers_of(observed, topo.name, name) if c.state in RUNNING_STATES
        ]
    return plan


def _start_steps(plan: Plan, topo: Topology, observed: Observed, chosen_order: list[str],
                 before: Mapping[str, list[int]],
                 reason_of: Callable[[ContainerState], str | None],
                 opts: LifecyclePlanOptions,
                 copies: FileCopies | None = None) -> dict[str, list[int]]:
    """Start the given services in dependency order, waiting for their conditions;
    ``copies``: the secrets and configs to copy in first (``start``, not ``restart``)."""
    ends: dict[str, list[int]] = {}
    waits: dict[tuple[str, str], int] = {}
    chosen = set(chosen_order)
    for name in chosen_order:
        prereqs: list[int] = []
        for dep in sorted(topo.graph.successors(name)):
            if dep not in chosen:
                continue
            attrs = topo.graph[name][dep]
            condition = attrs.get("condition") or SERVICE_STARTED
            if condition == SERVICE_STARTED:
                prereqs += ends.get(dep, [])
                continue
            key = (dep, condition)
            required = bool(attrs.get("required", True))
            if key not in waits:
                waits[key] = add_wait(
                    plan, topo.project.services[dep] if topo.project else None, dep,
                    condition, ends.get(dep, []),
                    (c.name for c in containers_of(observed, topo.name, dep)), (name,),
                    required=required, restart=bool(attrs.get("restart")),
                    timeout=None)
            else:
                widen_wait(plan, waits[key], name, required=required)
            prereqs.append(waits[key])
        steps = []
        for c in containers_of(observed, topo.name, name):
            reason = reason_of(c)
            if reason is None:
                continue
            resource = f"service:{name}:{c.number}"
            after = tuple(before.get(c.id, ()))
            if copies is not None and topo.project is not None:
                after = copies.add(plan, topo.project.services[name], c.id, c.name, resource,
                                   after)
            steps.append(plan.add(StartContainer(container=c.id, display=display(c.name)),
                                  resource, reason, (*prereqs, *after)))
        ends[name] = steps or prereqs
    if opts.wait:
        for name in chosen_order:
            if not containers_of(observed, topo.name, name):
                continue
            add_wait(plan, topo.project.services[name] if topo.project else None, name,
                     RUNNING_OR_HEALTHY, ends.get(name, []),
                     (c.name for c in containers_of(observed, topo.name, name)), (),
                     required=True, restart=False,
                     timeout=opts.wait_timeout)
    return ends


def plan_start(project: Project | str, observed: Observed,
               options: LifecyclePlanOptions | None = None) -> Plan:
    """Start the stopped containers of the selected services and of their
    dependencies, in dependency order, waiting for ``depends_on`` conditions.

    Raises :class:`~composer.backends.errors.NotFoundError` when the project has
    no container at all (``no container found for project``).
    """
    opts = options or LifecyclePlanOptions()
    topo = topology(project, observed)
    if not any(c.project == topo.name and not c.oneoff for c in observed.containers):
        raise NotFoundError(f'no container found for project "{topo.name}"')
    plan = Plan(project=topo.name)
    chosen = targets(topo, opts.services, dependencies=True)
    if topo.project is not None:
        for name in chosen:
            service = topo.project.services[name]
            if service.replicas > 0 and not containers_of(observed, topo.name, name):
                raise NotFoundError(f'service "{name}" has no container to start')

    def reason(c: ContainerState) -> str | None:
        return None if c.state in RUNNING_STATES else c.state

    copies = FileCopies(topo.project, opts.environment) if topo.project is not None else None
    _start_steps(plan, topo, observed, chosen, {}, reason, opts, copies)
    return plan


def plan_restart(project: Project | str, observed: Observed,
                 options: LifecyclePlanOptions | None = None) -> Plan:
    """Stop then start every container of the selected services (all when none
    are named) and, unless ``no_deps``, of the services that depend on them with
    ``restart: true`` (transitively), as v2 does; a dependency of a named service
    is left alone. Stops dependents first, starts in dependency order."""
    opts = options or LifecyclePlanOptions()
    topo = topology(project, observed)
    plan = Plan(project=topo.name)
    chosen_order = targets(topo, opts.services)
    if opts.services and not opts.no_deps:
        chosen = set(chosen_order)
        todo = list(chosen_order)
        while todo:
            dependency = todo.pop()
            for dependent in topo.graph.predecessors(dependency):
                if topo.graph[dependent][dependency].get("restart") and dependent not in chosen:
                    chosen.add(dependent)
                    todo.append(dependent)
        chosen_order = [s for s in topo.services if s in chosen]
    for s in opts.services:
        if not containers_of(observed, topo.name, s):
            raise NotFoundError(f"no such service: {s}")
    stops: dict[str, list[int]] = {}
    before: dict[str, list[int]] = {}
    for name in reversed(chosen_order):
        after = tuple(s for d in topo.graph.predecessors(name) for s in stops.get(d, []))
        stops[name] = []
        for c in containers_of(observed, topo.name, name):
            if c.state in RUNNING_STATES:
                step = plan.add(StopContainer(container=c.id, timeout=opts.timeout,
                                              display=display(c.name),
                                              progress=("Restarting", "")),
                                f"service:{name}:{c.number}", "restart", after)
                stops[name].append(step)
                before[c.id] = [step]
    _start_steps(plan, topo, observed, chosen_order, before, lambda c: "restart", opts)
    return plan

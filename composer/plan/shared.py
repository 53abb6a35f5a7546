"""What the planners of every verb share: the project's topology (from the model
or from labels), service selection, containers by service, orphans, the
``x-composer-ready`` readiness extension and the ``WaitCondition`` steps. Pure.

Readiness without a healthcheck
-------------------------------
A service that declares no ``healthcheck`` may declare the extension::

    services:
      db:
        image: postgres
        x-composer-ready:
          tcp: [5432]          # ports that must accept TCP connections
          timeout: 60s         # optional, a compose duration; default 60s

Dependents with ``condition: service_healthy`` (and ``up --wait``) then wait
until every listed port of every replica accepts a TCP connection (probed on
the container's addresses from ``docker inspect``, and on published host
ports), failing once ``timeout`` has passed. A service with a healthcheck keeps
using it; the extension is ignored there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from composer.backends.base import ContainerState, Observed
from composer.errors import ValidationError
from composer.graph import ServiceGraph, build_graph, dependencies_of, dependents_of, start_order
from composer.model import labels
from composer.model.conditions import SERVICE_STARTED
from composer.model.project import Project, ServiceConfig
from composer.model.units import parse_duration
from composer.plan.plan import Plan
from composer.plan.steps import RemoveContainer, StopContainer, WaitCondition

__all__ = [
    "READY_EXTENSION",
    "RUNNING_STATES",
    "LifecyclePlanOptions",
    "Readiness",
    "Topology",
    "add_wait",
    "containers_of",
    "display",
    "orphan_containers",
    "readiness_of",
    "resource_name",
    "select",
    "targets",
    "topology",
]

#: The service extension declaring TCP readiness (see the module docstring).
READY_EXTENSION = "x-composer-ready"
DEFAULT_READY_TIMEOUT = 60.0

RUNNING_STATES = frozenset({"running", "paused", "restarting"})


@dataclass(frozen=True, kw_only=True)
class LifecyclePlanOptions:
    """Options of start / stop / restart / kill / rm / pause / unpause.

    ``signal`` is for kill; ``stop`` (stop before removing) and ``volumes``
    (remove anonymous volumes) for rm; ``remove_orphans`` for kill;
    ``no_deps`` for restart; ``timeout`` (seconds) for stop and restart.
    ``environment`` is the project's, for the secrets and configs ``start``
    copies from ``environment:`` variables (see :mod:`composer.plan.files`).
    """

    services: Sequence[str] = ()
    timeout: int | None = None
    signal: str = "SIGKILL"
    stop: bool = False
    volumes: bool = False
    no_deps: bool = False
    remove_orphans: bool = False
    wait: bool = False
    wait_timeout: float | None = None
    environment: Mapping[str, str] | None = None


# -- readiness


@dataclass(frozen=True, slots=True)
class Readiness:
    """The ``x-composer-ready`` extension of one service."""

    tcp: tuple[int, ...]
    timeout: float


def readiness_of(service: ServiceConfig) -> Readiness | None:
    """The service's TCP readiness declaration (its ``x-composer-ready`` key), or None.

    Raises :class:`ValidationError` (with the key path) when it is malformed.
    """
    value = service.extensions.get(READY_EXTENSION)
    if value is None:
        return None
    path: tuple[str | int, ...] = ("services", service.name, READY_EXTENSION)
    if not isinstance(value, Mapping):
        raise ValidationError("must be a mapping with a tcp list of ports", path=path)
    unknown = sorted(set(value) - {"tcp", "timeout"})
    if unknown:
        raise ValidationError(f"unknown key {unknown[0]!r} (expected tcp, timeout)", path=path)
    raw_ports = value.get("tcp")
    if isinstance(raw_ports, int | str):
        raw_ports = [raw_ports]
    if not isinstance(raw_ports, Sequence) or not raw_ports:
        raise ValidationError("tcp must list at least one port", path=(*path, "tcp"))
    ports: list[int] = []
    for index, raw in enumerate(raw_ports):
        try:
            port = int(str(raw))
        except ValueError:
            port = 0
        if not 0 < port < 65536 or isinstance(raw, bool):
            raise ValidationError(f"expected a TCP port number, got {raw!r}",
                                  path=(*path, "tcp", index))
        ports.append(port)
    timeout = DEFAULT_READY_TIMEOUT
    raw_timeout = value.get("timeout")
    if raw_timeout is not None:
        try:
            if isinstance(raw_timeout, int | float) and not isinstance(raw_timeout, bool):
                timeout = float(raw_timeout)
            else:
                timeout = parse_duration(str(raw_timeout)) / 1e9
        except ValueError as exc:
            raise ValidationError(str(exc), path=(*path, "timeout")) from None
        if timeout <= 0:
            raise ValidationError("timeout must be positive", path=(*path, "timeout"))
    return Readiness(tuple(ports), timeout)


def declares_healthcheck(service: ServiceConfig) -> bool:
    """The service has a healthcheck that is not disabled."""
    check = service.healthcheck
    if check is None or check.disable:
        return False
    return not (check.test and check.test[0] == "NONE")


def add_wait(plan: Plan, service: ServiceConfig | None, name: str, condition: str,
             after: Iterable[int], containers: Iterable[str], dependents: tuple[str, ...],
             *, required: bool, restart: bool, timeout: float | None) -> int:
    """A ``WaitCondition`` step: TCP readiness when the service declares it and no
    healthcheck (its timeout then bounds the wait unless ``timeout`` is given)."""
    healthcheck = service is not None and declares_healthcheck(service)
    ready = readiness_of(service) if service is not None else None
    tcp = ready.tcp if ready is not None and not healthcheck else ()
    if timeout is None and tcp and ready is not None:
        timeout = ready.timeout
    reason = f"{condition} for {', '.join(dependents)}" if dependents else condition
    return plan.add(WaitCondition(
        service=name, condition=condition, containers=tuple(containers), dependents=dependents,
        required=required, restart=restart, healthcheck=healthcheck, tcp=tcp, timeout=timeout,
        display=f"Service {name}"), f"service:{name}", reason, tuple(after))


def widen_wait(plan: Plan, step_id: int, dependent: str, after: Iterable[int] = (), *,
               required: bool, restart: bool = False) -> None:
    """One more dependent for an existing ``WaitCondition`` step (one wait per
    dependency and condition, shared by every dependent)."""
    op = plan.step(step_id).operation
    assert isinstance(op, WaitCondition)
    dependents = (*op.dependents, dependent) if dependent else op.dependents
    plan.update(step_id, tuple(after),
                reason=f"{op.condition} for {', '.join(dependents)}" if dependents else None,
                operation=replace(op, dependents=dependents, required=op.required or required,
                                  restart=op.restart or restart))


# -- the project, as the planners see it


def display(name: str) -> str:
    """A container's subject in progress lines."""
    return f"Container {name}"


def _is_ours(container: ContainerState, project: str) -> bool:
    return container.project == project and not container.oneoff


def by_service(observed: Observed, project: str) -> dict[str, list[ContainerState]]:
    """The project's (not one-off) containers, by service."""
    out: dict[str, list[ContainerState]] = {}
    for c in observed.containers:
        if _is_ours(c, project):
            out.setdefault(c.service, []).append(c)
    return out


def containers_of(observed: Observed, name: str, service: str) -> list[ContainerState]:
    """The service's (not one-off) containers, by number."""
    return sorted((c for c in observed.containers
                   if c.project == name and c.service == service and not c.oneoff),
                  key=lambda c: c.number)


def orphan_containers(project: Project, observed: Observed,
                      known_services: Collection[str] = ()) -> list[ContainerState]:
    """Containers of the project whose service the compose files no longer define."""
    known = set(project.services) | set(known_services)
    return sorted((c for c in observed.containers
                   if _is_ours(c, project.name) and c.service not in known),
                  key=lambda c: c.name)


def orphan_warning(orphans: Sequence[ContainerState]) -> str:
    """v2's warning for orphans left alone."""
    names = " ".join(c.name for c in orphans)
    return (f"Found orphan containers ([{names}]) for this project. If you removed or renamed "
            "this service in your compose file, you can run this command with the "
            "--remove-orphans flag to clean it up.")


def remove_orphans(plan: Plan, orphans: Sequence[ContainerState], timeout: int | None) -> None:
    """Stop (when running) and remove each orphan, as ``up --remove-orphans`` does."""
    for c in orphans:
        resource = f"orphan:{c.name}"
        stop = None
        if c.state in RUNNING_STATES:
            stop = plan.add(StopContainer(container=c.id, timeout=timeout,
                                          display=display(c.name)),
                            resource, "orphaned container")
        plan.add(RemoveContainer(container=c.id, display=display(c.name)),
                 resource, "orphaned container", (stop,) if stop else ())


def namespace_parents(service: ServiceConfig) -> set[str]:
    """Services whose containers this one shares a namespace or volumes with."""
    parents = set()
    for mode in (service.network_mode, service.ipc, service.pid):
        if mode and mode.startswith("service:"):
            parents.add(mode[len("service:"):])
    for source in service.volumes_from or ():
        if not source.startswith("container:"):
            parents.add(source.split(":", 1)[0])
    return parents


def select(graph: ServiceGraph, project: Project, services: Sequence[str],
           include_dependencies: bool) -> list[str]:
    """The services to act on, in start order."""
    if not services:
        return start_order(graph)
    for name in services:
        if name not in project.services:
            raise ValidationError(f"no such service: {name}")
    chosen = set(services)
    if include_dependencies:
        chosen |= dependencies_of(graph, services)
    return [s for s in start_order(graph) if s in chosen]


def scale_of(service: ServiceConfig, overrides: Mapping[str, int]) -> int:
    """How many containers the service gets (``--scale`` wins)."""
    return overrides.get(service.name, service.replicas)


def resource_name(project: Project, kind: str, key: str) -> str:
    """The engine's name of the project's network or volume ``key``."""
    table: Mapping[str, Any] = project.networks if kind == "network" else project.volumes
    cfg = table.get(key)
    name = getattr(cfg, "name", None) if cfg is not None else None
    return str(name) if name else f"{project.name}_{key}"


def network_keys(service: ServiceConfig) -> list[str]:
    """The project networks a service's containers join."""
    if service.network_mode:
        return []
    return sorted(service.networks or {})


def volume_keys(service: ServiceConfig, project: Project) -> list[str]:
    """The project volumes a service mounts."""
    return [m.source for m in service.volumes or ()
            if m.type == "volume" and m.source and m.source in project.volumes]


# -- topology: the services and their dependencies, from the files or from labels


@dataclass
class Topology:
    """The services of a project and their dependencies: from the files, or from labels."""

    name: str
    project: Project | None
    graph: ServiceGraph

    @property
    def services(self) -> list[str]:
        return start_order(self.graph)


def _parse_depends_label(value: str) -> dict[str, dict[str, Any]]:
    deps: dict[str, dict[str, Any]] = {}
    for item in value.split(","):
        parts = item.split(":")
        if not parts[0]:
            continue
        condition = parts[1] if len(parts) > 1 and parts[1] else SERVICE_STARTED
        restart = len(parts) > 2 and parts[2] == "true"
        deps[parts[0]] = {"condition": condition, "restart": restart}
    return deps


def topology(project: Project | str, observed: Observed) -> Topology:
    """The project's topology: from the model, or, given only the project's name,
    from its containers' ``depends_on`` labels."""
    if isinstance(project, str):
        services: dict[str, dict[str, Any]] = {}
        for c in sorted(observed.containers, key=lambda c: c.name):
            if c.project != project or c.oneoff:
                continue
            entry = services.setdefault(c.service, {})
            label = c.labels.get(labels.DEPENDS_ON, "")
            if label and "depends_on" not in entry:
                entry["depends_on"] = _parse_depends_label(label)
        return Topology(project, None, build_graph(services))
    return Topology(project.name, project, build_graph(project))


def targets(topo: Topology, services: Sequence[str], *, dependents: bool = False,
            dependencies: bool = False) -> list[str]:
    """The named services (all when none), with their dependents or dependencies
    when asked, in start order."""
    if not services:
        return topo.services
    known = [s for s in services if s in topo.graph]
    if topo.project is not None:
        for s in services:
            if s not in topo.project.services:
                raise ValidationError(f"no such service: {s}")
    chosen = set(known)
    if dependents:
        chosen |= dependents_of(topo.graph, known)
    if dependencies:
        chosen |= dependencies_of(topo.graph, known)
    return [s for s in topo.services if s in chosen]

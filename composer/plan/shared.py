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
          tcp: [5432]                 # ports that accept TCP connections
          http: {port: 8080, path: /health, status: 200}   # path "/", status 200
          log: "ready to accept"      # a regex; or {pattern: ..., count: 2}
          timeout: 60s                # optional, a compose duration; default 60s
          probe_image: busybox:latest # optional: the helper of in-namespace probes

At least one of ``tcp``, ``http`` and ``log`` is given; ``http`` and ``log`` may
also be lists. Dependents with ``condition: service_healthy`` (and ``up
--wait``) then wait until every probe has passed on every replica since its
last start, failing once ``timeout`` has passed. The probes reach the
container's own address, never a port published through the engine's proxy
(:mod:`composer.runtime.readiness` says how, and what happens when composer
cannot route to it). A service with a healthcheck keeps using it; the extension
is ignored there (but still checked).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from composer.backends.base import ContainerState, NetworkState, Observed
from composer.errors import ValidationError
from composer.frozen import frozen
from composer.graph import ServiceGraph, build_graph, dependencies_of, dependents_of, start_order
from composer.model import labels
from composer.model.conditions import SERVICE_STARTED
from composer.model.project import Project, ServiceConfig
from composer.model.units import parse_duration
from composer.plan.plan import Plan
from composer.plan.steps import (
    ExecProbe,
    HttpProbe,
    LogProbe,
    ReadinessProbe,
    RemoveContainer,
    StopContainer,
    TcpProbe,
    WaitCondition,
)

__all__ = [
    "DEFAULT_PROBE_IMAGE",
    "DEFAULT_READY_TIMEOUT",
    "READY_EXTENSION",
    "RUNNING_STATES",
    "LifecyclePlanOptions",
    "Readiness",
    "Topology",
    "add_wait",
    "containers_of",
    "display",
    "network_duplicates",
    "orphan_containers",
    "readiness_of",
    "resource_name",
    "select",
    "targets",
    "topology",
]

#: The service extension declaring readiness probes (see the module docstring).
READY_EXTENSION = "x-composer-ready"
#: Seconds a readiness wait lasts when the declaration gives no ``timeout``.
DEFAULT_READY_TIMEOUT = 60.0
#: The image of the helper container that probes from inside a container's network
#: namespace when composer cannot reach its address (never pulled: it must be there).
DEFAULT_PROBE_IMAGE = "busybox:latest"

RUNNING_STATES = frozenset({"running", "paused", "restarting"})


@frozen(kw_only=True)
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

_READY_KEYS = ("tcp", "http", "log", "exec", "timeout", "probe_image")
_Path = tuple[str | int, ...]


@frozen(slots=True)
class Readiness:
    """The ``x-composer-ready`` extension of one service: its probes (all must
    pass), how long to wait for them (seconds), and the helper image of
    in-namespace probes."""

    probes: tuple[ReadinessProbe, ...]
    timeout: float = DEFAULT_READY_TIMEOUT
    probe_image: str = DEFAULT_PROBE_IMAGE

    @property
    def tcp(self) -> tuple[int, ...]:
        """The ports of the TCP probes."""
        return tuple(p.port for p in self.probes if isinstance(p, TcpProbe))


def readiness_of(service: ServiceConfig) -> Readiness | None:
    """The service's readiness declaration (its ``x-composer-ready`` key), or None.

    Raises :class:`ValidationError` (with the key path) when it is malformed.
    """
    value = service.extensions.get(READY_EXTENSION)
    if value is None:
        return None
    path: _Path = ("services", service.name, READY_EXTENSION)
    if not isinstance(value, Mapping):
        raise ValidationError("must be a mapping of probes (tcp, http, log)", path=path)
    unknown = sorted(str(k) for k in set(value) - set(_READY_KEYS))
    if unknown:
        raise ValidationError(f"unknown key {unknown[0]!r} (expected {', '.join(_READY_KEYS)})",
                              path=path)
    probes: list[ReadinessProbe] = []
    if "tcp" in value:
        probes += _tcp_probes(value["tcp"], (*path, "tcp"))
    if "http" in value:
        probes += _each(value["http"], (*path, "http"), _http_probe)
    if "log" in value:
        probes += _each(value["log"], (*path, "log"), _log_probe)
    if "exec" in value:
        probes.append(_exec_probe(value["exec"], (*path, "exec")))
    if not probes:
        raise ValidationError("declares no probe: give tcp, http, log or exec", path=path)
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
    image = value.get("probe_image", DEFAULT_PROBE_IMAGE)
    if not isinstance(image, str) or not image.strip():
        raise ValidationError(f"expected an image name, got {image!r}",
                              path=(*path, "probe_image"))
    return Readiness(tuple(probes), timeout, image.strip())


def _number(raw: Any, low: int, high: int, what: str, path: _Path) -> int:
    """An integer in [low, high] written as a number or a numeric string (as an
    interpolated value is), else a ValidationError naming ``what``."""
    number: int | None = None
    if isinstance(raw, bool):
        number = None
    elif isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str) and raw.strip().isdigit():
        number = int(raw.strip())
    if number is None or not low <= number <= high:
        raise ValidationError(f"expected {what}, got {raw!r}", path=path)
    return number


def _port(raw: Any, path: _Path) -> int:
    return _number(raw, 1, 65535, "a port number", path)


def _exec_probe(raw: Any, path: _Path) -> ReadinessProbe:
    """``exec: "pg_isready -q"`` (run by ``/bin/sh -c``) or ``exec: [pg_isready, -q]``."""
    if isinstance(raw, str) and raw.strip():
        return ExecProbe(("/bin/sh", "-c", raw))
    if isinstance(raw, Sequence) and raw and all(isinstance(a, str) for a in raw):
        return ExecProbe(tuple(raw))
    raise ValidationError(f"expected a command (a string or a list of strings), got {raw!r}",
                          path=path)


def _tcp_probes(raw: Any, path: _Path) -> list[ReadinessProbe]:
    items = [raw] if isinstance(raw, int | str) and not isinstance(raw, bool) else raw
    if isinstance(items, str) or not isinstance(items, Sequence) or not items:
        raise ValidationError("tcp must list at least one port", path=path)
    return [TcpProbe(_port(item, (*path, index))) for index, item in enumerate(items)]


def _each(raw: Any, path: _Path,
          parse: Callable[[Any, _Path], ReadinessProbe]) -> list[ReadinessProbe]:
    """One probe, or a list of them (each item's path has its index)."""
    if isinstance(raw, Sequence) and not isinstance(raw, str):
        if not raw:
            raise ValidationError("must not be an empty list", path=path)
        return [parse(item, (*path, index)) for index, item in enumerate(raw)]
    return [parse(raw, path)]


def _http_probe(raw: Any, path: _Path) -> ReadinessProbe:
    if not isinstance(raw, Mapping):
        raise ValidationError("expected a mapping with port, path, status", path=path)
    unknown = sorted(str(k) for k in set(raw) - {"port", "path", "status"})
    if unknown:
        raise ValidationError(f"unknown key {unknown[0]!r} (expected port, path, status)",
                              path=path)
    if "port" not in raw:
        raise ValidationError("port is required", path=path)
    port = _port(raw["port"], (*path, "port"))
    target = raw.get("path", "/")
    if not isinstance(target, str) or not target.startswith("/") or any(
            c.isspace() or ord(c) < 32 for c in target):
        raise ValidationError(f"expected a path starting with /, got {target!r}",
                              path=(*path, "path"))
    status = _number(raw.get("status", 200), 100, 599, "an HTTP status code (100-599)",
                     (*path, "status"))
    return HttpProbe(port, target, status)


def _log_probe(raw: Any, path: _Path) -> ReadinessProbe:
    count: Any = 1
    if isinstance(raw, Mapping):
        unknown = sorted(str(k) for k in set(raw) - {"pattern", "count"})
        if unknown:
            raise ValidationError(f"unknown key {unknown[0]!r} (expected pattern, count)",
                                  path=path)
        pattern = raw.get("pattern")
        count = raw.get("count", 1)
        where: _Path = (*path, "pattern")
    else:
        pattern, where = raw, path
    if not isinstance(pattern, str) or not pattern:
        raise ValidationError(f"expected a regular expression, got {pattern!r}", path=where)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValidationError(f"invalid regular expression {pattern!r}: {exc}",
                              path=where) from None
    return LogProbe(pattern, _number(count, 1, 1_000_000, "a count of lines (1 or more)",
                                     (*path, "count")))


def declares_healthcheck(service: ServiceConfig) -> bool:
    """The service has a healthcheck that is not disabled."""
    check = service.healthcheck
    if check is None or check.disable:
        return False
    return not (check.test and check.test[0] == "NONE")


def add_wait(plan: Plan, service: ServiceConfig | None, name: str, condition: str,
             after: Iterable[int], containers: Iterable[str], dependents: tuple[str, ...],
             *, required: bool, restart: bool, timeout: float | None) -> int:
    """A ``WaitCondition`` step: with the readiness probes of ``x-composer-ready``
    when the service declares them and no healthcheck (their timeout then bounds
    the wait unless ``timeout`` is given)."""
    healthcheck = service is not None and declares_healthcheck(service)
    ready = readiness_of(service) if service is not None else None
    probes: tuple[ReadinessProbe, ...] = ()
    probe_image = ""
    if ready is not None and not healthcheck:
        probes, probe_image = ready.probes, ready.probe_image
        if timeout is None:
            timeout = ready.timeout
    reason = f"{condition} for {', '.join(dependents)}" if dependents else condition
    return plan.add(WaitCondition(
        service=name, condition=condition, containers=tuple(containers), dependents=dependents,
        required=required, restart=restart, healthcheck=healthcheck, probes=probes,
        probe_image=probe_image, timeout=timeout, display=f"Service {name}"),
        f"service:{name}", reason, tuple(after))


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


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def _created_key(created: str) -> tuple[int, int]:
    """(seconds, nanoseconds) of an engine timestamp; unknown ones sort last."""
    match = _RFC3339.match(created)
    if match is None:
        return (2**63, 0)
    base, fraction, zone = match.groups()
    when = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    return (int(when.timestamp()), int((fraction or "0")[:9].ljust(9, "0")))


def network_duplicates(networks: Iterable[NetworkState]) -> dict[str, list[NetworkState]]:
    """The names that more than one network holds (two ``up`` racing, on two
    machines or from Docker Compose v2, can create the same network twice: the
    engine allows it, and then refuses every use of the name as ambiguous),
    each with its networks in the order to keep them: the oldest first (the
    engine's ``Created``, then the ID). Whoever looks at the same networks keeps
    the same one, so two commands resolving at once agree."""
    by_name: dict[str, list[NetworkState]] = {}
    for net in networks:
        by_name.setdefault(net.name, []).append(net)
    return {name: sorted(nets, key=lambda n: (_created_key(n.created), n.id))
            for name, nets in by_name.items() if len(nets) > 1}

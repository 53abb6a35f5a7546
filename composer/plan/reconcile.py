"""Reconcile: desired project + observed engine state -> a :class:`Plan`. Pure.

Nothing here talks to an engine: what the engine knows comes in as an
:class:`~composer.backends.base.Observed` snapshot and a few facts in the
options (image IDs, which external resources exist, the engine's API version).
Every decision is taken here, so the executor only runs steps, and a plan
prints as text for golden tests and ``--dry-run``.

Decisions follow Docker Compose v2 (``pkg/compose/reconcile.go``):

* networks and volumes not found are created; external ones are only checked;
* each service gets ``scale`` / ``deploy.replicas`` / ``--scale`` containers,
  named ``{project}-{service}-{n}`` or ``container_name``;
* a container is recreated when its config-hash label differs from the
  service's hash, its image ID differs, it misses one of its networks, a service
  whose namespace or volumes it shares is recreated, or ``--force-recreate``
  (never with ``--no-recreate``). Recreation creates the new container under a
  temporary name (``<old id[:12]>_<name>``), then stops and removes the old one
  and renames the new one: the service is never without a container longer than
  it must be, and anonymous volumes carry over;
* scaling down removes obsolete containers first, then the highest numbers;
* containers of services no longer in the project are orphans: reported, and
  removed with ``remove_orphans``;
* a service starts once its dependencies are satisfied: ``service_started``
  is a plain edge in the plan, ``service_healthy`` and
  ``service_completed_successfully`` are ``WaitCondition`` steps (one per
  dependency and condition, shared by every dependent).

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

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from composer.backends import spec
from composer.backends.base import ContainerState, Observed
from composer.backends.errors import NotFoundError, UnsupportedError
from composer.errors import ValidationError
from composer.graph import (
    ServiceGraph,
    build_graph,
    dependencies_of,
    dependents_of,
    start_order,
)
from composer.model import labels
from composer.model.hash import service_config_hash
from composer.model.naming import service_image
from composer.model.project import Project, ServiceConfig
from composer.model.units import parse_duration
from composer.plan.plan import (
    CONNECT_NETWORK,
    CREATE_CONTAINER,
    CREATE_NETWORK,
    CREATE_VOLUME,
    KILL_CONTAINER,
    PAUSE_CONTAINER,
    PULL_IMAGE,
    REMOVE_CONTAINER,
    REMOVE_IMAGE,
    REMOVE_NETWORK,
    REMOVE_VOLUME,
    RENAME_CONTAINER,
    START_CONTAINER,
    STOP_CONTAINER,
    UNPAUSE_CONTAINER,
    WAIT_CONDITION,
    Plan,
)

__all__ = [
    "READY_EXTENSION",
    "RECREATE_DIVERGED",
    "RECREATE_FORCE",
    "RECREATE_NEVER",
    "DownPlanOptions",
    "LifecyclePlanOptions",
    "PullPlanOptions",
    "Readiness",
    "UpPlanOptions",
    "orphan_containers",
    "plan_down",
    "plan_kill",
    "plan_pause",
    "plan_pull",
    "plan_restart",
    "plan_rm",
    "plan_start",
    "plan_stop",
    "plan_unpause",
    "plan_up",
    "readiness_of",
]

RECREATE_DIVERGED = "diverged"
RECREATE_FORCE = "force"
RECREATE_NEVER = "never"

#: The service extension declaring TCP readiness (see the module docstring).
READY_EXTENSION = "x-composer-ready"
DEFAULT_READY_TIMEOUT = 60.0

SERVICE_STARTED = "service_started"
SERVICE_HEALTHY = "service_healthy"
SERVICE_COMPLETED = "service_completed_successfully"
#: What ``up --wait`` waits for: healthy when there is a healthcheck, else running.
RUNNING_OR_HEALTHY = "running_or_healthy"

_RUNNING_STATES = frozenset({"running", "paused", "restarting"})


# -- options -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UpPlanOptions:
    """What ``up`` / ``create`` ask for, plus the engine facts the plan needs.

    ``services`` are the targeted services (empty: all); their dependencies are
    included unless ``no_deps``. ``recreate`` applies to targeted services and
    ``recreate_dependencies`` to the others (``diverged``, ``force`` or
    ``never``). ``inherit``: recreated containers keep their anonymous volumes
    (``--renew-anon-volumes`` turns it off). ``start=False`` is ``--no-start``;
    ``wait`` adds a final wait for every service to be running or healthy,
    each bounded by ``wait_timeout`` seconds.

    ``config_files``, ``env_files`` and ``working_dir`` (when the project model
    has none) go to the containers' project labels.

    Engine facts: ``image_ids`` maps image references to local image IDs;
    ``existing_external`` names the external networks and volumes known to
    exist (None: not checked); ``known_services`` are every service the compose
    files define, profiles or not (their containers are not orphans);
    ``image_volumes`` maps images to the volume paths they declare;
    ``extensions`` maps services to their ``x-`` keys when the project dict
    lacks them (``x-composer-ready``).
    """

    services: Sequence[str] = ()
    no_deps: bool = False
    recreate: str = RECREATE_DIVERGED
    recreate_dependencies: str = RECREATE_DIVERGED
    inherit: bool = True
    scale: Mapping[str, int] = field(default_factory=dict)
    remove_orphans: bool = False
    start: bool = True
    wait: bool = False
    wait_timeout: float | None = None
    timeout: int | None = None
    config_files: Sequence[str] = ()
    env_files: Sequence[str] = ()
    working_dir: str | None = None
    image_ids: Mapping[str, str] = field(default_factory=dict)
    image_volumes: Mapping[str, Collection[str]] = field(default_factory=dict)
    config_hashes: Mapping[str, str] = field(default_factory=dict)
    existing_external: Collection[str] | None = None
    known_services: Collection[str] = ()
    api_version: str = spec.DEFAULT_API_VERSION
    base_environment: Mapping[str, str | None] | None = None
    extensions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PullPlanOptions:
    """``policy`` overrides every service's ``pull_policy`` (``up --pull``);
    ``build`` (``up --build``) gives services with ``build:`` the policy ``build``."""

    services: Sequence[str] = ()
    no_deps: bool = False
    policy: str | None = None
    build: bool = False


@dataclass(frozen=True, kw_only=True)
class DownPlanOptions:
    """``down``: ``volumes`` removes named and anonymous volumes (never external);
    ``images`` (``--rmi``) removes the images of the services: ``local`` those
    without an ``image:`` of their own (built ones), ``all`` every one.
    ``built_images`` maps services to the tags of the engine's images labelled
    with the project and that service (built by composer or v2): ``local``
    removes those too, ``image:`` or not, as v2 does."""

    services: Sequence[str] = ()
    volumes: bool = False
    remove_orphans: bool = False
    timeout: int | None = None
    images: str | None = None
    built_images: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class LifecyclePlanOptions:
    """Options of start / stop / restart / kill / rm / pause / unpause.

    ``signal`` is for kill; ``stop`` (stop before removing) and ``volumes``
    (remove anonymous volumes) for rm; ``remove_orphans`` for kill;
    ``no_deps`` for restart; ``timeout`` (seconds) for stop and restart.
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
    extensions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# -- readiness ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Readiness:
    """The ``x-composer-ready`` extension of one service."""

    tcp: tuple[int, ...]
    timeout: float


def readiness_of(service: ServiceConfig,
                 extensions: Mapping[str, Any] | None = None) -> Readiness | None:
    """The service's TCP readiness declaration, or None.

    Looked up in the service, then in ``extensions`` (the service's ``x-`` keys,
    for a canonical dict that, like v2's JSON, leaves them out). Raises
    :class:`ValidationError` (with the key path) when it is malformed.
    """
    value = service.raw.get(READY_EXTENSION) if service.raw else None
    if value is None:
        value = service.extensions.get(READY_EXTENSION)
    if value is None and extensions:
        value = extensions.get(READY_EXTENSION)
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


def _declares_healthcheck(service: ServiceConfig) -> bool:
    check = service.healthcheck
    if check is None or check.disable:
        return False
    return not (check.test and check.test[0] == "NONE")


# -- the project, as reconcile sees it ---------------------------------------------------------


def _project_dict(project: Project | Mapping[str, Any]) -> tuple[Project, Mapping[str, Any]]:
    if isinstance(project, Project):
        data = project.to_dict()
        # Services as loaded (raw), not re-encoded: the hash and bodies read them.
        data["services"] = {k: dict(v.raw) if v.raw else v.to_dict()
                            for k, v in project.services.items()}
        return project, data
    return Project.from_dict(project), project


def _display(name: str) -> str:
    return f"Container {name}"


def _is_ours(container: ContainerState, project: str) -> bool:
    return container.project == project and not container.oneoff


def _by_service(observed: Observed, project: str) -> dict[str, list[ContainerState]]:
    out: dict[str, list[ContainerState]] = {}
    for c in observed.containers:
        if _is_ours(c, project):
            out.setdefault(c.service, []).append(c)
    return out


def orphan_containers(project: Project, observed: Observed,
                      known_services: Collection[str] = ()) -> list[ContainerState]:
    """Containers of the project whose service the compose files no longer define."""
    known = set(project.services) | set(known_services)
    return sorted((c for c in observed.containers
                   if _is_ours(c, project.name) and c.service not in known),
                  key=lambda c: c.name)


def _orphan_warning(orphans: Sequence[ContainerState]) -> str:
    names = " ".join(c.name for c in orphans)
    return (f"Found orphan containers ([{names}]) for this project. If you removed or renamed "
            "this service in your compose file, you can run this command with the "
            "--remove-orphans flag to clean it up.")


def _graph(project: Project) -> ServiceGraph:
    return build_graph({name: s.raw or s.to_dict() for name, s in project.services.items()})


def _select(graph: ServiceGraph, project: Project, services: Sequence[str],
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


def _scale(service: ServiceConfig, overrides: Mapping[str, int]) -> int:
    return overrides.get(service.name, service.replicas)


def _referenced_services(service: Mapping[str, Any]) -> set[str]:
    """Services whose container IDs v2 puts into this service before hashing it."""
    found = set()
    for key in ("network_mode", "ipc", "pid"):
        value = service.get(key)
        if isinstance(value, str) and value.startswith("service:"):
            found.add(value[len("service:"):])
    for entry in service.get("volumes_from") or ():
        head = str(entry).split(":")[0]
        if head != "container":
            found.add(head)
    return found


def _network_keys(service: ServiceConfig) -> list[str]:
    if service.network_mode:
        return []
    return sorted(service.networks or {})


def _volume_keys(service: ServiceConfig, project: Project) -> list[str]:
    keys = []
    for mount in service.volumes or ():
        if mount.type == "volume" and mount.source and mount.source in project.volumes:
            keys.append(mount.source)
    return keys


def _resource_name(project: Project, kind: str, key: str) -> str:
    table: Mapping[str, Any] = project.networks if kind == "network" else project.volumes
    cfg = table.get(key)
    name = getattr(cfg, "name", None) if cfg is not None else None
    return str(name) if name else f"{project.name}_{key}"


def _namespace_parents(service: ServiceConfig) -> set[str]:
    """Services whose containers this one shares a namespace or volumes with."""
    parents = set()
    for mode in (service.network_mode, service.ipc, service.pid):
        if mode and mode.startswith("service:"):
            parents.add(mode[len("service:"):])
    for source in service.volumes_from or ():
        if not source.startswith("container:"):
            parents.add(source.split(":", 1)[0])
    return parents


def _add_wait(plan: Plan, service: ServiceConfig | None, name: str, condition: str,
              after: Iterable[int], containers: Iterable[str], dependents: tuple[str, ...],
              *, required: bool, restart: bool, extensions: Mapping[str, Any] | None,
              timeout: float | None) -> int:
    """A ``WaitCondition`` step: TCP readiness when the service declares it and no
    healthcheck (its timeout then bounds the wait unless ``timeout`` is given)."""
    healthcheck = service is not None and _declares_healthcheck(service)
    ready = readiness_of(service, extensions) if service is not None else None
    tcp = ready.tcp if ready is not None and not healthcheck else ()
    if timeout is None and tcp and ready is not None:
        timeout = ready.timeout
    reason = f"{condition} for {', '.join(dependents)}" if dependents else condition
    return plan.add(WAIT_CONDITION, f"service:{name}", reason, tuple(after), service=name,
                    condition=condition, containers=tuple(containers), dependents=dependents,
                    required=required, restart=restart, healthcheck=healthcheck, tcp=tcp,
                    timeout=timeout, display=f"Service {name}")


# -- up / create -------------------------------------------------------------------------------


@dataclass
class _Replica:
    """A container the start phase must start (``ref``: its ID, or its name when the
    plan creates it), after step ``after`` if any."""

    ref: str
    name: str
    number: int
    after: int | None
    reason: str


@dataclass
class _ServiceState:
    create_end: list[int] = field(default_factory=list)
    start_end: list[int] = field(default_factory=list)
    to_start: list[_Replica] = field(default_factory=list)
    final_names: list[str] = field(default_factory=list)
    recreated: bool = False


class _UpPlanner:
    def __init__(self, project: Project, data: Mapping[str, Any], observed: Observed,
                 options: UpPlanOptions) -> None:
        self.project = project
        self.data = data
        self.observed = observed
        self.options = options
        self.plan = Plan(project=project.name)
        self.graph = _graph(project)
        self.selected = _select(self.graph, project, options.services,
                                include_dependencies=not options.no_deps)
        self.containers = _by_service(observed, project.name)
        self.network_steps: dict[str, int] = {}
        self.volume_steps: dict[str, int] = {}
        self.state: dict[str, _ServiceState] = {s: _ServiceState() for s in self.selected}
        self.stopped: dict[str, int] = {}  # container id -> its stop step
        self.wait_steps: dict[tuple[str, str], int] = {}
        self.hashes: dict[str, str] = {}
        # Containers of other services, for links and service: references.
        self.refs: dict[str, list[spec.ContainerRef]] = {
            name: [spec.ContainerRef(c.name, c.id) for c in found]
            for name, found in self.containers.items()}

    # The plan, phase by phase.
    def build(self) -> Plan:
        self._check_container_names()
        self._networks()
        self._volumes()
        for name in self.selected:
            self._service(self.project.services[name])
        self._orphans()
        if self.options.start:
            for name in self.selected:
                self._start(self.project.services[name])
            if self.options.wait:
                self._final_waits()
        return self.plan

    def _check_container_names(self) -> None:
        for name in self.selected:
            service = self.project.services[name]
            if service.container_name and _scale(service, self.options.scale) > 1:
                raise ValidationError(
                    f'The "{name}" service is using the custom container name '
                    f'"{service.container_name}". Docker requires each container to have a '
                    "unique name. Remove the custom name to scale the service.",
                    path=("services", name, "container_name"))

    def _used(self, keys_of: Callable[[ServiceConfig], Iterable[str]]) -> list[str]:
        used: set[str] = set()
        for name in self.selected:
            used.update(keys_of(self.project.services[name]))
        return sorted(used)

    def _networks(self) -> None:
        observed = {n.name for n in self.observed.networks}
        keys = self._used(_network_keys)
        if not self.options.services:
            keys = sorted(set(keys) | set(self.project.networks))
        for key in keys:
            cfg = self.project.networks.get(key)
            name = _resource_name(self.project, "network", key)
            if cfg is not None and cfg.external:
                self._check_external(name, "network")
                continue
            if name in observed:
                continue
            body = spec.network_create_body(self.data, key)
            self.network_steps[key] = self.plan.add(
                CREATE_NETWORK, f"network:{key}", "not found",
                name=name, body=body, display=f"Network {name}")

    def _volumes(self) -> None:
        observed = {v.name for v in self.observed.volumes}
        keys = self._used(lambda s: _volume_keys(s, self.project))
        if not self.options.services:
            keys = sorted(set(keys) | set(self.project.volumes))
        for key in keys:
            cfg = self.project.volumes.get(key)
            name = _resource_name(self.project, "volume", key)
            if cfg is not None and cfg.external:
                self._check_external(name, "volume")
                continue
            if name in observed:
                continue
            body = spec.volume_create_body(self.data, key)
            self.volume_steps[key] = self.plan.add(
                CREATE_VOLUME, f"volume:{key}", "not found",
                name=name, body=body, display=f"Volume {name}")

    def _check_external(self, name: str, kind: str) -> None:
        existing = self.options.existing_external
        if existing is None or name in existing:
            return
        if kind == "network":
            raise NotFoundError(f"network {name} declared as external, but could not be found")
        raise NotFoundError(f'external volume "{name}" not found')

    # -- containers of one service

    def _strategy(self, name: str) -> str:
        targeted = not self.options.services or name in self.options.services
        return self.options.recreate if targeted else self.options.recreate_dependencies

    def _image_id(self, service: ServiceConfig) -> str:
        return self.options.image_ids.get(self._image(service), "")

    def _image(self, service: ServiceConfig) -> str:
        return service_image(self.project.name, service.name, dict(service.raw or {}))

    def _hash(self, service: ServiceConfig) -> str:
        found = self.hashes.get(service.name)
        if found is None:
            raw = service.raw or service.to_dict()
            # v2 hashes volumes_from "container:x:ro" as "x": resolve what needs no IDs.
            resolvable = not _referenced_services(raw)
            found = (self.options.config_hashes.get(service.name)
                     or service_config_hash(spec.resolve_service_references(raw, {})
                                            if resolvable else raw))
            self.hashes[service.name] = found
        return found

    def _observed_hash(self, service: ServiceConfig) -> str:
        """The hash v2 expects of an existing container: references to other
        services resolved to the IDs of their containers as they are now."""
        raw = service.raw or service.to_dict()
        referenced = _referenced_services(raw)
        if not referenced or service.name in self.options.config_hashes:
            return self._hash(service)
        refs = {s: [spec.ContainerRef(c.name, c.id) for c in self.containers.get(s, ())]
                for s in referenced}
        try:
            return service_config_hash(spec.resolve_service_references(raw, refs))
        except UnsupportedError:  # the container referred to is gone: recreate
            return self._hash(service)

    def _late_hash(self, service: ServiceConfig) -> dict[str, Any]:
        """Step arguments telling the executor to hash the service once the
        containers it refers to exist (v2 hashes their IDs, unknown when planning)."""
        raw = service.raw or service.to_dict()
        referenced = _referenced_services(raw)
        if not referenced or service.name in self.options.config_hashes:
            return {}
        return {"hash_service": dict(raw),
                "hash_refs": {s: sorted(r.name for r in self.refs.get(s, ()))[:1]
                              for s in sorted(referenced)}}

    def _why_recreate(self, service: ServiceConfig, container: ContainerState,
                      expected_hash: str, parent_recreated: str | None) -> str | None:
        policy = self._strategy(service.name)
        if policy == RECREATE_NEVER:
            return None
        if policy == RECREATE_FORCE:
            return "forced"
        if parent_recreated:
            return f"{parent_recreated} recreated"
        if container.config_hash != expected_hash:
            return "config changed"
        image_id = self._image_id(service)
        if image_id and (container.labels.get(labels.IMAGE_DIGEST)
                         or container.image_id) != image_id:
            return "image changed"
        if container.state == "running" and container.networks:
            for key in _network_keys(service):
                name = _resource_name(self.project, "network", key)
                if name not in container.networks:
                    return f"not connected to network {key}"
        return None

    def _infra_deps(self, service: ServiceConfig) -> list[int]:
        deps = [self.network_steps[k] for k in _network_keys(service) if k in self.network_steps]
        deps += [self.volume_steps[k] for k in _volume_keys(service, self.project)
                 if k in self.volume_steps]
        for dep in self.graph.successors(service.name):
            if dep in self.state:
                deps += self.state[dep].create_end
        return deps

    def _set_refs(self, service: str, names: list[str]) -> None:
        # References to other services' containers go by name: the engine resolves
        # network_mode/ipc/pid to IDs at create time, and a name is known before the
        # container exists.
        self.refs[service] = [spec.ContainerRef(n, n) for n in names]

    def _request(self, service: ServiceConfig, number: int,
                 replaced: ContainerState | None) -> spec.ContainerRequest:
        extra: dict[str, str] = {}
        inherit: Mapping[str, Any] | None = None
        if replaced is not None:
            extra[labels.CONTAINER_REPLACE] = (service.container_name
                                               or f"{service.name}-{number}")
            if self.options.inherit and replaced.mounts:
                inherit = {"Mounts": list(replaced.mounts)}
        try:
            return spec.container_create_request(
                self.data, service.name, self.data["services"][service.name], number,
                config_files=list(self.options.config_files),
                working_dir=self.project.working_dir or self.options.working_dir or "",
                image_id=self._image_id(service),
                config_hash=self._hash(service),
                api_version=self.options.api_version,
                env_files=list(self.options.env_files),
                containers=self.refs,
                inherit=inherit,
                image_volumes=self.options.image_volumes.get(self._image(service), ()),
                base_environment=self.options.base_environment,
                extra_labels=extra or None,
            )
        except UnsupportedError as exc:
            raise UnsupportedError(f"service {service.name}: {exc}") from None

    def _connect_steps(self, request: spec.ContainerRequest, resource: str, after: int,
                       group: str = "") -> int:
        last = after
        for network, endpoint in request.connects:
            last = self.plan.add(CONNECT_NETWORK, resource, f"network {network}", (last,),
                                 group=group, container=request.name, network=network,
                                 endpoint=endpoint, display=_display(request.name),
                                 progress=("", ""))
        return last

    def _service(self, service: ServiceConfig) -> None:
        name = service.name
        st = self.state[name]
        expected = _scale(service, self.options.scale)
        found = list(self.containers.get(name, ()))
        expected_hash = self._observed_hash(service)
        parents = _namespace_parents(service)
        parent = next((p for p in sorted(parents)
                       if p in self.state and self.state[p].recreated), None)
        why = {c.id: self._why_recreate(service, c, expected_hash, parent) for c in found}
        # Up-to-date first, lowest numbers first: the tail is what scaling down removes.
        found.sort(key=lambda c: (why[c.id] is not None, c.number, c.created))
        infra = self._infra_deps(service)
        kept = found[:expected]
        for c in found[expected:]:
            resource = f"service:{name}:{c.number}"
            last = self.stopped.get(c.id)
            if last is None and c.state in _RUNNING_STATES:
                last = self.plan.add(STOP_CONTAINER, resource, "scale down",
                                     container=c.id, timeout=self.options.timeout,
                                     display=_display(c.name))
            st.create_end.append(self.plan.add(
                REMOVE_CONTAINER, resource, "scale down", (last,) if last else (),
                container=c.id, force=False, volumes=False, display=_display(c.name)))
        # A recreated container ends under the canonical name (a 1.29.2 project's
        # "p_web_1" comes back as "p-web-1"), so waits must look for that one.
        st.final_names = [
            c.name if why[c.id] is None
            else spec.container_name(self.project.name, name, self.data["services"][name],
                                     c.number)
            for c in kept
        ]
        next_number = max((c.number for c in found), default=0) + 1
        new_numbers = list(range(next_number, next_number + max(0, expected - len(found))))
        st.final_names += [spec.container_name(self.project.name, name, self.data["services"][name],
                                               n) for n in new_numbers]
        self._set_refs(name, st.final_names)

        for c in kept:
            reason = why[c.id]
            if reason is not None:
                self._recreate(service, c, reason, infra)
                continue
            resource = f"service:{name}:{c.number}"
            if c.state == "paused":
                step = self.plan.add(UNPAUSE_CONTAINER, resource, "paused", tuple(infra),
                                     container=c.id, display=_display(c.name))
                st.create_end.append(step)
            elif c.state not in _RUNNING_STATES:
                st.to_start.append(_Replica(c.id, c.name, c.number, None, c.state))
            else:
                self.plan.unchanged.append(_display(c.name))

        for number in new_numbers:
            resource = f"service:{name}:{number}"
            request = self._request(service, number, None)
            step = self.plan.add(CREATE_CONTAINER, resource, "no existing container",
                                 tuple(infra), name=request.name, body=request.body,
                                 platform=request.platform, service=name, number=number,
                                 inherit=None, **self._late_hash(service),
                                 display=_display(request.name))
            last = self._connect_steps(request, resource, step)
            st.create_end.append(last)
            st.to_start.append(_Replica(request.name, request.name, number, last, "created"))

    def _stop_dependents(self, service: ServiceConfig) -> list[int]:
        """Stop dependents declared with ``restart: true``; they start again later."""
        steps = []
        for dependent in sorted(self.graph.predecessors(service.name)):
            # Only dependents this run will start again (as v2, whose project holds
            # only the selected services by then).
            if dependent not in self.state or not self.graph[dependent][service.name].get(
                    "restart"):
                continue
            for c in self.containers.get(dependent, ()):
                if c.id in self.stopped or c.state not in _RUNNING_STATES:
                    continue
                step = self.plan.add(
                    STOP_CONTAINER, f"service:{dependent}:{c.number}",
                    f"dependency {service.name} being recreated",
                    container=c.id, timeout=self.options.timeout, display=_display(c.name))
                self.stopped[c.id] = step
                steps.append(step)
        return steps

    def _recreate(self, service: ServiceConfig, old: ContainerState, reason: str,
                  infra: list[int]) -> None:
        name = service.name
        st = self.state[name]
        st.recreated = True
        resource = f"service:{name}:{old.number}"
        group = f"recreate:{name}:{old.number}"
        request = self._request(service, old.number, old)
        final = request.name
        temporary = f"{old.id[:12]}_{final}"
        stops = self._stop_dependents(service)
        create = self.plan.add(
            CREATE_CONTAINER, resource, f"{reason} (temporary name)", (*infra, *stops),
            group=group, name=temporary, body=request.body, platform=request.platform,
            service=name,
            number=old.number, inherit=old.id if self.options.inherit else None,
            **self._late_hash(service),
            display=_display(final), progress=("Recreate", ""))
        stop = self.stopped.get(old.id)
        # The new container must exist before the old one goes: through the stop
        # step, or directly when the old one was already stopped by an earlier step.
        remove_after: tuple[int, ...] = (stop, create) if stop is not None else ()
        if stop is None:
            stop = self.plan.add(STOP_CONTAINER, resource, f"replaced by #{create}", (create,),
                                 group=group, container=old.id, timeout=self.options.timeout,
                                 display=_display(old.name), progress=("", ""))
            self.stopped[old.id] = stop
            remove_after = (stop,)
        remove = self.plan.add(REMOVE_CONTAINER, resource, f"replaced by #{create}",
                               remove_after, group=group, container=old.id, force=False,
                               volumes=False, display=_display(old.name), progress=("", ""))
        rename = self.plan.add(RENAME_CONTAINER, resource, "finalize recreate", (remove,),
                               group=group, container=temporary, name=final,
                               display=_display(final), progress=("", "Recreated"))
        last = self._connect_steps(request, resource, rename, group)
        st.create_end.append(last)
        st.to_start.append(_Replica(final, final, old.number, last, "recreated"))

    def _orphans(self) -> None:
        orphans = orphan_containers(self.project, self.observed, self.options.known_services)
        if not orphans:
            return
        if not self.options.remove_orphans:
            self.plan.warnings.append(_orphan_warning(orphans))
            return
        for c in orphans:
            resource = f"orphan:{c.name}"
            stop = None
            if c.state in _RUNNING_STATES:
                stop = self.plan.add(STOP_CONTAINER, resource, "orphaned container",
                                     container=c.id, timeout=self.options.timeout,
                                     display=_display(c.name))
            self.plan.add(REMOVE_CONTAINER, resource, "orphaned container",
                          (stop,) if stop else (), container=c.id, force=False,
                          volumes=False, display=_display(c.name))

    # -- the start phase

    def _wait_step(self, dep: str, condition: str, dependent: str, required: bool,
                   restart: bool, after: list[int], timeout: float | None = None) -> int:
        key = (dep, condition)
        existing = self.wait_steps.get(key)
        if existing is not None:
            step = self.plan.step(existing)
            dependents = [*step.args["dependents"], dependent] if dependent else list(
                step.args["dependents"])
            self.plan.update(
                existing, tuple(after),
                reason=f"{condition} for {', '.join(dependents)}" if dependents else None,
                dependents=tuple(dependents),
                required=bool(step.args["required"]) or required,
                restart=bool(step.args["restart"]) or restart)
            return existing
        step_id = _add_wait(
            self.plan, self.project.services[dep], dep, condition, after,
            self.state[dep].final_names, (dependent,) if dependent else (), required=required,
            restart=restart, extensions=self.options.extensions.get(dep), timeout=timeout)
        self.wait_steps[key] = step_id
        return step_id

    def _ends(self, name: str) -> list[int]:
        st = self.state[name]
        return st.start_end or st.create_end

    def _start(self, service: ServiceConfig) -> None:
        name = service.name
        st = self.state[name]
        if _scale(service, self.options.scale) == 0:
            st.start_end = st.create_end
            return
        prereqs: list[int] = []
        for dep in sorted(self.graph.successors(name)):
            if dep not in self.state:
                continue  # --no-deps: nothing to wait for
            attrs = self.graph[name][dep]
            condition = attrs.get("condition") or SERVICE_STARTED
            if _scale(self.project.services[dep], self.options.scale) == 0:
                continue
            if condition == SERVICE_STARTED:
                prereqs += self._ends(dep)
                continue
            prereqs.append(self._wait_step(dep, condition, name, bool(attrs.get("required")),
                                           bool(attrs.get("restart")), self._ends(dep)))
        replicas = list(st.to_start)
        # Dependents stopped because a dependency was recreated start again.
        for c in self.containers.get(name, ()):
            if c.id in self.stopped and c.state in _RUNNING_STATES and all(
                    r.number != c.number for r in replicas):
                replicas.append(_Replica(c.id, c.name, c.number, self.stopped[c.id],
                                         "dependency recreated"))
        starts = []
        for replica in sorted(replicas, key=lambda r: r.number):
            deps = [*prereqs, *((replica.after,) if replica.after else ())]
            starts.append(self.plan.add(
                START_CONTAINER, f"service:{name}:{replica.number}", replica.reason,
                tuple(deps), container=replica.ref, display=_display(replica.name)))
        st.start_end = starts or prereqs or st.create_end

    def _final_waits(self) -> None:
        # One-shot services others wait to complete are not expected to stay running.
        completed = {dep for _, dep, cond in self.graph.edges(data="condition")
                     if cond == SERVICE_COMPLETED}
        for name in self.selected:
            service = self.project.services[name]
            if _scale(service, self.options.scale) == 0 or name in completed:
                continue
            self._wait_step(name, RUNNING_OR_HEALTHY, "", True, False, self._ends(name),
                            timeout=self.options.wait_timeout)


def plan_up(project: Project | Mapping[str, Any], observed: Observed,
            options: UpPlanOptions | None = None) -> Plan:
    """The plan that converges the engine to ``project`` (``up``; ``create`` with
    ``start=False``).

    ``project`` is the model or the canonical project dict. Raises
    :class:`ValidationError` for a service selection or scale the project cannot
    have, :class:`~composer.backends.errors.NotFoundError` for a missing external
    network or volume (when ``existing_external`` is given) and
    :class:`~composer.backends.errors.UnsupportedError` for what the engine
    cannot do. Orphans are reported in ``plan.warnings`` unless removed.
    """
    model, data = _project_dict(project)
    return _UpPlanner(model, data, observed, options or UpPlanOptions()).build()


# -- pull --------------------------------------------------------------------------------------


def plan_pull(project: Project | Mapping[str, Any], image_ids: Mapping[str, str | None],
              options: PullPlanOptions | None = None) -> Plan:
    """``PullImage`` steps for the images ``up`` needs, by each service's pull policy.

    ``image_ids`` maps image references to their local ID (None: not present).
    ``missing`` (the default), ``if_not_present`` and the periodic policies pull
    an absent image; ``always`` pulls every time; ``never`` and ``build`` never
    pull. As v2 does, an image that can be built (by this service or another
    naming the same ``image:``) is pulled by these rules too, its step marked
    ``buildable``: a failed pull leaves it to :func:`composer.plan.build.plan_build`.
    An image without ``image:`` (``{project}-{service}``) is only ever built.
    """
    opts = options or PullPlanOptions()
    model, _ = _project_dict(project)
    graph = _graph(model)
    plan = Plan(project=model.name)
    seen: set[str] = set()
    for name in _select(graph, model, opts.services, include_dependencies=not opts.no_deps):
        service = model.services[name]
        image = service_image(model.name, name, dict(service.raw or {}))
        if image in seen or not service.image:
            continue
        policy = opts.policy or service.pull_policy or "missing"
        if opts.build and service.build is not None:
            policy = "build"  # v2's `up --build` sets it on every service with build:
        present = image_ids.get(image) is not None
        buildable = service.build is not None or any(
            other.build is not None and other.image == service.image
            for other in model.services.values())
        if policy == "never" and not present and not buildable:
            # v2 creates the other containers first and fails on this one; failing
            # before anything is created leaves nothing half-made behind.
            how = "--pull never" if opts.policy else "pull_policy: never"
            raise NotFoundError(f'service "{name}": image "{image}" is not present on the '
                                f"engine and {how} forbids pulling it")
        if policy == "always":
            reason = "pull_policy always"
        elif policy in ("never", "build") or present:
            continue
        else:
            reason = "not found locally"
        seen.add(image)
        plan.add(PULL_IMAGE, f"image:{image}",
                 f"{reason}, built if the pull fails" if buildable else reason, image=image,
                 platform=service.platform, service=name, display=f"Image {image}",
                 buildable=buildable)
    return plan


# -- down and the lifecycle commands -----------------------------------------------------------


@dataclass
class _Topology:
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


def _topology(project: Project | Mapping[str, Any] | str, observed: Observed) -> _Topology:
    if isinstance(project, str):
        services: dict[str, dict[str, Any]] = {}
        for c in sorted(observed.containers, key=lambda c: c.name):
            if c.project != project or c.oneoff:
                continue
            entry = services.setdefault(c.service, {})
            label = c.labels.get(labels.DEPENDS_ON, "")
            if label and "depends_on" not in entry:
                entry["depends_on"] = _parse_depends_label(label)
        return _Topology(project, None, build_graph(services))
    model, _ = _project_dict(project)
    return _Topology(model.name, model, _graph(model))


def _targets(topo: _Topology, services: Sequence[str], *, dependents: bool = False,
             dependencies: bool = False) -> list[str]:
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


def _containers_of(observed: Observed, name: str, service: str) -> list[ContainerState]:
    return sorted((c for c in observed.containers
                   if c.project == name and c.service == service and not c.oneoff),
                  key=lambda c: c.number)


def plan_down(project: Project | Mapping[str, Any] | str, observed: Observed,
              options: DownPlanOptions | None = None) -> Plan:
    """The plan that takes a project down: containers in reverse dependency order,
    then its networks, then (with ``volumes``) its volumes. Never external ones.

    ``project`` may be just the project's name (``-p NAME down`` without files):
    services and dependencies then come from the containers' labels and every
    network and volume labelled with the project goes. Services named in
    ``options.services`` go with their dependents; networks and volumes then go
    only if no container of the project is left. A plan with nothing to remove
    carries a warning.
    """
    opts = options or DownPlanOptions()
    topo = _topology(project, observed)
    plan = Plan(project=topo.name)
    targets = _targets(topo, opts.services, dependents=True)
    ends: dict[str, list[int]] = {}
    removed: set[str] = set()
    all_removes: list[int] = []
    for name in reversed(targets):
        after = [s for d in topo.graph.predecessors(name) for s in ends.get(d, [])]
        ends[name] = []
        for c in _containers_of(observed, topo.name, name):
            step = _stop_remove(plan, f"service:{name}:{c.number}", c, "down", after,
                                opts.timeout, volumes=opts.volumes)
            ends[name].append(step)
            all_removes.append(step)
            removed.add(c.id)
    known = set(topo.graph)
    if topo.project is not None:
        known |= set(topo.project.services)
    orphans = sorted((c for c in observed.containers
                      if c.project == topo.name and c.id not in removed
                      and (c.service not in known or c.oneoff)),
                     key=lambda c: c.name)
    if opts.remove_orphans:
        for c in orphans:
            all_removes.append(_stop_remove(plan, f"orphan:{c.name}", c, "orphaned container",
                                            [], opts.timeout, volumes=False))
            removed.add(c.id)
    left = [c for c in observed.containers if c.project == topo.name and c.id not in removed]
    if not left or not opts.services:
        _remove_networks_and_volumes(plan, topo, observed, opts, all_removes)
    if opts.images:
        for image in _images_to_remove(topo, observed, targets, opts.images,
                                       opts.built_images):
            plan.add(REMOVE_IMAGE, f"image:{image}", f"down --rmi {opts.images}",
                     tuple(all_removes), image=image, display=f"Image {image}")
    if not plan:
        plan.warnings.append(f'No resource found to remove for project "{topo.name}".')
    return plan


def _images_to_remove(topo: _Topology, observed: Observed, services: Sequence[str],
                      mode: str, built: Mapping[str, Sequence[str]]) -> list[str]:
    images: set[str] = set()
    if topo.project is not None:
        for name in services:
            service = topo.project.services[name]
            if mode == "all" or not service.image:
                images.add(service_image(topo.name, name, dict(service.raw or {})))
            images.update(built.get(name, ()))
    else:
        if mode == "all":
            images = {c.image for c in observed.containers
                      if c.project == topo.name and c.service in services and c.image}
        for name in services:
            images.update(built.get(name, ()))
    return sorted(images)


def _stop_remove(plan: Plan, resource: str, c: ContainerState, reason: str,
                 after: Iterable[int], timeout: int | None, *, volumes: bool) -> int:
    deps = tuple(after)
    if c.state in _RUNNING_STATES:
        deps = (plan.add(STOP_CONTAINER, resource, reason, deps, container=c.id,
                         timeout=timeout, display=_display(c.name)),)
    return plan.add(REMOVE_CONTAINER, resource, reason, deps, container=c.id, force=True,
                    volumes=volumes, display=_display(c.name))


def _remove_networks_and_volumes(plan: Plan, topo: _Topology, observed: Observed,
                                 opts: DownPlanOptions, after: list[int]) -> None:
    project = topo.project
    for net in sorted(observed.networks, key=lambda n: n.name):
        if project is not None:
            cfg = project.networks.get(net.key)
            wanted = net.key in project.networks and not (cfg is not None and cfg.external)
            if not wanted or net.name != _resource_name(project, "network", net.key):
                continue
        elif net.labels.get(labels.PROJECT) not in (None, topo.name):
            continue
        plan.add(REMOVE_NETWORK, f"network:{net.key or net.name}", "down", tuple(after),
                 name=net.name, display=f"Network {net.name}")
    if not opts.volumes:
        return
    for vol in sorted(observed.volumes, key=lambda v: v.name):
        if project is not None:
            vcfg = project.volumes.get(vol.key)
            wanted = vol.key in project.volumes and not (vcfg is not None and vcfg.external)
            if not wanted or vol.name != _resource_name(project, "volume", vol.key):
                continue
        elif vol.labels.get(labels.PROJECT) not in (None, topo.name):
            continue
        plan.add(REMOVE_VOLUME, f"volume:{vol.key or vol.name}", "down --volumes",
                 tuple(after), name=vol.name, display=f"Volume {vol.name}")


def plan_stop(project: Project | Mapping[str, Any] | str, observed: Observed,
              options: LifecyclePlanOptions | None = None) -> Plan:
    """Stop the running containers of the selected services, dependents first."""
    opts = options or LifecyclePlanOptions()
    topo = _topology(project, observed)
    plan = Plan(project=topo.name)
    ends: dict[str, list[int]] = {}
    for name in reversed(_targets(topo, opts.services)):
        after = tuple(s for d in topo.graph.predecessors(name) for s in ends.get(d, []))
        ends[name] = [
            plan.add(STOP_CONTAINER, f"service:{name}:{c.number}", c.state, after,
                     container=c.id, timeout=opts.timeout, display=_display(c.name))
            for c in _containers_of(observed, topo.name, name) if c.state in _RUNNING_STATES
        ]
    return plan


def _start_steps(plan: Plan, topo: _Topology, observed: Observed, targets: list[str],
                 before: Mapping[str, list[int]], reason_of: Any,
                 opts: LifecyclePlanOptions) -> dict[str, list[int]]:
    """Start the given services in dependency order, waiting for their conditions."""
    ends: dict[str, list[int]] = {}
    waits: dict[tuple[str, str], int] = {}
    chosen = set(targets)
    for name in targets:
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
            if key not in waits:
                waits[key] = _add_wait(
                    plan, topo.project.services[dep] if topo.project else None, dep,
                    condition, ends.get(dep, []),
                    (c.name for c in _containers_of(observed, topo.name, dep)), (name,),
                    required=bool(attrs.get("required", True)),
                    restart=bool(attrs.get("restart")), extensions=opts.extensions.get(dep),
                    timeout=None)
            else:
                step = plan.step(waits[key])
                dependents = (*step.args["dependents"], name)
                plan.update(waits[key], reason=f"{condition} for {', '.join(dependents)}",
                            dependents=dependents,
                            required=bool(step.args["required"]) or bool(
                                attrs.get("required", True)))
            prereqs.append(waits[key])
        steps = []
        for c in _containers_of(observed, topo.name, name):
            reason = reason_of(c)
            if reason is None:
                continue
            deps = (*prereqs, *before.get(c.id, ()))
            steps.append(plan.add(START_CONTAINER, f"service:{name}:{c.number}", reason, deps,
                                  container=c.id, display=_display(c.name)))
        ends[name] = steps or prereqs
    if opts.wait:
        for name in targets:
            if not _containers_of(observed, topo.name, name):
                continue
            _add_wait(plan, topo.project.services[name] if topo.project else None, name,
                      RUNNING_OR_HEALTHY, ends.get(name, []),
                      (c.name for c in _containers_of(observed, topo.name, name)), (),
                      required=True, restart=False, extensions=opts.extensions.get(name),
                      timeout=opts.wait_timeout)
    return ends


def plan_start(project: Project | Mapping[str, Any] | str, observed: Observed,
               options: LifecyclePlanOptions | None = None) -> Plan:
    """Start the stopped containers of the selected services and of their
    dependencies, in dependency order, waiting for ``depends_on`` conditions.

    Raises :class:`~composer.backends.errors.NotFoundError` when the project has
    no container at all (``no container found for project``).
    """
    opts = options or LifecyclePlanOptions()
    topo = _topology(project, observed)
    if not any(c.project == topo.name and not c.oneoff for c in observed.containers):
        raise NotFoundError(f'no container found for project "{topo.name}"')
    plan = Plan(project=topo.name)
    targets = _targets(topo, opts.services, dependencies=True)
    if topo.project is not None:
        for name in targets:
            service = topo.project.services[name]
            if service.replicas > 0 and not _containers_of(observed, topo.name, name):
                raise NotFoundError(f'service "{name}" has no container to start')

    def reason(c: ContainerState) -> str | None:
        return None if c.state in _RUNNING_STATES else c.state

    _start_steps(plan, topo, observed, targets, {}, reason, opts)
    return plan


def plan_restart(project: Project | Mapping[str, Any] | str, observed: Observed,
                 options: LifecyclePlanOptions | None = None) -> Plan:
    """Stop then start every container of the selected services (all when none
    are named) and, unless ``no_deps``, of the services that depend on them with
    ``restart: true`` (transitively), as v2 does; a dependency of a named service
    is left alone. Stops dependents first, starts in dependency order."""
    opts = options or LifecyclePlanOptions()
    topo = _topology(project, observed)
    plan = Plan(project=topo.name)
    targets = _targets(topo, opts.services)
    if opts.services and not opts.no_deps:
        chosen = set(targets)
        todo = list(targets)
        while todo:
            dependency = todo.pop()
            for dependent in topo.graph.predecessors(dependency):
                if topo.graph[dependent][dependency].get("restart") and dependent not in chosen:
                    chosen.add(dependent)
                    todo.append(dependent)
        targets = [s for s in topo.services if s in chosen]
    for s in opts.services:
        if not _containers_of(observed, topo.name, s):
            raise NotFoundError(f"no such service: {s}")
    stops: dict[str, list[int]] = {}
    before: dict[str, list[int]] = {}
    for name in reversed(targets):
        after = tuple(s for d in topo.graph.predecessors(name) for s in stops.get(d, []))
        stops[name] = []
        for c in _containers_of(observed, topo.name, name):
            if c.state in _RUNNING_STATES:
                step = plan.add(STOP_CONTAINER, f"service:{name}:{c.number}", "restart", after,
                                container=c.id, timeout=opts.timeout, display=_display(c.name),
                                progress=("Restarting", ""))
                stops[name].append(step)
                before[c.id] = [step]
    _start_steps(plan, topo, observed, targets, before, lambda c: "restart", opts)
    return plan


def _simple(project: Project | Mapping[str, Any] | str, observed: Observed,
            services: Sequence[str], op: str, states: Collection[str],
            **args: Any) -> Plan:
    topo = _topology(project, observed)
    plan = Plan(project=topo.name)
    for name in _targets(topo, services):
        for c in _containers_of(observed, topo.name, name):
            if c.state in states:
                plan.add(op, f"service:{name}:{c.number}", c.state, container=c.id,
                         display=_display(c.name), **args)
    return plan


def plan_kill(project: Project | Mapping[str, Any] | str, observed: Observed,
              options: LifecyclePlanOptions | None = None) -> Plan:
    """Send ``signal`` to the running containers of the selected services (and to
    orphans' with ``remove_orphans``)."""
    opts = options or LifecyclePlanOptions()
    plan = _simple(project, observed, opts.services, KILL_CONTAINER,
                   {"running", "restarting", "paused"}, signal=opts.signal)
    if opts.remove_orphans and not isinstance(project, str):
        model, _ = _project_dict(project)
        for c in orphan_containers(model, observed):
            if c.state in _RUNNING_STATES:
                plan.add(KILL_CONTAINER, f"orphan:{c.name}", c.state, container=c.id,
                         signal=opts.signal, display=_display(c.name))
    return plan


def plan_pause(project: Project | Mapping[str, Any] | str, observed: Observed,
               options: LifecyclePlanOptions | None = None) -> Plan:
    """Pause the running containers of the selected services."""
    opts = options or LifecyclePlanOptions()
    return _simple(project, observed, opts.services, PAUSE_CONTAINER, {"running"})


def plan_unpause(project: Project | Mapping[str, Any] | str, observed: Observed,
                 options: LifecyclePlanOptions | None = None) -> Plan:
    """Unpause the paused containers of the selected services."""
    opts = options or LifecyclePlanOptions()
    return _simple(project, observed, opts.services, UNPAUSE_CONTAINER, {"paused"})


def plan_rm(project: Project | Mapping[str, Any] | str, observed: Observed,
            options: LifecyclePlanOptions | None = None) -> Plan:
    """Remove the stopped containers of the selected services; with ``stop``, stop
    the running ones first and remove them too. ``volumes`` removes their
    anonymous volumes. Nothing to remove leaves a warning ``No stopped containers``."""
    opts = options or LifecyclePlanOptions()
    topo = _topology(project, observed)
    plan = Plan(project=topo.name)
    for name in _targets(topo, opts.services):
        for c in _containers_of(observed, topo.name, name):
            resource = f"service:{name}:{c.number}"
            deps: tuple[int, ...] = ()
            if c.state in _RUNNING_STATES:
                if not opts.stop:
                    continue
                deps = (plan.add(STOP_CONTAINER, resource, "rm --stop", container=c.id,
                                 timeout=opts.timeout, display=_display(c.name)),)
            plan.add(REMOVE_CONTAINER, resource, c.state, deps, container=c.id, force=True,
                     volumes=opts.volumes, display=_display(c.name))
    if not plan:
        plan.warnings.append("No stopped containers")
    return plan

"""``up`` and ``create``: desired project + observed engine state -> a :class:`Plan`. Pure.

Decisions follow Docker Compose v2 (``pkg/compose/create.go``, ``convergence.go``):

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
  dependency and condition, shared by every dependent; see
  :mod:`composer.plan.shared` for ``x-composer-ready``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from composer.backends import spec
from composer.backends.base import ContainerState, NetworkState, Observed
from composer.backends.errors import NotFoundError, UnsupportedError
from composer.errors import ValidationError
from composer.frozen import frozen
from composer.graph import build_graph
from composer.model import labels
from composer.model.conditions import (
    RUNNING_OR_HEALTHY,
    SERVICE_COMPLETED_SUCCESSFULLY,
    SERVICE_STARTED,
)
from composer.model.hash import service_config_hash
from composer.model.naming import service_image
from composer.model.project import Project, ServiceConfig
from composer.plan import checks
from composer.plan.files import FileCopies
from composer.plan.plan import Plan
from composer.plan.shared import (
    RUNNING_STATES,
    add_wait,
    by_service,
    display,
    namespace_parents,
    network_duplicates,
    network_keys,
    orphan_containers,
    orphan_warning,
    readiness_of,
    remove_orphans,
    resource_name,
    scale_of,
    select,
    volume_keys,
    widen_wait,
)
from composer.plan.steps import (
    ConnectNetwork,
    CreateContainer,
    CreateNetwork,
    CreateVolume,
    RemoveContainer,
    RemoveNetwork,
    RenameContainer,
    StartContainer,
    StopContainer,
    UnpauseContainer,
)

__all__ = [
    "RECREATE_DIVERGED",
    "RECREATE_FORCE",
    "RECREATE_NEVER",
    "UpPlanOptions",
    "check_up",
    "plan_up",
]

RECREATE_DIVERGED = "diverged"
RECREATE_FORCE = "force"
RECREATE_NEVER = "never"


@frozen(kw_only=True)
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
    has none) go to the containers' project labels. ``environment`` is the
    project's: the values of secrets and configs from ``environment:``, copied
    into the containers before they start (:mod:`composer.plan.files`).

    Engine facts: ``image_ids`` maps image references to local image IDs;
    ``existing_external`` names the external networks and volumes known to
    exist (None: not checked); ``known_services`` are every service the compose
    files define, profiles or not (their containers are not orphans);
    ``image_volumes`` maps images to the volume paths they declare; ``facts``
    are what :mod:`composer.plan.checks` needs to refuse a project the engine
    would refuse (containers found by name, missing host paths).
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
    facts: checks.EngineFacts | None = None
    environment: Mapping[str, str] | None = None


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


class UpPlanner:
    """Builds the plan of ``up``/``create`` (and, for ``run``, of the dependencies
    of a one-off container: :mod:`composer.plan.run`)."""

    def __init__(self, project: Project, observed: Observed, options: UpPlanOptions,
                 *, selected: Sequence[str] | None = None) -> None:
        self.project = project
        self.observed = observed
        self.options = options
        self.plan = Plan(project=project.name)
        self.graph = build_graph(project)
        # The whole project (networks and volumes not used by a service too), or
        # only what the selected services need.
        self.whole = not options.services and selected is None
        self.selected = list(selected) if selected is not None else select(
            self.graph, project, options.services, include_dependencies=not options.no_deps)
        self.containers = by_service(observed, project.name)
        self.network_steps: dict[str, int] = {}
        self.volume_steps: dict[str, int] = {}
        self.state: dict[str, _ServiceState] = {s: _ServiceState() for s in self.selected}
        self.stopped: dict[str, int] = {}  # container id -> its stop step
        self.wait_steps: dict[tuple[str, str], int] = {}
        self.hashes: dict[str, str] = {}
        self.copies = FileCopies(project, options.environment)
        # Containers of other services, for links and service: references.
        self.refs: dict[str, list[spec.ContainerRef]] = {
            name: [spec.ContainerRef(c.name, c.id) for c in found]
            for name, found in self.containers.items()}

    # The plan, phase by phase.
    def build(self) -> Plan:
        self.create_phase()
        if self.options.start:
            self.start_phase()
            if self.options.wait:
                self._final_waits()
        return self.plan

    def create_phase(self, extra_networks: Iterable[str] = (),
                     extra_volumes: Iterable[str] = (), *, orphans: bool = True) -> None:
        """Networks, volumes, then each selected service's containers, then orphans
        (unless ``orphans`` is off). ``extra_*`` are the keys of more networks and
        volumes to create (those of ``run``'s one-off container)."""
        self._check_container_names()
        # What the engine is certain to refuse, refused before the first step exists.
        _check_selected(self.project, self.selected, self.options)
        self._networks(extra_networks)
        self._volumes(extra_volumes)
        for name in self.selected:
            self._service(self.project.services[name])
        if orphans:
            self._orphans()

    def start_phase(self) -> None:
        """Start each selected service once its dependencies are satisfied."""
        for name in self.selected:
            self._start(self.project.services[name])

    def _check_container_names(self) -> None:
        for name in self.selected:
            service = self.project.services[name]
            if service.container_name and scale_of(service, self.options.scale) > 1:
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

    def _networks(self, extra: Iterable[str]) -> None:
        observed = {n.name for n in self.observed.networks}
        duplicates = network_duplicates(self.observed.networks)
        keys = set(self._used(network_keys)) | set(extra)
        if self.whole:
            keys |= set(self.project.networks)
        for key in sorted(keys):
            cfg = self.project.networks.get(key)
            name = resource_name(self.project, "network", key)
            if cfg is not None and cfg.external:
                self._check_external(name, "network")
                continue
            if name in duplicates:
                self._deduplicate(key, duplicates[name])
                continue
            if name in observed:
                continue
            body = spec.network_create_body(self.project, key)
            self.network_steps[key] = self.plan.add(
                CreateNetwork(name=name, body=body, display=f"Network {name}"),
                f"network:{key}", "not found")

    def _deduplicate(self, key: str, networks: Sequence[NetworkState]) -> None:
        """The project's network exists twice or more (see
        :func:`~composer.plan.shared.network_duplicates`): the oldest stays, the
        others go (by ID) before any container needs the name."""
        last: tuple[int, ...] = ()
        kept = networks[0]
        for extra in networks[1:]:
            last = (self.plan.add(
                RemoveNetwork(name=extra.id, display=f"Network {extra.name}"),
                f"network:{key}", f"duplicate of {kept.id[:12]}", last),)
        self.network_steps[key] = last[0]

    def _volumes(self, extra: Iterable[str]) -> None:
        observed = {v.name for v in self.observed.volumes}
        keys = set(self._used(lambda s: volume_keys(s, self.project))) | set(extra)
        if self.whole:
            keys |= set(self.project.volumes)
        for key in sorted(keys):
            cfg = self.project.volumes.get(key)
            name = resource_name(self.project, "volume", key)
            if cfg is not None and cfg.external:
                self._check_external(name, "volume")
                continue
            if name in observed:
                continue
            body = spec.volume_create_body(self.project, key)
            self.volume_steps[key] = self.plan.add(
                CreateVolume(name=name, body=body, display=f"Volume {name}"),
                f"volume:{key}", "not found")

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

    def image_id(self, service: ServiceConfig) -> str:
        return self.options.image_ids.get(self.image(service), "")

    def image(self, service: ServiceConfig) -> str:
        return service_image(self.project.name, service.name, service)

    def _hash(self, service: ServiceConfig) -> str:
        found = self.hashes.get(service.name)
        if found is None:
            # v2 hashes volumes_from "container:x:ro" as "x": resolve what needs no IDs.
            resolvable = not spec.referenced_services(service)
            found = (self.options.config_hashes.get(service.name)
                     or service_config_hash(spec.resolve_service_references(service, {})
                                            if resolvable else service))
            self.hashes[service.name] = found
        return found

    def _observed_hash(self, service: ServiceConfig) -> str:
        """The hash v2 expects of an existing container: references to other
        services resolved to the IDs of their containers as they are now."""
        referenced = spec.referenced_services(service)
        if not referenced or service.name in self.options.config_hashes:
            return self._hash(service)
        refs = {s: [spec.ContainerRef(c.name, c.id) for c in self.containers.get(s, ())]
                for s in referenced}
        try:
            return service_config_hash(spec.resolve_service_references(service, refs))
        except UnsupportedError:  # the container referred to is gone: recreate
            return self._hash(service)

    def late_hash(self, service: ServiceConfig) -> dict[str, Any]:
        """Operation fields telling the executor to hash the service once the
        containers it refers to exist (v2 hashes their IDs, unknown when planning)."""
        referenced = spec.referenced_services(service)
        if not referenced or service.name in self.options.config_hashes:
            return {}
        return {"hash_service": service,
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
        if container.state == "created" and container.start_error:
            return f"its last start failed ({container.start_error})"
        image_id = self.image_id(service)
        if image_id and (container.labels.get(labels.IMAGE_DIGEST)
                         or container.image_id) != image_id:
            return "image changed"
        if container.state == "running" and container.networks:
            for key in network_keys(service):
                name = resource_name(self.project, "network", key)
                if name not in container.networks:
                    return f"not connected to network {key}"
        return None

    def infra_deps(self, service: ServiceConfig) -> list[int]:
        """The steps creating what the service's containers need: its networks,
        volumes and the containers of its dependencies."""
        deps = [self.network_steps[k] for k in network_keys(service) if k in self.network_steps]
        deps += [self.volume_steps[k] for k in volume_keys(service, self.project)
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
        self.plan.warnings.extend(spec.bind_warnings(self.project, service))
        try:
            return spec.container_create_request(
                self.project, service, number,
                config_files=list(self.options.config_files),
                working_dir=self.project.working_dir or self.options.working_dir or "",
                image_id=self.image_id(service),
                config_hash=self._hash(service),
                api_version=self.options.api_version,
                env_files=list(self.options.env_files),
                containers=self.refs,
                inherit=inherit,
                image_volumes=self.options.image_volumes.get(self.image(service), ()),
                base_environment=self.options.base_environment,
                extra_labels=extra or None,
                engine_checks=self.options.facts is None or self.options.facts.engine_checks,
            )
        except UnsupportedError as exc:
            raise UnsupportedError(f"service {service.name}: {exc}") from None

    def connect_steps(self, request: spec.ContainerRequest, resource: str, after: int,
                      group: str = "") -> int:
        """``ConnectNetwork`` steps for the networks joined after create."""
        last = after
        for network, endpoint in request.connects:
            last = self.plan.add(
                ConnectNetwork(container=request.name, network=network, endpoint=endpoint,
                               display=display(request.name), progress=("", "")),
                resource, f"network {network}", (last,), group=group)
        return last

    def _service(self, service: ServiceConfig) -> None:
        readiness_of(service)  # a malformed x-composer-ready is refused, waited on or not
        name = service.name
        st = self.state[name]
        expected = scale_of(service, self.options.scale)
        found = list(self.containers.get(name, ()))
        expected_hash = self._observed_hash(service)
        parents = namespace_parents(service)
        parent = next((p for p in sorted(parents)
                       if p in self.state and self.state[p].recreated), None)
        why = {c.id: self._why_recreate(service, c, expected_hash, parent) for c in found}
        # Up-to-date first, lowest numbers first: the tail is what scaling down removes.
        found.sort(key=lambda c: (why[c.id] is not None, c.number, c.created))
        infra = self.infra_deps(service)
        kept = found[:expected]
        for c in found[expected:]:
            resource = f"service:{name}:{c.number}"
            last = self.stopped.get(c.id)
            if last is None and c.state in RUNNING_STATES:
                last = self.plan.add(
                    StopContainer(container=c.id, timeout=self.options.timeout,
                                  display=display(c.name)), resource, "scale down")
            st.create_end.append(self.plan.add(
                RemoveContainer(container=c.id, display=display(c.name)),
                resource, "scale down", (last,) if last else ()))
        # A recreated container ends under the canonical name (a 1.29.2 project's
        # "p_web_1" comes back as "p-web-1"), so waits must look for that one. So
        # does one an interrupted recreate left under its temporary name.
        canonical = {c.id: spec.container_name(self.project.name, service, c.number)
                     for c in kept}
        renamed = {c.id for c in kept if why[c.id] is None
                   and _temporary(c.name, canonical[c.id])}
        st.final_names = [
            c.name if why[c.id] is None and c.id not in renamed else canonical[c.id]
            for c in kept
        ]
        next_number = max((c.number for c in found), default=0) + 1
        new_numbers = list(range(next_number, next_number + max(0, expected - len(found))))
        st.final_names += [spec.container_name(self.project.name, service, n)
                           for n in new_numbers]
        self._set_refs(name, st.final_names)

        freed = tuple(st.create_end)  # the removals above free the canonical names
        for c in kept:
            reason = why[c.id]
            if reason is not None:
                self._recreate(service, c, reason, infra)
                continue
            resource = f"service:{name}:{c.number}"
            current, after = c.name, tuple(infra)
            if c.id in renamed:
                # The recreate was interrupted after "create the new one", its old
                # container is gone or goes above: finish it.
                current = canonical[c.id]
                after = (self.plan.add(
                    RenameContainer(container=c.id, name=current, display=display(current),
                                    progress=("", "Recreated")),
                    resource, "finalize an interrupted recreate", (*infra, *freed)),)
                st.create_end.append(after[0])
            if c.state == "paused":
                step = self.plan.add(UnpauseContainer(container=c.id, display=display(current)),
                                     resource, "paused", after)
                st.create_end.append(step)
            elif c.state not in RUNNING_STATES:
                st.to_start.append(_Replica(c.id, current, c.number,
                                            after[0] if c.id in renamed else None, c.state))
            elif c.id not in renamed:
                self.plan.unchanged.append(display(c.name))

        for number in new_numbers:
            resource = f"service:{name}:{number}"
            request = self._request(service, number, None)
            step = self.plan.add(
                CreateContainer(name=request.name, body=request.body,
                                platform=request.platform, service=name, number=number,
                                display=display(request.name), **self.late_hash(service)),
                resource, "no existing container", tuple(infra))
            last = self.connect_steps(request, resource, step)
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
                if c.id in self.stopped or c.state not in RUNNING_STATES:
                    continue
                step = self.plan.add(
                    StopContainer(container=c.id, timeout=self.options.timeout,
                                  display=display(c.name)),
                    f"service:{dependent}:{c.number}",
                    f"dependency {service.name} being recreated")
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
            CreateContainer(name=temporary, body=request.body, platform=request.platform,
                            service=name, number=old.number,
                            inherit=old.id if self.options.inherit else None,
                            display=display(final), progress=("Recreate", ""),
                            **self.late_hash(service)),
            resource, f"{reason} (temporary name)", (*infra, *stops), group=group)
        stop = self.stopped.get(old.id)
        # The new container must exist before the old one goes: through the stop
        # step, or directly when the old one was already stopped by an earlier step.
        remove_after: tuple[int, ...] = (stop, create) if stop is not None else ()
        if stop is None:
            stop = self.plan.add(
                StopContainer(container=old.id, timeout=self.options.timeout,
                              display=display(old.name), progress=("", "")),
                resource, f"replaced by #{create}", (create,), group=group)
            self.stopped[old.id] = stop
            remove_after = (stop,)
        remove = self.plan.add(
            RemoveContainer(container=old.id, display=display(old.name), progress=("", "")),
            resource, f"replaced by #{create}", remove_after, group=group)
        rename = self.plan.add(
            RenameContainer(container=temporary, name=final, display=display(final),
                            progress=("", "Recreated")),
            resource, "finalize recreate", (remove,), group=group)
        last = self.connect_steps(request, resource, rename, group)
        st.create_end.append(last)
        st.to_start.append(_Replica(final, final, old.number, last, "recreated"))

    def _orphans(self) -> None:
        orphans = orphan_containers(self.project, self.observed, self.options.known_services)
        if orphans and not self.options.remove_orphans:
            self.plan.warnings.append(orphan_warning(orphans))
        elif orphans:
            remove_orphans(self.plan, orphans, self.options.timeout)

    # -- the start phase

    def wait_step(self, dep: str, condition: str, dependent: str, required: bool,
                  restart: bool, after: list[int], timeout: float | None = None) -> int:
        """The one ``WaitCondition`` step for (``dep``, ``condition``), made or widened."""
        key = (dep, condition)
        existing = self.wait_steps.get(key)
        if existing is not None:
            widen_wait(self.plan, existing, dependent, after, required=required,
                       restart=restart)
            return existing
        step_id = add_wait(
            self.plan, self.project.services[dep], dep, condition, after,
            self.state[dep].final_names, (dependent,) if dependent else (), required=required,
            restart=restart, timeout=timeout)
        self.wait_steps[key] = step_id
        return step_id

    def ends(self, name: str) -> list[int]:
        """The steps after which the service is up (started, or created)."""
        st = self.state[name]
        return st.start_end or st.create_end

    def prerequisites(self, name: str) -> list[int]:
        """What starting a container of ``name`` waits for: its dependencies' starts
        (``service_started``) or ``WaitCondition`` steps (other conditions)."""
        prereqs: list[int] = []
        for dep in sorted(self.graph.successors(name)):
            if dep not in self.state:
                continue  # --no-deps: nothing to wait for
            attrs = self.graph[name][dep]
            condition = attrs.get("condition") or SERVICE_STARTED
            if scale_of(self.project.services[dep], self.options.scale) == 0:
                continue
            if condition == SERVICE_STARTED:
                prereqs += self.ends(dep)
                continue
            prereqs.append(self.wait_step(dep, condition, name, bool(attrs.get("required")),
                                          bool(attrs.get("restart")), self.ends(dep)))
        return prereqs

    def _start(self, service: ServiceConfig) -> None:
        name = service.name
        st = self.state[name]
        if scale_of(service, self.options.scale) == 0:
            st.start_end = st.create_end
            return
        prereqs = self.prerequisites(name)
        replicas = list(st.to_start)
        # Dependents stopped because a dependency was recreated start again.
        for c in self.containers.get(name, ()):
            if c.id in self.stopped and c.state in RUNNING_STATES and all(
                    r.number != c.number for r in replicas):
                replicas.append(_Replica(c.id, c.name, c.number, self.stopped[c.id],
                                         "dependency recreated"))
        starts = []
        for replica in sorted(replicas, key=lambda r: r.number):
            resource = f"service:{name}:{replica.number}"
            after = self.copies.add(self.plan, service, replica.ref, replica.name, resource,
                                    (replica.after,) if replica.after else ())
            starts.append(self.plan.add(
                StartContainer(container=replica.ref, display=display(replica.name)),
                resource, replica.reason, (*prereqs, *after)))
        st.start_end = starts or prereqs or st.create_end

    def _final_waits(self) -> None:
        # One-shot services others wait to complete are not expected to stay running.
        completed = {dep for _, dep, cond in self.graph.edges(data="condition")
                     if cond == SERVICE_COMPLETED_SUCCESSFULLY}
        for name in self.selected:
            service = self.project.services[name]
            if scale_of(service, self.options.scale) == 0 or name in completed:
                continue
            self.wait_step(name, RUNNING_OR_HEALTHY, "", True, False, self.ends(name),
                           timeout=self.options.wait_timeout)


def _temporary(name: str, final: str) -> bool:
    """``name`` is the temporary name a recreate gives the new container of
    ``final`` (``<old id[:12]>_<final>``), left by an interrupted ``up``."""
    prefix, sep, rest = name.partition("_")
    return bool(sep) and rest == final and len(prefix) == 12 and all(
        ch in "0123456789abcdef" for ch in prefix)


def _check_selected(project: Project, selected: Iterable[str], options: UpPlanOptions) -> None:
    checks.check_services(project, [
        project.services[name] for name in selected
        if scale_of(project.services[name], options.scale) > 0], options.facts)


def check_up(project: Project, options: UpPlanOptions | None = None) -> None:
    """Refuse what the engine is certain to refuse of the services ``up`` would
    create (the selected ones and, unless ``no_deps``, their dependencies), as
    :func:`plan_up` does; the api calls it before pulling or building anything.
    Raises :class:`ValidationError` with the key path (:mod:`composer.plan.checks`)."""
    opts = options or UpPlanOptions()
    selected = select(build_graph(project), project, opts.services,
                      include_dependencies=not opts.no_deps)
    _check_selected(project, selected, opts)


def plan_up(project: Project, observed: Observed, options: UpPlanOptions | None = None) -> Plan:
    """The plan that converges the engine to ``project`` (``up``; ``create`` with
    ``start=False``).

    Raises :class:`ValidationError` for a service selection or scale the project
    cannot have, or a value the engine is certain to refuse (its key path set:
    :mod:`composer.plan.checks`), :class:`~composer.backends.errors.NotFoundError` for a missing
    external network or volume (when ``existing_external`` is given) and
    :class:`~composer.backends.errors.UnsupportedError` for what the engine
    cannot do. Orphans are reported in ``plan.warnings`` unless removed.
    """
    return UpPlanner(project, observed, options or UpPlanOptions()).build()

"""Plans for a swarm stack: deploy (``composer stack deploy``) and remove. Pure.

A deploy does what ``docker stack deploy`` does, in its order: prune the stack's
services the file no longer has (``--prune``), create the networks the stack
lacks, create or update its secrets and configs, then create each new service
and update each existing one, through the same executor as every other plan.

Where it does better:

* an existing service whose spec did not change is left alone (docker updates
  every service on every deploy, so each gets a new version);
* ``wait``: a :class:`~composer.plan.steps.WaitService` per service follows it
  until its tasks run (healthy, where it has a check), or fails with the task's
  error;
* ``ordered``: a service is created only once the services it ``depends_on``
  meet their condition (``service_healthy``: running and healthy;
  ``service_completed_successfully``: a job that completed), as ``up`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from typing import Any

from composer.backends.spec import swarm as spec
from composer.backends.types import NetworkInfo, SwarmObject
from composer.errors import ConfigError
from composer.frozen import frozen
from composer.graph import build_graph, start_order
from composer.model.project import Project
from composer.plan.plan import Plan
from composer.plan.steps import (
    CreateNetwork,
    CreateService,
    CreateSwarmObject,
    RemoveNetwork,
    RemoveService,
    RemoveSwarmObject,
    UpdateService,
    UpdateSwarmObject,
    WaitService,
)

__all__ = [
    "RESOLVE_ALWAYS",
    "RESOLVE_CHANGED",
    "RESOLVE_NEVER",
    "StackObserved",
    "check_project",
    "digest_queries",
    "ENGINE_DEFAULTS",
    "flatten",
    "plan_deploy",
    "plan_remove",
    "resolve_warning",
    "spec_changes",
]

RESOLVE_ALWAYS = "always"
RESOLVE_CHANGED = "changed"
RESOLVE_NEVER = "never"


@frozen
class StackObserved:
    """What the engine has of a stack: its services, networks, secrets and configs
    (by ``com.docker.stack.namespace``), and the external networks the file names
    (None where there is none)."""

    services: Sequence[SwarmObject] = ()
    networks: Sequence[NetworkInfo] = ()
    secrets: Sequence[SwarmObject] = ()
    configs: Sequence[SwarmObject] = ()
    #: Every secret and config by name (a stack reuses one it finds by name).
    secrets_by_name: Mapping[str, SwarmObject] = field(default_factory=dict)
    configs_by_name: Mapping[str, SwarmObject] = field(default_factory=dict)
    external_networks: Mapping[str, NetworkInfo | None] = field(default_factory=dict)


def resolve_warning(image: str) -> str:
    """docker's words when no registry gives an image's digest."""
    return (f"image {image} could not be accessed on a registry to record its digest. "
            f"Each node will access {image} independently, possibly leading to different "
            "nodes running different versions of the image.")


def digest_queries(project: Project, namespace: str, observed: StackObserved,
                   resolve_image: str) -> list[str]:
    """The images whose registry digest a deploy with ``--resolve-image`` asks for."""
    if resolve_image == RESOLVE_NEVER:
        return []
    existing = {s.name: s for s in observed.services}
    wanted: list[str] = []
    for name, service in project.services.items():
        image = service.image or ""
        found = existing.get(spec.scope(namespace, name))
        if (resolve_image == RESOLVE_ALWAYS or found is None
                or found.labels.get(spec.LABEL_IMAGE) != image):
            if image and image not in wanted:
                wanted.append(image)
    return wanted


# -- comparing a wanted spec with the engine's ---------------------------------------------------

_UPDATE_DEFAULTS = {"Parallelism": 1, "FailureAction": "pause", "Monitor": 5_000_000_000,
                    "Order": "stop-first", "MaxFailureRatio": 0}
#: What the engine (swarmkit's defaults) fills in a spec it stores when the request
#: leaves it out, by key path.
ENGINE_DEFAULTS: Mapping[str, Any] = {
    "TaskTemplate.ContainerSpec.Isolation": "default",
    "TaskTemplate.ContainerSpec.StopGracePeriod": 10_000_000_000,
    "TaskTemplate.RestartPolicy.Condition": "any",
    "TaskTemplate.RestartPolicy.Delay": 5_000_000_000,
    "TaskTemplate.RestartPolicy.MaxAttempts": 0,
    "TaskTemplate.Runtime": "container",
    "TaskTemplate.ForceUpdate": 0,
    "Mode.Replicated.Replicas": 1,
    "EndpointSpec.Mode": "vip",
    **{f"UpdateConfig.{k}": v for k, v in _UPDATE_DEFAULTS.items()},
    **{f"RollbackConfig.{k}": v for k, v in _UPDATE_DEFAULTS.items()},
}
_EMPTY: tuple[Any, ...] = (None, "", 0, False, {}, [])


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}``; empty values are left out."""
    out: dict[str, Any] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
    elif value not in _EMPTY:
        out[prefix] = value
    return out


def spec_changes(wanted: Mapping[str, Any], stored: Mapping[str, Any], *,
                 network_names: Mapping[str, str] | None = None) -> list[str]:
    """The key paths where the engine's ``stored`` spec differs from ``wanted``,
    the spec a deploy would send: empty when a deploy would change nothing. The
    engine's defaults (:data:`ENGINE_DEFAULTS`) count as what ``wanted`` left out;
    ``network_names`` maps the network IDs the engine stores to names."""
    want = flatten(wanted)
    names = network_names or {}
    have = {path: names.get(value, value) if path.endswith(".Target") else value
            for path, value in flatten(stored).items()}
    changed = []
    for path in sorted(set(want) | set(have)):
        if path not in want and have[path] == ENGINE_DEFAULTS.get(path):
            continue
        if want.get(path) != have.get(path):
            changed.append(path)
    return changed


# -- deploy --------------------------------------------------------------------------------------


def _refs_ids(observed: StackObserved) -> tuple[dict[str, str], dict[str, str]]:
    return ({name: obj.id for name, obj in observed.secrets_by_name.items()},
            {name: obj.id for name, obj in observed.configs_by_name.items()})


def _gate(condition: str | None) -> bool:
    """Whether a ``depends_on`` condition needs the dependency healthy."""
    return condition == "service_healthy"


def check_project(project: Project, namespace: str) -> None:
    """Refuse, before anything touches an engine, what a stack cannot be: the keys
    docker refuses (``mem_limit``, ``extends``...), services without an image, and
    references to undefined networks, volumes, secrets and configs
    (:class:`~composer.errors.ConfigError` naming the key)."""
    for refused, key in spec.forbidden_keys(project):
        raise ConfigError(f"not supported by a stack: {spec.FORBIDDEN[key]}",
                          path=("services", refused, key))
    for service in project.services.values():
        spec.service_spec(project, namespace, service)


def plan_deploy(project: Project, namespace: str, observed: StackObserved, *,
                read: Callable[[str], bytes], prune: bool = False,
                resolve_image: str = RESOLVE_ALWAYS,
                digests: Mapping[str, str | None] | None = None,
                registry_auth: bool = False,
                wait: bool = False, ordered: bool = False,
                wait_timeout: float | None = None,
                declared_hosts: Mapping[str, Sequence[str]] | None = None) -> Plan:
    """The plan of ``stack deploy`` of ``project`` as stack ``namespace``.

    ``digests`` holds the answers to :func:`digest_queries` (None: no registry
    answered, and the plan warns as docker does); ``registry_auth``: send the
    stored registry login with each service (``--with-registry-auth``);
    ``declared_hosts``: each service's ``extra_hosts`` in the file's order.
    """
    plan = Plan(project=namespace)
    digests = digests or {}
    check_project(project, namespace)
    ignored = spec.unsupported_keys(project)
    if ignored:
        plan.warnings.append(f"Ignoring unsupported options: {', '.join(ignored)}")
    deprecated = spec.deprecated_keys(project)
    if deprecated:
        plan.warnings.append("Ignoring deprecated options: " + "; ".join(
            f"{key}: {spec.DEPRECATED[key]}" for key in deprecated))

    stack = spec.StackSpec.of(project, namespace, read)
    existing = {s.name: s for s in observed.services}
    wanted_names = {spec.scope(namespace, name) for name in project.services}

    prune_ids: list[int] = []
    if prune:
        for old in sorted(observed.services, key=lambda s: s.name):
            if old.name not in wanted_names:
                prune_ids.append(plan.add(
                    RemoveService(name=old.name, service_id=old.id,
                                  display=f"Service {old.name}"),
                    f"service:{old.name}", "not in the file (--prune)"))

    for net in stack.external_networks:
        if net in ("host", "bridge", "none") or net.startswith("container:"):
            continue
        network = observed.external_networks.get(net)
        if network is None:
            raise ConfigError(f"network {net!r} is declared as external, but could not be "
                              "found. You need to create a swarm-scoped network before the "
                              "stack is deployed")
        if network.scope != "swarm":
            raise ConfigError(f"network {net!r} is declared as external, but it is not in the "
                              f'right scope: "{network.scope}" instead of "swarm"')

    before: list[int] = []
    have_networks = {n.name for n in observed.networks}
    for net, body in stack.networks.items():
        if net in have_networks:
            continue
        before.append(plan.add(CreateNetwork(name=net, body=body, display=f"Network {net}"),
                               f"network:{net}", "not found"))
    for kind, objects, by_name in (("secrets", stack.secrets, observed.secrets_by_name),
                                   ("configs", stack.configs, observed.configs_by_name)):
        for obj in objects:
            display = f"{kind[:-1].capitalize()} {obj.name}"
            current = by_name.get(obj.name)
            if current is None:
                before.append(plan.add(
                    CreateSwarmObject(kind=kind, name=obj.name, spec=obj.spec, display=display),
                    f"{kind[:-1]}:{obj.key}", "not found"))
            else:
                before.append(plan.add(
                    UpdateSwarmObject(kind=kind, name=obj.name, object_id=current.id,
                                      version=current.version, spec=obj.spec,
                                      display=display, progress=("Updating", "Updated")),
                    f"{kind[:-1]}:{obj.key}", "found by name (docker updates it too)"))

    secret_ids, config_ids = _refs_ids(observed)
    network_names = {n.id: n.name for n in observed.networks}
    network_names.update({n.id: n.name for n in observed.external_networks.values() if n})
    order = list(project.services)
    if ordered:
        order = start_order(build_graph(project))
    deployed: dict[str, int | None] = {}
    waits: dict[str, int] = {}

    def wait_on(service_name: str, healthy: bool) -> int:
        if service_name not in waits:
            full = spec.scope(namespace, service_name)
            step = deployed.get(service_name)
            waits[service_name] = plan.add(
                WaitService(name=full, healthy=healthy, timeout=wait_timeout,
                            display=f"Service {full}", progress=("Waiting", "Converged")),
                f"service:{service_name}", "--detach=false" if wait else "a dependency",
                (step,) if step else ())
        return waits[service_name]

    for name in order:
        service = project.services[name]
        full = spec.scope(namespace, name)
        desired = spec.service_spec(project, namespace, service, secret_ids=secret_ids,
                                    config_ids=config_ids,
                                    declared_hosts=(declared_hosts or {}).get(name))
        container = desired["TaskTemplate"]["ContainerSpec"]
        image = str(container["Image"])
        found = existing.get(full)
        query = resolve_image == RESOLVE_ALWAYS or (
            resolve_image == RESOLVE_CHANGED and (
                found is None or found.labels.get(spec.LABEL_IMAGE) != image))
        if found is not None and not query and found.labels.get(spec.LABEL_IMAGE) == image:
            container["Image"] = found.spec.get("TaskTemplate", {}).get(
                "ContainerSpec", {}).get("Image", image)
        elif query:
            pinned = digests.get(image)
            if pinned:
                container["Image"] = pinned
            else:
                warning = resolve_warning(image)
                if warning not in plan.warnings:
                    plan.warnings.append(warning)
        depends = list(before) + prune_ids
        if ordered:
            for dep, condition in (service.depends_on or {}).items():
                if dep in project.services:
                    depends.append(wait_on(dep, _gate(condition.condition)))
        if found is None:
            deployed[name] = plan.add(
                CreateService(name=full, spec=desired, registry_auth=registry_auth,
                              display=f"Service {full}"),
                f"service:{name}", "not found", tuple(depends))
            continue
        desired["TaskTemplate"]["ForceUpdate"] = found.spec.get("TaskTemplate", {}).get(
            "ForceUpdate", 0)
        changes = spec_changes(desired, found.spec, network_names=network_names)
        if not changes:
            deployed[name] = None
            plan.unchanged.append(f"Service {full}")
            continue
        deployed[name] = plan.add(
            UpdateService(name=full, service_id=found.id, version=found.version, spec=desired,
                          registry_auth=registry_auth, display=f"Service {full}",
                          progress=("Updating", "Updated")),
            f"service:{name}", "changed: " + ", ".join(changes[:3])
            + (f" and {len(changes) - 3} more" if len(changes) > 3 else ""), tuple(depends))

    if wait:
        for key, config in project.services.items():
            wait_on(key, config.healthcheck is not None)
    return plan


# -- remove --------------------------------------------------------------------------------------


def plan_remove(namespace: str, observed: StackObserved) -> Plan:
    """``stack rm``: the stack's services, then its secrets, configs and networks
    (as docker removes them; volumes are never removed: they are per node)."""
    plan = Plan(project=namespace)
    services = [plan.add(RemoveService(name=s.name, service_id=s.id, display=f"Service {s.name}"),
                         f"service:{s.name}", "in the stack")
                for s in sorted(observed.services, key=lambda s: s.name)]
    for kind, objects in (("secrets", observed.secrets), ("configs", observed.configs)):
        for obj in sorted(objects, key=lambda o: o.name):
            plan.add(RemoveSwarmObject(kind=kind, name=obj.name, object_id=obj.id,
                                       display=f"{kind[:-1].capitalize()} {obj.name}"),
                     f"{kind[:-1]}:{obj.name}", "in the stack", tuple(services))
    for network in sorted(observed.networks, key=lambda n: n.name):
        plan.add(RemoveNetwork(name=network.id or network.name, display=f"Network {network.name}"),
                 f"network:{network.name}", "in the stack", tuple(services))
    if not plan:
        plan.warnings.append(f"Nothing found in stack: {namespace}")
    return plan

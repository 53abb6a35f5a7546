"""``run``: the plan of a one-off container and of what it needs first. Pure.

As Docker Compose v2's ``run``: the service's dependencies (``depends_on`` and
the implicit ones: ``links``, ``network_mode``/``ipc``/``pid: service:``,
``volumes_from``), unless ``no_deps``, are planned as ``up`` plans them
(created or recreated when they diverged, started), then the one-off container
waits on the same ``WaitCondition`` steps ``up`` uses (conditions, ``required:
false``, ``x-composer-ready``), and is created (not started: the caller
attaches first) with the networks and volumes it needs::

    #1 network:default CreateNetwork: not found
    #2 <- #1 service:db:1 CreateContainer: no existing container
    #3 <- #2 service:db:1 StartContainer: created
    #4 <- #3 service:db WaitCondition: service_healthy for app
    #5 <- #1, #4 service:app CreateContainer: one-off container

v2 names a one-off container ``{project}-{service}-run-{12 hex}`` (or
``--name``), labels it ``com.docker.compose.oneoff=True`` and
``com.docker.compose.slug=<64 hex>`` without a container number, drops the
service's restart policy, and, unless ``--use-aliases``, gives it no network
alias but its name.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import field
from typing import Any

from composer.backends import spec
from composer.backends.base import Observed
from composer.backends.errors import UnsupportedError
from composer.errors import UsageError
from composer.frozen import frozen
from composer.graph import build_graph, dependencies_of, start_order
from composer.model import labels
from composer.model.hash import service_config_hash
from composer.model.naming import service_image
from composer.model.project import Project, ServiceConfig
from composer.plan import checks
from composer.plan.plan import Plan
from composer.plan.shared import display, network_keys, volume_keys
from composer.plan.steps import CreateContainer
from composer.plan.up import RECREATE_DIVERGED, UpPlanner, UpPlanOptions

__all__ = [
    "LABEL_SLUG",
    "OneOffOptions",
    "RunPlanOptions",
    "check_run",
    "oneoff_name",
    "oneoff_service",
    "parse_port",
    "parse_volume",
    "plan_run",
    "run_dependencies",
]

LABEL_SLUG = labels.SLUG


@frozen(kw_only=True)
class OneOffOptions:
    """``run``'s flags as they change the service.

    ``command`` empty keeps the service's; ``entrypoint`` None keeps it (an
    entrypoint given without a command clears the command, as v2 does).
    ``environment`` entries are ``KEY=VAL`` or ``KEY`` (taken from the project's
    environment, dropped when unset); they win over ``file_environment``
    (``--env-from-file``), which wins over the service's own environment.
    ``publish`` replaces the service's ports; without it and without
    ``service_ports`` the container publishes none. ``remove`` is ``--rm`` (the
    engine removes the container when it exits); ``interactive`` keeps stdin open.
    """

    service: str
    command: Sequence[str] = ()
    entrypoint: Sequence[str] | None = None
    environment: Sequence[str] = ()
    file_environment: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    user: str = ""
    workdir: str = ""
    tty: bool = False
    interactive: bool = True
    remove: bool = False
    service_ports: bool = False
    publish: Sequence[str] = ()
    volumes: Sequence[str] = ()
    use_aliases: bool = False
    cap_add: Sequence[str] = ()
    cap_drop: Sequence[str] = ()


@frozen(kw_only=True)
class RunPlanOptions:
    """The one-off (``oneoff``, its ``slug``) and the engine facts the plan needs.

    ``no_deps`` leaves the dependencies alone; ``remove_orphans`` removes the
    containers of services the files no longer define. ``environment`` is the
    project's (``-e KEY`` values, ``DOCKER_DEFAULT_PLATFORM``, secrets and configs
    from ``environment:`` variables); ``working_dir``
    resolves relative ``-v`` paths. The rest are as in
    :class:`~composer.plan.up.UpPlanOptions`.
    """

    oneoff: OneOffOptions
    slug: str
    no_deps: bool = False
    remove_orphans: bool = False
    timeout: int | None = None
    config_files: Sequence[str] = ()
    working_dir: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    image_ids: Mapping[str, str] = field(default_factory=dict)
    image_volumes: Mapping[str, Collection[str]] = field(default_factory=dict)
    existing_external: Collection[str] | None = None
    known_services: Sequence[str] = ()
    api_version: str = spec.DEFAULT_API_VERSION
    base_environment: Mapping[str, str | None] | None = None
    facts: checks.EngineFacts | None = None


# -- the run flags -----------------------------------------------------------------------------


def parse_port(value: str) -> list[dict[str, Any]]:
    """A ``-p`` value (``[IP:][HOST:]CONTAINER[/PROTO]``, ranges allowed) as canonical ports."""
    mapping, _, proto = value.strip().partition("/")
    parts = mapping.rsplit(":", 2)
    ip, host = "", ""
    if len(parts) == 2:
        host, target = parts
    elif len(parts) == 3:
        ip, host, target = parts
    else:
        target = parts[0]
    ip = ip.strip("[]")
    ranges = (target, host) if host else (target,)
    if proto not in ("", "tcp", "udp", "sctp") or not all(
            re.fullmatch(r"\d+(-\d+)?", r) for r in ranges):
        raise UsageError(f"invalid port specification: {value!r}")
    start, _, end = target.partition("-")
    targets = range(int(start), int(end or start) + 1)
    hosts: list[str] = [host] * len(targets)
    if "-" in host:
        first, _, last = host.partition("-")
        span = range(int(first), int(last) + 1)
        if len(span) == len(targets):
            hosts = [str(p) for p in span]
    out = []
    for number, published in zip(targets, hosts, strict=True):
        port: dict[str, Any] = {"mode": "ingress", "target": number,
                                "protocol": proto or "tcp"}
        if published:
            port["published"] = published
        if ip:
            port["host_ip"] = ip
        out.append(port)
    return out


def parse_volume(value: str, working_dir: str) -> dict[str, Any]:
    """A ``-v`` value (``[SOURCE:]TARGET[:MODE]``) as a canonical service volume."""
    parts = value.split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0], "volume": {}}
    if len(parts) > 3 or not parts[1]:
        raise UsageError(f"invalid volume specification: {value!r}")
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    volume: dict[str, Any]
    if source.startswith(("/", ".", "~")):
        path = os.path.expanduser(source)
        volume = {"type": "bind", "source": os.path.normpath(os.path.join(working_dir, path)),
                  "target": target, "bind": {"create_host_path": True}}
    else:
        volume = {"type": "volume", "source": source, "target": target, "volume": {}}
    if "ro" in mode.split(","):
        volume["read_only"] = True
    return volume


def oneoff_name(project: str, options: OneOffOptions, slug: str) -> str:
    """``--name``, else ``{project}-{service}-run-{slug[:12]}``."""
    return options.name or f"{project}-{options.service}-run-{slug[:12]}"


def oneoff_service(project: Project, options: OneOffOptions, *,
                   environment: Mapping[str, str], working_dir: str, slug: str
                   ) -> ServiceConfig:
    """The one-off container's service: the project's, changed by the run flags.

    Its ``container_name`` is the one-off's name (:func:`oneoff_name`); restart
    policies and ``scale`` are dropped. Raises :class:`UsageError` for an
    unknown service or a malformed ``-p``/``-v``.
    """
    service = project.services.get(options.service)
    if service is None:
        raise UsageError(f"no such service: {options.service}")
    changes: dict[str, Any] = {"tty": options.tty, "stdin_open": options.interactive}
    if options.command:
        changes["command"] = tuple(options.command)
    if options.user:
        changes["user"] = options.user
    if options.workdir:
        changes["working_dir"] = options.workdir
    if options.entrypoint is not None:
        changes["entrypoint"] = tuple(options.entrypoint)
        if not options.command:
            changes["command"] = ()
    if options.cap_add:
        changes["cap_add"] = tuple(sorted(set(service.cap_add or ()) | set(options.cap_add)))
    if options.cap_drop:
        changes["cap_drop"] = tuple(sorted(set(service.cap_drop or ()) | set(options.cap_drop)))
    if options.environment or options.file_environment:
        env: dict[str, str | None] = {**(service.environment or {}),
                                      **options.file_environment}
        for entry in options.environment:
            key, sep, val = entry.partition("=")
            if sep:
                env[key] = val
            elif key in environment:
                env[key] = environment[key]
        changes["environment"] = env
    if options.labels:
        changes["labels"] = {**(service.labels or {}), **options.labels}
    # -p and -v in the canonical shape, read into the model by its own loader.
    flags: dict[str, Any] = {}
    if not options.service_ports:
        flags["ports"] = [port for value in options.publish for port in parse_port(value)]
    if options.volumes:
        flags["volumes"] = [parse_volume(v, working_dir) for v in options.volumes]
    if flags:
        parsed = ServiceConfig.from_dict(flags)
        if "ports" in flags:
            changes["ports"] = parsed.ports or ()
        if "volumes" in flags:
            changes["volumes"] = (*(service.volumes or ()), *(parsed.volumes or ()))
    changes["restart"] = None
    if service.deploy is not None and service.deploy.restart_policy is not None:
        changes["deploy"] = dataclasses.replace(service.deploy, restart_policy=None)
    changes["scale"] = None
    changes["container_name"] = oneoff_name(project.name, options, slug)
    return dataclasses.replace(service, **changes)


# -- the plan ----------------------------------------------------------------------------------


def run_dependencies(project: Project, service: str) -> list[str]:
    """The services ``service`` depends on, directly or not (implicit dependencies
    included), in project order."""
    if service not in project.services:
        raise UsageError(f"no such service: {service}")
    deps = dependencies_of(build_graph(project), [service]) - {service}
    return [name for name in project.services if name in deps]


def _check_oneoff(project: Project, service: ServiceConfig, options: RunPlanOptions) -> None:
    # The one-off container is always new: a name given with --name must be free.
    if options.oneoff.name:
        checks.check_oneoff_name(project, service, options.oneoff.name, options.facts)
    checks.check_services(project, [dataclasses.replace(service, container_name=None)],
                          options.facts)


def check_run(project: Project, options: RunPlanOptions) -> None:
    """Refuse what the engine is certain to refuse of the one-off container and of
    the dependencies ``run`` would create, as :func:`plan_run` does; the api calls
    it before pulling or building anything. Raises :class:`ValidationError` with
    the key path (:mod:`composer.plan.checks`), :class:`UsageError` for an unknown
    service or a malformed flag."""
    service = oneoff_service(project, options.oneoff, environment=options.environment,
                             working_dir=options.working_dir, slug=options.slug)
    _check_oneoff(project, service, options)
    deps = [] if options.no_deps else run_dependencies(project, options.oneoff.service)
    checks.check_services(project, [project.services[name] for name in deps
                                    if project.services[name].replicas > 0], options.facts)


def plan_run(project: Project, observed: Observed, options: RunPlanOptions) -> Plan:
    """The plan of ``run``: the dependencies as ``up`` brings them up, the waits the
    service's ``depends_on`` conditions ask for, then the one-off container's
    creation (``CreateContainer`` with ``oneoff`` set; the caller starts it).

    Raises :class:`UsageError` for an unknown service, and what
    :func:`~composer.plan.up.plan_up` raises for the dependencies.
    """
    run = options.oneoff
    name = run.service
    deps = [] if options.no_deps else run_dependencies(project, name)
    service = oneoff_service(project, run, environment=options.environment,
                             working_dir=options.working_dir, slug=options.slug)
    _check_oneoff(project, service, options)
    planner = UpPlanner(project, observed, UpPlanOptions(
        services=tuple(deps), recreate=RECREATE_DIVERGED,
        recreate_dependencies=RECREATE_DIVERGED, remove_orphans=options.remove_orphans,
        timeout=options.timeout, config_files=options.config_files,
        working_dir=options.working_dir, image_ids=options.image_ids,
        image_volumes=options.image_volumes, existing_external=options.existing_external,
        known_services=options.known_services, api_version=options.api_version,
        base_environment=options.base_environment, facts=options.facts,
        environment=options.environment),
        selected=[s for s in start_order(build_graph(project)) if s in deps])
    planner.create_phase(extra_networks=network_keys(service),
                         extra_volumes=volume_keys(service, project), orphans=bool(deps))
    planner.start_phase()
    infra = [planner.network_steps[k] for k in network_keys(service) if k in planner.network_steps]
    infra += [planner.volume_steps[k] for k in volume_keys(service, project)
              if k in planner.volume_steps]
    prereqs = [*planner.prerequisites(name), *infra]
    # Links and service: references: the dependencies' containers as they will be,
    # other services' running ones as they are.
    refs: dict[str, list[spec.ContainerRef]] = {}
    for c in sorted(observed.containers, key=lambda c: c.number):
        if c.project == project.name and not c.oneoff and c.state == "running" \
                and c.service not in planner.state:
            refs.setdefault(c.service, []).append(spec.ContainerRef(c.name, c.id))
    for dep in planner.state:
        refs[dep] = list(planner.refs.get(dep, ()))
    image = service_image(project.name, name, service)
    planner.plan.warnings.extend(spec.bind_warnings(project, service))
    try:
        request = spec.container_create_request(
            project, service, 1,
            environment=options.environment,
            config_files=list(options.config_files),
            working_dir=options.working_dir,
            image_id=options.image_ids.get(image, ""),
            config_hash=service_config_hash(service),
            oneoff=True,
            api_version=options.api_version,
            engine_checks=options.facts is None or options.facts.engine_checks,
            containers=refs,
            attach_stdin=run.interactive,
            auto_remove=run.remove,
            use_network_aliases=run.use_aliases,
            extra_labels={LABEL_SLUG: options.slug},
        )
    except UnsupportedError as exc:
        raise UnsupportedError(f"service {name}: {exc}") from None
    body = dict(request.body)
    # v2 gives a one-off container no number (it is "-1", and the label is left out).
    body["Labels"] = {k: v for k, v in body["Labels"].items() if k != labels.CONTAINER_NUMBER}
    resource = f"service:{name}"
    step = planner.plan.add(
        CreateContainer(name=request.name, body=body, platform=request.platform, service=name,
                        number=0, oneoff=True, display=display(request.name),
                        progress=("", "")),
        resource, "one-off container", tuple(prereqs))
    last = planner.connect_steps(request, resource, step)
    # v2 copies the secrets and configs in right after creating the one-off.
    planner.copies.add(planner.plan, service, request.name, request.name, resource, (last,))
    return planner.plan

"""Swarm API bodies for a stack, built as ``docker stack deploy`` builds them. Pure.

The reference is docker/cli's ``cli/compose/convert`` (``Service``, ``Networks``,
``Secrets``, ``Configs``, ``Volumes``) and ``cli/command/stack``'s deploy: the
same file gives the same ``ServiceSpec``, network create body, secret and config
specs, so ``docker service inspect`` cannot tell which tool deployed a stack.

Every resource is named ``{stack}_{key}`` unless the file names it (``name:``),
and labelled ``com.docker.stack.namespace={stack}``; a service's spec also keeps
the image as written in ``com.docker.stack.image`` (how a redeploy knows the
image did not change). Where docker/cli ranges over a Go map (environment,
ulimits, networks) it sorts, and so does this module.

Things the engine knows come in as arguments: the IDs of the stack's secrets and
configs (a service references them by ID and name). Reading a secret's file is
the caller's (:func:`file_objects` takes a reader).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from composer.errors import ConfigError
from composer.frozen import frozen
from composer.model.project import (
    FileObjectConfig,
    FileReference,
    Healthcheck,
    Project,
    ServiceConfig,
    UpdateConfig,
    VolumeMount,
)

__all__ = [
    "DEPRECATED",
    "FORBIDDEN",
    "LABEL_IMAGE",
    "LABEL_NAMESPACE",
    "UNSUPPORTED",
    "StackSpec",
    "deprecated_keys",
    "file_objects",
    "forbidden_keys",
    "network_bodies",
    "scope",
    "service_spec",
    "stack_networks",
    "unsupported_keys",
]

LABEL_NAMESPACE = "com.docker.stack.namespace"
LABEL_IMAGE = "com.docker.stack.image"

#: Service keys ``docker stack deploy`` ignores with ``Ignoring unsupported
#: options: ...`` (docker/cli ``types.UnsupportedProperties``).
UNSUPPORTED = (
    "build", "cgroupns_mode", "cgroup_parent", "devices", "domainname", "external_links",
    "ipc", "links", "mac_address", "network_mode", "pid", "privileged", "restart",
    "security_opt", "shm_size", "userns_mode",
)
#: Service keys it ignores with ``Ignoring deprecated options``.
DEPRECATED = {
    "container_name": "Setting the container name is not supported.",
    "expose": "Exposing ports is unnecessary - services on the same network can access "
              "each other's containers on any port.",
}
#: Service keys it refuses (``compose file contains unsupported options``).
FORBIDDEN = {
    "extends": "Support for `extends` is not implemented yet.",
    "volume_driver": "Instead of setting the volume driver on the service, define a volume "
                     "using the top-level `volumes` option and specify the driver there.",
    "volumes_from": "To share a volume between services, define it using the top-level "
                    "`volumes` option and reference it from each service that shares it "
                    "using the service-level `volumes` option.",
    "cpu_quota": "Set resource limits using deploy.resources",
    "cpu_shares": "Set resource limits using deploy.resources",
    "cpuset": "Set resource limits using deploy.resources",
    "mem_limit": "Set resource limits using deploy.resources",
    "memswap_limit": "Set resource limits using deploy.resources",
}
_USER_DEFINED_EXCLUDED = ("default", "bridge", "host", "none")


def scope(namespace: str, name: str) -> str:
    """docker/cli's ``Namespace.Scope``: ``{stack}_{name}``."""
    return f"{namespace}_{name}"


def _stack_labels(namespace: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(labels or {})
    out[LABEL_NAMESPACE] = namespace
    return out


def _keys_set(project: Project, keys: Sequence[str]) -> list[tuple[str, str]]:
    """(service, key) for each key of ``keys`` a service sets."""
    found = []
    for name, service in project.services.items():
        for key in keys:
            if getattr(service, key, None) not in (None, (), {}):
                found.append((name, key))
    return found


def unsupported_keys(project: Project) -> list[str]:
    """The keys of :data:`UNSUPPORTED` any service sets, sorted (docker's warning)."""
    return sorted({key for _, key in _keys_set(project, UNSUPPORTED)})


def deprecated_keys(project: Project) -> list[str]:
    """The keys of :data:`DEPRECATED` any service sets, sorted (docker's warning)."""
    return sorted({key for _, key in _keys_set(project, tuple(DEPRECATED))})


def forbidden_keys(project: Project) -> list[tuple[str, str]]:
    """(service, key) for each key of :data:`FORBIDDEN` a service sets."""
    return _keys_set(project, tuple(FORBIDDEN))


# -- networks ----------------------------------------------------------------------------------


def stack_networks(project: Project) -> list[str]:
    """The network keys the services use (``default`` for a service with none), sorted."""
    used: set[str] = set()
    for service in project.services.values():
        used.update(service.networks or {"default": None})
    return sorted(used)


def _network_name(project: Project, namespace: str, key: str) -> str:
    declared = project.networks.get(key)
    return (declared.name if declared is not None else None) or scope(namespace, key)


def network_bodies(project: Project, namespace: str
                   ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """(``POST /networks/create`` body by engine name, external network names) for
    the networks the services use, as docker/cli's ``convert.Networks`` and
    ``createNetworks`` (the driver defaults to ``overlay``)."""
    bodies: dict[str, dict[str, Any]] = {}
    external: list[str] = []
    for key in stack_networks(project):
        declared = project.networks.get(key)
        name = _network_name(project, namespace, key)
        if declared is not None and declared.external:
            external.append(name)
            continue
        body: dict[str, Any] = {
            "Name": name,
            "Driver": (declared.driver if declared else None) or "overlay",
            "Internal": bool(declared and declared.internal),
            "Attachable": bool(declared and declared.attachable),
            "Options": dict(declared.driver_opts or {}) if declared else {},
            "Labels": _stack_labels(namespace, declared.labels if declared else None),
        }
        ipam = declared.ipam if declared is not None else None
        if ipam is not None and (ipam.driver or ipam.config):
            body["IPAM"] = {
                "Driver": ipam.driver or "",
                "Config": [{"Subnet": pool.subnet or ""} for pool in ipam.config or ()],
            }
        bodies[name] = body
    return bodies, external


# -- secrets and configs -----------------------------------------------------------------------


@frozen
class FileObject:
    """A secret or config the stack creates: its spec (``Name``, ``Labels``, ``Data``)."""

    key: str
    name: str
    spec: Mapping[str, Any]


def file_objects(project: Project, namespace: str, kind: str,
                 read: Callable[[str], bytes]) -> list[FileObject]:
    """The ``SecretSpec``s (``kind="secrets"``) or ``ConfigSpec``s of the project's
    non-external ones, sorted by name; ``read`` reads a ``file:``."""
    declared: Mapping[str, FileObjectConfig | None] = getattr(project, kind)
    out = []
    for key, obj in declared.items():
        if obj is None or obj.external:
            continue
        name = obj.name or scope(namespace, key)
        spec: dict[str, Any] = {"Name": name, "Labels": _stack_labels(namespace, obj.labels)}
        if kind == "secrets" and obj.driver:
            data = b""
            spec["Driver"] = {"Name": obj.driver, "Options": dict(obj.driver_opts or {})}
        elif obj.file is not None:
            data = read(obj.file)
        elif obj.content is not None:
            data = obj.content.encode()
        elif obj.environment is not None:
            raise ConfigError(f"{kind[:-1]} from an environment variable is not supported "
                              "by a stack (use file: or content:)", path=(kind, key))
        else:
            data = b""
        spec["Data"] = base64.b64encode(data).decode()
        if obj.template_driver:
            spec["Templating"] = {"Name": obj.template_driver}
        out.append(FileObject(key, name, spec))
    return sorted(out, key=lambda o: o.name)


def _file_refs(project: Project, namespace: str, service: ServiceConfig, kind: str,
               ids: Mapping[str, str]) -> list[dict[str, Any]]:
    declared: Mapping[str, FileObjectConfig | None] = getattr(project, kind)
    refs: Sequence[FileReference] = getattr(service, kind) or ()
    out = []
    for index, ref in enumerate(refs):
        source = ref.source or ""
        if source not in declared:
            raise ConfigError(f"undefined {kind[:-1]} {source!r}",
                              path=("services", service.name, kind, index))
        obj = declared[source]
        name = (obj.name if obj is not None else None) or scope(namespace, source)
        # v2's loader makes a secret's default target /run/secrets/<source>; docker's
        # keeps the bare source (the engine mounts it under /run/secrets/ itself).
        target = ref.target or source
        if kind == "secrets" and target == f"/run/secrets/{source}":
            target = source
        file = {"Name": target, "UID": ref.uid or "0", "GID": ref.gid or "0",
                "Mode": 0o444 if ref.mode is None else ref.mode}
        key = "Secret" if kind == "secrets" else "Config"
        # An ID unknown yet (created by the same deploy) is filled in by the executor.
        out.append({"File": file, f"{key}ID": ids.get(name, ""), f"{key}Name": name})
    # By name, as docker sorts them; two references to one secret by target (docker
    # leaves those in a Go map's random order).
    key = "SecretName" if kind == "secrets" else "ConfigName"
    return sorted(out, key=lambda r: (str(r[key]), str(r["File"]["Name"])))


# -- services ----------------------------------------------------------------------------------


def _cpus(value: float | None) -> int:
    """docker's ``opts.ParseCPUs``: nanoCPUs (``0.5`` -> 500000000)."""
    return round(float(value) * 1_000_000_000) if value else 0


def _healthcheck(check: Healthcheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    if check.disable:
        return {"Test": ["NONE"]}
    out: dict[str, Any] = {}
    if check.test:
        out["Test"] = list(check.test)
    for ns, go in ((check.interval, "Interval"), (check.timeout, "Timeout"),
                   (check.start_period, "StartPeriod"),
                   (check.start_interval, "StartInterval")):
        if ns:
            out[go] = ns
    if check.retries:
        out["Retries"] = check.retries
    return out


def _restart_policy(service: ServiceConfig) -> dict[str, Any] | None:
    policy = service.deploy.restart_policy if service.deploy else None
    if policy is not None:
        out: dict[str, Any] = {}
        if policy.condition:
            out["Condition"] = policy.condition
        if policy.delay is not None:
            out["Delay"] = policy.delay
        if policy.max_attempts is not None:
            out["MaxAttempts"] = policy.max_attempts
        if policy.window is not None:
            out["Window"] = policy.window
        return out
    restart = service.restart or ""
    name, _, count = restart.partition(":")
    attempts = int(count) if count.isdigit() and int(count) > 0 else None
    if name in ("", "no"):
        return None
    condition = {"always": "any", "unless-stopped": "any", "on-failure": "on-failure"}.get(name)
    if condition is None:
        raise ConfigError(f"invalid restart policy: unknown policy '{name}' (must be one of "
                          "'no', 'always', 'on-failure', or 'unless-stopped')",
                          path=("services", service.name, "restart"))
    out = {"Condition": condition}
    if attempts is not None:
        out["MaxAttempts"] = attempts
    return out


def _update_config(config: UpdateConfig | None) -> dict[str, Any] | None:
    if config is None:
        return None
    out: dict[str, Any] = {"Parallelism": 1 if config.parallelism is None
                           else config.parallelism}
    if config.delay:
        out["Delay"] = config.delay
    if config.failure_action:
        out["FailureAction"] = config.failure_action
    if config.monitor:
        out["Monitor"] = config.monitor
    out["MaxFailureRatio"] = config.max_failure_ratio or 0
    out["Order"] = config.order or ""
    return out


def _resources(service: ServiceConfig) -> dict[str, Any]:
    resources = service.deploy.resources if service.deploy else None
    out: dict[str, Any] = {}
    if resources is None:
        return out
    if resources.limits is not None:
        limits = resources.limits
        limit: dict[str, Any] = {}
        if _cpus(limits.cpus):
            limit["NanoCPUs"] = _cpus(limits.cpus)
        if limits.memory:
            limit["MemoryBytes"] = limits.memory
        if limits.pids:
            limit["Pids"] = limits.pids
        out["Limits"] = limit
    if resources.reservations is not None:
        reserve = resources.reservations
        reservation: dict[str, Any] = {}
        if _cpus(reserve.cpus):
            reservation["NanoCPUs"] = _cpus(reserve.cpus)
        if reserve.memory:
            reservation["MemoryBytes"] = reserve.memory
        generic = [{"DiscreteResourceSpec": {"Kind": g.discrete_resource_spec.kind or "",
                                             "Value": g.discrete_resource_spec.value or 0}}
                   for g in reserve.generic_resources or () if g.discrete_resource_spec]
        if generic:
            reservation["GenericResources"] = generic
        out["Reservations"] = reservation
    return out


def _mode(service: ServiceConfig) -> dict[str, Any]:
    deploy = service.deploy
    mode = (deploy.mode if deploy else None) or "replicated"
    replicas = deploy.replicas if deploy else None
    if replicas is None and service.scale is not None:
        replicas = service.scale
    path = ("services", service.name, "deploy", "mode")
    if mode in ("global", "global-job"):
        if replicas is not None:
            raise ConfigError("replicas can only be used with replicated or replicated-job "
                              "mode", path=path)
        return {"Global": {}} if mode == "global" else {"GlobalJob": {}}
    if mode == "replicated-job":
        job: dict[str, Any] = {}
        if replicas is not None:
            job = {"MaxConcurrent": replicas, "TotalCompletions": replicas}
        return {"ReplicatedJob": job}
    if mode == "replicated":
        return {"Replicated": {} if replicas is None else {"Replicas": replicas}}
    raise ConfigError(f"unknown mode: {mode}", path=path)


def _endpoint(service: ServiceConfig) -> dict[str, Any]:
    ports = []
    for port in service.ports or ():
        published = int(port.published) if port.published and port.published.isdigit() else 0
        entry: dict[str, Any] = {"Protocol": port.protocol or "tcp",
                                 "TargetPort": port.target or 0}
        if published:
            entry["PublishedPort"] = published
        entry["PublishMode"] = port.mode or "ingress"
        ports.append(entry)
    ports.sort(key=lambda p: (p.get("PublishedPort", 0), p["TargetPort"], p["Protocol"],
                              p["PublishMode"]))
    out: dict[str, Any] = {}
    mode = (service.deploy.endpoint_mode if service.deploy else None) or ""
    if mode:
        out["Mode"] = mode.lower()
    if ports:
        out["Ports"] = ports
    return out


def _mount(project: Project, namespace: str, service: ServiceConfig, index: int,
           volume: VolumeMount) -> dict[str, Any]:
    kind = volume.type or "volume"
    out: dict[str, Any] = {"Type": kind}
    if volume.source:
        out["Source"] = volume.source
    if volume.target:
        out["Target"] = volume.target
    if volume.read_only:
        out["ReadOnly"] = True
    if volume.consistency:
        out["Consistency"] = volume.consistency
    path = ("services", service.name, "volumes", index)
    if kind == "volume" and volume.source:
        if volume.source not in project.volumes:
            raise ConfigError(f"undefined volume {volume.source!r}", path=path)
        declared = project.volumes[volume.source]
        out["Source"] = (declared.name if declared else None) or scope(namespace, volume.source)
        options: dict[str, Any] = {}
        if volume.volume is not None:
            if volume.volume.nocopy:
                options["NoCopy"] = True
            if volume.volume.subpath:
                options["Subpath"] = volume.volume.subpath
        if not (declared is not None and declared.external):
            options["Labels"] = _stack_labels(namespace, declared.labels if declared else None)
            if declared is not None and (declared.driver or declared.driver_opts is not None):
                driver: dict[str, Any] = {}
                if declared.driver:
                    driver["Name"] = declared.driver
                if declared.driver_opts:
                    driver["Options"] = dict(declared.driver_opts)
                options["DriverConfig"] = driver
        out["VolumeOptions"] = options
    elif kind == "bind":
        if not volume.source:
            raise ConfigError("invalid bind source, source cannot be empty", path=path)
        if volume.bind is not None and volume.bind.propagation:
            out["BindOptions"] = {"Propagation": volume.bind.propagation}
    elif kind == "tmpfs":
        if volume.source:
            raise ConfigError("invalid tmpfs source, source must be empty", path=path)
        if volume.tmpfs is not None and volume.tmpfs.size:
            out["TmpfsOptions"] = {"SizeBytes": volume.tmpfs.size}
    elif kind not in ("volume", "npipe"):
        raise ConfigError(f"volume type {kind} is not supported by a stack", path=path)
    return out


def _networks(project: Project, namespace: str, service: ServiceConfig) -> list[dict[str, Any]]:
    out = []
    for key, attachment in (service.networks or {"default": None}).items():
        if key != "default" and key not in project.networks:
            raise ConfigError(f"undefined network {key!r}",
                              path=("services", service.name, "networks", key))
        target = _network_name(project, namespace, key)
        entry: dict[str, Any] = {"Target": target}
        aliases = list(attachment.aliases or ()) if attachment else []
        if target not in _USER_DEFINED_EXCLUDED and not target.startswith("container:"):
            aliases.append(service.name)
        if aliases:
            entry["Aliases"] = aliases
        if attachment is not None and attachment.driver_opts:
            entry["DriverOpts"] = dict(attachment.driver_opts)
        out.append(entry)
    return sorted(out, key=lambda n: str(n["Target"]))


def _extra_hosts(service: ServiceConfig, declared: Sequence[str] | None) -> list[str]:
    """``host=ip`` (the model's form) as SwarmKit's ``ip host``, in the file's order
    (``declared``; the model holds them sorted, as v2 prints them)."""
    entries: Sequence[str] = service.extra_hosts or ()
    if declared is not None and sorted(declared) == sorted(entries):
        entries = declared
    hosts = []
    for entry in entries:
        host, sep, ip = entry.partition("=")
        if not sep:
            host, sep, ip = entry.partition(":")
        if sep:
            hosts.append(f"{ip} {host}")
    return hosts


def _normalize_capability(cap: str) -> str:
    cap = cap.strip().upper()
    return cap if cap in ("ALL", "RESET") or cap.startswith("CAP_") else f"CAP_{cap}"


def _capabilities(service: ServiceConfig) -> tuple[list[str], list[str]]:
    """docker's ``opts.EffectiveCapAddCapDrop``: normalised, ``ALL`` alone, a
    capability both added and dropped is added, ``RESET`` dropped; sorted."""
    add = {_normalize_capability(c) for c in service.cap_add or ()}
    drop = {_normalize_capability(c) for c in service.cap_drop or ()}
    if "ALL" in add:
        add = {"ALL"}
    if "ALL" in drop:
        drop = {"ALL"}
    return (sorted(c for c in add if c != "RESET"),
            sorted(c for c in drop if c not in add and c != "RESET"))


def _ulimits(service: ServiceConfig) -> list[dict[str, Any]]:
    out = []
    for name, limit in sorted((service.ulimits or {}).items()):
        soft, hard = limit.soft or 0, limit.hard or 0
        if limit.single:
            soft = hard = limit.single
        out.append({"Name": name, "Hard": hard, "Soft": soft})
    return out


def service_spec(project: Project, namespace: str, service: ServiceConfig, *,
                 secret_ids: Mapping[str, str] | None = None,
                 config_ids: Mapping[str, str] | None = None,
                 declared_hosts: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``ServiceSpec`` of ``service`` in the stack ``namespace``, as docker/cli's
    ``convert.Service``; ``secret_ids``/``config_ids`` map names to engine IDs
    (an unknown one is left empty); ``declared_hosts``: ``extra_hosts`` in the
    file's order."""
    if not service.image:
        raise ConfigError(f"invalid image reference for service {service.name}: "
                          "no image specified", path=("services", service.name))
    environment = sorted(k if v is None else f"{k}={v}"
                         for k, v in (service.environment or {}).items())
    container: dict[str, Any] = {"Image": service.image,
                                 "Labels": _stack_labels(namespace, service.labels)}
    if service.entrypoint:
        container["Command"] = list(service.entrypoint)
    if service.command:
        container["Args"] = list(service.command)
    if service.hostname:
        container["Hostname"] = service.hostname
    if environment:
        container["Env"] = environment
    if service.working_dir:
        container["Dir"] = service.working_dir
    if service.user:
        container["User"] = service.user
    container["Privileges"] = {"CredentialSpec": None, "SELinuxContext": None}
    if service.init is not None:
        container["Init"] = service.init
    if service.stop_signal:
        container["StopSignal"] = service.stop_signal
    if service.tty:
        container["TTY"] = True
    if service.stdin_open:
        container["OpenStdin"] = True
    if service.read_only:
        container["ReadOnly"] = True
    mounts = [_mount(project, namespace, service, i, v)
              for i, v in enumerate(service.volumes or ())]
    if mounts:
        container["Mounts"] = mounts
    if service.stop_grace_period is not None:
        container["StopGracePeriod"] = service.stop_grace_period
    check = _healthcheck(service.healthcheck)
    if check is not None:
        container["Healthcheck"] = check
    hosts = _extra_hosts(service, declared_hosts)
    if hosts:
        container["Hosts"] = hosts
    if service.dns or service.dns_search:
        dns: dict[str, Any] = {}
        if service.dns:
            dns["Nameservers"] = list(service.dns)
        if service.dns_search:
            dns["Search"] = list(service.dns_search)
        container["DNSConfig"] = dns
    secrets = _file_refs(project, namespace, service, "secrets", secret_ids or {})
    if secrets:
        container["Secrets"] = secrets
    configs = _file_refs(project, namespace, service, "configs", config_ids or {})
    if configs:
        container["Configs"] = configs
    if service.isolation:
        container["Isolation"] = service.isolation
    if service.sysctls:
        container["Sysctls"] = dict(service.sysctls)
    cap_add, cap_drop = _capabilities(service)
    if cap_add:
        container["CapabilityAdd"] = cap_add
    if cap_drop:
        container["CapabilityDrop"] = cap_drop
    ulimits = _ulimits(service)
    if ulimits:
        container["Ulimits"] = ulimits
    if service.oom_score_adj:
        container["OomScoreAdj"] = service.oom_score_adj

    deploy = service.deploy
    placement_model = deploy.placement if deploy else None
    placement: dict[str, Any] = {}
    if placement_model is not None:
        if placement_model.constraints:
            placement["Constraints"] = list(placement_model.constraints)
        if placement_model.preferences:
            placement["Preferences"] = [{"Spread": {"SpreadDescriptor": p.spread or ""}}
                                        for p in placement_model.preferences]
        if placement_model.max_replicas_per_node:
            placement["MaxReplicas"] = placement_model.max_replicas_per_node
    task: dict[str, Any] = {"ContainerSpec": container, "Resources": _resources(service)}
    restart = _restart_policy(service)
    if restart is not None:
        task["RestartPolicy"] = restart
    task["Placement"] = placement
    task["Networks"] = _networks(project, namespace, service)
    if service.logging is not None and (service.logging.driver or service.logging.options):
        log: dict[str, Any] = {}
        if service.logging.driver:
            log["Name"] = service.logging.driver
        if service.logging.options:
            log["Options"] = dict(service.logging.options)
        task["LogDriver"] = log
    task["ForceUpdate"] = 0

    labels = _stack_labels(namespace, deploy.labels if deploy else None)
    labels[LABEL_IMAGE] = service.image
    spec: dict[str, Any] = {"Name": scope(namespace, service.name), "Labels": labels,
                            "TaskTemplate": task, "Mode": _mode(service)}
    update = _update_config(deploy.update_config if deploy else None)
    if update is not None:
        spec["UpdateConfig"] = update
    rollback = _update_config(deploy.rollback_config if deploy else None)
    if rollback is not None:
        spec["RollbackConfig"] = rollback
    spec["EndpointSpec"] = _endpoint(service)
    return spec


@frozen
class StackSpec:
    """Everything a deploy of ``project`` as stack ``namespace`` creates, but the
    services (whose specs need the secrets' and configs' IDs)."""

    namespace: str
    networks: Mapping[str, Mapping[str, Any]]
    external_networks: tuple[str, ...]
    secrets: tuple[FileObject, ...]
    configs: tuple[FileObject, ...]

    @classmethod
    def of(cls, project: Project, namespace: str, read: Callable[[str], bytes]) -> StackSpec:
        networks, external = network_bodies(project, namespace)
        return cls(namespace, networks, tuple(external),
                   tuple(file_objects(project, namespace, "secrets", read)),
                   tuple(file_objects(project, namespace, "configs", read)))

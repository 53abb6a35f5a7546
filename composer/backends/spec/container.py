"""The ``POST /containers/create`` body of one replica, as Docker Compose v2.40.3
sends it: config, host config (resources, security, restart policy), labels,
with the mount and network parts from :mod:`.mounts` and :mod:`.network`. Pure.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from composer._version import __version__
from composer.backends.errors import UnsupportedError
from composer.backends.spec.common import (
    DEFAULT_API_VERSION,
    ContainerRef,
    api_at_least,
    container_name,
    normalize_capabilities,
    or_none,
    resolve_mode,
    resolve_service_references,
)
from composer.backends.spec.mounts import binds_and_mounts
from composer.backends.spec.network import (
    container_mac,
    network_connect_bodies,
    networking,
    networks_by_priority,
    service_links,
)
from composer.frozen import frozen
from composer.model import labels as L
from composer.model.naming import service_image
from composer.model.project import (
    DeviceRequest,
    Healthcheck,
    Project,
    ServiceConfig,
    ThrottleDevice,
    WeightDevice,
)

__all__ = [
    "ContainerRequest",
    "container_create_body",
    "container_create_request",
    "container_platform",
]

# A CDI device name: vendor/class=name (tags.cncf.io/container-device-interface).
_CDI_NAME = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)+=[A-Za-z0-9_.:-]+$"
)


@frozen(slots=True)
class ContainerRequest:
    """Everything needed to create one container the way v2 does.

    ``connects`` are ``(network name, endpoint config)`` pairs to post to
    ``/networks/{name}/connect`` after create and before start (engines before
    API 1.44 take one network at create time).
    """

    name: str
    body: Mapping[str, Any]
    platform: str | None
    connects: tuple[tuple[str, Mapping[str, Any]], ...] = ()


def _float32(value: float) -> float:
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def _scaled(value: float | None, factor: float) -> int:
    """``int64(float32 * factor)`` as Go computes it: the product rounded to float32."""
    if not value:
        return 0
    return int(_float32(_float32(float(value)) * _float32(factor)))


def container_platform(service: ServiceConfig,
                       environment: Mapping[str, str] | None = None) -> str | None:
    """The ``platform`` query parameter of the create call (or ``DOCKER_DEFAULT_PLATFORM``)."""
    platform = service.platform or (environment or {}).get("DOCKER_DEFAULT_PLATFORM")
    return str(platform) if platform else None


# -- labels ------------------------------------------------------------------------------------


def _depends_on_label(service: ServiceConfig) -> str:
    return ",".join(
        f"{name}:{dep.condition or 'service_started'}:{'true' if dep.restart else 'false'}"
        for name, dep in (service.depends_on or {}).items())


def _container_labels(project_name: str, service: ServiceConfig, number: int, *,
                      config_files: Sequence[str], working_dir: str, image_id: str,
                      config_hash: str, oneoff: bool, version: str,
                      env_files: Sequence[str],
                      extra: Mapping[str, str] | None) -> dict[str, str]:
    labels: dict[str, str] = {str(k): str(v) for k, v in (service.labels or {}).items()}
    labels.update({
        L.PROJECT: project_name,
        L.SERVICE: service.name,
        L.VERSION: version,
        L.WORKING_DIR: working_dir,
        L.CONFIG_FILES: ",".join(config_files),
        L.ONEOFF: "True" if oneoff else "False",
    })
    if env_files:
        labels[L.ENVIRONMENT_FILE] = ",".join(env_files)
    if extra:
        labels.update(extra)
    labels[L.CONFIG_HASH] = config_hash
    labels[L.CONTAINER_NUMBER] = str(number)
    labels[L.DEPENDS_ON] = _depends_on_label(service)
    labels[L.IMAGE_DIGEST] = image_id
    return labels


# -- the container config ----------------------------------------------------------------------


def _environment(service: ServiceConfig,
                 base: Mapping[str, str | None] | None) -> list[str] | None:
    merged: dict[str, str | None] = dict(base or {})
    merged.update(service.environment or {})
    if not merged:
        return None
    return [k if v is None else f"{k}={v}" for k, v in merged.items()]


def _healthcheck(service_name: str, check: Healthcheck | None,
                 api_version: str, engine_checks: bool = True) -> dict[str, Any] | None:
    if check is None:
        return None
    test = ("NONE",) if check.disable else check.test
    out: dict[str, Any] = {}
    if test:
        out["Test"] = list(test)
    for ns, go in ((check.interval, "Interval"), (check.timeout, "Timeout"),
                   (check.start_period, "StartPeriod")):
        if ns:
            out[go] = ns
    if check.start_interval is not None:
        if engine_checks and not api_at_least(api_version, "1.44"):
            raise UnsupportedError(
                "can't set healthcheck.start_interval as feature require Docker Engine v25 "
                f"or later (service {service_name})"
            )
        if check.start_interval:
            out["StartInterval"] = check.start_interval
    if check.retries:
        out["Retries"] = check.retries
    return out


def _port_key(target: int | None, protocol: str | None) -> str:
    return f"{target}/{protocol or 'tcp'}"


def _exposed_ports(service: ServiceConfig) -> dict[str, Any]:
    ports: dict[str, Any] = {}
    for entry in service.expose or ():
        ports[entry] = {}
    for port in service.ports or ():
        ports[_port_key(port.target, port.protocol)] = {}
    return ports


def _port_bindings(service: ServiceConfig) -> dict[str, list[dict[str, str]]]:
    bindings: dict[str, list[dict[str, str]]] = {}
    for port in service.ports or ():
        bindings.setdefault(_port_key(port.target, port.protocol), []).append({
            "HostIp": port.host_ip or "",
            "HostPort": port.published or "",
        })
    return bindings


def _restart_name(condition: str) -> str:
    return {"none": "no", "no": "no", "on-failure": "on-failure",
            "unless-stopped": "unless-stopped", "any": "always",
            "always": "always"}.get(condition, condition)


def _restart_policy(service: ServiceConfig) -> dict[str, Any]:
    name, attempts = "", 0
    if service.restart:
        head, _, count = service.restart.partition(":")
        name = _restart_name(head)
        attempts = int(count) if count.isdigit() else 0
    policy = service.deploy.restart_policy if service.deploy is not None else None
    if policy is not None:
        name = _restart_name(policy.condition or "")
        attempts = policy.max_attempts or 0
    return {"Name": name, "MaximumRetryCount": attempts}


def _tmpfs(service: ServiceConfig) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in service.tmpfs or ():
        path, _, options = entry.partition(":")
        out[path] = options
    return out


def _ulimits(service: ServiceConfig) -> list[dict[str, Any]] | None:
    if not service.ulimits:
        return None
    out = []
    for name in sorted(service.ulimits):
        value = service.ulimits[name]
        soft = value.soft or value.single or 0
        hard = value.hard or value.single or 0
        out.append({"Name": name, "Hard": hard, "Soft": soft})
    return out


def _weights(devices: Sequence[WeightDevice] | None) -> list[dict[str, Any]] | None:
    if not devices:
        return None
    return [{"Path": d.path or "", "Weight": d.weight or 0} for d in devices]


def _throttle(devices: Sequence[ThrottleDevice] | None) -> list[dict[str, Any]] | None:
    if not devices:
        return None
    return [{"Path": d.path or "", "Rate": d.rate or 0} for d in devices]


def _device_request(device: DeviceRequest, capabilities: list[str]) -> dict[str, Any]:
    return {
        "Driver": device.driver or "",
        "Count": device.count or 0,
        "DeviceIDs": or_none(device.device_ids),
        "Capabilities": [capabilities],
        "Options": or_none(device.options),
    }


def _resources(service: ServiceConfig) -> dict[str, Any]:
    res: dict[str, Any] = {
        "CpuShares": service.cpu_shares or 0,
        "Memory": service.mem_limit or 0,
        "NanoCpus": _scaled(service.cpus, 1e9),
        "CgroupParent": service.cgroup_parent or "",
        "BlkioWeight": 0,
        "BlkioWeightDevice": None,
        "BlkioDeviceReadBps": None,
        "BlkioDeviceWriteBps": None,
        "BlkioDeviceReadIOps": None,
        "BlkioDeviceWriteIOps": None,
        "CpuPeriod": service.cpu_period or 0,
        "CpuQuota": service.cpu_quota or 0,
        "CpuRealtimePeriod": service.cpu_rt_period or 0,
        "CpuRealtimeRuntime": service.cpu_rt_runtime or 0,
        "CpusetCpus": service.cpuset or "",
        "CpusetMems": "",
        "Devices": None,
        "DeviceCgroupRules": or_none(service.device_cgroup_rules),
        "DeviceRequests": None,
        "MemoryReservation": service.mem_reservation or 0,
        "MemorySwap": service.memswap_limit or 0,
        "MemorySwappiness": service.mem_swappiness or None,
        "OomKillDisable": bool(service.oom_kill_disable),
        "PidsLimit": service.pids_limit or None,
        "Ulimits": None,
        "CpuCount": service.cpu_count or 0,
        "CpuPercent": _scaled(service.cpu_percent, 100),
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
    }
    blkio = service.blkio_config
    if blkio is not None:
        res["BlkioWeight"] = blkio.weight or 0
        res["BlkioWeightDevice"] = _weights(blkio.weight_device)
        res["BlkioDeviceReadBps"] = _throttle(blkio.device_read_bps)
        res["BlkioDeviceReadIOps"] = _throttle(blkio.device_read_iops)
        res["BlkioDeviceWriteBps"] = _throttle(blkio.device_write_bps)
        res["BlkioDeviceWriteIOps"] = _throttle(blkio.device_write_iops)
    requests: list[dict[str, Any]] = []
    resources = service.deploy.resources if service.deploy is not None else None
    limits = resources.limits if resources is not None else None
    if limits is not None:
        if limits.memory:
            res["Memory"] = limits.memory
        if limits.cpus:
            res["NanoCpus"] = _scaled(limits.cpus, 1e9)
        if (limits.pids or 0) > 0:
            res["PidsLimit"] = limits.pids
    reservations = resources.reservations if resources is not None else None
    if reservations is not None:
        if reservations.memory:
            res["MemoryReservation"] = reservations.memory
        for device in reservations.devices or ():
            requests.append(_device_request(device, list(device.capabilities or ())))
    devices = []
    cdi = []
    for mapping in service.devices or ():
        source = mapping.source or ""
        target = mapping.target or ""
        if source == target and _CDI_NAME.match(source):
            cdi.append(source)
            continue
        devices.append({"PathOnHost": source, "PathInContainer": target,
                        "CgroupPermissions": mapping.permissions or ""})
    if devices:
        res["Devices"] = devices
    if cdi:
        requests.append({"Driver": "cdi", "Count": 0, "DeviceIDs": cdi, "Capabilities": None,
                         "Options": None})
    for gpu in service.gpus or ():
        requests.append(_device_request(gpu, [*(gpu.capabilities or ()), "gpu"]))
    if requests:
        res["DeviceRequests"] = requests
    res["Ulimits"] = _ulimits(service)
    return res


def _security_opts(service: ServiceConfig, working_dir: str,
                   read_file: Callable[[str], bytes]) -> tuple[list[str] | None, bool]:
    if service.security_opt is None:
        return None, False
    parsed: list[str] = []
    unconfined = False
    for opt in service.security_opt:
        if opt == "systempaths=unconfined":
            unconfined = True
            continue
        key, sep, value = opt.partition("=")
        if not sep and key != "no-new-privileges":
            if ":" not in opt:
                raise UnsupportedError(f'Invalid security-opt: "{opt}"')
            key, _, value = opt.partition(":")
        if key == "seccomp" and value not in ("unconfined", "builtin"):
            path = os.path.normpath(os.path.join(working_dir, value))
            try:
                profile = json.loads(read_file(path))
            except (OSError, ValueError) as exc:
                raise UnsupportedError(
                    f"opening seccomp profile ({value}) failed: {exc}"
                ) from exc
            parsed.append("seccomp=" + json.dumps(profile, separators=(",", ":")))
        else:
            parsed.append(opt)
    return parsed, unconfined


# -- the create body ---------------------------------------------------------------------------


def _read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def container_create_body(
    project: Project,
    service: ServiceConfig,
    number: int,
    *,
    config_files: Sequence[str],
    working_dir: str,
    image_id: str,
    config_hash: str,
    oneoff: bool = False,
    version: str = __version__,
    api_version: str = DEFAULT_API_VERSION,
    env_files: Sequence[str] = (),
    containers: Mapping[str, Sequence[ContainerRef]] | None = None,
    inherit: Mapping[str, Any] | None = None,
    image_volumes: Collection[str] = (),
    base_environment: Mapping[str, str | None] | None = None,
    attach_stdin: bool = False,
    auto_remove: bool = False,
    use_network_aliases: bool = True,
    extra_labels: Mapping[str, str] | None = None,
    read_file: Callable[[str], bytes] = _read_file,
    engine_checks: bool = True,
) -> dict[str, Any]:
    """The ``POST /containers/create`` body for replica ``number`` of ``service``.

    ``project`` gives the declared networks, volumes, secrets and configs;
    ``service`` is one of its services as the model holds it (``run`` passes
    one its flags changed). ``config_files`` and ``working_dir`` go to the
    project labels, ``image_id`` to ``com.docker.compose.image``, ``config_hash``
    to ``com.docker.compose.config-hash`` (see :mod:`composer.model.hash`),
    ``version`` to ``com.docker.compose.version``. ``containers`` maps service
    names to their existing containers (for links and ``service:`` references);
    ``inherit`` is the listing entry (with ``Mounts``) of a container being
    replaced, whose anonymous volumes the new one takes over; ``image_volumes``
    the image's declared volumes. ``base_environment`` (proxies, see
    :func:`proxy_environment`) is overridden by the service's environment.
    ``engine_checks`` False: composer runs the healthchecks, and a
    ``start_interval`` is kept whatever ``api_version`` (in the body, and in
    :data:`~composer.model.labels.HEALTH_START_INTERVAL` for an engine that drops
    the field it does not know). Raises ``UnsupportedError`` for what v2 refuses.
    """
    refs = containers or {}
    service = resolve_service_references(service, refs)
    name = container_name(project.name, service, number)
    links = service_links(project.name, service, number, refs)
    network_mode, networking_config = networking(
        project, service, name=name, links=links, use_network_aliases=use_network_aliases,
        api_version=api_version, containers=refs)
    order = networks_by_priority(service)
    mac = "" if service.network_mode else container_mac(
        service, order[0] if order else None, api_version)
    stdin_open = bool(service.stdin_open)
    binds, mounts = binds_and_mounts(project, service, inherit, image_volumes)
    security_opt, unconfined = _security_opts(service, working_dir, read_file)
    logging = service.logging
    ipc = resolve_mode(service.ipc or "", refs, "IPC namespace")
    pid = resolve_mode(service.pid or "", refs, "PID namespace")

    body: dict[str, Any] = {
        "Hostname": service.hostname or "",
        "Domainname": service.domainname or "",
        "User": service.user or "",
        "AttachStdin": attach_stdin,
        "AttachStdout": True,
        "AttachStderr": True,
    }
    exposed = _exposed_ports(service)
    if exposed:
        body["ExposedPorts"] = exposed
    body.update({
        "Tty": bool(service.tty),
        "OpenStdin": stdin_open,
        "StdinOnce": attach_stdin and stdin_open,
        "Env": _environment(service, base_environment),
        "Cmd": None if service.command is None else list(service.command),
    })
    healthcheck = _healthcheck(service.name, service.healthcheck, api_version, engine_checks)
    if healthcheck is not None:
        body["Healthcheck"] = healthcheck
    body.update({
        "Image": service_image(project.name, service.name, service),
        "Volumes": None,
        "WorkingDir": service.working_dir or "",
        "Entrypoint": None if service.entrypoint is None else list(service.entrypoint),
    })
    if service.network_mode == "disabled":
        body["NetworkDisabled"] = True
    if mac:
        body["MacAddress"] = mac
    body["OnBuild"] = None
    body["Labels"] = _container_labels(
        project.name, service, number, config_files=config_files,
        working_dir=working_dir, image_id=image_id, config_hash=config_hash, oneoff=oneoff,
        version=version, env_files=env_files, extra=extra_labels)
    if not engine_checks and healthcheck and healthcheck.get("StartInterval"):
        body["Labels"][L.HEALTH_START_INTERVAL] = str(healthcheck["StartInterval"])
    if service.stop_signal:
        body["StopSignal"] = service.stop_signal
    if service.stop_grace_period is not None:
        body["StopTimeout"] = service.stop_grace_period // 1_000_000_000

    host: dict[str, Any] = {
        "Binds": binds,
        "ContainerIDFile": "",
        "LogConfig": {
            "Type": (logging.driver if logging is not None else None) or "",
            "Config": or_none(logging.options if logging is not None else None),
        },
        "NetworkMode": network_mode,
        "PortBindings": _port_bindings(service),
        "RestartPolicy": _restart_policy(service),
        "AutoRemove": auto_remove,
        "VolumeDriver": str(getattr(service, "volume_driver", None)
                            or service.extensions.get("volume_driver") or ""),
        "VolumesFrom": or_none(service.volumes_from),
        "ConsoleSize": [0, 0],
    }
    if service.annotations:
        host["Annotations"] = dict(service.annotations)
    host.update({
        "CapAdd": normalize_capabilities(service.cap_add),
        "CapDrop": normalize_capabilities(service.cap_drop),
        "CgroupnsMode": service.cgroup or "",
        "Dns": or_none(service.dns),
        "DnsOptions": or_none(service.dns_opt),
        "DnsSearch": or_none(service.dns_search),
        "ExtraHosts": service.extra_hosts_for_engine(),
        "GroupAdd": or_none(service.group_add),
        "IpcMode": ipc,
        "Cgroup": "",
        "Links": links or None,
        "OomScoreAdj": service.oom_score_adj or 0,
        "PidMode": pid,
        "Privileged": bool(service.privileged),
        "PublishAllPorts": False,
        "ReadonlyRootfs": bool(service.read_only),
        "SecurityOpt": security_opt,
    })
    if service.storage_opt:
        host["StorageOpt"] = dict(service.storage_opt)
    tmpfs = _tmpfs(service)
    if tmpfs:
        host["Tmpfs"] = tmpfs
    host["UTSMode"] = service.uts or ""
    host["UsernsMode"] = service.userns_mode or ""
    host["ShmSize"] = service.shm_size or 0
    if service.sysctls:
        host["Sysctls"] = {str(k): str(v) for k, v in service.sysctls.items()}
    if service.runtime:
        host["Runtime"] = service.runtime
    host["Isolation"] = service.isolation or ""
    host.update(_resources(service))
    if mounts:
        host["Mounts"] = mounts
    host["MaskedPaths"] = [] if unconfined else None
    host["ReadonlyPaths"] = [] if unconfined else None
    if service.init is not None:
        host["Init"] = bool(service.init)
    body["HostConfig"] = host
    if networking_config is not None:
        body["NetworkingConfig"] = networking_config
    return body


def container_create_request(
    project: Project,
    service: ServiceConfig,
    number: int,
    *,
    environment: Mapping[str, str] | None = None,
    **options: Any,
) -> ContainerRequest:
    """Name, body, platform and post-create network connects for one replica.

    ``options`` are :func:`container_create_body`'s keyword arguments;
    ``environment`` is the project's (for ``DOCKER_DEFAULT_PLATFORM``).
    """
    body = container_create_body(project, service, number, **options)
    api_version = str(options.get("api_version", DEFAULT_API_VERSION))
    links = body["HostConfig"]["Links"] or ()
    connects = network_connect_bodies(
        project, service, number, links=links,
        use_network_aliases=bool(options.get("use_network_aliases", True)),
        api_version=api_version)
    return ContainerRequest(
        name=container_name(project.name, service, number),
        body=body,
        platform=container_platform(service, environment),
        connects=tuple(connects),
    )

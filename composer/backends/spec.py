"""Engine API request bodies, built as Docker Compose v2.40.3 builds them.

Input is the canonical project dict (what ``composer config --format json``
prints, holding real values: ``$`` not doubled); output is the JSON the Docker
Engine API takes for ``POST /containers/create``, ``POST /networks/create``,
``POST /volumes/create`` and ``POST /networks/{id}/connect``. The bodies carry
every key v2's Go client sends, with the same zero values (``"ExtraHosts": []``,
``"PortBindings": {}``, ``"PidsLimit": null``...), so that ``docker inspect``
shows the same container whichever tool created it.

Where v2 iterates a Go map (environment, mounts, ulimits, depends_on), its
order is random; here it is the canonical dict's order, or sorted.

Things that need the engine's present state come in as arguments: the image ID
(label ``com.docker.compose.image``), the existing containers of other services
(``links``, ``network_mode: service:x``, ``volumes_from``, ``ipc``/``pid``), the
container being replaced (its anonymous volumes carry over) and the engine's API
version (before 1.44 a container is created on one network and connected to the
others afterwards: see :func:`network_connect_bodies`).

Pure: no engine, no docker import. Raises
:class:`composer.backends.errors.UnsupportedError` for what v2 refuses.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import struct
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from composer._version import __version__
from composer.backends.errors import UnsupportedError
from composer.model._gojson import ALWAYS, OMIT, PTR, ListOf, MapOf, Struct, encode
from composer.model.naming import resource_name, service_image
from composer.model.units import parse_bytes, parse_duration

__all__ = [
    "DEFAULT_API_VERSION",
    "ContainerRef",
    "ContainerRequest",
    "LABEL_CONFIG_FILES",
    "LABEL_CONFIG_HASH",
    "LABEL_CONTAINER_NUMBER",
    "LABEL_DEPENDS_ON",
    "LABEL_ENVIRONMENT_FILE",
    "LABEL_IMAGE",
    "LABEL_NETWORK",
    "LABEL_ONEOFF",
    "LABEL_PROJECT",
    "LABEL_SERVICE",
    "LABEL_VERSION",
    "LABEL_VOLUME",
    "LABEL_WORKING_DIR",
    "api_at_least",
    "container_create_body",
    "container_create_request",
    "container_name",
    "container_platform",
    "endpoint_settings",
    "network_config_hash",
    "network_connect_bodies",
    "network_create_body",
    "networks_by_priority",
    "normalize_capabilities",
    "proxy_environment",
    "resolve_service_references",
    "service_links",
    "volume_config_hash",
    "volume_create_body",
]

#: The API version of Debian's docker.io 20.10; v2 changes shape at 1.44.
DEFAULT_API_VERSION = "1.41"

LABEL_PROJECT = "com.docker.compose.project"
LABEL_SERVICE = "com.docker.compose.service"
LABEL_CONTAINER_NUMBER = "com.docker.compose.container-number"
LABEL_ONEOFF = "com.docker.compose.oneoff"
LABEL_WORKING_DIR = "com.docker.compose.project.working_dir"
LABEL_CONFIG_FILES = "com.docker.compose.project.config_files"
LABEL_ENVIRONMENT_FILE = "com.docker.compose.project.environment_file"
LABEL_DEPENDS_ON = "com.docker.compose.depends_on"
LABEL_IMAGE = "com.docker.compose.image"
LABEL_VERSION = "com.docker.compose.version"
LABEL_CONFIG_HASH = "com.docker.compose.config-hash"
LABEL_NETWORK = "com.docker.compose.network"
LABEL_VOLUME = "com.docker.compose.volume"

_CONTAINER_ID = re.compile(r"^[0-9a-f]{64}$")
_SECRETS_DIR = "/run/secrets/"
_CONFIGS_DIR = "/"
# A CDI device name: vendor/class=name (tags.cncf.io/container-device-interface).
_CDI_NAME = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)+=[A-Za-z0-9_.:-]+$"
)


@dataclass(frozen=True, slots=True)
class ContainerRef:
    """An existing container another service refers to (links, ``service:`` modes)."""

    name: str
    id: str


@dataclass(frozen=True, slots=True)
class ContainerRequest:
    """Everything needed to create one container the way v2 does.

    ``connects`` are ``(network name, endpoint config)`` pairs to post to
    ``/networks/{name}/connect`` after create and before start (engines before
    API 1.44 take one network at create time).
    """

    name: str
    body: Mapping[str, Any]
    platform: str | None = None
    connects: tuple[tuple[str, Mapping[str, Any]], ...] = field(default_factory=tuple)


# -- small conversions -------------------------------------------------------------------------


def api_at_least(version: str, minimum: str) -> bool:
    """``version >= minimum`` for engine API versions such as ``"1.41"``."""

    def key(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split(".") if p.isdigit())

    return key(version) >= key(minimum)


def _duration_ns(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    return parse_duration(str(value))


def _size(value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = str(value)
    if text.lstrip("-").isdigit():
        return int(text)
    return parse_bytes(text)


def _float32(value: float) -> float:
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def _scaled(value: Any, factor: float) -> int:
    """``int64(float32 * factor)`` as Go computes it: the product rounded to float32."""
    if not value:
        return 0
    return int(_float32(_float32(float(value)) * _float32(factor)))


def _int(value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, str):
        return _size(value)
    return int(value)


def _or_none(value: Any) -> Any:
    """Go's nil for an absent or empty slice/map (they marshal as ``null``)."""
    return list(value) if isinstance(value, list | tuple) and value else (
        dict(value) if isinstance(value, Mapping) and value else None
    )


def normalize_capabilities(caps: Sequence[str] | None) -> list[str] | None:
    """As the Docker Go client sends them: upper case, ``CAP_`` prefixed, unique, sorted."""
    if caps is None:
        return None
    out: set[str] = set()
    for cap in caps:
        name = cap.upper()
        if name != "ALL" and not name.startswith("CAP_"):
            name = "CAP_" + name
        out.add(name)
    return sorted(out)


def container_name(project_name: str, service_name: str, service: Mapping[str, Any],
                   number: int) -> str:
    """``container_name`` when set, else ``{project}-{service}-{number}``."""
    explicit = service.get("container_name")
    if explicit:
        return str(explicit)
    return f"{project_name}-{service_name}-{number}"


def networks_by_priority(service: Mapping[str, Any]) -> list[str]:
    """The service's network keys, highest ``priority`` first, then by name."""
    networks = service.get("networks") or {}
    keyed = []
    for key, cfg in networks.items():
        priority = int((cfg or {}).get("priority") or 0)
        keyed.append((-priority, key))
    return [key for _, key in sorted(keyed)]


def container_platform(service: Mapping[str, Any],
                       environment: Mapping[str, str] | None = None) -> str | None:
    """The ``platform`` query parameter of the create call (or ``DOCKER_DEFAULT_PLATFORM``)."""
    platform = service.get("platform") or (environment or {}).get("DOCKER_DEFAULT_PLATFORM")
    return str(platform) if platform else None


_PROXY_KEYS = (
    ("httpProxy", "HTTP_PROXY"),
    ("httpsProxy", "HTTPS_PROXY"),
    ("noProxy", "NO_PROXY"),
    ("ftpProxy", "FTP_PROXY"),
    ("allProxy", "ALL_PROXY"),
)


def proxy_environment(docker_config: Mapping[str, Any], host: str) -> dict[str, str]:
    """Variables v2 adds to every container from ``~/.docker/config.json`` ``proxies``.

    ``host`` is the engine address (``unix:///var/run/docker.sock``); its own entry
    wins over ``default``. Both spellings (``HTTP_PROXY``, ``http_proxy``) are set.
    """
    proxies = docker_config.get("proxies")
    if not isinstance(proxies, Mapping):
        return {}
    chosen = proxies.get(host) or proxies.get("default")
    if not isinstance(chosen, Mapping):
        return {}
    env: dict[str, str] = {}
    for key, variable in _PROXY_KEYS:
        value = chosen.get(key)
        if value:
            env[variable] = str(value)
            env[variable.lower()] = str(value)
    return env


# -- links and references to other services ----------------------------------------------------


def service_links(project_name: str, service_name: str, service: Mapping[str, Any], number: int,
                  containers: Mapping[str, Sequence[ContainerRef]]) -> list[str]:
    """``HostConfig.Links`` for one replica, as v2's ``getLinks`` (after Compose v1).

    Every container of a linked service is linked under the link name, under
    ``{service}-{number}`` and under ``{project}-{service}-{number}``, where
    ``number`` is the *linking* container's own number (a v1 quirk v2 kept);
    ``external_links`` follow. A one-off container also links to its service's
    containers.
    """
    links: list[str] = []
    for raw in service.get("links") or ():
        linked, _, alias = str(raw).partition(":")
        alias = alias or linked
        for ref in containers.get(linked, ()):
            links += [
                f"{ref.name}:{alias}",
                f"{ref.name}:{linked}-{number}",
                f"{ref.name}:{project_name}-{linked}-{number}",
            ]
    labels = service.get("labels") or {}
    if labels.get(LABEL_ONEOFF) == "True":
        for ref in containers.get(service_name, ()):
            short = ref.name.removeprefix(f"{project_name}-")
            links += [f"{ref.name}:{service_name}", f"{ref.name}:{short}",
                      f"{ref.name}:{ref.name}"]
    for raw in service.get("external_links") or ():
        target, _, alias = str(raw).partition(":")
        links.append(f"{target}:{alias or target}")
    return links


def _first_container(service_name: str, containers: Mapping[str, Sequence[ContainerRef]],
                     what: str) -> ContainerRef:
    found = sorted(containers.get(service_name, ()), key=lambda ref: ref.name)
    if not found:
        raise UnsupportedError(
            f"cannot share {what} with service {service_name}: container missing"
        )
    return found[0]


def _resolve_mode(value: str, containers: Mapping[str, Sequence[ContainerRef]],
                  what: str) -> str:
    if value.startswith("service:"):
        ref = _first_container(value[len("service:"):], containers, what)
        return "container:" + ref.id
    return value


def resolve_service_references(service: Mapping[str, Any],
                               containers: Mapping[str, Sequence[ContainerRef]]
                               ) -> dict[str, Any]:
    """The service with references to other services replaced by container IDs.

    ``network_mode``, ``ipc`` and ``pid`` of the form ``service:x`` become
    ``container:<id>`` and ``volumes_from`` entries the bare ID (``container:name``
    the bare name), the ID being that of x's first container by name. v2 does this
    before it hashes the service, so the config hash of such a service changes when
    the container it refers to is replaced: hash the result, not the input.
    Raises ``UnsupportedError`` when x has no container.
    """
    resolved = dict(service)
    for key, what in (("network_mode", "network namespace"), ("ipc", "IPC namespace"),
                      ("pid", "PID namespace")):
        value = service.get(key)
        if isinstance(value, str) and value.startswith("service:"):
            resolved[key] = _resolve_mode(value, containers, what)
    if service.get("volumes_from") is not None:
        resolved["volumes_from"] = _volumes_from(service, containers)
    return resolved


def _volumes_from(service: Mapping[str, Any],
                  containers: Mapping[str, Sequence[ContainerRef]]) -> list[str] | None:
    entries = service.get("volumes_from")
    if entries is None:
        return None
    out = []
    for entry in entries:
        parts = str(entry).split(":")
        # v2 drops the ":ro"/":rw" suffix here: the shared volumes keep their own mode.
        if parts[0] == "container":
            out.append(parts[1] if len(parts) > 1 else "")
        elif parts[0] not in containers and _CONTAINER_ID.match(parts[0]):
            out.append(parts[0])  # already resolved
        else:
            out.append(_first_container(parts[0], containers, "volume").id)
    return out


# -- labels ------------------------------------------------------------------------------------


def _depends_on_label(service: Mapping[str, Any]) -> str:
    entries = []
    for name, dep in (service.get("depends_on") or {}).items():
        dep = dep or {}
        restart = "true" if dep.get("restart") else "false"
        entries.append(f"{name}:{dep.get('condition', 'service_started')}:{restart}")
    return ",".join(entries)


def _container_labels(project_name: str, service_name: str, service: Mapping[str, Any],
                      number: int, *, config_files: Sequence[str], working_dir: str,
                      image_id: str, config_hash: str, oneoff: bool, version: str,
                      env_files: Sequence[str],
                      extra: Mapping[str, str] | None) -> dict[str, str]:
    labels: dict[str, str] = {str(k): str(v) for k, v in (service.get("labels") or {}).items()}
    labels.update({
        LABEL_PROJECT: project_name,
        LABEL_SERVICE: service_name,
        LABEL_VERSION: version,
        LABEL_WORKING_DIR: working_dir,
        LABEL_CONFIG_FILES: ",".join(config_files),
        LABEL_ONEOFF: "True" if oneoff else "False",
    })
    if env_files:
        labels[LABEL_ENVIRONMENT_FILE] = ",".join(env_files)
    if extra:
        labels.update(extra)
    labels[LABEL_CONFIG_HASH] = config_hash
    labels[LABEL_CONTAINER_NUMBER] = str(number)
    labels[LABEL_DEPENDS_ON] = _depends_on_label(service)
    labels[LABEL_IMAGE] = image_id
    return labels


# -- the container config ----------------------------------------------------------------------


def _environment(service: Mapping[str, Any],
                 base: Mapping[str, str | None] | None) -> list[str] | None:
    merged: dict[str, Any] = dict(base or {})
    merged.update(service.get("environment") or {})
    if not merged:
        return None
    return [k if v is None else f"{k}={v}" for k, v in merged.items()]


def _healthcheck(service_name: str, check: Mapping[str, Any] | None,
                 api_version: str) -> dict[str, Any] | None:
    if check is None:
        return None
    test = ["NONE"] if check.get("disable") else check.get("test")
    out: dict[str, Any] = {}
    if test:
        out["Test"] = list(test)
    for key, go in (("interval", "Interval"), ("timeout", "Timeout"),
                    ("start_period", "StartPeriod")):
        ns = _duration_ns(check.get(key))
        if ns:
            out[go] = ns
    if check.get("start_interval") is not None:
        if not api_at_least(api_version, "1.44"):
            raise UnsupportedError(
                "can't set healthcheck.start_interval as feature require Docker Engine v25 "
                f"or later (service {service_name})"
            )
        ns = _duration_ns(check["start_interval"])
        if ns:
            out["StartInterval"] = ns
    retries = _int(check.get("retries"))
    if retries:
        out["Retries"] = retries
    return out


def _exposed_ports(service: Mapping[str, Any]) -> dict[str, Any]:
    ports: dict[str, Any] = {}
    for entry in service.get("expose") or ():
        ports[str(entry)] = {}
    for port in service.get("ports") or ():
        ports[f"{port['target']}/{port.get('protocol') or 'tcp'}"] = {}
    return ports


def _port_bindings(service: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    bindings: dict[str, list[dict[str, str]]] = {}
    for port in service.get("ports") or ():
        key = f"{port['target']}/{port.get('protocol') or 'tcp'}"
        bindings.setdefault(key, []).append({
            "HostIp": str(port.get("host_ip") or ""),
            "HostPort": str(port.get("published") or ""),
        })
    return bindings


def _restart_name(condition: str) -> str:
    return {"none": "no", "no": "no", "on-failure": "on-failure",
            "unless-stopped": "unless-stopped", "any": "always",
            "always": "always"}.get(condition, condition)


def _restart_policy(service: Mapping[str, Any]) -> dict[str, Any]:
    name, attempts = "", 0
    restart = service.get("restart")
    if restart:
        head, _, count = str(restart).partition(":")
        name = _restart_name(head)
        attempts = int(count) if count.isdigit() else 0
    policy = (service.get("deploy") or {}).get("restart_policy")
    if policy is not None:
        name = _restart_name(str(policy.get("condition") or ""))
        attempts = _int(policy.get("max_attempts"))
    return {"Name": name, "MaximumRetryCount": attempts}


def _extra_hosts(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        items = []
        for host, ips in value.items():
            for ip in ips if isinstance(ips, list | tuple) else [ips]:
                items.append(f"{host}:{ip}")
        return items
    out = []
    for entry in value or ():
        host, sep, ip = str(entry).partition("=")
        out.append(f"{host}:{ip}" if sep else str(entry))
    return out


def _tmpfs(service: Mapping[str, Any]) -> dict[str, str]:
    entries = service.get("tmpfs")
    if isinstance(entries, str):
        entries = [entries]
    out: dict[str, str] = {}
    for entry in entries or ():
        path, _, options = str(entry).partition(":")
        out[path] = options
    return out


def _ulimits(service: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    ulimits = service.get("ulimits")
    if not ulimits:
        return None
    out = []
    for name in sorted(ulimits):
        value = ulimits[name]
        if isinstance(value, Mapping):
            single = _int(value.get("single"))
            soft = _int(value.get("soft")) or single
            hard = _int(value.get("hard")) or single
        else:
            soft = hard = _int(value)
        out.append({"Name": name, "Hard": hard, "Soft": soft})
    return out


def _throttle(devices: Any, value_key: str) -> list[dict[str, Any]] | None:
    if not devices:
        return None
    out = []
    for dev in devices:
        path = dev.get("Path", dev.get("path", ""))
        value = dev.get(value_key, dev.get(value_key.lower(), 0))
        out.append({"Path": path, value_key: _size(value) if value_key == "Rate" else
                    _int(value)})
    return out


def _device_request(device: Mapping[str, Any], capabilities: list[str]) -> dict[str, Any]:
    return {
        "Driver": str(device.get("driver") or ""),
        "Count": _int(device.get("count")),
        "DeviceIDs": _or_none(device.get("device_ids")),
        "Capabilities": [capabilities],
        "Options": _or_none(device.get("options")),
    }


def _resources(service: Mapping[str, Any]) -> dict[str, Any]:
    swappiness = _int(service.get("mem_swappiness"))
    res: dict[str, Any] = {
        "CpuShares": _int(service.get("cpu_shares")),
        "Memory": _size(service.get("mem_limit")),
        "NanoCpus": _scaled(service.get("cpus"), 1e9),
        "CgroupParent": str(service.get("cgroup_parent") or ""),
        "BlkioWeight": 0,
        "BlkioWeightDevice": None,
        "BlkioDeviceReadBps": None,
        "BlkioDeviceWriteBps": None,
        "BlkioDeviceReadIOps": None,
        "BlkioDeviceWriteIOps": None,
        "CpuPeriod": _int(service.get("cpu_period")),
        "CpuQuota": _int(service.get("cpu_quota")),
        "CpuRealtimePeriod": _int(service.get("cpu_rt_period")),
        "CpuRealtimeRuntime": _int(service.get("cpu_rt_runtime")),
        "CpusetCpus": str(service.get("cpuset") or ""),
        "CpusetMems": "",
        "Devices": None,
        "DeviceCgroupRules": _or_none(service.get("device_cgroup_rules")),
        "DeviceRequests": None,
        "MemoryReservation": _size(service.get("mem_reservation")),
        "MemorySwap": _size(service.get("memswap_limit")),
        "MemorySwappiness": swappiness if swappiness else None,
        "OomKillDisable": bool(service.get("oom_kill_disable")),
        "PidsLimit": _int(service.get("pids_limit")) or None,
        "Ulimits": None,
        "CpuCount": _int(service.get("cpu_count")),
        "CpuPercent": _scaled(service.get("cpu_percent"), 100),
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
    }
    blkio = service.get("blkio_config")
    if blkio:
        res["BlkioWeight"] = _int(blkio.get("weight"))
        res["BlkioWeightDevice"] = _throttle(blkio.get("weight_device"), "Weight")
        res["BlkioDeviceReadBps"] = _throttle(blkio.get("device_read_bps"), "Rate")
        res["BlkioDeviceReadIOps"] = _throttle(blkio.get("device_read_iops"), "Rate")
        res["BlkioDeviceWriteBps"] = _throttle(blkio.get("device_write_bps"), "Rate")
        res["BlkioDeviceWriteIOps"] = _throttle(blkio.get("device_write_iops"), "Rate")
    requests: list[dict[str, Any]] = []
    resources = (service.get("deploy") or {}).get("resources") or {}
    limits = resources.get("limits")
    if limits:
        if _size(limits.get("memory")):
            res["Memory"] = _size(limits.get("memory"))
        if limits.get("cpus"):
            res["NanoCpus"] = _scaled(limits.get("cpus"), 1e9)
        if _int(limits.get("pids")) > 0:
            res["PidsLimit"] = _int(limits.get("pids"))
    reservations = resources.get("reservations")
    if reservations:
        if _size(reservations.get("memory")):
            res["MemoryReservation"] = _size(reservations.get("memory"))
        for device in reservations.get("devices") or ():
            requests.append(_device_request(device, list(device.get("capabilities") or ())))
    devices = []
    cdi = []
    for device in service.get("devices") or ():
        source = str(device.get("source", ""))
        target = str(device.get("target", ""))
        if source == target and _CDI_NAME.match(source):
            cdi.append(source)
            continue
        devices.append({"PathOnHost": source, "PathInContainer": target,
                        "CgroupPermissions": str(device.get("permissions") or "")})
    if devices:
        res["Devices"] = devices
    if cdi:
        requests.append({"Driver": "cdi", "Count": 0, "DeviceIDs": cdi, "Capabilities": None,
                         "Options": None})
    for gpu in service.get("gpus") or ():
        requests.append(_device_request(gpu, [*(gpu.get("capabilities") or ()), "gpu"]))
    if requests:
        res["DeviceRequests"] = requests
    res["Ulimits"] = _ulimits(service)
    return res


def _security_opts(service: Mapping[str, Any], working_dir: str,
                   read_file: Callable[[str], bytes]) -> tuple[list[str] | None, bool]:
    opts = service.get("security_opt")
    if opts is None:
        return None, False
    parsed: list[str] = []
    unconfined = False
    for opt in opts:
        if opt == "systempaths=unconfined":
            unconfined = True
            continue
        key, sep, value = str(opt).partition("=")
        if not sep and key != "no-new-privileges":
            if ":" not in opt:
                raise UnsupportedError(f'Invalid security-opt: "{opt}"')
            key, _, value = str(opt).partition(":")
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
            parsed.append(str(opt))
    return parsed, unconfined


# -- mounts ------------------------------------------------------------------------------------


def _mount(project: Mapping[str, Any], volume: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(volume.get("type") or "volume")
    source = str(volume.get("source") or "")
    if kind == "bind" and source and not source.startswith("/"):
        source = os.path.abspath(source)
    if kind == "volume" and source:
        declared = (project.get("volumes") or {}).get(source)
        if declared is not None:
            source = str(declared.get("name") or source)
    mount: dict[str, Any] = {"Type": kind}
    if source:
        mount["Source"] = source
    if volume.get("target"):
        mount["Target"] = str(volume["target"])
    if volume.get("read_only"):
        mount["ReadOnly"] = True
    if volume.get("consistency"):
        mount["Consistency"] = str(volume["consistency"])
    if kind == "bind" and volume.get("bind") is not None:
        bind = volume["bind"]
        options: dict[str, Any] = {}
        if bind.get("propagation"):
            options["Propagation"] = str(bind["propagation"])
        recursive = bind.get("recursive")
        if recursive == "disabled":
            options["NonRecursive"] = True
        if bind.get("create_host_path"):
            options["CreateMountpoint"] = True
        if recursive == "writable":
            options["ReadOnlyNonRecursive"] = True
        elif recursive == "readonly":
            options["ReadOnlyForceRecursive"] = True
        mount["BindOptions"] = options
    elif kind == "volume" and volume.get("volume") is not None:
        vol = volume["volume"]
        options = {}
        if vol.get("nocopy"):
            options["NoCopy"] = True
        if vol.get("subpath"):
            options["Subpath"] = str(vol["subpath"])
        mount["VolumeOptions"] = options
    elif kind == "tmpfs" and volume.get("tmpfs") is not None:
        tmpfs = volume["tmpfs"]
        options = {}
        if _size(tmpfs.get("size")):
            options["SizeBytes"] = _size(tmpfs.get("size"))
        if _int(tmpfs.get("mode")):
            options["Mode"] = _int(tmpfs.get("mode"))
        mount["TmpfsOptions"] = options
    return mount


def _file_mounts(project: Mapping[str, Any], service: Mapping[str, Any], kind: str
                 ) -> list[dict[str, Any]]:
    """Read-only bind mounts of file-based secrets (``/run/secrets/``) or configs (``/``)."""
    base = _SECRETS_DIR if kind == "secrets" else _CONFIGS_DIR
    declared_all = project.get(kind) or {}
    mounts: dict[str, dict[str, Any]] = {}
    for ref in service.get(kind) or ():
        source = str(ref.get("source") or "")
        target = str(ref.get("target") or "")
        if not target:
            target = base + source
        elif not target.startswith("/"):
            target = base + target
        declared = declared_all.get(source) or {}
        singular = kind[:-1]
        if declared.get("external"):
            raise UnsupportedError(
                f"unsupported external {singular} {declared.get('name') or source}"
            )
        if declared.get("driver"):
            raise UnsupportedError(f"Docker Compose does not support {kind}.*.driver")
        if declared.get("template_driver"):
            raise UnsupportedError(f"Docker Compose does not support {kind}.*.template_driver")
        if declared.get("environment") or (kind == "configs" and declared.get("content")):
            continue
        mount: dict[str, Any] = {"Type": "bind", "Source": str(declared.get("file") or ""),
                                 "Target": target, "ReadOnly": True}
        if kind == "secrets":
            # v2 asks not to create a missing host path, which shows as empty BindOptions.
            mount["BindOptions"] = {}
        mounts[target] = mount
    return list(mounts.values())


def _volume_bind_string(source: str, volume: Mapping[str, Any]) -> str:
    options = ["ro" if volume.get("read_only") else "rw"]
    bind = volume.get("bind") or {}
    if bind.get("selinux"):
        options.append(str(bind["selinux"]))
    if bind.get("propagation"):
        options.append(str(bind["propagation"]))
    if (volume.get("volume") or {}).get("nocopy"):
        options.append("nocopy")
    return f"{source}:{volume.get('target')}:{','.join(options)}"


def _bind_needs_mount_api(bind: Mapping[str, Any] | None) -> bool:
    if bind is None:
        return False
    return (not bind.get("create_host_path") or bool(bind.get("propagation"))
            or bool(bind.get("recursive")))


def _volumes(project: Mapping[str, Any], service: Mapping[str, Any],
             inherit: Mapping[str, Any] | None, image_volumes: Collection[str]
             ) -> tuple[list[str] | None, list[dict[str, Any]]]:
    """``HostConfig.Binds`` and ``HostConfig.Mounts``, split the way v2 splits them.

    Binds that may create their host path and named volumes without options use
    the ``Binds`` strings; anything else (anonymous volumes, tmpfs, ``nocopy``,
    propagation, secrets and configs) a ``Mounts`` entry.
    """
    mounts: dict[str, dict[str, Any]] = {}
    declared = list(service.get("volumes") or ())
    remaining = declared
    for old in (inherit or {}).get("Mounts") or ():
        if old.get("Type") == "tmpfs":
            continue
        source = old.get("Name") if old.get("Type") == "volume" else old.get("Source")
        target = posixpath.normpath(str(old.get("Destination") or ""))
        carried: dict[str, Any] = {"Type": old.get("Type"), "Source": source, "Target": target}
        if not old.get("RW", True):
            carried["ReadOnly"] = True
        if target in image_volumes:
            mounts[target] = carried
        kept = []
        for vol in remaining:
            if vol.get("target") != target or vol.get("source"):
                kept.append(vol)
                continue
            mounts[target] = carried
        remaining = kept
    for vol in remaining:
        mount = _mount(project, vol)
        mounts[mount.get("Target", "")] = mount
    for kind in ("secrets", "configs"):
        for mount in _file_mounts(project, service, kind):
            mounts.setdefault(mount["Target"], mount)

    binds: list[str] = []
    out: list[dict[str, Any]] = []
    by_target = {vol.get("target"): vol for vol in declared}
    for mount in mounts.values():
        vol = by_target.get(mount.get("Target"))
        if vol is not None and mount["Type"] == "bind":
            if vol.get("type") != "bind":
                binds.append(_volume_bind_string(mount.get("Source", ""), vol))
                continue
            if not _bind_needs_mount_api(vol.get("bind")):
                binds.append(_volume_bind_string(mount.get("Source", ""), vol))
                continue
        if vol is not None and mount["Type"] == "volume" and vol.get("source") \
                and vol.get("type") == "volume":
            options = vol.get("volume") or {}
            if not options.get("nocopy") and not options.get("subpath"):
                binds.append(_volume_bind_string(mount.get("Source", ""), vol))
                continue
        out.append(mount)
    return binds or None, out


# -- networks ----------------------------------------------------------------------------------


def endpoint_settings(project: Mapping[str, Any], service_name: str,
                      service: Mapping[str, Any], network_key: str, *, name: str,
                      links: Sequence[str] = (), use_network_aliases: bool = True
                      ) -> dict[str, Any]:
    """The ``EndpointSettings`` for one of the service's networks (``name``: the container's).

    Aliases are the container name, then (unless ``use_network_aliases`` is off,
    as for ``run`` without ``--use-aliases``) the service name and the network's
    own ``aliases``.
    """
    cfg = (service.get("networks") or {}).get(network_key)
    aliases = [name]
    ipam: dict[str, Any] | None = None
    ipv4 = ipv6 = mac = ""
    driver_opts = None
    priority = 0
    if use_network_aliases:
        aliases.append(service_name)
        if cfg:
            aliases += [str(a) for a in cfg.get("aliases") or ()]
    if cfg is not None:
        ipv4 = str(cfg.get("ipv4_address") or "")
        ipv6 = str(cfg.get("ipv6_address") or "")
        ipam = {}
        if ipv4:
            ipam["IPv4Address"] = ipv4
        if ipv6:
            ipam["IPv6Address"] = ipv6
        if cfg.get("link_local_ips"):
            ipam["LinkLocalIPs"] = list(cfg["link_local_ips"])
        mac = str(cfg.get("mac_address") or "")
        driver_opts = cfg.get("driver_opts")
        priority = _int(cfg.get("gw_priority"))
    return {
        "Aliases": aliases,
        "DNSNames": None,
        "DriverOpts": dict(driver_opts) if driver_opts is not None else None,
        "EndpointID": "",
        "Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "GwPriority": priority,
        "IPAMConfig": ipam,
        "IPAddress": ipv4,
        "IPPrefixLen": 0,
        # v2 puts the ipv6_address here too (it is what it sends; the engine uses IPAMConfig).
        "IPv6Gateway": ipv6,
        "Links": list(links) or None,
        "MacAddress": mac,
        "NetworkID": "",
    }


def _network_name(project: Mapping[str, Any], key: str) -> str:
    declared = (project.get("networks") or {}).get(key) or {}
    return str(declared.get("name") or resource_name(str(project.get("name")), key))


def _container_mac(service: Mapping[str, Any], primary: str | None, api_version: str) -> str:
    mac = str(service.get("mac_address") or "")
    networks = service.get("networks") or {}
    main = (networks.get(primary) or {}) if primary else {}
    main_mac = str(main.get("mac_address") or "")
    if mac and main_mac and mac != main_mac:
        raise UnsupportedError(
            f"the service-level mac_address should have the same value as network {primary}"
        )
    if api_at_least(api_version, "1.44"):
        return ""
    with_mac = sorted(k for k, v in networks.items() if v and v.get("mac_address"))
    if len(with_mac) > 1:
        raise UnsupportedError(
            f"a MAC address is specified for multiple networks ({', '.join(with_mac)}), but "
            f"this feature requires Docker Engine 1.44 or later (currently: {api_version})"
        )
    if any(v and v.get("mac_address") for v in networks.values()):
        # v2 leaves the network's address in the endpoint too, which the Go client refuses.
        raise UnsupportedError(
            '"specify mac-address per network" requires API version 1.44, but the Docker '
            f"daemon API version is {api_version}"
        )
    return main_mac or mac


def _networking(project: Mapping[str, Any], service_name: str, service: Mapping[str, Any],
                *, name: str, links: Sequence[str], use_network_aliases: bool,
                api_version: str, containers: Mapping[str, Sequence[ContainerRef]]
                ) -> tuple[str, dict[str, Any] | None]:
    mode = service.get("network_mode")
    if mode:
        return _resolve_mode(str(mode), containers, "network namespace"), None
    if not project.get("networks"):
        return "none", None
    order = networks_by_priority(service) or ["default"]
    primary = order[0]
    endpoints: dict[str, Any] = {}
    new_api = api_at_least(api_version, "1.44")
    if new_api:
        for key in order[1:]:
            endpoints[_network_name(project, key)] = endpoint_settings(
                project, service_name, service, key, name=name, links=links,
                use_network_aliases=use_network_aliases)
    main = endpoint_settings(project, service_name, service, primary, name=name, links=links,
                             use_network_aliases=use_network_aliases)
    if new_api and not main["MacAddress"]:
        main["MacAddress"] = str(service.get("mac_address") or "")
    primary_name = _network_name(project, primary)
    endpoints[primary_name] = main
    return primary_name, {"EndpointsConfig": endpoints}


def network_connect_bodies(project: Mapping[str, Any], service_name: str,
                           service: Mapping[str, Any], number: int, *,
                           links: Sequence[str] = (), use_network_aliases: bool = True,
                           api_version: str = DEFAULT_API_VERSION
                           ) -> list[tuple[str, dict[str, Any]]]:
    """``(network name, EndpointConfig)`` to connect after create, in v2's order.

    Empty from API 1.44 on (every network goes in the create call) and for
    services with a ``network_mode``.
    """
    if api_at_least(api_version, "1.44") or service.get("network_mode"):
        return []
    if not project.get("networks"):
        return []
    name = container_name(str(project.get("name")), service_name, service, number)
    order = networks_by_priority(service)
    out = []
    for key in order[1:]:
        out.append((_network_name(project, key), endpoint_settings(
            project, service_name, service, key, name=name, links=links,
            use_network_aliases=use_network_aliases)))
    return out


# -- the create body ---------------------------------------------------------------------------


def _read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def container_create_body(
    project: Mapping[str, Any],
    service_name: str,
    service: Mapping[str, Any],
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
) -> dict[str, Any]:
    """The ``POST /containers/create`` body for replica ``number`` of a service.

    ``project`` is the canonical project dict and ``service`` one of its services
    (real values). ``config_files`` and ``working_dir`` go to the project labels,
    ``image_id`` to ``com.docker.compose.image``, ``config_hash`` to
    ``com.docker.compose.config-hash`` (see :mod:`composer.model.hash`), ``version``
    to ``com.docker.compose.version``. ``containers`` maps service names to their
    existing containers (for links and ``service:`` references); ``inherit`` is the
    listing entry (with ``Mounts``) of a container being replaced, whose anonymous
    volumes the new one takes over; ``image_volumes`` the image's declared volumes.
    ``base_environment`` (proxies, see :func:`proxy_environment`) is overridden by
    the service's environment. Raises ``UnsupportedError`` for what v2 refuses.
    """
    project_name = str(project.get("name"))
    refs = containers or {}
    service = resolve_service_references(service, refs)
    name = container_name(project_name, service_name, service, number)
    links = service_links(project_name, service_name, service, number, refs)
    network_mode, networking = _networking(
        project, service_name, service, name=name, links=links,
        use_network_aliases=use_network_aliases, api_version=api_version, containers=refs)
    order = networks_by_priority(service)
    mac = "" if service.get("network_mode") else _container_mac(
        service, order[0] if order else None, api_version)
    stdin_open = bool(service.get("stdin_open"))
    binds, mounts = _volumes(project, service, inherit, image_volumes)
    security_opt, unconfined = _security_opts(service, working_dir, read_file)
    logging = service.get("logging")
    stop_grace = service.get("stop_grace_period")
    ipc = _resolve_mode(str(service.get("ipc") or ""), refs, "IPC namespace")
    pid = _resolve_mode(str(service.get("pid") or ""), refs, "PID namespace")

    body: dict[str, Any] = {
        "Hostname": str(service.get("hostname") or ""),
        "Domainname": str(service.get("domainname") or ""),
        "User": str(service.get("user") or ""),
        "AttachStdin": attach_stdin,
        "AttachStdout": True,
        "AttachStderr": True,
    }
    exposed = _exposed_ports(service)
    if exposed:
        body["ExposedPorts"] = exposed
    body.update({
        "Tty": bool(service.get("tty")),
        "OpenStdin": stdin_open,
        "StdinOnce": attach_stdin and stdin_open,
        "Env": _environment(service, base_environment),
        "Cmd": None if service.get("command") is None else list(service["command"]),
    })
    healthcheck = _healthcheck(service_name, service.get("healthcheck"), api_version)
    if healthcheck is not None:
        body["Healthcheck"] = healthcheck
    body.update({
        "Image": service_image(project_name, service_name, dict(service)),
        "Volumes": None,
        "WorkingDir": str(service.get("working_dir") or ""),
        "Entrypoint": None if service.get("entrypoint") is None
        else list(service["entrypoint"]),
    })
    if service.get("network_mode") == "disabled":
        body["NetworkDisabled"] = True
    if mac:
        body["MacAddress"] = mac
    body["OnBuild"] = None
    body["Labels"] = _container_labels(
        project_name, service_name, service, number, config_files=config_files,
        working_dir=working_dir, image_id=image_id, config_hash=config_hash, oneoff=oneoff,
        version=version, env_files=env_files, extra=extra_labels)
    if service.get("stop_signal"):
        body["StopSignal"] = str(service["stop_signal"])
    if stop_grace is not None:
        body["StopTimeout"] = _duration_ns(stop_grace) // 1_000_000_000

    host: dict[str, Any] = {
        "Binds": binds,
        "ContainerIDFile": "",
        "LogConfig": {
            "Type": str((logging or {}).get("driver") or ""),
            "Config": _or_none((logging or {}).get("options")),
        },
        "NetworkMode": network_mode,
        "PortBindings": _port_bindings(service),
        "RestartPolicy": _restart_policy(service),
        "AutoRemove": auto_remove,
        "VolumeDriver": str(service.get("volume_driver") or ""),
        "VolumesFrom": _or_none(service.get("volumes_from")),
        "ConsoleSize": [0, 0],
    }
    if service.get("annotations"):
        host["Annotations"] = dict(service["annotations"])
    host.update({
        "CapAdd": normalize_capabilities(service.get("cap_add")),
        "CapDrop": normalize_capabilities(service.get("cap_drop")),
        "CgroupnsMode": str(service.get("cgroup") or ""),
        "Dns": _or_none(service.get("dns")),
        "DnsOptions": _or_none(service.get("dns_opt")),
        "DnsSearch": _or_none(service.get("dns_search")),
        "ExtraHosts": _extra_hosts(service.get("extra_hosts")),
        "GroupAdd": _or_none(service.get("group_add")),
        "IpcMode": ipc,
        "Cgroup": "",
        "Links": links or None,
        "OomScoreAdj": _int(service.get("oom_score_adj")),
        "PidMode": pid,
        "Privileged": bool(service.get("privileged")),
        "PublishAllPorts": False,
        "ReadonlyRootfs": bool(service.get("read_only")),
        "SecurityOpt": security_opt,
    })
    if service.get("storage_opt"):
        host["StorageOpt"] = dict(service["storage_opt"])
    tmpfs = _tmpfs(service)
    if tmpfs:
        host["Tmpfs"] = tmpfs
    host["UTSMode"] = str(service.get("uts") or "")
    host["UsernsMode"] = str(service.get("userns_mode") or "")
    host["ShmSize"] = _size(service.get("shm_size"))
    if service.get("sysctls"):
        host["Sysctls"] = {str(k): str(v) for k, v in service["sysctls"].items()}
    if service.get("runtime"):
        host["Runtime"] = str(service["runtime"])
    host["Isolation"] = str(service.get("isolation") or "")
    host.update(_resources(service))
    if mounts:
        host["Mounts"] = mounts
    host["MaskedPaths"] = [] if unconfined else None
    host["ReadonlyPaths"] = [] if unconfined else None
    if service.get("init") is not None:
        host["Init"] = bool(service["init"])
    body["HostConfig"] = host
    if networking is not None:
        body["NetworkingConfig"] = networking
    return body


def container_create_request(
    project: Mapping[str, Any],
    service_name: str,
    service: Mapping[str, Any],
    number: int,
    *,
    environment: Mapping[str, str] | None = None,
    **options: Any,
) -> ContainerRequest:
    """Name, body, platform and post-create network connects for one replica.

    ``options`` are :func:`container_create_body`'s keyword arguments;
    ``environment`` is the project's (for ``DOCKER_DEFAULT_PLATFORM``).
    """
    body = container_create_body(project, service_name, service, number, **options)
    api_version = str(options.get("api_version", DEFAULT_API_VERSION))
    links = body["HostConfig"]["Links"] or ()
    connects = network_connect_bodies(
        project, service_name, service, number, links=links,
        use_network_aliases=bool(options.get("use_network_aliases", True)),
        api_version=api_version)
    return ContainerRequest(
        name=container_name(str(project.get("name")), service_name, service, number),
        body=body,
        platform=container_platform(service, environment),
        connects=tuple(connects),
    )


# -- networks and volumes ----------------------------------------------------------------------

_IPAM_POOL = Struct("IPAMPool", [
    ("subnet", OMIT, None), ("gateway", OMIT, None), ("ip_range", OMIT, None),
    ("aux_addresses", OMIT, MapOf(None)),
])
_IPAM = Struct("IPAMConfig", [("driver", OMIT, None), ("config", OMIT, ListOf(_IPAM_POOL))])
_NETWORK = Struct("NetworkConfig", [
    ("name", OMIT, None),
    ("driver", OMIT, None),
    ("driver_opts", OMIT, MapOf(None)),
    ("ipam", ALWAYS, _IPAM),
    ("external", OMIT, None),
    ("internal", OMIT, None),
    ("attachable", OMIT, None),
    ("labels", OMIT, MapOf(None)),
    ("enable_ipv4", PTR, None),
    ("enable_ipv6", PTR, None),
], defaults={"ipam": {}})
_VOLUME = Struct("VolumeConfig", [
    ("name", OMIT, None),
    ("driver", OMIT, None),
    ("driver_opts", OMIT, MapOf(None)),
    ("external", OMIT, None),
    ("labels", OMIT, MapOf(None)),
])


def _go_hash(value: Mapping[str, Any], schema: Struct) -> str:
    out: list[str] = []
    # compose-go keeps only the fields it knows in the hash; extensions are json:"-".
    known = {k: v for k, v in value.items() if k in schema.fields}
    encode(known, schema, out)
    return hashlib.sha256("".join(out).encode("utf-8")).hexdigest()


def network_config_hash(network: Mapping[str, Any]) -> str:
    """v2's ``NetworkHash``: sha256 of the network's config (``name`` included) as Go JSON."""
    return _go_hash(network, _NETWORK)


def volume_config_hash(volume: Mapping[str, Any]) -> str:
    """v2's ``VolumeHash``: as :func:`network_config_hash`, the driver defaulting to local."""
    value = dict(volume)
    if not value.get("driver"):
        value["driver"] = "local"
    return _go_hash(value, _VOLUME)


def network_create_body(project: Mapping[str, Any], key: str, *,
                        version: str = __version__) -> dict[str, Any]:
    """The ``POST /networks/create`` body for network ``key`` of the project (not external)."""
    network = dict((project.get("networks") or {}).get(key) or {})
    name = _network_name(project, key)
    network.setdefault("name", name)
    ipam = network.get("ipam") or {}
    ipam_body: dict[str, Any] | None = None
    if ipam.get("driver") or ipam.get("config"):
        pools = []
        for pool in ipam.get("config") or ():
            entry: dict[str, Any] = {}
            for src, dst in (("subnet", "Subnet"), ("ip_range", "IPRange"),
                             ("gateway", "Gateway"), ("aux_addresses", "AuxiliaryAddresses")):
                if pool.get(src):
                    entry[dst] = pool[src]
            pools.append(entry)
        ipam_body = {"Driver": str(ipam.get("driver") or ""), "Options": None,
                     "Config": pools or None}
    labels = {str(k): str(v) for k, v in (network.get("labels") or {}).items()}
    labels.update({
        LABEL_NETWORK: key,
        LABEL_PROJECT: str(project.get("name")),
        LABEL_VERSION: version,
        LABEL_CONFIG_HASH: network_config_hash(network),
    })
    body: dict[str, Any] = {
        "Name": name,
        "CheckDuplicate": True,
        "Driver": str(network.get("driver") or ""),
        "Scope": "",
    }
    if network.get("enable_ipv4") is not None:
        body["EnableIPv4"] = bool(network["enable_ipv4"])
    if network.get("enable_ipv6") is not None:
        body["EnableIPv6"] = bool(network["enable_ipv6"])
    body.update({
        "IPAM": ipam_body,
        "Internal": bool(network.get("internal")),
        "Attachable": bool(network.get("attachable")),
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": _or_none(network.get("driver_opts")),
        "Labels": labels,
    })
    return body


def volume_create_body(project: Mapping[str, Any], key: str, *,
                       version: str = __version__) -> dict[str, Any]:
    """The ``POST /volumes/create`` body for volume ``key`` of the project (not external)."""
    volume = dict((project.get("volumes") or {}).get(key) or {})
    name = str(volume.get("name") or resource_name(str(project.get("name")), key))
    volume.setdefault("name", name)
    labels = {str(k): str(v) for k, v in (volume.get("labels") or {}).items()}
    labels.update({
        LABEL_VOLUME: key,
        LABEL_PROJECT: str(project.get("name")),
        LABEL_VERSION: version,
        LABEL_CONFIG_HASH: volume_config_hash(volume),
    })
    body: dict[str, Any] = {}
    if volume.get("driver"):
        body["Driver"] = str(volume["driver"])
    if volume.get("driver_opts"):
        body["DriverOpts"] = {str(k): str(v) for k, v in volume["driver_opts"].items()}
    body["Labels"] = labels
    body["Name"] = name
    return body

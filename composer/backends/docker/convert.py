"""The Engine API's JSON answers as :mod:`composer.backends.types` values.

Pure functions, one per kind of answer; nothing else in composer reads the
engine's own field names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from composer.backends.health import health_schedule
from composer.backends.spec import (
    LABEL_CONFIG_HASH,
    LABEL_CONTAINER_NUMBER,
    LABEL_NETWORK,
    LABEL_ONEOFF,
    LABEL_PROJECT,
    LABEL_SERVICE,
    LABEL_VOLUME,
)
from composer.backends.types import (
    ContainerInfo,
    ContainerState,
    EngineEvent,
    ExecInfo,
    HealthProbe,
    ImageInfo,
    ImageSummary,
    NetworkInfo,
    NetworkState,
    PathStat,
    PortBinding,
    ProcessList,
    StatsSample,
    VolumeInfo,
    VolumeState,
)

__all__ = [
    "container_info",
    "container_state",
    "event",
    "exec_info",
    "image_info",
    "image_summary",
    "network_info",
    "network_state",
    "path_stat",
    "process_list",
    "stats_sample",
    "volume_info",
    "volume_state",
]

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXIT = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


# -- listings ----------------------------------------------------------------------------------


def _listing_health(status: str) -> str | None:
    found = _HEALTH.search(status)
    if not found:
        return None
    return "starting" if found.group(1) == "health: starting" else found.group(1)


def _listing_exit_code(status: str) -> int | None:
    found = _EXIT.match(status)
    return int(found.group(1)) if found else None


def container_state(entry: Mapping[str, Any], *, start_error: str | None = None
                    ) -> ContainerState:
    """A ``GET /containers/json`` entry (``start_error``: its inspect's
    ``State.Error``, for a container never started since a failed start)."""
    labels: Mapping[str, str] = entry.get("Labels") or {}
    names = entry.get("Names") or []
    status = str(entry.get("Status") or "")
    number = labels.get(LABEL_CONTAINER_NUMBER, "")
    networks = ((entry.get("NetworkSettings") or {}).get("Networks") or {}).keys()
    return ContainerState(
        id=str(entry.get("Id", "")),
        name=str(names[0]).lstrip("/") if names else "",
        project=labels.get(LABEL_PROJECT, ""),
        service=labels.get(LABEL_SERVICE, ""),
        number=int(number) if number.isdigit() else 0,
        oneoff=labels.get(LABEL_ONEOFF, "False") == "True",
        state=str(entry.get("State") or ""),
        status=status,
        health=_listing_health(status),
        exit_code=_listing_exit_code(status),
        config_hash=labels.get(LABEL_CONFIG_HASH, ""),
        image=familiar(str(entry.get("Image") or "")),
        labels=dict(labels),
        created=int(entry.get("Created") or 0),
        # Podman leaves the address of an all-interfaces binding empty.
        ports=tuple({**p, "IP": "0.0.0.0"} if p.get("PublicPort") and not p.get("IP") else p
                    for p in entry.get("Ports") or ()),
        networks=tuple(sorted(networks)),
        mounts=tuple(entry.get("Mounts") or ()),
        image_id=str(entry.get("ImageID") or ""),
        command=str(entry.get("Command") or ""),
        start_error=start_error or "",
    )


def network_state(entry: Mapping[str, Any]) -> NetworkState:
    labels: Mapping[str, str] = entry.get("Labels") or {}
    return NetworkState(
        id=str(entry.get("Id", "")),
        name=str(entry.get("Name", "")),
        key=labels.get(LABEL_NETWORK, ""),
        labels=dict(labels),
        config_hash=labels.get(LABEL_CONFIG_HASH, ""),
        created=str(entry.get("Created") or ""),
    )


def volume_state(entry: Mapping[str, Any]) -> VolumeState:
    labels: Mapping[str, str] = entry.get("Labels") or {}
    return VolumeState(name=str(entry.get("Name", "")), key=labels.get(LABEL_VOLUME, ""),
                       labels=dict(labels))


def event(raw: Mapping[str, Any]) -> EngineEvent | None:
    """A ``GET /events`` message; None for events that are not a container's."""
    if raw.get("Type", "container") != "container":
        return None
    actor = raw.get("Actor") or {}
    attributes: Mapping[str, str] = actor.get("Attributes") or {}
    return EngineEvent(
        action=str(raw.get("Action") or raw.get("status") or ""),
        container_id=str(actor.get("ID") or raw.get("id") or ""),
        service=attributes.get(LABEL_SERVICE, ""),
        project=attributes.get(LABEL_PROJECT, ""),
        attributes=dict(attributes),
        time_nano=int(raw.get("timeNano") or 0),
    )


# -- inspections -------------------------------------------------------------------------------


def _ports(settings: Mapping[str, Any]) -> dict[str, tuple[PortBinding, ...]]:
    out: dict[str, tuple[PortBinding, ...]] = {}
    for port, bindings in (settings.get("Ports") or {}).items():
        out[str(port)] = tuple(
            # Podman leaves the address of an all-interfaces binding empty.
            PortBinding(str(b.get("HostIp") or "0.0.0.0"), _int(b.get("HostPort")))
            for b in bindings or () if str(b.get("HostPort") or "").isdigit())
    return out


def container_info(raw: Mapping[str, Any]) -> ContainerInfo:
    """A ``GET /containers/{id}/json`` answer."""
    state = raw.get("State") or {}
    config = raw.get("Config") or {}
    settings = raw.get("NetworkSettings") or {}
    health = state.get("Health") or {}
    test = list((config.get("Healthcheck") or {}).get("Test") or ())
    ips: dict[str, str] = {}
    for network, endpoint in (settings.get("Networks") or {}).items():
        ip = (endpoint or {}).get("IPAddress")
        if ip:
            ips[str(network)] = str(ip)
    if settings.get("IPAddress") and str(settings["IPAddress"]) not in ips.values():
        ips.setdefault("bridge", str(settings["IPAddress"]))
    return ContainerInfo(
        id=str(raw.get("Id") or ""),
        name=str(raw.get("Name") or "").lstrip("/"),
        image=familiar(str(config.get("Image") or "")),
        image_id=str(raw.get("Image") or ""),
        state=str(state.get("Status") or ""),
        running=bool(state.get("Running")),
        paused=bool(state.get("Paused")),
        restarting=bool(state.get("Restarting")),
        exit_code=_int(state.get("ExitCode")),
        pid=_int(state.get("Pid")),
        started_at=str(state.get("StartedAt") or ""),
        finished_at=str(state.get("FinishedAt") or ""),
        health=str(health["Status"]) if health.get("Status") else None,
        health_log=tuple(HealthProbe(str(p.get("Start") or ""), str(p.get("End") or ""),
                                     _int(p.get("ExitCode")), str(p.get("Output") or ""))
                         for p in health.get("Log") or ()),
        has_healthcheck=bool(test) and test[:1] != ["NONE"],
        healthcheck=(health_schedule(config.get("Healthcheck") or {},
                                     _labels(config.get("Labels")))
                     if test and test[:1] != ["NONE"] else None),
        tty=bool(config.get("Tty")),
        open_stdin=bool(config.get("OpenStdin")),
        labels=_labels(config.get("Labels")),
        network_mode=str((raw.get("HostConfig") or {}).get("NetworkMode") or ""),
        ip_addresses=ips,
        ports=_ports(settings),
    )


def image_info(raw: Mapping[str, Any]) -> ImageInfo:
    """A ``GET /images/{name}/json`` answer."""
    config = raw.get("Config") or {}
    tagged = str((raw.get("Metadata") or {}).get("LastTagTime") or "")
    return ImageInfo(
        id=str(raw.get("Id") or ""),
        repo_tags=tuple(familiar(str(t)) for t in raw.get("RepoTags") or ()),
        repo_digests=tuple(str(d) for d in raw.get("RepoDigests") or ()),
        created=str(raw.get("Created") or ""),
        size=_int(raw.get("Size")),
        os=str(raw.get("Os") or ""),
        architecture=str(raw.get("Architecture") or ""),
        variant=str(raw.get("Variant") or ""),
        labels=_labels(config.get("Labels")),
        volumes=tuple(sorted(config.get("Volumes") or {})),
        # Go's zero time means "never tagged".
        last_tag_time="" if tagged.startswith("0001-") else tagged,
    )


def image_summary(raw: Mapping[str, Any]) -> ImageSummary:
    """A ``GET /images/json`` entry."""
    return ImageSummary(id=str(raw.get("Id") or ""),
                        repo_tags=tuple(familiar(str(t)) for t in raw.get("RepoTags") or ()),
                        labels=_labels(raw.get("Labels")), created=_int(raw.get("Created")),
                        size=_int(raw.get("Size")))


def network_info(raw: Mapping[str, Any]) -> NetworkInfo:
    return NetworkInfo(id=str(raw.get("Id") or ""), name=str(raw.get("Name") or ""),
                       driver=str(raw.get("Driver") or ""), scope=str(raw.get("Scope") or ""),
                       labels=_labels(raw.get("Labels")))


def volume_info(raw: Mapping[str, Any]) -> VolumeInfo:
    return VolumeInfo(name=str(raw.get("Name") or ""), driver=str(raw.get("Driver") or ""),
                      mountpoint=str(raw.get("Mountpoint") or ""),
                      labels=_labels(raw.get("Labels")))


def process_list(raw: Mapping[str, Any]) -> ProcessList:
    """A ``GET /containers/{id}/top`` answer. Podman may answer ``ps``'s lines whole
    (one title, one field per row): they are split into columns as Docker's are,
    the last column keeping its spaces (the command line)."""
    titles = tuple(str(t) for t in raw.get("Titles") or ())
    rows = tuple(tuple(str(v) for v in p) for p in raw.get("Processes") or ())
    if len(titles) == 1 and len(titles[0].split()) > 1:
        titles = tuple(titles[0].split())
        rows = tuple(tuple(row[0].split(None, len(titles) - 1)) if len(row) == 1 else row
                     for row in rows)
    return ProcessList(titles=titles, processes=rows)


def familiar(reference: str) -> str:
    """An image reference as Docker shows it: Podman lists ``docker.io/library/x``
    and ``docker.io/user/x`` where Docker lists ``x`` and ``user/x``."""
    if reference.startswith("docker.io/library/"):
        return reference[len("docker.io/library/"):]
    if reference.startswith("docker.io/"):
        return reference[len("docker.io/"):]
    return reference


def exec_info(raw: Mapping[str, Any]) -> ExecInfo:
    """A ``GET /exec/{id}/json`` answer."""
    running = bool(raw.get("Running"))
    code = raw.get("ExitCode")
    return ExecInfo(id=str(raw.get("ID") or ""), container_id=str(raw.get("ContainerID") or ""),
                    running=running,
                    exit_code=None if running or code is None else _int(code),
                    pid=_int(raw.get("Pid")))


def path_stat(raw: Mapping[str, Any]) -> PathStat:
    """The ``X-Docker-Container-Path-Stat`` header of ``HEAD /containers/{id}/archive``."""
    return PathStat(name=str(raw.get("name") or ""), size=_int(raw.get("size")),
                    mode=_int(raw.get("mode")), mtime=str(raw.get("mtime") or ""),
                    link_target=str(raw.get("linkTarget") or ""))


def _memory(mem: Mapping[str, Any]) -> float:
    """Usage without the page cache, as the docker CLI counts it (cgroup v1 and v2)."""
    usage = float(mem.get("usage") or 0)
    details = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in details and float(details[key]) < usage:
            return usage - float(details[key])
    return usage


def stats_sample(raw: Mapping[str, Any]) -> StatsSample:
    """One ``GET /containers/{id}/stats`` sample, computed as the docker CLI does ({} or
    a stopped container's sample: zeros)."""
    cpu_stats = raw.get("cpu_stats") or {}
    pre = raw.get("precpu_stats") or {}
    cpu_delta = float((cpu_stats.get("cpu_usage") or {}).get("total_usage") or 0) - float(
        (pre.get("cpu_usage") or {}).get("total_usage") or 0)
    system_delta = float(cpu_stats.get("system_cpu_usage") or 0) - float(
        pre.get("system_cpu_usage") or 0)
    online = float(cpu_stats.get("online_cpus") or 0) or float(
        len((cpu_stats.get("cpu_usage") or {}).get("percpu_usage") or ()))
    cpu = cpu_delta / system_delta * online * 100.0 if system_delta > 0 and cpu_delta > 0 \
        else 0.0
    mem = raw.get("memory_stats") or {}
    rx = tx = 0.0
    for net in (raw.get("networks") or {}).values():
        rx += float(net.get("rx_bytes") or 0)
        tx += float(net.get("tx_bytes") or 0)
    read = write = 0.0
    for entry in (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or ():
        op = str(entry.get("op") or "").lower()
        if op == "read":
            read += float(entry.get("value") or 0)
        elif op == "write":
            write += float(entry.get("value") or 0)
    return StatsSample(
        cpu_percent=cpu, memory_usage=_memory(mem), memory_limit=float(mem.get("limit") or 0),
        network_rx=rx, network_tx=tx, block_read=read, block_write=write,
        pids=_int((raw.get("pids_stats") or {}).get("current")))

"""What of a container's create body the LXC backend cannot honour, named by its
compose key. Pure.

A key the engine would apply and LXC cannot is refused before the container is
made, with one line naming the service and the compose key (``services.web.sysctls:
not supported on LXC``), rather than ignored: a container must not run without
what its file asks for. Keys at their default value pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["refusals"]

#: HostConfig field -> its compose key, for fields LXC does not apply yet.
_HOST_KEYS = {
    "DeviceRequests": "deploy.resources.reservations.devices",
    "DeviceCgroupRules": "device_cgroup_rules", "SecurityOpt": "security_opt",
    "ReadonlyRootfs": "read_only", "GroupAdd": "group_add", "VolumesFrom": "volumes_from",
    "Links": "links", "ShmSize": "shm_size", "OomKillDisable": "oom_kill_disable",
    "OomScoreAdj": "oom_score_adj", "MemoryReservation": "mem_reservation",
    "MemorySwap": "memswap_limit", "MemorySwappiness": "mem_swappiness",
    "BlkioWeight": "blkio_config", "BlkioWeightDevice": "blkio_config",
    "BlkioDeviceReadBps": "blkio_config", "BlkioDeviceWriteBps": "blkio_config",
    "BlkioDeviceReadIOps": "blkio_config", "BlkioDeviceWriteIOps": "blkio_config",
    "CpuRealtimePeriod": "cpu_rt_period", "CpuRealtimeRuntime": "cpu_rt_runtime",
    "CpusetMems": "cpuset_mems", "CgroupParent": "cgroup_parent", "Runtime": "runtime",
    "StorageOpt": "storage_opt", "PublishAllPorts": "ports (publish all)",
    "Isolation": "isolation", "Sysctls": "sysctls", "CpuCount": "cpu_count",
    "CpuPercent": "cpu_percent", "CpuPeriod": "cpu_period", "CpuQuota": "cpu_quota",
}
#: Namespace modes LXC does not share with the host or another container yet.
_MODES = {"PidMode": "pid", "IpcMode": "ipc", "UTSMode": "uts", "UsernsMode": "userns_mode",
          "CgroupnsMode": "cgroup"}
#: Config field -> its compose key.
_CONFIG_KEYS = {"MacAddress": "mac_address",
                "Domainname": "domainname"}


def _set(value: Any) -> bool:
    """Whether a field holds something other than its default."""
    return value not in (None, "", 0, False, [], {}, -1)


def refusals(body: Mapping[str, Any]) -> list[str]:
    """The compose keys of ``body`` LXC cannot honour (empty: all can be); a key
    may carry its value (``network_mode: host``)."""
    host = body.get("HostConfig") or {}
    keys: list[str] = []
    for field, key in _HOST_KEYS.items():
        if _set(host.get(field)) and key not in keys:
            keys.append(key)
    for field, key in _MODES.items():
        mode = str(host.get(field) or "")
        if mode not in ("", "private", "shareable", "none"):
            keys.append(f"{key}: {mode}")
    network = str(host.get("NetworkMode") or "")
    if network == "host" or network.startswith(("container:", "service:")):
        keys.append(f"network_mode: {network}")
    for field, key in _CONFIG_KEYS.items():
        if _set(body.get(field)):
            keys.append(key)
    if str(host.get("LogConfig", {}).get("Type") or "json-file") not in ("json-file", ""):
        keys.append("logging.driver")
    return keys

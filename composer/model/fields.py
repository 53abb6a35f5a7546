"""compose-go's field table: the one description of a project's fields.

Docker Compose v2 reads a project into compose-go's Go structs (``types`` of
compose-go v2.9.1, the one in Compose v2.40.3) and prints (``config --format
json``) and hashes (``com.docker.compose.config-hash``) them with Go's
``encoding/json``. This module writes those structs down once, as data: for each
struct its JSON keys in declaration order, each with the kind of value it holds
and the rule by which Go leaves it out. Three things are derived from it:

* the model's dataclasses load and dump their canonical dicts by it
  (:mod:`composer.model._codec`, :mod:`composer.model.project`);
* Go's JSON of a service, for the config hash, is written by it
  (:mod:`composer.model.gojson`);
* the loader's normalise phase coerces what a compose file says into the
  canonical form by it (:mod:`composer.config.typed`).

A field's *omit* rule is Go's: :data:`OMIT` (``omitempty``: ``false``, ``0``,
``""`` and empty lists and maps are left out), :data:`PTR` (a pointer: only
``nil`` is left out) or :data:`ALWAYS` (no ``omitempty``: always written, with the
kind's zero value when unset).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "ALWAYS",
    "OMIT",
    "PTR",
    "Field",
    "Kind",
    "Struct",
    "is_empty",
    "paths",
    "zero",
]


class Kind(enum.Enum):
    """What a field holds, as Go types it (and so how it is read, stored and written)."""

    STR = "string"
    BOOL = "bool"
    INT = "int"
    FLOAT32 = "float32"
    BYTES = "UnitBytes"  # a size: "512m" in a file, "536870912" (a string) in JSON
    DURATION = "Duration"  # "90s" in a file, "1m30s" in JSON
    FILE_MODE = "FileMode"  # permission bits, "0440" in JSON
    DEVICE_COUNT = "DeviceCount"  # a number, or "all" (-1)
    STRINGS = "[]string"
    COMMAND = "ShellCommand"  # a list, split like a shell when written as a string
    HEALTHCHECK_TEST = "HealthCheckTest"  # a list; a string is ["CMD-SHELL", it]
    HOSTS = "HostsList"  # sorted "host=ip" strings
    SSH = "SSHConfig"  # "id" or "id=path" strings
    STR_MAP = "map[string]string"
    ENV_MAP = "MappingWithEquals"  # map[string]*string: a value may be null
    OPTIONS = "MultiOptions"  # map[string][]string
    STRUCT = "struct"  # one struct (``item``)
    LIST = "[]struct"  # a list of structs
    MAP = "map[string]struct"  # a map of structs; of pointers when ``null_items``
    ULIMITS = "map[string]*UlimitsConfig"  # a number, or ``item`` (soft/hard)
    ENV_FILES = "[]EnvFile"  # a path, or ``item`` (path/required/format)
    ANY = "any"  # a plain JSON value, written as its type says


class Omit(enum.Enum):
    """How Go decides to leave a field out of its JSON."""

    OMIT = "omitempty"
    PTR = "pointer"
    ALWAYS = "always"


OMIT: Final = Omit.OMIT
PTR: Final = Omit.PTR
ALWAYS: Final = Omit.ALWAYS


class Field:
    """One struct field: its JSON ``key``, ``kind``, omit rule and, for a struct kind,
    the struct it holds (``item``). ``attr`` is the model's attribute name (the key,
    but for blkio's capitalised ``Path``/``Weight``/``Rate``)."""

    __slots__ = ("attr", "item", "key", "kind", "null_items", "omit")

    def __init__(self, key: str, kind: Kind, omit: Omit = OMIT, item: Struct | None = None,
                 *, attr: str | None = None, null_items: bool = False) -> None:
        self.key = key
        self.kind = kind
        self.omit = omit
        self.item = item
        self.attr = attr or key
        self.null_items = null_items

    def __repr__(self) -> str:
        return f"Field({self.key!r}, {self.kind.name}, {self.omit.name})"


class Struct:
    """A Go struct: ``fields`` by JSON key, in declaration order (Go writes them in
    this order); ``position`` is each key's rank."""

    __slots__ = ("always", "fields", "name", "position")

    def __init__(self, name: str, fields: Iterable[Field]) -> None:
        self.name = name
        self.fields: dict[str, Field] = {f.key: f for f in fields}
        self.position: dict[str, int] = {key: i for i, key in enumerate(self.fields)}
        self.always: tuple[Field, ...] = tuple(
            f for f in self.fields.values() if f.omit is ALWAYS)

    def __repr__(self) -> str:
        return f"Struct({self.name!r})"


def is_empty(kind: Kind, value: Any) -> bool:
    """Whether Go's ``omitempty`` leaves ``value`` (in its JSON form) out: ``None``,
    ``false``, ``0``, ``""``, an empty list or map, and a zero size (``"0"``) or
    duration (``"0s"``)."""
    if value is None or value is False:
        return True
    t = type(value)
    if t is str:
        return not value or (kind is Kind.BYTES and value == "0") or (
            kind is Kind.DURATION and value == "0s")
    if t is int or t is float:
        return bool(value == 0)
    if t is list or t is dict or t is tuple:
        return not value
    return isinstance(value, Mapping) and not value


_ZERO: dict[Kind, Any] = {
    Kind.STR: "",
    Kind.BOOL: False,
    Kind.INT: 0,
    Kind.FLOAT32: 0,
    Kind.BYTES: "0",
    Kind.DURATION: "0s",
    Kind.DEVICE_COUNT: 0,
}


def zero(field: Field) -> Any:
    """What Go writes for an unset :data:`ALWAYS` field: ``""``, ``false``, ``0``,
    ``"0"`` for a size, ``{}`` (then its own always-written fields) for a struct,
    ``null`` for a list or map."""
    if field.kind is Kind.STRUCT:
        return {}
    return _ZERO.get(field.kind)


def paths(struct: Struct, kind: Kind) -> tuple[tuple[str, ...], ...]:
    """The key paths, through nested structs (not lists or maps), of the fields of
    ``kind`` under ``struct``: ``paths(SERVICE, Kind.DURATION)`` includes
    ``("healthcheck", "interval")``."""
    found: list[tuple[str, ...]] = []
    for field in struct.fields.values():
        if field.kind is kind:
            found.append((field.key,))
        elif field.kind is Kind.STRUCT and field.item is not None:
            found.extend((field.key, *rest) for rest in paths(field.item, kind))
    return tuple(found)


def F(key: str, kind: Kind, omit: Omit = OMIT, item: Struct | None = None, *,
      attr: str | None = None, null_items: bool = False) -> Field:
    """A table row (short, so the table reads as one)."""
    return Field(key, kind, omit, item, attr=attr, null_items=null_items)


K = Kind

# --- service parts ---------------------------------------------------------------------------

SERVICE_HOOK = Struct("ServiceHook", [
    F("command", K.COMMAND, ALWAYS),
    F("user", K.STR),
    F("privileged", K.BOOL),
    F("working_dir", K.STR),
    F("environment", K.ENV_MAP),
])
FILE_REFERENCE = Struct("FileReferenceConfig", [  # a service's secret or config
    F("source", K.STR),
    F("target", K.STR),
    F("uid", K.STR),
    F("gid", K.STR),
    F("mode", K.FILE_MODE, PTR),
])
ULIMIT = Struct("UlimitsConfig", [
    F("single", K.INT),
    F("soft", K.INT),
    F("hard", K.INT),
])
BUILD = Struct("BuildConfig", [
    F("context", K.STR),
    F("dockerfile", K.STR),
    F("dockerfile_inline", K.STR),
    F("entitlements", K.STRINGS),
    F("args", K.ENV_MAP),
    F("provenance", K.STR),
    F("sbom", K.STR),
    F("ssh", K.SSH),
    F("labels", K.STR_MAP),
    F("cache_from", K.STRINGS),
    F("cache_to", K.STRINGS),
    F("no_cache", K.BOOL),
    F("additional_contexts", K.STR_MAP),
    F("pull", K.BOOL),
    F("extra_hosts", K.HOSTS),
    F("isolation", K.STR),
    F("network", K.STR),
    F("target", K.STR),
    F("secrets", K.LIST, OMIT, FILE_REFERENCE),
    F("shm_size", K.BYTES),
    F("tags", K.STRINGS),
    F("ulimits", K.ULIMITS, OMIT, ULIMIT),
    F("platforms", K.STRINGS),
    F("privileged", K.BOOL),
])
TRIGGER = Struct("Trigger", [  # one develop.watch rule
    F("path", K.STR, ALWAYS),
    F("action", K.STR, ALWAYS),
    F("target", K.STR),
    F("exec", K.STRUCT, ALWAYS, SERVICE_HOOK),
    F("include", K.STRINGS),
    F("ignore", K.STRINGS),
    F("initial_sync", K.BOOL),
])
DEVELOP = Struct("DevelopConfig", [
    F("watch", K.LIST, OMIT, TRIGGER),
])
# compose-go gives these two no JSON names: Go writes the field names.
WEIGHT_DEVICE = Struct("WeightDevice", [
    F("Path", K.STR, ALWAYS, attr="path"),
    F("Weight", K.INT, ALWAYS, attr="weight"),
])
THROTTLE_DEVICE = Struct("ThrottleDevice", [
    F("Path", K.STR, ALWAYS, attr="path"),
    F("Rate", K.BYTES, ALWAYS, attr="rate"),
])
BLKIO = Struct("BlkioConfig", [
    F("weight", K.INT),
    F("weight_device", K.LIST, OMIT, WEIGHT_DEVICE),
    F("device_read_bps", K.LIST, OMIT, THROTTLE_DEVICE),
    F("device_read_iops", K.LIST, OMIT, THROTTLE_DEVICE),
    F("device_write_bps", K.LIST, OMIT, THROTTLE_DEVICE),
    F("device_write_iops", K.LIST, OMIT, THROTTLE_DEVICE),
])
CREDENTIAL_SPEC = Struct("CredentialSpecConfig", [
    F("config", K.STR),
    F("file", K.STR),
    F("registry", K.STR),
])
SERVICE_DEPENDENCY = Struct("ServiceDependency", [  # one depends_on entry
    F("condition", K.STR),
    F("restart", K.BOOL),
    F("required", K.BOOL, ALWAYS),
])
UPDATE_CONFIG = Struct("UpdateConfig", [  # update_config and rollback_config
    F("parallelism", K.INT, PTR),
    F("delay", K.DURATION),
    F("failure_action", K.STR),
    F("monitor", K.DURATION),
    F("max_failure_ratio", K.FLOAT32),
    F("order", K.STR),
])
DEVICE_REQUEST = Struct("DeviceRequest", [  # gpus, and devices under resources
    F("capabilities", K.STRINGS),
    F("driver", K.STR),
    F("count", K.DEVICE_COUNT),
    F("device_ids", K.STRINGS),
    F("options", K.STR_MAP),
])
DISCRETE_RESOURCE = Struct("DiscreteGenericResource", [
    F("kind", K.STR, ALWAYS),
    F("value", K.INT, ALWAYS),
])
GENERIC_RESOURCE = Struct("GenericResource", [
    F("discrete_resource_spec", K.STRUCT, PTR, DISCRETE_RESOURCE),
])
RESOURCE = Struct("Resource", [  # limits and reservations
    F("cpus", K.FLOAT32),
    F("memory", K.BYTES),
    F("pids", K.INT),
    F("devices", K.LIST, OMIT, DEVICE_REQUEST),
    F("generic_resources", K.LIST, OMIT, GENERIC_RESOURCE),
])
RESOURCES = Struct("Resources", [
    F("limits", K.STRUCT, PTR, RESOURCE),
    F("reservations", K.STRUCT, PTR, RESOURCE),
])
RESTART_POLICY = Struct("RestartPolicy", [
    F("condition", K.STR),
    F("delay", K.DURATION, PTR),
    F("max_attempts", K.INT, PTR),
    F("window", K.DURATION, PTR),
])
PLACEMENT_PREFERENCE = Struct("PlacementPreferences", [
    F("spread", K.STR),
])
PLACEMENT = Struct("Placement", [
    F("constraints", K.STRINGS),
    F("preferences", K.LIST, OMIT, PLACEMENT_PREFERENCE),
    F("max_replicas_per_node", K.INT),
])
DEPLOY = Struct("DeployConfig", [
    F("mode", K.STR),
    F("replicas", K.INT, PTR),
    F("labels", K.STR_MAP),
    F("update_config", K.STRUCT, PTR, UPDATE_CONFIG),
    F("rollback_config", K.STRUCT, PTR, UPDATE_CONFIG),
    F("resources", K.STRUCT, ALWAYS, RESOURCES),
    F("restart_policy", K.STRUCT, PTR, RESTART_POLICY),
    F("placement", K.STRUCT, ALWAYS, PLACEMENT),
    F("endpoint_mode", K.STR),
])
DEVICE_MAPPING = Struct("DeviceMapping", [  # one devices entry
    F("source", K.STR),
    F("target", K.STR),
    F("permissions", K.STR),
])
SERVICE_PROVIDER = Struct("ServiceProviderConfig", [
    F("type", K.STR),
    F("options", K.OPTIONS),
])
ENV_FILE = Struct("EnvFile", [
    F("path", K.STR),
    F("required", K.BOOL, ALWAYS),
    F("format", K.STR),
])
EXTENDS = Struct("ExtendsConfig", [
    F("file", K.STR),
    F("service", K.STR),
])
HEALTHCHECK = Struct("HealthCheckConfig", [
    F("test", K.HEALTHCHECK_TEST),
    F("timeout", K.DURATION, PTR),
    F("interval", K.DURATION, PTR),
    F("retries", K.INT, PTR),
    F("start_period", K.DURATION, PTR),
    F("start_interval", K.DURATION, PTR),
    F("disable", K.BOOL),
])
LOGGING = Struct("LoggingConfig", [
    F("driver", K.STR),
    F("options", K.STR_MAP),
])
SERVICE_MODEL = Struct("ServiceModelConfig", [
    F("endpoint_var", K.STR),
    F("model_var", K.STR),
])
SERVICE_NETWORK = Struct("ServiceNetworkConfig", [
    F("aliases", K.STRINGS),
    F("driver_opts", K.STR_MAP),
    F("gw_priority", K.INT),
    F("interface_name", K.STR),
    F("ipv4_address", K.STR),
    F("ipv6_address", K.STR),
    F("link_local_ips", K.STRINGS),
    F("mac_address", K.STR),
    F("priority", K.INT),
])
PORT = Struct("ServicePortConfig", [
    F("name", K.STR),
    F("mode", K.STR),
    F("host_ip", K.STR),
    F("target", K.INT),
    F("published", K.STR),
    F("protocol", K.STR),
    F("app_protocol", K.STR),
])
VOLUME_BIND = Struct("ServiceVolumeBind", [
    F("selinux", K.STR),
    F("propagation", K.STR),
    F("create_host_path", K.BOOL),
    F("recursive", K.STR),
])
VOLUME_VOLUME = Struct("ServiceVolumeVolume", [
    F("labels", K.STR_MAP),
    F("nocopy", K.BOOL),
    F("subpath", K.STR),
])
VOLUME_TMPFS = Struct("ServiceVolumeTmpfs", [
    F("size", K.BYTES),
    F("mode", K.INT),
])
VOLUME_IMAGE = Struct("ServiceVolumeImage", [
    F("subpath", K.STR),
])
SERVICE_VOLUME = Struct("ServiceVolumeConfig", [  # one volumes entry, long syntax
    F("type", K.STR),
    F("source", K.STR),
    F("target", K.STR),
    F("read_only", K.BOOL),
    F("consistency", K.STR),
    F("bind", K.STRUCT, PTR, VOLUME_BIND),
    F("volume", K.STRUCT, PTR, VOLUME_VOLUME),
    F("tmpfs", K.STRUCT, PTR, VOLUME_TMPFS),
    F("image", K.STRUCT, PTR, VOLUME_IMAGE),
])

# --- the service -----------------------------------------------------------------------------

SERVICE = Struct("ServiceConfig", [
    F("profiles", K.STRINGS),
    F("annotations", K.STR_MAP),
    F("attach", K.BOOL, PTR),
    F("build", K.STRUCT, PTR, BUILD),
    F("develop", K.STRUCT, PTR, DEVELOP),
    F("blkio_config", K.STRUCT, PTR, BLKIO),
    F("cap_add", K.STRINGS),
    F("cap_drop", K.STRINGS),
    F("cgroup_parent", K.STR),
    F("cgroup", K.STR),
    F("cpu_count", K.INT),
    F("cpu_percent", K.FLOAT32),
    F("cpu_period", K.INT),
    F("cpu_quota", K.INT),
    F("cpu_rt_period", K.INT),
    F("cpu_rt_runtime", K.INT),
    F("cpus", K.FLOAT32),
    F("cpuset", K.STR),
    F("cpu_shares", K.INT),
    F("command", K.COMMAND, ALWAYS),
    F("configs", K.LIST, OMIT, FILE_REFERENCE),
    F("container_name", K.STR),
    F("credential_spec", K.STRUCT, PTR, CREDENTIAL_SPEC),
    F("depends_on", K.MAP, OMIT, SERVICE_DEPENDENCY),
    F("deploy", K.STRUCT, PTR, DEPLOY),
    F("device_cgroup_rules", K.STRINGS),
    F("devices", K.LIST, OMIT, DEVICE_MAPPING),
    F("dns", K.STRINGS),
    F("dns_opt", K.STRINGS),
    F("dns_search", K.STRINGS),
    F("dockerfile", K.STR),
    F("domainname", K.STR),
    F("entrypoint", K.COMMAND, ALWAYS),
    F("provider", K.STRUCT, PTR, SERVICE_PROVIDER),
    F("environment", K.ENV_MAP),
    F("env_file", K.ENV_FILES, OMIT, ENV_FILE),
    F("expose", K.STRINGS),
    F("extends", K.STRUCT, PTR, EXTENDS),
    F("external_links", K.STRINGS),
    F("extra_hosts", K.HOSTS),
    F("group_add", K.STRINGS),
    F("gpus", K.LIST, OMIT, DEVICE_REQUEST),
    F("hostname", K.STR),
    F("healthcheck", K.STRUCT, PTR, HEALTHCHECK),
    F("image", K.STR),
    F("init", K.BOOL, PTR),
    F("ipc", K.STR),
    F("isolation", K.STR),
    F("labels", K.STR_MAP),
    F("label_file", K.STRINGS),
    F("links", K.STRINGS),
    F("logging", K.STRUCT, PTR, LOGGING),
    F("log_driver", K.STR),
    F("log_opt", K.STR_MAP),
    F("mem_limit", K.BYTES),
    F("mem_reservation", K.BYTES),
    F("memswap_limit", K.BYTES),
    F("mem_swappiness", K.BYTES),
    F("mac_address", K.STR),
    F("models", K.MAP, OMIT, SERVICE_MODEL, null_items=True),
    F("net", K.STR),
    F("network_mode", K.STR),
    F("networks", K.MAP, OMIT, SERVICE_NETWORK, null_items=True),
    F("oom_kill_disable", K.BOOL),
    F("oom_score_adj", K.INT),
    F("pid", K.STR),
    F("pids_limit", K.INT),
    F("platform", K.STR),
    F("ports", K.LIST, OMIT, PORT),
    F("privileged", K.BOOL),
    F("pull_policy", K.STR),
    F("read_only", K.BOOL),
    F("restart", K.STR),
    F("runtime", K.STR),
    F("scale", K.INT, PTR),
    F("secrets", K.LIST, OMIT, FILE_REFERENCE),
    F("security_opt", K.STRINGS),
    F("shm_size", K.BYTES),
    F("stdin_open", K.BOOL),
    F("stop_grace_period", K.DURATION, PTR),
    F("stop_signal", K.STR),
    F("storage_opt", K.STR_MAP),
    F("sysctls", K.STR_MAP),
    F("tmpfs", K.STRINGS),
    F("tty", K.BOOL),
    F("ulimits", K.ULIMITS, OMIT, ULIMIT),
    F("use_api_socket", K.BOOL),
    F("user", K.STR),
    F("userns_mode", K.STR),
    F("uts", K.STR),
    F("volume_driver", K.STR),
    F("volumes", K.LIST, OMIT, SERVICE_VOLUME),
    F("volumes_from", K.STRINGS),
    F("working_dir", K.STR),
    F("post_start", K.LIST, OMIT, SERVICE_HOOK),
    F("pre_stop", K.LIST, OMIT, SERVICE_HOOK),
])

# --- top-level resources ---------------------------------------------------------------------

IPAM_POOL = Struct("IPAMPool", [
    F("subnet", K.STR),
    F("gateway", K.STR),
    F("ip_range", K.STR),
    F("aux_addresses", K.STR_MAP),
])
IPAM = Struct("IPAMConfig", [
    F("driver", K.STR),
    F("config", K.LIST, OMIT, IPAM_POOL),
])
NETWORK = Struct("NetworkConfig", [
    F("name", K.STR),
    F("driver", K.STR),
    F("driver_opts", K.STR_MAP),
    F("ipam", K.STRUCT, ALWAYS, IPAM),
    F("external", K.BOOL),
    F("internal", K.BOOL),
    F("attachable", K.BOOL),
    F("labels", K.STR_MAP),
    F("enable_ipv4", K.BOOL, PTR),
    F("enable_ipv6", K.BOOL, PTR),
])
VOLUME = Struct("VolumeConfig", [
    F("name", K.STR),
    F("driver", K.STR),
    F("driver_opts", K.STR_MAP),
    F("external", K.BOOL),
    F("labels", K.STR_MAP),
])
FILE_OBJECT = Struct("FileObjectConfig", [  # a top-level secret or config
    F("name", K.STR),
    F("file", K.STR),
    F("environment", K.STR),
    F("content", K.STR),
    F("external", K.BOOL),
    F("labels", K.STR_MAP),
    F("driver", K.STR),
    F("driver_opts", K.STR_MAP),
    F("template_driver", K.STR),
])
MODEL = Struct("ModelConfig", [  # a top-level AI model
    F("name", K.STR),
    F("model", K.STR),
    F("context_size", K.INT),
    F("runtime_flags", K.STRINGS),
])

del K

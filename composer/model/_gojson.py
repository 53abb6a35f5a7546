"""Go's ``encoding/json`` output for compose-go's ``types.ServiceConfig``.

Docker Compose v2 hashes a service as ``json.Marshal(ServiceConfig)``: struct
fields in declaration order, map keys sorted, ``omitempty`` rules, HTML-safe
string escaping, float32 numbers in their shortest form. The canonical dict
``config --format json`` prints is that same encoding, so re-encoding the dict
with compose-go's field order (compose-go v2.9.1, the one in Compose v2.40.3)
reproduces the bytes v2 hashes.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from composer.model.units import format_duration

# Field kinds: how Go decides to leave a field out.
OMIT: Final = 0  # `omitempty` on a value: false, 0, "", empty list/map are left out
PTR: Final = 1  # a pointer (or `omitempty` struct value): only nil is left out
ALWAYS: Final = 2  # no `omitempty`: always written, with its zero value when unset

Leaf = Callable[[Any], Any]


class Struct:
    """A Go struct: JSON keys in declaration order, each with a kind and a schema."""

    __slots__ = ("always", "defaults", "fields", "name", "position")

    def __init__(self, name: str, fields: list[tuple[str, int, Schema]],
                 defaults: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.fields: dict[str, tuple[int, Schema]] = {k: (kind, s) for k, kind, s in fields}
        self.position: dict[str, int] = {k: i for i, (k, _, _) in enumerate(fields)}
        self.always: tuple[str, ...] = tuple(k for k, kind, _ in fields if kind == ALWAYS)
        self.defaults: Mapping[str, Any] = defaults or {}


class MapOf:
    """A Go map: keys sorted, values of one schema."""

    __slots__ = ("item",)

    def __init__(self, item: Schema) -> None:
        self.item = item


class ListOf:
    """A Go slice: values of one schema."""

    __slots__ = ("item",)

    def __init__(self, item: Schema) -> None:
        self.item = item


class Custom:
    """A type with its own ``MarshalJSON``: a function to the value Go would encode."""

    __slots__ = ("convert", "item")

    def __init__(self, convert: Leaf, item: Schema = None) -> None:
        self.convert = convert
        self.item = item


Schema = Struct | MapOf | ListOf | Custom | None


def _bytes(value: Any) -> Any:
    # UnitBytes marshals as a JSON string of the integer.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _duration(value: Any) -> Any:
    return format_duration(value) if isinstance(value, int) and not isinstance(value, bool) \
        else value


def _file_mode(value: Any) -> Any:
    return f"0{value:o}" if isinstance(value, int) and not isinstance(value, bool) else value


def _ulimit(value: Any) -> Any:
    # UlimitsConfig marshals as the bare number when `single` is set.
    if isinstance(value, Mapping) and value.get("single"):
        return value["single"]
    return value


def _env_file(value: Any) -> Any:
    # EnvFile marshals as its path when required, else as the plain struct.
    if isinstance(value, Mapping) and value.get("required", True) is True:
        return value.get("path", "")
    return value


def _extra_hosts(value: Any) -> Any:
    # HostsList marshals as sorted "host=ip" strings.
    if isinstance(value, Mapping):
        items: list[str] = []
        for host, ips in value.items():
            for ip in ips if isinstance(ips, list | tuple) else [ips]:
                items.append(f"{host}={'' if ip is None else ip}")
        return sorted(items)
    if isinstance(value, list | tuple):
        return sorted(value)
    return value


BYTES = Custom(_bytes)
DURATION = Custom(_duration)
STRINGS = ListOf(None)

_HOOK = Struct("ServiceHook", [
    ("command", ALWAYS, None),
    ("user", OMIT, None),
    ("privileged", OMIT, None),
    ("working_dir", OMIT, None),
    ("environment", OMIT, None),
])
_FILE_REF = Struct("FileReferenceConfig", [
    ("source", OMIT, None),
    ("target", OMIT, None),
    ("uid", OMIT, None),
    ("gid", OMIT, None),
    ("mode", PTR, Custom(_file_mode)),
])
_ULIMIT = Custom(_ulimit, Struct("UlimitsConfig", [
    ("single", OMIT, None), ("soft", OMIT, None), ("hard", OMIT, None),
]))
_BUILD = Struct("BuildConfig", [
    ("context", OMIT, None),
    ("dockerfile", OMIT, None),
    ("dockerfile_inline", OMIT, None),
    ("entitlements", OMIT, STRINGS),
    ("args", OMIT, None),
    ("provenance", OMIT, None),
    ("sbom", OMIT, None),
    ("ssh", OMIT, STRINGS),
    ("labels", OMIT, None),
    ("cache_from", OMIT, STRINGS),
    ("cache_to", OMIT, STRINGS),
    ("no_cache", OMIT, None),
    ("additional_contexts", OMIT, None),
    ("pull", OMIT, None),
    ("extra_hosts", OMIT, Custom(_extra_hosts)),
    ("isolation", OMIT, None),
    ("network", OMIT, None),
    ("target", OMIT, None),
    ("secrets", OMIT, ListOf(_FILE_REF)),
    ("shm_size", OMIT, BYTES),
    ("tags", OMIT, STRINGS),
    ("ulimits", OMIT, MapOf(_ULIMIT)),
    ("platforms", OMIT, STRINGS),
    ("privileged", OMIT, None),
])
_TRIGGER = Struct("Trigger", [
    ("path", ALWAYS, None),
    ("action", ALWAYS, None),
    ("target", OMIT, None),
    ("exec", ALWAYS, _HOOK),
    ("include", OMIT, STRINGS),
    ("ignore", OMIT, STRINGS),
    ("initial_sync", OMIT, None),
], defaults={"path": "", "action": "", "exec": {}})
_DEVELOP = Struct("DevelopConfig", [("watch", OMIT, ListOf(_TRIGGER))])
_WEIGHT_DEVICE = Struct("WeightDevice", [("Path", ALWAYS, None), ("Weight", ALWAYS, None)],
                        defaults={"Path": "", "Weight": 0})
_THROTTLE_DEVICE = Struct("ThrottleDevice", [("Path", ALWAYS, None), ("Rate", ALWAYS, BYTES)],
                          defaults={"Path": "", "Rate": "0"})
_BLKIO = Struct("BlkioConfig", [
    ("weight", OMIT, None),
    ("weight_device", OMIT, ListOf(_WEIGHT_DEVICE)),
    ("device_read_bps", OMIT, ListOf(_THROTTLE_DEVICE)),
    ("device_read_iops", OMIT, ListOf(_THROTTLE_DEVICE)),
    ("device_write_bps", OMIT, ListOf(_THROTTLE_DEVICE)),
    ("device_write_iops", OMIT, ListOf(_THROTTLE_DEVICE)),
])
_CREDENTIAL_SPEC = Struct("CredentialSpecConfig", [
    ("config", OMIT, None), ("file", OMIT, None), ("registry", OMIT, None),
])
_DEPENDENCY = Struct("ServiceDependency", [
    ("condition", OMIT, None), ("restart", OMIT, None), ("required", ALWAYS, None),
], defaults={"required": False})
_UPDATE = Struct("UpdateConfig", [
    ("parallelism", PTR, None),
    ("delay", OMIT, DURATION),
    ("failure_action", OMIT, None),
    ("monitor", OMIT, DURATION),
    ("max_failure_ratio", OMIT, None),
    ("order", OMIT, None),
])
_DEVICE_REQUEST = Struct("DeviceRequest", [
    ("capabilities", OMIT, STRINGS),
    ("driver", OMIT, None),
    ("count", OMIT, None),
    ("device_ids", OMIT, STRINGS),
    ("options", OMIT, None),
])
_GENERIC_RESOURCE = Struct("GenericResource", [
    ("discrete_resource_spec", PTR, Struct("DiscreteGenericResource", [
        ("kind", ALWAYS, None), ("value", ALWAYS, None),
    ], defaults={"kind": "", "value": 0})),
])
_RESOURCE = Struct("Resource", [
    ("cpus", OMIT, None),
    ("memory", OMIT, BYTES),
    ("pids", OMIT, None),
    ("devices", OMIT, ListOf(_DEVICE_REQUEST)),
    ("generic_resources", OMIT, ListOf(_GENERIC_RESOURCE)),
])
_DEPLOY = Struct("DeployConfig", [
    ("mode", OMIT, None),
    ("replicas", PTR, None),
    ("labels", OMIT, None),
    ("update_config", PTR, _UPDATE),
    ("rollback_config", PTR, _UPDATE),
    ("resources", ALWAYS, Struct("Resources", [
        ("limits", PTR, _RESOURCE), ("reservations", PTR, _RESOURCE),
    ])),
    ("restart_policy", PTR, Struct("RestartPolicy", [
        ("condition", OMIT, None),
        ("delay", PTR, DURATION),
        ("max_attempts", PTR, None),
        ("window", PTR, DURATION),
    ])),
    ("placement", ALWAYS, Struct("Placement", [
        ("constraints", OMIT, STRINGS),
        ("preferences", OMIT, ListOf(Struct("PlacementPreferences", [("spread", OMIT, None)]))),
        ("max_replicas_per_node", OMIT, None),
    ])),
    ("endpoint_mode", OMIT, None),
], defaults={"resources": {}, "placement": {}})
_DEVICE = Struct("DeviceMapping", [
    ("source", OMIT, None), ("target", OMIT, None), ("permissions", OMIT, None),
])
_PROVIDER = Struct("ServiceProviderConfig", [("type", OMIT, None), ("options", OMIT, None)])
_ENV_FILE = Custom(_env_file, Struct("EnvFile", [
    ("path", OMIT, None), ("required", ALWAYS, None), ("format", OMIT, None),
], defaults={"required": False}))
_EXTENDS = Struct("ExtendsConfig", [("file", OMIT, None), ("service", OMIT, None)])
_HEALTHCHECK = Struct("HealthCheckConfig", [
    ("test", OMIT, STRINGS),
    ("timeout", PTR, DURATION),
    ("interval", PTR, DURATION),
    ("retries", PTR, None),
    ("start_period", PTR, DURATION),
    ("start_interval", PTR, DURATION),
    ("disable", OMIT, None),
])
_LOGGING = Struct("LoggingConfig", [("driver", OMIT, None), ("options", OMIT, None)])
_SERVICE_MODEL = Struct("ServiceModelConfig", [
    ("endpoint_var", OMIT, None), ("model_var", OMIT, None),
])
_SERVICE_NETWORK = Struct("ServiceNetworkConfig", [
    ("aliases", OMIT, STRINGS),
    ("driver_opts", OMIT, None),
    ("gw_priority", OMIT, None),
    ("interface_name", OMIT, None),
    ("ipv4_address", OMIT, None),
    ("ipv6_address", OMIT, None),
    ("link_local_ips", OMIT, STRINGS),
    ("mac_address", OMIT, None),
    ("priority", OMIT, None),
])
_PORT = Struct("ServicePortConfig", [
    ("name", OMIT, None),
    ("mode", OMIT, None),
    ("host_ip", OMIT, None),
    ("target", OMIT, None),
    ("published", OMIT, None),
    ("protocol", OMIT, None),
    ("app_protocol", OMIT, None),
])
_VOLUME = Struct("ServiceVolumeConfig", [
    ("type", OMIT, None),
    ("source", OMIT, None),
    ("target", OMIT, None),
    ("read_only", OMIT, None),
    ("consistency", OMIT, None),
    ("bind", PTR, Struct("ServiceVolumeBind", [
        ("selinux", OMIT, None),
        ("propagation", OMIT, None),
        ("create_host_path", OMIT, None),
        ("recursive", OMIT, None),
    ])),
    ("volume", PTR, Struct("ServiceVolumeVolume", [
        ("labels", OMIT, None), ("nocopy", OMIT, None), ("subpath", OMIT, None),
    ])),
    ("tmpfs", PTR, Struct("ServiceVolumeTmpfs", [("size", OMIT, BYTES), ("mode", OMIT, None)])),
    ("image", PTR, Struct("ServiceVolumeImage", [("subpath", OMIT, None)])),
])

SERVICE = Struct("ServiceConfig", [
    ("profiles", OMIT, STRINGS),
    ("annotations", OMIT, None),
    ("attach", PTR, None),
    ("build", PTR, _BUILD),
    ("develop", PTR, _DEVELOP),
    ("blkio_config", PTR, _BLKIO),
    ("cap_add", OMIT, STRINGS),
    ("cap_drop", OMIT, STRINGS),
    ("cgroup_parent", OMIT, None),
    ("cgroup", OMIT, None),
    ("cpu_count", OMIT, None),
    ("cpu_percent", OMIT, None),
    ("cpu_period", OMIT, None),
    ("cpu_quota", OMIT, None),
    ("cpu_rt_period", OMIT, None),
    ("cpu_rt_runtime", OMIT, None),
    ("cpus", OMIT, None),
    ("cpuset", OMIT, None),
    ("cpu_shares", OMIT, None),
    ("command", ALWAYS, STRINGS),
    ("configs", OMIT, ListOf(_FILE_REF)),
    ("container_name", OMIT, None),
    ("credential_spec", PTR, _CREDENTIAL_SPEC),
    ("depends_on", OMIT, MapOf(_DEPENDENCY)),
    ("deploy", PTR, _DEPLOY),
    ("device_cgroup_rules", OMIT, STRINGS),
    ("devices", OMIT, ListOf(_DEVICE)),
    ("dns", OMIT, STRINGS),
    ("dns_opt", OMIT, STRINGS),
    ("dns_search", OMIT, STRINGS),
    ("dockerfile", OMIT, None),
    ("domainname", OMIT, None),
    ("entrypoint", ALWAYS, STRINGS),
    ("provider", PTR, _PROVIDER),
    ("environment", OMIT, None),
    ("env_file", OMIT, ListOf(_ENV_FILE)),
    ("expose", OMIT, STRINGS),
    ("extends", PTR, _EXTENDS),
    ("external_links", OMIT, STRINGS),
    ("extra_hosts", OMIT, Custom(_extra_hosts)),
    ("group_add", OMIT, STRINGS),
    ("gpus", OMIT, ListOf(_DEVICE_REQUEST)),
    ("hostname", OMIT, None),
    ("healthcheck", PTR, _HEALTHCHECK),
    ("image", OMIT, None),
    ("init", PTR, None),
    ("ipc", OMIT, None),
    ("isolation", OMIT, None),
    ("labels", OMIT, None),
    ("label_file", OMIT, STRINGS),
    ("links", OMIT, STRINGS),
    ("logging", PTR, _LOGGING),
    ("log_driver", OMIT, None),
    ("log_opt", OMIT, None),
    ("mem_limit", OMIT, BYTES),
    ("mem_reservation", OMIT, BYTES),
    ("memswap_limit", OMIT, BYTES),
    ("mem_swappiness", OMIT, BYTES),
    ("mac_address", OMIT, None),
    ("models", OMIT, MapOf(_SERVICE_MODEL)),
    ("net", OMIT, None),
    ("network_mode", OMIT, None),
    ("networks", OMIT, MapOf(_SERVICE_NETWORK)),
    ("oom_kill_disable", OMIT, None),
    ("oom_score_adj", OMIT, None),
    ("pid", OMIT, None),
    ("pids_limit", OMIT, None),
    ("platform", OMIT, None),
    ("ports", OMIT, ListOf(_PORT)),
    ("privileged", OMIT, None),
    ("pull_policy", OMIT, None),
    ("read_only", OMIT, None),
    ("restart", OMIT, None),
    ("runtime", OMIT, None),
    ("scale", PTR, None),
    ("secrets", OMIT, ListOf(_FILE_REF)),
    ("security_opt", OMIT, STRINGS),
    ("shm_size", OMIT, BYTES),
    ("stdin_open", OMIT, None),
    ("stop_grace_period", PTR, DURATION),
    ("stop_signal", OMIT, None),
    ("storage_opt", OMIT, None),
    ("sysctls", OMIT, None),
    ("tmpfs", OMIT, STRINGS),
    ("tty", OMIT, None),
    ("ulimits", OMIT, MapOf(_ULIMIT)),
    ("use_api_socket", OMIT, None),
    ("user", OMIT, None),
    ("userns_mode", OMIT, None),
    ("uts", OMIT, None),
    ("volume_driver", OMIT, None),
    ("volumes", OMIT, ListOf(_VOLUME)),
    ("volumes_from", OMIT, STRINGS),
    ("working_dir", OMIT, None),
    ("post_start", OMIT, ListOf(_HOOK)),
    ("pre_stop", OMIT, ListOf(_HOOK)),
])

_encode_string: Callable[[str], str] = json.encoder.encode_basestring
_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                       "\u2028": "\\u2028", "\u2029": "\\u2029"})


def go_string(text: str, dollars_escaped: bool = False) -> str:
    """A JSON string literal as Go writes it (HTML characters and U+2028/9 escaped)."""
    if dollars_escaped and "$$" in text:
        text = text.replace("$$", "$")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Go writes invalid UTF-8 (here: lone surrogates) as U+FFFD.
            text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
        out = _encode_string(text)
        return out.translate(_HTML)
    out = _encode_string(text)
    if "<" in out or ">" in out or "&" in out:
        out = out.translate(_HTML)
    return out


def go_float32(value: float) -> str:
    """A float32 as Go's encoding/json writes it: shortest digits, exponent only at extremes."""
    try:
        f32: float = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        f32 = math.inf
    if not math.isfinite(f32):  # no float32 (Go refuses to encode it); keep it visible
        return repr(value)
    if f32 == 0:
        return "0" if str(f32)[0] != "-" else "-0"
    text = ""
    for precision in range(9):
        text = f"{f32:.{precision}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == f32:
            break
    magnitude = abs(f32)
    if magnitude < 1e-6 or magnitude >= 1e21:
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0]
        digits = exponent[1:].lstrip("0") or "0"
        if sign == "+" and len(digits) < 2:
            digits = digits.rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return format(Decimal(text), "f")


def _is_empty(value: Any) -> bool:
    if value is None or value is False:
        return True
    t = type(value)
    if t is str or t is list or t is dict or t is tuple:
        return not value
    if t is int or t is float:
        return bool(value == 0)
    return isinstance(value, Mapping) and not value


def encode(value: Any, schema: Schema, out: list[str], dollars_escaped: bool = False) -> None:
    """Append Go's JSON for ``value`` (shaped like v2's canonical output) to ``out``."""
    while type(schema) is Custom:
        value = schema.convert(value)
        schema = schema.item
    t = type(value)
    if t is str:
        out.append(go_string(value, dollars_escaped))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is int:
        out.append(str(value))
    elif t is float:
        out.append(go_float32(value))
    elif t is list or t is tuple:
        item = schema.item if type(schema) is ListOf else None
        out.append("[")
        for i, element in enumerate(value):
            if i:
                out.append(",")
            encode(element, item, out, dollars_escaped)
        out.append("]")
    elif t is dict or isinstance(value, Mapping):
        if type(schema) is Struct:
            _encode_struct(value, schema, out, dollars_escaped)
        else:
            item = schema.item if type(schema) is MapOf else None
            out.append("{")
            first = True
            keys = sorted(value, key=lambda k: k.replace("$$", "$")) if dollars_escaped \
                else sorted(value)
            for key in keys:
                if not first:
                    out.append(",")
                first = False
                out.append(go_string(key, dollars_escaped))
                out.append(":")
                encode(value[key], item, out, dollars_escaped)
            out.append("}")
    elif isinstance(value, int):  # an int subclass (bool was handled above)
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(go_float32(float(value)))
    elif isinstance(value, str):
        out.append(go_string(str(value), dollars_escaped))
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _encode_struct(value: Mapping[str, Any], schema: Struct, out: list[str],
                   dollars_escaped: bool) -> None:
    fields = schema.fields
    # Walk the keys present (plus the always-written ones) in field order rather
    # than all ~100 fields of a service.
    keys = [k for k in value if k in fields]
    keys.extend(k for k in schema.always if k not in value)
    keys.sort(key=schema.position.__getitem__)
    out.append("{")
    first = True
    for key in keys:
        kind, child = fields[key]
        if key in value:
            item = value[key]
            if kind == OMIT:
                if _is_empty(item) or (child is BYTES and item == "0") or \
                        (child is DURATION and item == "0s"):
                    continue
            elif kind == PTR and item is None:
                continue
        else:
            item = schema.defaults.get(key)
        if not first:
            out.append(",")
        first = False
        out.append('"')
        out.append(key)
        out.append('":')
        encode(item, child, out, dollars_escaped)
    # x- extensions are `json:"-"` in compose-go. Keys it does not know cannot reach
    # v2's hash at all; they are appended (sorted) so that changing one still shows.
    extra = [k for k in value if k not in fields and not k.startswith("x-")]
    for key in sorted(extra):
        if not first:
            out.append(",")
        first = False
        out.append(go_string(key, dollars_escaped))
        out.append(":")
        encode(value[key], None, out, dollars_escaped)
    out.append("}")

"""The typed rendering: a merged project as compose-go's structs hold it (normalise, step 2).

What Docker Compose v2 prints (``config --format json``) is the project read into
compose-go's Go structs and written back. Here the same is derived from the field
table (:mod:`composer.model.fields`): for each field, its kind says how a value
from the file is read (``"512m"`` -> ``"536870912"``, ``90s`` -> ``"1m30s"``, a
``command`` string split like a shell, scalars in mappings made strings, maps
sorted) and its omit rule whether it is left out (``omitempty``) or written with
its zero value. Keys no struct has, ``x-`` extensions included, are dropped below
the top level; struct fields come in compose-go's order.

A few structs read short forms of their own first (:data:`_HOOKS`): a port written
as ``"8080:80"``, a device request without a count, blkio devices' lower-case keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from composer.config.environment import env_value
from composer.config.shellwords import split_command
from composer.config.shortsyntax import clean_path, parse_port_spec
from composer.errors import ConfigError
from composer.model import fields
from composer.model.fields import ALWAYS, OMIT, PTR, Field, Kind, Struct, zero
from composer.model.gofloat import shortest32
from composer.model.units import format_duration, parse_bytes, parse_duration

__all__ = ["parse_bool", "render_project"]

Path = tuple[str | int, ...]
Encoder = Callable[[Any, Path], Any]
Convert = Callable[[Any, Path], Any]

# Returned by an encoder for a value v2 leaves out (Go's ``omitempty``).
_OMIT: Any = object()


def render_project(project: dict[str, Any]) -> dict[str, Any]:
    """``project`` (merged, with what v2 adds) as v2's typed output: top-level keys
    sorted, services and resources by the field table, ``x-`` keys kept at the top
    level only. Raises :class:`~composer.errors.ConfigError` (with the key path)
    for a value its field cannot hold."""
    out: dict[str, Any] = {}
    for key in sorted(project):
        value = project[key]
        if key == "name":
            out[key] = _to_str(value, (key,))
        elif key == "services":
            out[key] = {name: _SERVICE(svc, ("services", name))
                        for name, svc in sorted(value.items())}
        elif key in _TOP_LEVEL:
            encoded = _TOP_LEVEL[key](value, (key,))
            if encoded is not _OMIT:
                out[key] = encoded
        elif key.startswith("x-"):
            out[key] = _extension(value)
    return out


def _extension(value: Any) -> Any:
    """An ``x-`` value as v2 keeps what YAML gave it: keys sorted (floats stay floats,
    printed as Go prints a float64)."""
    if isinstance(value, dict):
        return {str(k): _extension(v) for k, v in sorted(value.items(), key=lambda i: str(i[0]))}
    if isinstance(value, list):
        return [_extension(v) for v in value]
    return value


def _bad(path: Path, message: str) -> ConfigError:
    return ConfigError(message, path=path)


def parse_bool(value: Any) -> bool:
    """Go's ``strconv.ParseBool(fmt.Sprint(value))``, false when unparsable."""
    return _text(value) in ("1", "t", "T", "TRUE", "true", "True")


# -- scalars ---------------------------------------------------------------------------------


def _text(value: Any) -> str:
    text = env_value(value)
    return "" if text is None else text


def _to_str(value: Any, path: Path) -> str:
    return value if type(value) is str else _text(value)


def _to_int(value: Any, path: Path) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            pass
    raise _bad(path, f"expected an integer, got {value!r}")


def _to_bool(value: Any, path: Path) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("1", "t", "true", "y", "yes", "on"):
            return True
        if low in ("0", "f", "false", "n", "no", "off", ""):
            return False
    if isinstance(value, (int, float)):
        return bool(value)
    raise _bad(path, f"expected a boolean, got {value!r}")


def _to_float32(value: Any, path: Path) -> float | int:
    """A float32 with the fewest digits that identify it (``1.0`` -> ``1``)."""
    number: float
    if isinstance(value, bool):
        raise _bad(path, f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _bad(path, f"expected a number, got {value!r}") from None
    else:
        raise _bad(path, f"expected a number, got {value!r}")
    result = shortest32(number)
    if result.is_integer() and abs(result) < 1e21:
        return int(result)
    return result


def _to_bytes(value: Any, path: Path) -> str:
    if isinstance(value, float):
        # compose-go's UnitBytes decodes ints and strings and leaves any other value
        # at zero: a YAML float (1.5, 1e9, .inf, .nan) is no size, and v2 prints none.
        return "0"
    try:
        return str(parse_bytes(value if isinstance(value, int) else str(value)))
    except ValueError as exc:
        raise _bad(path, str(exc)) from None


def _to_duration(value: Any, path: Path) -> str:
    try:
        return format_duration(parse_duration(str(value)))
    except ValueError as exc:
        raise _bad(path, str(exc)) from None


def _to_file_mode(value: Any, path: Path) -> str:
    if isinstance(value, str):
        try:
            mode = int(value, 8)
        except ValueError:
            raise _bad(path, f'strconv.ParseInt: parsing "{value}": invalid syntax') from None
    else:
        mode = _to_int(value, path)
    return f"0{mode:o}"


def _to_device_count(value: Any, path: Path) -> int:
    if isinstance(value, str) and value.strip().lower() == "all":
        return -1
    return _to_int(value, path)


# -- lists and maps --------------------------------------------------------------------------


def _to_strings(value: Any, path: Path) -> Any:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        return None
    return [_text(v) for v in value]


def _to_command(value: Any, path: Path) -> Any:
    """``ShellCommand``: strings split as a shell does, lists kept."""
    if isinstance(value, str):
        try:
            return split_command(value)
        except ValueError as exc:
            raise _bad(path, str(exc)) from None
    if isinstance(value, list):
        return [_text(v) for v in value]
    return [_text(value)]


def _to_healthcheck_test(value: Any, path: Path) -> Any:
    if isinstance(value, str):
        return ["CMD-SHELL", value]
    return _to_strings(value, path)


def _to_hosts(value: Any, path: Path) -> list[str]:
    """``HostsList``: sorted ``host=ip`` (a ``host:ip`` entry too)."""
    entries: list[str] = []
    if isinstance(value, dict):
        for host, ips in value.items():
            for ip in ips if isinstance(ips, list) else [ips]:
                entries.append(f"{host}={_text(ip)}")
    elif isinstance(value, list):
        for item in value:
            text = _text(item)
            if "=" not in text and ":" in text:
                host, _, ip = text.partition(":")
                text = f"{host}={ip}"
            entries.append(text)
    return sorted(entries)


def _to_ssh(value: Any, path: Path) -> Any:
    """``id`` alone, or ``id=path``. (v2 2.40 fails to encode a key with a path.)"""
    if isinstance(value, dict):
        return [k if v is None else f"{k}={v}" for k, v in value.items()]
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, str):
        return [value]
    return None


def _pairs(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        pairs: list[tuple[str, Any]] = []
        for item in value:
            key, sep, val = _text(item).partition("=")
            pairs.append((key, val if sep else None))
        return pairs
    return []


def _to_str_map(value: Any, path: Path) -> dict[str, str]:
    """``map[string]string``: sorted, values as strings (``None`` -> ``""``)."""
    return {k: _text(v) for k, v in sorted(_pairs(value))}


def _to_env_map(value: Any, path: Path) -> dict[str, str | None]:
    """``map[string]*string``: sorted, values as strings, ``None`` kept."""
    return {k: env_value(v) for k, v in sorted(_pairs(value))}


def _to_options(value: Any, path: Path) -> Any:
    if not isinstance(value, dict):
        return None
    return {str(k): [_text(x) for x in v] if isinstance(v, list) else [_text(v)]
            for k, v in sorted(value.items())}


def _to_ulimits(value: Any, path: Path) -> Any:
    if not isinstance(value, dict):
        return None
    return {str(key): _ulimit(value[key], (*path, key)) for key in sorted(value, key=str)}


def _ulimit(value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in ("soft", "hard"):
            number = _to_int(value[key], (*path, key)) if value.get(key) is not None else 0
            if number:
                out[key] = number
        return out
    if value is None:
        return {}
    single = _to_int(value, path)
    return single if single else {}


def _to_env_files(value: Any, path: Path) -> Any:
    # Only present when env files were left unresolved (the config-hash view).
    return [dict(v) for v in value] if isinstance(value, list) else None


_CONVERT: dict[Kind, Convert] = {
    Kind.STR: _to_str,
    Kind.BOOL: _to_bool,
    Kind.INT: _to_int,
    Kind.FLOAT32: _to_float32,
    Kind.BYTES: _to_bytes,
    Kind.DURATION: _to_duration,
    Kind.FILE_MODE: _to_file_mode,
    Kind.DEVICE_COUNT: _to_device_count,
    Kind.STRINGS: _to_strings,
    Kind.COMMAND: _to_command,
    Kind.HEALTHCHECK_TEST: _to_healthcheck_test,
    Kind.HOSTS: _to_hosts,
    Kind.SSH: _to_ssh,
    Kind.STR_MAP: _to_str_map,
    Kind.ENV_MAP: _to_env_map,
    Kind.OPTIONS: _to_options,
    Kind.ULIMITS: _to_ulimits,
    Kind.ENV_FILES: _to_env_files,
    Kind.ANY: lambda value, path: value,
}


# -- the encoders, derived from the table ----------------------------------------------------


def _scalar(field: Field) -> Encoder:
    """A field that is not a struct: converted by its kind, left out by its omit rule."""
    convert, kind = _CONVERT[field.kind], field.kind
    if field.omit is OMIT:
        # is_empty(kind, result), inlined: it runs for every field of every service.
        zero_text = "0" if kind is Kind.BYTES else "0s" if kind is Kind.DURATION else None

        def omit_empty(value: Any, path: Path) -> Any:
            if value is None:
                return _OMIT
            result = convert(value, path)
            return _OMIT if not result or result == zero_text else result
        return omit_empty
    if field.omit is PTR:
        def pointer(value: Any, path: Path) -> Any:
            return _OMIT if value is None else convert(value, path)
        return pointer
    default = zero(field)

    def always(value: Any, path: Path) -> Any:
        return default if value is None else convert(value, path)
    return always


def _field(field: Field) -> Encoder:
    if field.item is None or field.kind in (Kind.ULIMITS, Kind.ENV_FILES):
        return _scalar(field)
    element = _element(field.item)
    if field.kind is Kind.STRUCT:
        if field.omit is ALWAYS:
            return lambda value, path: element({} if value is None else value, path)
        return lambda value, path: _OMIT if value is None else element(value, path)
    if field.kind is Kind.LIST:
        def each(value: Any, path: Path) -> Any:
            if not isinstance(value, list) or not value:
                return _OMIT
            return [element({} if item is None else item, (*path, i))
                    for i, item in enumerate(value)]
        return each
    null_items = field.null_items

    def by_key(value: Any, path: Path) -> Any:
        if not isinstance(value, dict) or not value:
            return _OMIT
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            item = value[key]
            if item is None and null_items:
                out[str(key)] = None
            else:
                out[str(key)] = element({} if item is None else item, (*path, key))
        return out
    return by_key


_ELEMENTS: dict[Struct, Encoder] = {}


def _element(struct: Struct) -> Encoder:
    """The encoder of one struct value (a dict; anything else is kept as written)."""
    found = _ELEMENTS.get(struct)
    if found is not None:
        return found
    rows: list[tuple[str, Encoder, bool]] = []

    def encode(value: Any, path: Path) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        get = value.get
        for key, enc, on_absent in rows:
            item = get(key)
            # Only always-written fields print something when absent; skipping the
            # others keeps a 1,000-service project fast.
            if item is None and not on_absent:
                continue
            encoded = enc(item, (*path, key))
            if encoded is not _OMIT:
                out[key] = encoded
        return out

    hook = _HOOKS.get(struct)
    if hook is None:
        found = encode
    else:
        def found(value: Any, path: Path) -> Any:
            assert hook is not None
            return hook(value, path, encode)
    _ELEMENTS[struct] = found
    rows.extend((f.key, _field(f), f.omit is ALWAYS) for f in struct.fields.values())
    return found


# -- short forms some structs read first ------------------------------------------------------

Hook = Callable[[Any, Path, Encoder], Any]


def _port(value: Any, path: Path, encode: Encoder) -> Any:
    if isinstance(value, str):
        try:
            ports = parse_port_spec(value)
        except ValueError:
            # Only reachable with --no-interpolate (canonical is lenient then):
            # v2 prints such a port as written.
            return value
        return ports[0] if ports else {}
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"target": value}
    if not isinstance(value, dict):
        return value
    defaults = dict(value)
    if not defaults.get("protocol"):
        defaults["protocol"] = "tcp"
    if not defaults.get("mode"):
        defaults["mode"] = "ingress"
    return encode(defaults, path)


def _service_volume(value: Any, path: Path, encode: Encoder) -> Any:
    if isinstance(value, dict) and value.get("target"):
        value = dict(value)
        value["target"] = clean_path(_text(value["target"]))
    return encode(value, path)


def _device_request(value: Any, path: Path, encode: Encoder) -> Any:
    # Neither a count nor device ids: v2 asks for all devices.
    if isinstance(value, dict) and value.get("count") is None and not value.get("device_ids"):
        value = {**value, "count": "all"}
    return encode(value, path)


def _capitalised(value: Any, path: Path, encode: Encoder) -> Any:
    """blkio devices: written with the Go field names (``Path``), read as ``path``."""
    if isinstance(value, dict):
        value = {k[:1].upper() + k[1:]: v for k, v in value.items()}
    return encode(value, path)


_HOOKS: dict[Struct, Hook] = {
    fields.PORT: _port,
    fields.SERVICE_VOLUME: _service_volume,
    fields.DEVICE_REQUEST: _device_request,
    fields.WEIGHT_DEVICE: _capitalised,
    fields.THROTTLE_DEVICE: _capitalised,
}


def _resources(struct: Struct, drop: Callable[[dict[str, Any]], bool]) -> Encoder:
    """A top-level map of ``struct``; ``drop(out)`` says when ``content`` is not printed."""
    encode = _element(struct)

    def each(value: Any, path: Path) -> Any:
        if not isinstance(value, dict) or not value:
            return _OMIT
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            item = encode({} if value[key] is None else value[key], (*path, key))
            if isinstance(item, dict) and drop(item):
                item.pop("content", None)
            out[str(key)] = item
        return out

    return each


_SERVICE = _element(fields.SERVICE)
_TOP_LEVEL: dict[str, Encoder] = {
    "networks": _resources(fields.NETWORK, lambda out: False),
    "volumes": _resources(fields.VOLUME, lambda out: False),
    # v2 never prints a secret's content; a config's only when it is not read
    # from the environment (then it prints where it came from).
    "secrets": _resources(fields.FILE_OBJECT, lambda out: True),
    "configs": _resources(fields.FILE_OBJECT, lambda out: bool(out.get("environment"))),
}

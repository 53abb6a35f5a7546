"""Go's ``encoding/json`` output for compose-go's structs, by :mod:`composer.model.fields`.

Docker Compose v2 hashes a service as ``json.Marshal(types.ServiceConfig)``:
struct fields in declaration order, map keys sorted, the ``omitempty`` rules,
HTML-safe string escaping, float32 numbers in their shortest form. The canonical
dict (what ``config --format json`` prints) has that same shape, so writing it
with the field table's order and rules reproduces the bytes v2 hashes. Values
may also be the model's (sizes and durations as integers): they are written as
Go would write them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from composer.model.fields import OMIT, PTR, Kind, Struct, is_empty, zero
from composer.model.gofloat import json32
from composer.model.units import format_duration

__all__ = ["encode", "go_json", "go_string"]

_encode_string: Callable[[str], str] = json.encoder.encode_basestring
_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                       "\u2028": "\\u2028", "\u2029": "\\u2029"})


def go_string(text: str, dollars_escaped: bool = False) -> str:
    """A JSON string literal as Go writes it (HTML characters and U+2028/9 escaped).

    ``dollars_escaped``: ``text`` is as ``config`` prints it (``$`` doubled); the
    real value is written."""
    if dollars_escaped and "$$" in text:
        text = text.replace("$$", "$")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Go writes invalid UTF-8 (here: lone surrogates) as U+FFFD.
            text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
        return _encode_string(text).translate(_HTML)
    out = _encode_string(text)
    if "<" in out or ">" in out or "&" in out:
        out = out.translate(_HTML)
    return out


def go_json(value: Any, struct: Struct | None = None, *, dollars_escaped: bool = False) -> str:
    """``json.Marshal`` of ``value``, a struct of the field table when ``struct`` is given."""
    out: list[str] = []
    encode(value, struct, out, dollars_escaped)
    return "".join(out)


def encode(value: Any, struct: Struct | None, out: list[str],
           dollars_escaped: bool = False) -> None:
    """Append Go's JSON for ``value`` to ``out``: as ``struct`` when it is a mapping and
    ``struct`` is given, else as a plain value (map keys sorted)."""
    if struct is not None and isinstance(value, Mapping):
        _struct(value, struct, out, dollars_escaped)
    else:
        _plain(value, out, dollars_escaped)


def _struct(value: Mapping[str, Any], struct: Struct, out: list[str], esc: bool) -> None:
    by_key = struct.fields
    # Walk the keys present (plus the always-written ones) in field order rather
    # than all ~100 fields of a service.
    keys = [k for k in value if k in by_key]
    keys.extend(f.key for f in struct.always if f.key not in value)
    keys.sort(key=struct.position.__getitem__)
    out.append("{")
    first = True
    for key in keys:
        field = by_key[key]
        if key in value:
            item = value[key]
            if field.omit is OMIT:
                if is_empty(field.kind, item):
                    continue
            elif field.omit is PTR and item is None:
                continue
        else:
            item = zero(field)
        if not first:
            out.append(",")
        first = False
        out.append('"')
        out.append(key)
        out.append('":')
        _value(item, field.kind, field.item, out, esc)
    # x- extensions are `json:"-"` in compose-go. Keys it does not know cannot reach
    # v2's hash at all; they are appended (sorted) so that changing one still shows.
    extra = sorted(k for k in value if k not in by_key and not k.startswith("x-"))
    for key in extra:
        if not first:
            out.append(",")
        first = False
        out.append(go_string(key, esc))
        out.append(":")
        _plain(value[key], out, esc)
    out.append("}")


def _value(value: Any, kind: Kind, item: Struct | None, out: list[str], esc: bool) -> None:
    """One field's value, by its kind."""
    if value is None:
        out.append("null")
        return
    is_int = type(value) is int
    if kind is Kind.BYTES and is_int:
        value = str(value)  # UnitBytes marshals as a string
    elif kind is Kind.DURATION and is_int:
        value = format_duration(value)
    elif kind is Kind.FILE_MODE and is_int:
        value = f"0{value:o}"
    elif item is not None:
        if kind is Kind.STRUCT:
            encode(value, item, out, esc)
            return
        if kind is Kind.LIST or kind is Kind.ENV_FILES:
            if isinstance(value, list | tuple):
                out.append("[")
                for i, element in enumerate(value):
                    if i:
                        out.append(",")
                    if kind is Kind.ENV_FILES:
                        element = _env_file(element)
                    encode(element, item, out, esc)
                out.append("]")
                return
        elif kind is Kind.MAP or kind is Kind.ULIMITS:
            if isinstance(value, Mapping):
                out.append("{")
                for i, key in enumerate(_sorted_keys(value, esc)):
                    if i:
                        out.append(",")
                    out.append(go_string(key, esc))
                    out.append(":")
                    element = value[key]
                    if kind is Kind.ULIMITS:
                        element = _ulimit(element)
                    encode(element, item, out, esc)
                out.append("}")
                return
    elif kind is Kind.HOSTS:
        value = _hosts(value)
    _plain(value, out, esc)


def _env_file(value: Any) -> Any:
    # EnvFile marshals as its path when required, else as the plain struct.
    if isinstance(value, Mapping) and value.get("required", True) is True:
        return value.get("path", "")
    return value


def _ulimit(value: Any) -> Any:
    # UlimitsConfig marshals as the bare number when `single` is set.
    if isinstance(value, Mapping) and value.get("single"):
        return value["single"]
    return value


def _hosts(value: Any) -> Any:
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


def _sorted_keys(value: Mapping[str, Any], esc: bool) -> list[str]:
    if esc:
        return sorted(value, key=lambda k: k.replace("$$", "$"))
    return sorted(value)


def _plain(value: Any, out: list[str], esc: bool) -> None:
    """A value with no struct: strings, numbers (floats as float32, as every float
    of compose-go's structs is one), lists, and maps with their keys sorted."""
    t = type(value)
    if t is str:
        out.append(go_string(value, esc))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is int:
        out.append(str(value))
    elif t is float:
        out.append(json32(value))
    elif t is list or t is tuple:
        out.append("[")
        for i, element in enumerate(value):
            if i:
                out.append(",")
            _plain(element, out, esc)
        out.append("]")
    elif isinstance(value, Mapping):
        out.append("{")
        for i, key in enumerate(_sorted_keys(value, esc)):
            if i:
                out.append(",")
            out.append(go_string(key, esc))
            out.append(":")
            _plain(value[key], out, esc)
        out.append("}")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(json32(float(value)))
    elif isinstance(value, str):
        out.append(go_string(str(value), esc))
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")

"""Rendering a project as text the way ``docker compose config`` prints it.

v2 writes values that reload to the same project: a ``$`` in a value is printed
as ``$$`` (unless interpolation was skipped), JSON escapes ``<``, ``>`` and ``&``
as Go's encoder does, and YAML indents sequences under their key, double-quotes
strings that would otherwise read as another type, and leaves out what is
empty (``command: null``, ``ipam: {}``).
"""

from __future__ import annotations

from typing import Any

import yaml

_TOP_ORDER = ("name", "services", "networks", "volumes", "secrets", "configs", "models")


def escape_dollars(data: Any) -> Any:
    """Every ``$`` in a string value doubled, so the output reloads to the same values."""
    if isinstance(data, str):
        return data.replace("$", "$$") if "$" in data else data
    if isinstance(data, dict):
        return {k: escape_dollars(v) for k, v in data.items()}
    if isinstance(data, list):
        return [escape_dollars(v) for v in data]
    return data


_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                            "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dump_json(data: Any, *, escape: bool = False) -> str:
    """JSON with v2's layout: 2-space indent, UTF-8, Go's HTML-safe escapes.

    ``escape=True`` doubles ``$`` in string values on the way (see
    :func:`escape_dollars`). Written by hand because the standard library's
    indenting encoder is pure Python and was most of ``config``'s run time.
    """
    from json.encoder import encode_basestring  # the C implementation when present

    chunks: list[str] = []
    add = chunks.append

    def string(value: str) -> str:
        text: str = encode_basestring(value)
        return text

    def emit(value: Any, indent: str) -> None:
        if isinstance(value, str):
            add(string(value.replace("$", "$$") if escape and "$" in value else value))
        elif isinstance(value, dict):
            if not value:
                add("{}")
                return
            inner = indent + "  "
            add("{\n")
            first = True
            for key, item in value.items():
                if not first:
                    add(",\n")
                first = False
                add(inner)
                add(string(str(key)))
                add(": ")
                emit(item, inner)
            add("\n" + indent + "}")
        elif isinstance(value, (list, tuple)):
            if not value:
                add("[]")
                return
            inner = indent + "  "
            add("[\n")
            first = True
            for item in value:
                if not first:
                    add(",\n")
                first = False
                add(inner)
                emit(item, inner)
            add("\n" + indent + "]")
        elif value is None:
            add("null")
        elif value is True:
            add("true")
        elif value is False:
            add("false")
        elif isinstance(value, int):
            add(str(int(value)))
        elif isinstance(value, float):
            add(_go_float(value))
        else:
            add(string(str(value)))

    emit(data, "")
    text = "".join(chunks)
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = text.translate(_HTML_SAFE)
    # v2 ends its JSON without a newline; byte-for-byte equality keeps diffs clean.
    return text


def _go_float(value: float) -> str:
    """A float as Go's encoding/json writes it (``50`` not ``50.0``, ``1e+21``)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {value}")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    import json

    text = json.dumps(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        digits = exp.lstrip("+-").lstrip("0")
        text = f"{mantissa}e{sign}{digits.zfill(2)}"
    return text


# Struct fields v2 leaves out of YAML when null or empty (Go's omitempty);
# entries of user mappings (a service's networks, environment) are kept as null.
_OMIT_NULL = frozenset({"command", "entrypoint"})
_OMIT_EMPTY = frozenset({"ipam", "placement", "resources", "exec", "limits", "reservations"})


def _prune(data: Any, top: bool = False) -> Any:
    """Drop the null/empty struct fields v2's YAML output omits; order the top level."""
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            v = _prune(v)
            if v is None and k in _OMIT_NULL:
                continue
            if isinstance(v, dict) and not v and k in _OMIT_EMPTY:
                continue
            out[k] = v
        if top:
            ordered = {k: out[k] for k in _TOP_ORDER if k in out}
            ordered.update((k, v) for k, v in out.items() if k not in ordered)
            return ordered
        return out
    if isinstance(data, list):
        return [_prune(v) for v in data]
    return data


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent block sequences under their mapping key, as Go's yaml.v3 does.
        super().increase_indent(flow, False)


def _needs_quotes(value: str) -> bool:
    if value == "":
        return True
    resolved = yaml.safe_load(value) if len(value) < 64 else value
    return not isinstance(resolved, str) or resolved != value


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    try:
        quote = _needs_quotes(value)
    except yaml.YAMLError:
        quote = True
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if quote else None)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    """YAML text for a project; keys keep their order, 2-space indents."""
    pruned = _prune(data, top=True)
    return yaml.dump(pruned, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, indent=2, width=1 << 20)

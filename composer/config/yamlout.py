"""Rendering a project as text the way ``docker compose config`` prints it.

v2 writes values that reload to the same project: a ``$`` in a value is printed
as ``$$`` (unless interpolation was skipped), JSON escapes ``<``, ``>`` and ``&``
as Go's encoder does, and YAML indents sequences under their key, double-quotes
strings that would otherwise read as another type, and leaves out what is
empty (``command: null``, ``ipam: {}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from composer.config.scalar import Timestamp, go_text, resolve_scalar
from composer.errors import ConfigError
from composer.model.gofloat import json64, yaml64

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
    :func:`escape_dollars`). A float JSON cannot hold (YAML's ``.inf``, ``.nan``)
    is a :class:`~composer.errors.ConfigError`, as v2 refuses it. Written by hand
    because the standard library's indenting encoder is pure Python and was most of
    ``config``'s run time.
    """
    from json.encoder import encode_basestring  # the C implementation when present

    chunks: list[str] = []
    add = chunks.append

    string: Callable[[str], str] = encode_basestring

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
    """A float as Go's encoding/json writes it (``50`` not ``50.0``, ``0.00001``, ``1e+21``)."""
    try:
        return json64(value)
    except ValueError:
        # As v2: JSON has no infinity nor NaN (YAML's .inf and .nan).
        raise ConfigError(f"json: unsupported value: {go_text(value)}") from None


# Struct fields v2 leaves out of YAML when null or empty (Go's omitempty);
# entries of user mappings (a service's networks, environment) are kept as null.
_OMIT_NULL = frozenset({"command", "entrypoint"})
_OMIT_EMPTY = frozenset({"ipam", "placement", "resources", "exec", "limits", "reservations"})


# Keys whose plain (byte) order may differ from yaml.v3's: digits, characters above
# "z", and an upper-case letter with one of [\]^_` (between the two cases in ASCII).
_RISKY_KEYS = re.compile(r"[0-9{-\U0010ffff]|[A-Z].*[\[-`]|[\[-`].*[A-Z]")


def _go_map_order(data: dict[Any, Any]) -> dict[Any, Any]:
    """A Go map in yaml.v3's key order (``V9`` before ``V10``, ``A_B`` before ``AB``).

    Maps arrive sorted bytewise (as v2's JSON has them); a struct's fields are in
    their own order, and any of them that is sorted has lower-case keys, on which
    both orders agree. So only a sorted mapping with keys where they may differ is
    re-sorted."""
    if len(data) < 2:
        return data
    keys = list(data)
    if not all(isinstance(k, str) for k in keys) or not _RISKY_KEYS.search("\n".join(keys)):
        return data
    if keys != sorted(keys):
        return data
    from functools import cmp_to_key

    return {k: data[k] for k in sorted(keys, key=cmp_to_key(yaml_v3_compare))}


def _model_order(data: Any) -> Any:
    """:func:`_go_map_order` through the whole untyped model (every mapping is a Go map)."""
    if isinstance(data, dict):
        return _go_map_order({k: _model_order(v) for k, v in data.items()})
    if isinstance(data, list):
        return [_model_order(v) for v in data]
    return data


def _prune(data: Any, top: bool = False) -> Any:
    """Drop the null/empty struct fields v2's YAML output omits; order the top level
    and the Go maps (see :func:`_go_map_order`)."""
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            v = _prune(v)
            if v is None and k in _OMIT_NULL:
                continue
            if isinstance(v, dict) and not v and k in _OMIT_EMPTY:
                continue
            out[k] = v
        out = _go_map_order(out)
        if top:
            ordered = {k: out[k] for k in _TOP_ORDER if k in out}
            ordered.update((k, v) for k, v in out.items() if k not in ordered)
            return ordered
        return out
    if isinstance(data, list):
        return [_prune(v) for v in data]
    return data


_TAGS: dict[type, str] = {
    type(None): "tag:yaml.org,2002:null",
    bool: "tag:yaml.org,2002:bool",
    int: "tag:yaml.org,2002:int",
    float: "tag:yaml.org,2002:float",
    str: "tag:yaml.org,2002:str",
    Timestamp: "tag:yaml.org,2002:timestamp",
}


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent block sequences under their mapping key, as Go's yaml.v3 does.
        super().increase_indent(flow, False)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # A scalar may be written plain when it reads back with its own tag. Read it
        # as yaml.v3 does, not with PyYAML's YAML 1.1 rules (``2001-13-45`` is text).
        if kind is yaml.ScalarNode and implicit[0]:
            return _TAGS.get(type(resolve_scalar(value)), _TAGS[str])
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


# YAML 1.1 booleans and sexagesimal floats: yaml.v3 still quotes them, for old readers.
_OLD_BOOLS = frozenset({"y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
                        "n", "N", "no", "No", "NO", "off", "Off", "OFF"})
_BASE60_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")


def _needs_quotes(value: str) -> bool:
    """Whether yaml.v3 double-quotes ``value``: when, written plain, it would read as
    something else than this string (a number, a boolean, null, a timestamp)."""
    if value in _OLD_BOOLS or _BASE60_FLOAT.match(value):
        return True
    resolved = resolve_scalar(value)
    return not (type(resolved) is str and resolved == value)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    # A timestamp is printed as the timestamp it is (RFC 3339, unquoted); other strings
    # plain when they read back as themselves, else double-quoted. The emitter falls
    # back to single quotes where plain text is not allowed ('*.foo'), as yaml.v3 does.
    if isinstance(value, Timestamp):
        return dumper.represent_scalar(_TAGS[Timestamp], str(value))
    return dumper.represent_scalar(_TAGS[str], value, style='"' if _needs_quotes(value) else None)


def _float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    # As yaml.v3: Go's shortest 'g' form (1e+20, 1.5, 1), tagged as it reads back.
    text = yaml64(value)
    return dumper.represent_scalar(_TAGS[type(resolve_scalar(text))], text)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(Timestamp, _str)
_Dumper.add_representer(float, _float)


def dump_yaml(data: Any, *, model: bool = False, indent: int = 2,
              escape: bool = False) -> str:
    """YAML text for a project; keys keep their order, 2-space indents.

    ``model=True`` prints the untyped model (``config --no-interpolate``) as v2 prints
    a Go map: nothing left out, the top level not reordered. ``indent=4`` is
    yaml.v3's own default (``yaml.Marshal``, as ``config --variables`` uses).
    ``escape=True`` doubles every ``$`` in string values (see :func:`escape_dollars`)."""
    if indent == 2:
        try:
            return _write(data, prune=not model, escape=escape)
        except _Unusual:
            pass
    if escape:
        data = escape_dollars(data)
    pruned = _model_order(data) if model else _prune(data, top=True)
    return _pyyaml(pruned, indent)


def _pyyaml(data: Any, indent: int = 2) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, indent=indent, width=1 << 20)


# -- the writer ------------------------------------------------------------------------------
# PyYAML's emitter (through _Dumper) decides how yaml.v3 would print each scalar, but
# walks every node through four Python layers: on 1,000 services it took three times
# as long as loading the project. The writer below lays out the block structure
# itself and asks PyYAML only about the scalars it cannot settle at a glance (once
# per distinct value): the bytes are the same (tests/unit/test_yamlout.py compares
# the two on the corpus and on generated documents).


class _Unusual(Exception):
    """Something the writer leaves to PyYAML for the whole document (a complex key)."""


# A string PyYAML writes plain, or (when it would read back as another type) in
# double quotes with nothing to escape: printable ASCII without quotes or
# backslashes, no leading indicator, no ": " / " #" / final ":", no edge spaces.
_SIMPLE = re.compile(r"(?![#,\[\]{}&*!|>'%@`]|[?:-](?: |\Z)|---|\.\.\.)"
                     r"[!#-\[\]-~](?:[ !#-\[\]-~]*[!#-\[\]-~])?\Z")
_SCALARS: dict[Any, str] = {}
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")
_INT64 = 1 << 63


def _plain_or_quoted(text: str) -> str | None:
    """How a simple string is written, or None when it is not simple."""
    found = _SCALARS.get(text)
    if found is not None:
        return found
    if not _SIMPLE.match(text) or ": " in text or " #" in text or text[-1] == ":":
        return None
    found = _SCALARS[text] = f'"{text}"' if _needs_quotes(text) else text
    return found


def _scalar(value: Any, item: bool, indent: str, escape: bool) -> str:
    """A scalar after ``key: `` (or ``- `` when ``item``), lines after the first
    (a literal block's) indented under ``indent``, the column of the key or dash."""
    t = type(value)
    if t is str:
        if escape and "$" in value:
            value = value.replace("$", "$$")
        simple = _plain_or_quoted(value)
        if simple is not None:
            return simple
    elif value is None:
        return "null"
    elif value is True:
        return "true"
    elif value is False:
        return "false"
    elif t is int and -_INT64 <= value < _INT64:  # larger ones read back as text
        return str(value)
    elif t is float:
        return yaml64(value)
    key = (t, value, item)
    text = _SCALARS.get(key)
    if text is None:
        # What PyYAML writes for it after "- " or "k: " at column 0.
        dumped = _pyyaml([value] if item else {"k": value})
        if "\n...\n" in dumped or dumped.endswith("...\n") or _OTHER_BREAKS.search(dumped):
            # An open-ended literal (|+) moves the document end; a line broken at
            # U+0085/2028/2029 is indented after it: both left to PyYAML.
            raise _Unusual
        text = _SCALARS[key] = dumped[2 if item else 3:-1]
    if "\n" in text and indent:
        first, *rest = text.split("\n")
        text = "\n".join([first, *(indent + line if line else line for line in rest)])
    return text


def _key(value: Any) -> str:
    if type(value) is str:
        simple = _plain_or_quoted(value)
        if simple is not None:
            return simple
    key = (type(value), value, "key")
    text = _SCALARS.get(key)
    if text is None:
        dumped = _pyyaml({value: None})
        if not dumped.endswith(": null\n") or dumped.startswith("? ") or \
                dumped.count("\n") != 1 or _OTHER_BREAKS.search(dumped):
            raise _Unusual  # a complex key ("? ..."): left to PyYAML
        text = _SCALARS[key] = dumped[:-len(": null\n")]
    return text


def _write(data: Any, *, prune: bool, escape: bool) -> str:
    """``data`` as PyYAML with _Dumper writes it after :func:`_prune` (``prune``) or
    :func:`_model_order` (not ``prune``), and :func:`escape_dollars` (``escape``)."""
    if type(data) is not dict or not data:
        raise _Unusual
    items = _items(data, prune)
    if prune:
        first = [(k, v) for k in _TOP_ORDER for k2, v in items if k2 == k]
        items = first + [(k, v) for k, v in items if k not in _TOP_ORDER]
    out: list[str] = []
    _mapping(items, "", out, False, prune, escape)
    return "".join(out)


def _items(data: dict[Any, Any], prune: bool) -> list[tuple[Any, Any]]:
    """The entries of a mapping as written: pruned (see :func:`_prune`), in Go map
    order where that applies (see :func:`_go_map_order`)."""
    if prune:
        kept: dict[Any, Any] | None = None
        for k, v in data.items():
            if v is None and k in _OMIT_NULL:
                drop = True
            elif k in _OMIT_EMPTY and type(v) is dict:
                drop = not _prune(v)
            else:
                drop = False
            if drop and kept is None:
                kept = {k2: v2 for k2, v2 in data.items()}
            if drop and kept is not None:
                del kept[k]
        if kept is not None:
            data = kept
    for key in data:
        if type(key) is not str:
            raise _Unusual
    return list(_go_map_order(data).items())


def _mapping(items: list[tuple[Any, Any]], indent: str, out: list[str], inline: bool,
             prune: bool, escape: bool) -> None:
    """A block mapping at ``indent``; ``inline``: its first key follows a ``- ``."""
    add = out.append
    deeper = indent + "  "
    for key, value in items:
        if inline:
            inline = False
        else:
            add(indent)
        add(_key(key))
        t = type(value)
        if t is dict:
            entries = _items(value, prune) if value else None
            if entries:
                add(":\n")
                _mapping(entries, deeper, out, False, prune, escape)
            else:
                add(": {}\n")
        elif t is list:
            if value:
                add(":\n")
                _sequence(value, deeper, out, False, prune, escape)
            else:
                add(": []\n")
        else:
            add(": ")
            add(_scalar(value, False, indent, escape))
            add("\n")


def _sequence(data: list[Any], indent: str, out: list[str], inline: bool, prune: bool,
              escape: bool) -> None:
    """A block sequence at ``indent``; ``inline``: its first dash follows a ``- ``."""
    add = out.append
    deeper = indent + "  "
    for value in data:
        if inline:
            inline = False
        else:
            add(indent)
        t = type(value)
        if t is dict:
            entries = _items(value, prune) if value else None
            if entries:
                add("- ")
                _mapping(entries, deeper, out, True, prune, escape)
            else:
                add("- {}\n")
        elif t is list:
            if value:
                add("- ")
                _sequence(value, deeper, out, True, prune, escape)
            else:
                add("- []\n")
        else:
            add("- ")
            add(_scalar(value, True, indent, escape))
            add("\n")


def yaml_v3_compare(a: str, b: str) -> int:
    """yaml.v3's order of map keys (its ``keyList.Less``): runs of digits compare as
    numbers (``V9`` < ``V10``), a letter sorts after what is neither letter nor digit,
    and after a digit when both follow a digit. -1, 0 or 1, for ``cmp_to_key``."""
    digits = False
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            digits = ca.isdecimal()
            continue
        al, bl = ca.isalpha(), cb.isalpha()
        if al and bl:
            return -1 if ca < cb else 1
        if al or bl:
            first_a = al if digits else bl
            return -1 if first_a else 1
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdecimal():
            an = an * 10 + ord(a[ai]) - 48
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdecimal():
            bn = bn * 10 + ord(b[bi]) - 48
            bi += 1
        if an != bn:
            return -1 if an < bn else 1
        if ai != bi:
            return -1 if ai < bi else 1
        return -1 if ca < cb else 1
    return (len(a) > len(b)) - (len(a) < len(b))

"""Merging compose documents by the compose-spec merge rules, as Docker Compose v2 does.

Both sides are in canonical (long) syntax: :mod:`composer.config.canonical` runs
per file before any merge. The rules are one table keyed by path pattern
(``*`` matches one key), mirroring compose-go's ``override`` package:

* by default mappings merge key by key, sequences append and scalars replace;
  an override value of ``null`` keeps the base value;
* :data:`MERGE_RULES` lists the exceptions (``command`` replaces, ``environment``
  merges by variable, ``extra_hosts`` appends new entries only, ...);
* after every merge :func:`enforce_unicity` keeps one entry per key in the
  sequences of :data:`UNIQUE_KEYS` (``ports`` by host IP, published port,
  target and protocol; ``volumes`` by target; ...): a later entry replaces an
  earlier one in place;
* a few sequences must stay free of duplicates (the schema says so) but have no
  unicity rule in v2; appending a duplicate there is a :class:`MergeError`, as
  v2's schema check of the merged document reports it.

``!reset`` and ``!override`` (:class:`Reset`, :class:`Override`) work as in v2: an
override-side ``Reset()`` removes the key, ``Override(v)`` replaces the merged
value with ``v``. Markers survive merging (a later file can still be merged on
top of them) until :func:`strip_markers` resolves them once everything is merged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from composer.config.scalar import go_text
from composer.config.source import KeyPath, Override, Reset
from composer.errors import MergeError

Rule = Callable[[Any, Any, KeyPath], Any]
Indexer = Callable[[Any, KeyPath], object]


def merge_documents(
    base: dict[str, Any],
    override: dict[str, Any],
    *,
    file: str | None = None,
    model: bool = False,
) -> dict[str, Any]:
    """Merge ``override`` onto ``base`` (neither is changed) following the merge table.

    The result has v2's unicity rules applied (see :func:`enforce_unicity`), so
    ``merge_documents({}, doc)`` normalises a single document. ``file`` names the
    override's file in errors (``MergeError``: incompatible types, duplicates).

    ``model=True`` is for documents in the untyped model's forms (see
    ``canonical.canonicalize(model=True)``): key/value collections that both sides
    set (``environment``, ``labels``, ...) become one ``KEY=VALUE`` sequence, a
    mapping sorted first, as compose-go's ``mergeToSequence`` does.
    """
    try:
        trie = _MODEL_MERGE_TRIE if model else _MERGE_TRIE
        merged = _merge_mapping(_plain(base), override, (), trie)
        return enforce_unicity(merged)
    except MergeError as exc:
        if file is not None and exc.file is None:
            exc.file = file
        raise


def merge_service(
    base: dict[str, Any],
    override: dict[str, Any],
    name: str,
    *,
    file: str | None = None,
    model: bool = False,
) -> dict[str, Any]:
    """Merge service ``override`` onto service ``base`` with the rules of
    ``services.<name>`` (what ``extends`` does); unicity rules applied.
    ``model`` as for :func:`merge_documents`."""
    try:
        trie = _MODEL_MERGE_TRIE if model else _MERGE_TRIE
        node = _child(_child(trie, "services"), name)
        merged = _merge_mapping(_plain(base), override, ("services", name), node)
        out = enforce_unicity({"services": {name: merged}})["services"][name]
        assert isinstance(out, dict)
        return out
    except MergeError as exc:
        if file is not None and exc.file is None:
            exc.file = file
        raise


def strip_markers(data: Any) -> Any:
    """Resolve leftover ``!reset`` / ``!override`` markers once all files are merged:
    a ``Reset()`` value drops its key (or list item), ``Override(v)`` becomes ``v``.
    Unchanged sub-trees are returned as they are (no copy)."""
    if isinstance(data, Override):
        return strip_markers(data.value)
    if isinstance(data, dict):
        out: dict[str, Any] | None = None
        for k, v in data.items():
            nv = strip_markers(v) if isinstance(v, (dict, list, Override, Reset)) else v
            if nv is not v or isinstance(v, Reset):
                if out is None:
                    out = dict(data)
                if isinstance(v, Reset):
                    del out[k]
                else:
                    out[k] = nv
        return data if out is None else out
    if isinstance(data, list):
        items = [strip_markers(v) for v in data if not isinstance(v, Reset)]
        if len(items) == len(data) and all(a is b for a, b in zip(items, data, strict=True)):
            return data
        return items
    return data


# -- the walk -----------------------------------------------------------------------------

# A compiled pattern table: each node maps a key (or "*") to a child node; the
# rule (or indexer) of a pattern sits at its last node under _RULE.
_Node = dict[str, Any]
_RULE = "\0rule"
_EMPTY: _Node = {}


def _child(node: _Node, key: str | int) -> _Node:
    found = node.get(str(key))
    if found is None:
        found = node.get("*", _EMPTY)
    assert isinstance(found, dict)
    return found


def _plain(value: Any) -> Any:
    """The base side of a merge: an earlier ``!override`` is just its value now."""
    return value.value if isinstance(value, Override) else value


def _merge(a: Any, b: Any, path: KeyPath, node: _Node) -> Any:
    if isinstance(b, Reset):
        return b
    if isinstance(b, Override):
        # Kept as a marker: a later document still replaces the value again.
        return b
    a = _plain(a)
    if a is None or isinstance(a, Reset):
        return b
    rule = node.get(_RULE)
    if rule is not None:
        return rule(a, b, path)
    return _default(a, b, path, node)


def _default(a: Any, b: Any, path: KeyPath, node: _Node) -> Any:
    if b is None:
        return a
    if isinstance(a, dict):
        if not isinstance(b, dict):
            raise MergeError(f"cannot override a mapping with {_kind(b)}", path=path)
        return _merge_mapping(a, b, path, node)
    if isinstance(a, list):
        if not isinstance(b, list):
            raise MergeError(f"cannot override a sequence with {_kind(b)}", path=path)
        merged = a + b
        if node.get(_DISTINCT):
            _check_distinct(merged, path)
        return merged
    return b


def _merge_mapping(a: dict[str, Any], b: Mapping[str, Any], path: KeyPath, node: _Node) -> Any:
    out = dict(a)
    for k, v in b.items():
        if k in out:
            out[k] = _merge(out[k], v, (*path, k), _child(node, k))
        else:
            out[k] = v
    return out


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a sequence"
    return "a scalar"


_DISTINCT = "\0distinct"


def _check_distinct(items: list[Any], path: KeyPath) -> None:
    # The order of v2's JSON-schema library: the first later item equal to an earlier one.
    for j in range(1, len(items)):
        for i in range(j):
            if items[i] == items[j]:
                raise MergeError(f"items at {i} and {j} are equal", path=path)


# -- rules --------------------------------------------------------------------------------


def _replace(a: Any, b: Any, path: KeyPath) -> Any:
    return b


def _update(a: Any, b: Any, path: KeyPath) -> Any:
    """One value per key, the override's winning (``KEY`` alone, i.e. ``None``, too)."""
    if b is None:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        out.update(b)
        return out
    return _as_sequence(a) + _as_sequence(b)


def _append(a: Any, b: Any, path: KeyPath) -> Any:
    return _as_sequence(a) + _as_sequence(b)


def _to_sequence(a: Any, b: Any, path: KeyPath) -> Any:
    """compose-go's ``mergeToSequence``: both sides as ``KEY=VALUE`` items, appended
    (a ``null`` override still turns the base into a sequence)."""
    return _as_sequence(a) + _as_sequence(b)


def _extra_hosts(a: Any, b: Any, path: KeyPath) -> Any:
    """Append the override's entries that the base does not have yet."""
    base = _as_sequence(a)
    return base + [entry for entry in _as_sequence(b) if entry not in base]


def _as_sequence(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        # compose-go turns a mapping into sorted KEY=VALUE items before appending.
        return sorted(k if v is None else f"{k}={go_text(v)}" for k, v in value.items())
    return [value]


def _logging(a: Any, b: Any, path: KeyPath) -> Any:
    """Options merge only when both sides name the same driver (or one names none)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return _default(a, b, path, _EMPTY)
    if "driver" not in a or "driver" not in b or a["driver"] == b["driver"]:
        return _merge_mapping(a, b, path, _EMPTY)
    return b


def _ipam_config(a: Any, b: Any, path: KeyPath) -> Any:
    """v2's ``mergeIPAMConfig``, quirks included: entries pair up by subnet, and a
    base entry with no counterpart is dropped; merges happen in place on the base
    entries, so an entry may be merged several times."""
    if b is None:
        return a
    if not isinstance(a, list) or not isinstance(b, list):
        raise MergeError(f"cannot override {_kind(a)} with {_kind(b)}", path=path)
    originals = [c if isinstance(c, dict) else {} for c in copy.deepcopy(a)]
    overrides = [c if isinstance(c, dict) else {} for c in copy.deepcopy(b)]
    result: list[dict[str, Any]] = []
    for right in originals:
        for left in overrides:
            subnet = left.get("subnet")
            if subnet != right.get("subnet") and not any(
                c.get("subnet") == subnet for c in result
            ):
                result.append(left)
                continue
            merged = _merge_in_place(right, left, path)
            for i, c in enumerate(result):
                if c.get("subnet") == merged.get("subnet"):
                    result[i] = merged
                    break
            else:
                result.append(merged)
    return result


def _merge_in_place(target: dict[str, Any], other: Mapping[str, Any], path: KeyPath) -> Any:
    for k, v in other.items():
        e = target.get(k)
        if k not in target or e is None:
            target[k] = v
        elif v is None:
            continue
        elif isinstance(e, dict) and isinstance(v, dict):
            _merge_in_place(e, v, (*path, k))
        elif isinstance(e, list) and isinstance(v, list):
            target[k] = e + v
        elif isinstance(e, (dict, list)):
            raise MergeError(f"cannot override {_kind(e)} with {_kind(v)}", path=(*path, k))
        else:
            target[k] = v
    return target


# What compose-go's mergeSpecials says, on canonical forms.
MERGE_RULES: dict[str, Rule] = {
    "services.*.command": _replace,
    "services.*.entrypoint": _replace,
    "services.*.healthcheck.test": _replace,
    "services.*.ulimits.*": _replace,
    "services.*.environment": _update,
    "services.*.labels": _update,
    "services.*.annotations": _update,
    "services.*.sysctls": _update,
    "services.*.build.args": _update,
    "services.*.build.labels": _update,
    "services.*.build.additional_contexts": _update,
    "services.*.deploy.labels": _update,
    "networks.*.labels": _update,
    "volumes.*.labels": _update,
    "services.*.extra_hosts": _extra_hosts,
    "services.*.build.extra_hosts": _extra_hosts,
    "services.*.dns": _append,
    "services.*.dns_opt": _append,
    "services.*.dns_search": _append,
    "services.*.env_file": _append,
    "services.*.label_file": _append,
    "services.*.tmpfs": _append,
    "services.*.logging": _logging,
    "networks.*.ipam.config": _ipam_config,
    # depends_on, networks, models and build merge as mappings (the default).
}

# Sequences the schema wants free of duplicates and v2 appends without a unicity
# rule: a duplicate after merging fails v2's schema check of the merged document.
DISTINCT_ITEMS: tuple[str, ...] = (
    "services.*.security_opt",
    "services.*.group_add",
    "services.*.volumes_from",
    "services.*.external_links",
    "services.*.device_cgroup_rules",
)


# -- unicity ------------------------------------------------------------------------------


def _key_value(item: Any, path: KeyPath) -> object:
    text = item if isinstance(item, str) else str(item)
    return text.split("=", 1)[0]


def _expose(item: Any, path: KeyPath) -> object:
    return str(item)


def _port(item: Any, path: KeyPath) -> object:
    if isinstance(item, dict):
        if "target" not in item:
            raise MergeError("service port is missing a target port", path=path)
        # Raw values: as in v2, a published port written as a number in the long
        # syntax does not match the same port written as text.
        return (
            item.get("host_ip") or "0.0.0.0",
            item.get("published"),
            item.get("target"),
            item.get("protocol") or "tcp",
        )
    return str(item)


def _volume(item: Any, path: KeyPath) -> object:
    if isinstance(item, dict):
        target = item.get("target")
        if not isinstance(target, str):
            raise MergeError("service volume is missing a mount target", path=path)
        return target
    return str(item)


def _device(item: Any, path: KeyPath) -> object:
    if isinstance(item, dict):
        target = item.get("target")
        if not isinstance(target, str):
            raise MergeError("service device is missing a mount target", path=path)
        return target
    parts = str(item).split(":")
    return parts[0] if len(parts) == 1 else parts[1]


def _mount(default_dir: str) -> Indexer:
    def index(item: Any, path: KeyPath) -> object:
        if isinstance(item, dict):
            if "target" in item:
                return str(item["target"])
            return f"{default_dir}/{item.get('source')}"
        return f"{default_dir}/{item}"

    return index


def _env_file(item: Any, path: KeyPath) -> object:
    if isinstance(item, dict):
        if "path" not in item:
            raise MergeError("env_file entry is missing its path", path=path)
        return str(item["path"])
    return str(item)


# What compose-go's EnforceUnicity says: one entry per key in these sequences.
UNIQUE_KEYS: dict[str, Indexer] = {
    "services.*.cap_add": _key_value,
    "services.*.cap_drop": _key_value,
    "services.*.dns": _key_value,
    "services.*.dns_opt": _key_value,
    "services.*.dns_search": _key_value,
    "services.*.links": _key_value,
    "services.*.profiles": _key_value,
    "services.*.tmpfs": _key_value,
    "services.*.build.tags": _key_value,
    "services.*.networks.*.aliases": _key_value,
    "services.*.networks.*.link_local_ips": _key_value,
    # Mappings in canonical form; the rule only bites if one is still a list.
    "services.*.environment": _key_value,
    "services.*.labels": _key_value,
    "services.*.annotations": _key_value,
    "services.*.sysctls": _key_value,
    "services.*.build.args": _key_value,
    "services.*.build.labels": _key_value,
    "services.*.build.additional_contexts": _key_value,
    "services.*.deploy.labels": _key_value,
    "services.*.expose": _expose,
    "services.*.ports": _port,
    "services.*.volumes": _volume,
    "services.*.devices": _device,
    "services.*.secrets": _mount("/run/secrets"),
    "services.*.configs": _mount(""),
    "services.*.env_file": _env_file,
}


def enforce_unicity(data: dict[str, Any]) -> dict[str, Any]:
    """Keep one entry per key in the sequences of :data:`UNIQUE_KEYS` (a later entry
    replaces the earlier one where it stood), as v2 does after every merge and on a
    single file. Pure: changed containers are copied, the rest is shared."""
    out = _unique(data, (), _UNIQUE_TRIE)
    assert isinstance(out, dict)
    return out


def _unique(value: Any, path: KeyPath, node: _Node) -> Any:
    if isinstance(value, Override):
        inner = _unique(value.value, path, node)
        return value if inner is value.value else Override(inner)
    indexer = node.get(_RULE)
    if indexer is not None and isinstance(value, list):
        return _dedupe(value, path, indexer)
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] | None = None
    wildcard = node.get("*")
    keys = value.keys() if wildcard is not None else [k for k in node if k in value]
    for k in keys:
        child = node.get(k, wildcard)
        if not isinstance(child, dict):
            continue
        v = value[k]
        nv = _unique(v, (*path, k), child)
        if nv is not v:
            if out is None:
                out = dict(value)
            out[k] = nv
    return value if out is None else out


def _dedupe(items: list[Any], path: KeyPath, indexer: Indexer) -> list[Any]:
    seq: list[Any] = []
    seen: dict[object, int] = {}
    for i, item in enumerate(items):
        if isinstance(item, (Reset, Override)):
            seq.append(item)
            continue
        key = indexer(item, (*path, i))
        try:
            j = seen.get(key)
        except TypeError:  # an unhashable key cannot match anything
            seq.append(item)
            continue
        if j is None:
            seen[key] = len(seq)
            seq.append(item)
        else:
            seq[j] = item
    # Entries are only ever replaced by a later duplicate, which shortens the list.
    return items if len(seq) == len(items) else seq


# -- tables -------------------------------------------------------------------------------


def _compile(table: Mapping[str, Any], flag: str = _RULE) -> _Node:
    root: _Node = {}
    for pattern, value in table.items():
        node = root
        for part in pattern.split("."):
            node = node.setdefault(part, {})
        node[flag] = value
    return root


# The untyped model keeps key/value collections as written: merged, they become one
# sequence, whatever form each side had.
MODEL_MERGE_RULES: dict[str, Rule] = {
    pattern: (_to_sequence if rule is _update else rule) for pattern, rule in MERGE_RULES.items()
}

_MERGE_TRIE = _compile(MERGE_RULES)
_MODEL_MERGE_TRIE = _compile(MODEL_MERGE_RULES)
for _trie in (_MERGE_TRIE, _MODEL_MERGE_TRIE):
    for _pattern in DISTINCT_ITEMS:
        _n = _trie
        for _part in _pattern.split("."):
            _n = _n.setdefault(_part, {})
        _n[_DISTINCT] = True
_UNIQUE_TRIE = _compile(UNIQUE_KEYS)

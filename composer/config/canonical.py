"""Canonical syntax, per file and before merging: every short form in its long form.

Ports, volumes, depends_on, environment/labels lists, healthcheck, ... become the
long syntax Docker Compose v2 prints, so that merging and path resolution only
ever see one shape (compose-go's ``transform`` stage).

The shapes produced here (the contract the merge, extends and paths phases rely on):

==========================================  =============================================
``services.*.build``                        mapping; a string becomes ``{context: s}``
``services.*.build.args``                   mapping, ``NAME`` alone maps to ``None``
``services.*.build.labels``                 mapping, ``key`` alone maps to ``""``
``services.*.build.additional_contexts``    mapping
``services.*.build.extra_hosts``            list of ``"host=ip"`` (one entry per address)
``services.*.build.ssh``                    mapping ``id -> path or None``
``services.*.build.secrets[*]``             mapping ``{source, ...}``
``services.*.depends_on``                   mapping ``name -> {condition, required, ...}``
``services.*.env_file``                     list of ``{path, required, format?}``
``services.*.label_file``                   list of paths
``services.*.environment``                  mapping, ``NAME`` alone maps to ``None``
``services.*.labels`` / ``annotations`` /   mapping, ``key`` alone maps to ``""``
``sysctls``
``services.*.extra_hosts``                  list of ``"host=ip"`` (one entry per address)
``services.*.extends``                      mapping ``{service, file?}``
``services.*.gpus``                         list of device requests (``all`` -> count all)
``services.*.networks`` / ``models``        mapping ``name -> config or None``
``services.*.volumes[*]``                   mapping (the long syntax)
``services.*.ports``                        list of mappings; ranges expand to one entry
                                            per port, as v2 does
``services.*.devices[*]``                   mapping ``{source, target, permissions}``
``services.*.secrets[*]`` / ``configs[*]``  mapping ``{source, ...}``
``services.*.dns`` / ``dns_search`` /       list
``tmpfs``
``services.*.healthcheck.test``             list (a string becomes ``[CMD-SHELL, s]``)
``networks|volumes|secrets|configs.*``      ``external: {name: x}`` becomes ``name: x`` +
                                            ``external: true``
==========================================  =============================================

Scalars keep their YAML types here (normalisation turns them into v2's types), and
``command`` / ``entrypoint`` strings stay strings (they are split after merging).
``!reset`` / ``!override`` markers are kept, with the value inside an override
canonicalised too. The input data is never changed; the source map gains entries,
so that a list item's mark also answers for the key it became
(``depends_on[1]`` -> ``depends_on.db``) and expanded port ranges keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from composer.config.shortsyntax import parse_port_spec, parse_volume_spec
from composer.config.source import KeyPath, Override, Reset, SourceMap
from composer.errors import ConfigError
from composer.model.conditions import SERVICE_STARTED

Transform = Callable[[Any, KeyPath, "SourceMap | None"], Any]



def canonicalize(
    data: dict[str, Any],
    source: SourceMap | None = None,
    *,
    warn: Callable[[str], None] | None = None,
    lenient: bool = False,
    model: bool = False,
) -> dict[str, Any]:
    """Return ``data`` with short syntaxes expanded; raises ``ConfigError`` (with a
    mark from ``source``) for malformed values such as a port ``abc:80``.

    ``warn`` receives v2's deprecation warnings (``external.name``). ``lenient`` is
    for ``--no-interpolate``: as v2 does then, a ``ports`` list with an entry that
    does not parse (``"${PORT}:80"``) is kept as written instead of refused.

    ``model=True`` expands only what compose-go's own ``transform`` stage expands
    (the untyped model ``config --no-interpolate`` prints): ``environment``,
    ``labels``, ``annotations``, ``sysctls``, ``extra_hosts``, ``healthcheck.test``,
    ``dns_search``, ``tmpfs`` and build ``args``/``labels``/``extra_hosts`` stay as
    written."""
    out = dict(data)
    services = out.get("services")
    if isinstance(services, dict):
        tables = _MODEL_TABLES if model else _TYPED_TABLES
        table = tables[1] if lenient else tables[0]

        def transform(svc: Any, path: KeyPath, src: SourceMap | None) -> Any:
            return _apply(table, svc, path, src)

        out["services"] = {
            name: _lift(transform, svc, ("services", name), source)
            for name, svc in services.items()
        }
    for kind in ("networks", "volumes", "secrets", "configs"):
        top = out.get(kind)
        if isinstance(top, dict):
            out[kind] = {
                key: _lift(_resource, value, (kind, key), source) for key, value in top.items()
            }
            if warn is not None:
                for key, value in top.items():
                    if isinstance(value, dict) and isinstance(value.get("external"), dict):
                        if value["external"].get("name") is not None:
                            warn(
                                f"{kind}.{key}: external.name is deprecated. "
                                "Please set name and external: true"
                            )
    return out


def _error(message: str, path: KeyPath, source: SourceMap | None) -> ConfigError:
    mark = source.mark(path) if source is not None else None
    return ConfigError(message, mark=mark, path=path, file=source.file if source else None)


def _alias_marks(
    source: SourceMap | None, path: KeyPath, pairs: list[tuple[int, str | int]]
) -> None:
    """Give the entries a list became (``depends_on: [db]`` -> ``depends_on.db``) the
    marks of the items they came from, so later errors still point at the file."""
    if source is None:
        return
    marks, key_marks = source.marks, source.key_marks
    for old, new in pairs:
        mark = marks.get((*path, old))
        if mark is not None:
            marks.setdefault((*path, new), mark)
            key_marks.setdefault((*path, new), mark)


def _lift(fn: Transform, value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    """Apply ``fn`` through an ``!override`` marker; leave ``!reset`` alone."""
    if isinstance(value, Reset):
        return value
    if isinstance(value, Override):
        return Override(fn(value.value, path, source))
    return fn(value, path, source)


# -- services ---------------------------------------------------------------------------


def _apply(
    transforms: dict[str, Transform], svc: Any, path: KeyPath, source: SourceMap | None
) -> Any:
    if not isinstance(svc, dict):
        return svc
    out = dict(svc)
    for key, value in svc.items():
        fn = transforms.get(key)
        if fn is not None:
            out[key] = _lift(fn, value, (*path, key), source)
    return out


def _build(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    return _build_with(_BUILD_TRANSFORMS, value, path, source)


def _model_build(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    return _build_with(_MODEL_BUILD_TRANSFORMS, value, path, source)


def _build_with(
    transforms: dict[str, Transform], value: Any, path: KeyPath, source: SourceMap | None
) -> Any:
    if isinstance(value, str):
        return {"context": value}
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key, fn in transforms.items():
        if key in out:
            out[key] = _lift(fn, out[key], (*path, key), source)
    return out


def _mapping_with_equals(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    """``[A=1, B]`` -> ``{A: "1", B: None}`` (environment, build args)."""
    return _list_to_mapping(value, None, path, source)


def _mapping_labels(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    """``[a=1, b]`` -> ``{a: "1", b: ""}`` (labels, annotations, sysctls, contexts)."""
    return _list_to_mapping(value, "", path, source)


def _list_to_mapping(
    value: Any, bare: str | None, path: KeyPath, source: SourceMap | None
) -> Any:
    if not isinstance(value, list):
        return value
    out: dict[str, Any] = {}
    pairs: list[tuple[int, str | int]] = []
    for i, item in enumerate(value):
        if isinstance(item, (Reset, Override)):
            continue
        text = item if isinstance(item, str) else _scalar_text(item)
        key, sep, val = text.partition("=")
        out[key] = val if sep else bare
        pairs.append((i, key))
    _alias_marks(source, path, pairs)
    return out


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _string_list(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    return [value] if isinstance(value, str) else value


def _names_to_mapping(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    """``[a, b]`` -> ``{a: None, b: None}`` (service networks, models)."""
    if isinstance(value, list):
        _alias_marks(source, path, [(i, str(item)) for i, item in enumerate(value)])
        return {str(item): None for item in value}
    return value


def _extends(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    return {"service": value} if isinstance(value, str) else value


def _depends_on(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    if isinstance(value, list):
        _alias_marks(source, path, [(i, str(name)) for i, name in enumerate(value)])
        return {
            str(name): {"condition": SERVICE_STARTED, "required": True} for name in value
        }
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for name, dep in value.items():
        if isinstance(dep, dict):
            # ``condition`` and ``required`` default only after merging (normalize):
            # an override naming just one keeps the base file's other one.
            dep = dict(dep)
        elif dep is None:
            dep = {"condition": SERVICE_STARTED, "required": True}
        out[name] = dep
    return out


def _env_file(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return value
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.append({"path": item, "required": True})
        elif isinstance(item, dict):
            entry = dict(item)
            entry.setdefault("required", True)
            out.append(entry)
        else:
            out.append(item)
    return out


def _gpus(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    if isinstance(value, str):
        return [{"count": "all"}]
    return value


def _healthcheck(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    if isinstance(value, dict) and isinstance(value.get("test"), str):
        out = dict(value)
        out["test"] = ["CMD-SHELL", value["test"]]
        return out
    return value


def _each(fn: Transform) -> Transform:
    """Apply ``fn`` to every item of a list (``services.*.volumes.*`` style rules)."""

    def apply(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
        if not isinstance(value, list):
            return value
        return [_lift(fn, item, (*path, i), source) for i, item in enumerate(value)]

    return apply


def _file_mount(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    return {"source": value} if isinstance(value, str) else value


def _device(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    if not isinstance(value, str):
        return value
    parts = value.split(":")
    if len(parts) == 1:
        return {"source": parts[0], "target": parts[0], "permissions": "rwm"}
    if len(parts) == 2:
        return {"source": parts[0], "target": parts[1], "permissions": "rwm"}
    if len(parts) == 3:
        return {"source": parts[0], "target": parts[1], "permissions": parts[2]}
    raise _error(f"confusing device mapping, please use long syntax: {value}", path, source)


def _ssh(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return value
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        text = _scalar_text(item)
        key, sep, key_path = text.partition("=")
        if not sep and key != "default":
            raise _error(f'invalid ssh key "{text}"', (*path, i), source)
        out[key] = key_path if sep else None
    return out


# -- extra_hosts --------------------------------------------------------------------------


def _extra_hosts(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    """Either syntax -> ``["host=ip", ...]`` in the given order, one entry per address."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for host, ips in value.items():
            if isinstance(ips, list):
                pairs.extend((str(host), _scalar_text(ip)) for ip in ips)
            else:
                pairs.append((str(host), _scalar_text(ips)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            text = _scalar_text(item)
            for sep in ("=", ":"):
                host, found, ips = text.partition(sep)
                if found:
                    pairs.extend((host, ip) for ip in ips.split(","))
                    break
            else:
                raise _error(f"invalid additional host, missing IP: {text}", (*path, i), source)
    else:
        return value
    out = []
    for host, ip in pairs:
        if not host or ":" in host or "=" in host:
            raise _error(f"bad host name '{host}'", path, source)
        if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]":
            ip = ip[1:-1]
        out.append(f"{host}={ip}")
    return out


# -- ports --------------------------------------------------------------------------------


def _ports(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    if not isinstance(value, list):
        return value
    out: list[Any] = []
    origins: list[int] = []  # out[j] comes from value[origins[j]]
    for i, entry in enumerate(value):
        if isinstance(entry, bool):
            raise _error(f"invalid port {entry}", (*path, i), source)
        if isinstance(entry, int | float) and entry == 0:
            # v2 drops a zero target and then finds none (the long syntax keeps 0).
            raise _error(f"invalid port {entry}: missing a target port", (*path, i), source)
        if isinstance(entry, int):
            out.append({"target": entry})
        elif isinstance(entry, float) and entry.is_integer():
            out.append({"target": int(entry)})
        elif isinstance(entry, str):
            try:
                parsed = parse_port_spec(entry)
            except ValueError as exc:
                raise _error(f'invalid port "{entry}": {exc}', (*path, i), source) from None
            if any(port["target"] == 0 for port in parsed):
                raise _error(f'invalid port "{entry}": missing a target port', (*path, i),
                             source)
            out.extend(parsed)
        else:
            out.append(entry)
        origins.extend([i] * (len(out) - len(origins)))
    if len(out) != len(value) and source is not None:
        # A range expanded: entries after it moved, so their marks move with them.
        moved = {j: source.marks.get((*path, i)) for j, i in enumerate(origins)}
        for j, mark in moved.items():
            if mark is not None:
                source.marks[(*path, j)] = mark
    return out


def _lenient_ports(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    try:
        return _ports(value, path, source)
    except ConfigError:
        return value


# -- volumes ------------------------------------------------------------------------------


def _volume(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return parse_volume_spec(value)
    except ValueError as exc:
        raise _error(f"invalid spec: {value}: {exc}", path, source) from None


# -- top-level resources ------------------------------------------------------------------


def _resource(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    """Legacy ``external: {name: x}`` -> ``name: x`` and ``external: true``."""
    if not isinstance(value, dict):
        return value
    external = value.get("external")
    if not isinstance(external, dict):
        return value
    out = dict(value)
    ext_name = external.get("name")
    if ext_name is not None:
        if out.get("name") not in (None, ext_name):
            raise _error(
                f"can't use both '{path[0]}.external.name' (deprecated) and '{path[0]}.name'",
                path,
                source,
            )
        out["name"] = ext_name
    out["external"] = True
    return out


_BUILD_TRANSFORMS: dict[str, Transform] = {
    "args": _mapping_with_equals,
    "labels": _mapping_labels,
    "additional_contexts": _mapping_labels,
    "extra_hosts": _extra_hosts,
    "secrets": _each(_file_mount),
    "ssh": _ssh,
    "cache_from": _string_list,
    "cache_to": _string_list,
    "tags": _string_list,
    "platforms": _string_list,
}

_SERVICE_TRANSFORMS: dict[str, Transform] = {
    "build": _build,
    "depends_on": _depends_on,
    "env_file": _env_file,
    "label_file": _string_list,
    "extends": _extends,
    "gpus": _gpus,
    "networks": _names_to_mapping,
    "models": _names_to_mapping,
    "volumes": _each(_volume),
    "dns": _string_list,
    "dns_search": _string_list,
    "tmpfs": _string_list,
    "devices": _each(_device),
    "secrets": _each(_file_mount),
    "configs": _each(_file_mount),
    "ports": _ports,
    "environment": _mapping_with_equals,
    "labels": _mapping_labels,
    "annotations": _mapping_labels,
    "sysctls": _mapping_labels,
    "extra_hosts": _extra_hosts,
    "healthcheck": _healthcheck,
}

def _develop(value: Any, path: KeyPath, source: SourceMap | None) -> Any:
    """A watch rule's ``include``/``ignore`` written as one pattern becomes a list."""
    watch = value.get("watch") if isinstance(value, dict) else None
    if not isinstance(watch, list):
        return value
    rules = []
    for rule in watch:
        if isinstance(rule, dict):
            rule = {k: [v] if k in ("include", "ignore") and isinstance(v, str) else v
                    for k, v in rule.items()}
        rules.append(rule)
    return {**value, "watch": rules}


# compose-go's transform stage: what the untyped model (``--no-interpolate``) expands.
_MODEL_BUILD_TRANSFORMS: dict[str, Transform] = {
    key: _BUILD_TRANSFORMS[key] for key in ("additional_contexts", "secrets", "ssh")
}
_MODEL_SERVICE_TRANSFORMS: dict[str, Transform] = {
    **{key: _SERVICE_TRANSFORMS[key] for key in (
        "depends_on", "env_file", "label_file", "extends", "gpus", "networks", "models",
        "volumes", "dns", "devices", "secrets", "configs", "ports",
    )},
    "build": _model_build,
    "develop": _develop,
}

# (strict, lenient) service tables for the typed and the untyped model.
_TYPED_TABLES = (_SERVICE_TRANSFORMS, {**_SERVICE_TRANSFORMS, "ports": _lenient_ports})
_MODEL_TABLES = (_MODEL_SERVICE_TRANSFORMS, {**_MODEL_SERVICE_TRANSFORMS, "ports": _lenient_ports})

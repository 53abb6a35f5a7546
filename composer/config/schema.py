"""Validation of one compose file against the project's compose-spec JSON schema.

The schema (``schemas/compose-spec.json``, shipped as ``composer/config/compose-spec.json``)
is the official Compose Specification schema adjusted to Docker Compose v2.40.3's verdicts.

Two validators share it:

* a fast yes/no check: the schema compiled once into plain Python closures
  (:mod:`composer.config.schemacompile`), which keeps a 1,000-service file in the
  tens of milliseconds;
* jsonschema's ``Draft7Validator``, run only when the fast check says no, and
  only on the failing top-level entries, to find and word the most specific error
  (this module).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from composer.config.scalar import Timestamp
from composer.config.schemacompile import Compiled, json_key, load_schema
from composer.config.schemacompile import compiled as _compiled
from composer.config.source import KeyPath, Override, Reset, SourceMap
from composer.errors import Mark, SchemaError
from composer.model.conditions import SERVICE_STARTED

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError as JsonSchemaError

__all__ = [
    "is_valid", "load_schema", "merge_shapes", "validate_merged_schema", "validate_schema",
]

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}



def is_valid(data: Any) -> bool:
    """Whether ``data`` (plain values, or with ``Reset``/``Override`` markers) is schema-valid."""
    return _compiled().root(data)


def validate_schema(data: dict[str, Any], source: SourceMap) -> None:
    """Raise :class:`composer.errors.SchemaError` for the most specific violation.

    ``data`` is one file's interpolated document: plain YAML values, possibly with
    :class:`~composer.config.source.Reset` (treated as absent) and
    :class:`~composer.config.source.Override` (treated as its value) markers.
    The error carries the mark of the offending value (of the offending key for an
    unknown key) from ``source`` and the key path, e.g.
    ``compose.yaml:4:5: services.web: additional property 'wrongField' is not allowed``.
    Returns ``None`` when the document is valid.
    """
    compiled = _compiled()
    if compiled.root(data):
        return
    _report(compiled, data, source)


def validate_merged_schema(
    data: dict[str, Any],
    source: SourceMap,
    base: dict[str, Any],
    earlier: Sequence[SourceMap] = (),
) -> None:
    """Check ``data`` merged onto ``base``, as v2 checks each file (and each document
    of a file) merged onto the earlier ones, not each alone.

    So an override may leave out what the base already says (``depends_on: {db:
    {required: false}}`` without ``condition``) or write ``environment: null`` (a
    null keeps the base value). ``data`` is the document with its ``extends``
    resolved and the short forms compose-go's merge expands expanded
    (:func:`merge_shapes`); ``base`` the canonical merge of the earlier documents
    (empty for the first one); ``earlier`` their source maps, which after ``source``
    give an error's mark. Raises :class:`composer.errors.SchemaError` (or
    ``MergeError`` when the two cannot be merged at all).
    """
    compiled = _compiled()
    merged = data
    if base:
        from composer.config import merge

        merged = merge.merge_documents(base, data, file=source.file)
    if compiled.root(merged):
        return
    combined = SourceMap(source.file)
    for src in (*earlier, source):
        combined.marks.update(src.marks)
        combined.key_marks.update(src.key_marks)
    _report(compiled, merged, combined)


def merge_shapes(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the short forms compose-go's merge itself expands
    (``mergeDependsOn``, ``mergeNetworks``, ``mergeBuild``); the rest as written."""
    services = data.get("services")
    if not isinstance(services, dict):
        return data
    out: dict[str, Any] = {}
    for name, svc in services.items():
        if isinstance(svc, dict):
            svc = dict(svc)
            deps, nets, build = svc.get("depends_on"), svc.get("networks"), svc.get("build")
            if isinstance(deps, list):
                svc["depends_on"] = {
                    str(d): {"condition": SERVICE_STARTED, "required": True} for d in deps
                }
            if isinstance(nets, list):
                svc["networks"] = {str(n): None for n in nets}
            if isinstance(build, str):
                svc["build"] = {"context": build}
        out[name] = svc
    return {**data, "services": out}



# --------------------------------------------------------------------------- JSON values


class _Stamp:
    """A timestamp as jsonschema sees it: no JSON type at all, as for v2's validator
    (a Go ``time.Time``: ``invalid jsonType time.Time``)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"timestamp {self.text}"


def _plain(value: Any) -> Any:
    """``value`` without ``Reset``/``Override`` markers (the tree jsonschema sees)."""
    cls = value.__class__
    if cls is Override:
        return _plain(value.value)
    if cls is Timestamp:
        return _Stamp(value.source)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v.__class__ is not Reset}
    if isinstance(value, list):
        return [_plain(v) for v in value if v.__class__ is not Reset]
    return value



@cache
def _jsonschema_validator() -> Draft7Validator:
    from jsonschema import Draft7Validator

    return Draft7Validator(_compiled().schema)


# --------------------------------------------------------------------------- error report


def _failing_part(compiled: Compiled, data: Any) -> Any:
    """The smallest document, made of ``data``'s failing top-level entries, that fails too.

    Keeps jsonschema's work proportional to the errors, not to the file.
    """
    if not isinstance(data, dict):
        return data
    schema = compiled.schema
    props: dict[str, Any] = schema.get("properties", {})
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value.__class__ is Reset:
            continue
        sub = props.get(key)
        if sub is None:
            out[key] = value  # unknown or x- key: cheap for jsonschema either way
            continue
        if compiled.check_of(sub)(value):
            continue
        plain = value.value if value.__class__ is Override else value
        patterns = sub.get("patternProperties")
        if isinstance(plain, dict) and patterns and sub.get("type") == "object":
            # A map of named entries (services, volumes, ...): keep the failing ones.
            kept = {}
            entry_checks = [(re.compile(p).search, compiled.check_of(s))
                            for p, s in patterns.items()]
            for name, entry in plain.items():
                checks = [c for search, c in entry_checks
                          if isinstance(name, str) and search(name)]
                if not checks or not all(c(entry) for c in checks):
                    kept[name] = entry
            out[key] = kept if kept else plain
        else:
            out[key] = value
    return out if out else data


def _report(compiled: Compiled, data: Any, source: SourceMap) -> None:
    part = _failing_part(compiled, data)
    _check_keys(part, (), source)
    validator = _jsonschema_validator()
    errors = list(validator.iter_errors(_plain(part)))
    if not errors:
        # The fast check and jsonschema disagree: still refuse, without detail.
        raise SchemaError("does not follow the compose-spec schema", file=source.file)
    found = [_describe(e, source) for e in errors]
    found.sort(key=lambda f: _order(f[0], f[1]))
    mark, path, message = found[0]
    raise SchemaError(message, mark=mark, path=path, file=source.file)


def _check_keys(value: Any, path: KeyPath, source: SourceMap) -> None:
    """Refuse a mapping key that is not a string (as Compose does, before its schema)."""
    if value.__class__ is Override:
        value = value.value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                where = path + (str(key),)
                mark = source.key_marks.get(where) or source.mark(where)
                raise SchemaError(
                    f"non-string key {_show(key)}", mark=mark, path=path, file=source.file
                )
            _check_keys(item, path + (key,), source)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_keys(item, path + (i,), source)


def _order(mark: Mark | None, path: KeyPath) -> tuple[int, int, int]:
    if mark is None:
        return (1 << 30, 0, -len(path))
    return (mark.line, mark.column, -len(path))


def _describe(error: JsonSchemaError, source: SourceMap) -> tuple[Mark | None, KeyPath, str]:
    """The mark, key path and message of the most specific cause of ``error``."""
    error, union = _most_specific(error)
    path: KeyPath = tuple(error.absolute_path)
    keyword = error.validator
    instance = error.instance
    if union is not None:
        return source.mark(path), path, f"must be {_join_types(union)}, got {_show(instance)}"
    if keyword == "additionalProperties" and isinstance(instance, dict):
        extras = _extra_keys(error.schema, instance)
        if extras:
            marks = [(source.key_marks.get(path + (k,)) or source.mark(path + (k,)), k)
                     for k in extras]
            mark, key = min(marks, key=lambda mk: _order(mk[0], ()))
            patterns = [p for p in error.schema.get("patternProperties", {}) if p != "^x-"]
            if "properties" not in error.schema and patterns:
                shown = " or ".join(f"'{_ecma(p)}'" for p in patterns)
                return mark, path, f"key {_show(key)} is not allowed: keys must match {shown}"
            return mark, path, f"additional property {_show(key)} is not allowed"
    if keyword == "type":
        types = [error.validator_value] if isinstance(error.validator_value, str) else list(
            error.validator_value)
        return source.mark(path), path, f"must be {_join_types(types)}, got {_show(instance)}"
    if keyword == "enum":
        choices = ", ".join(_show(v) for v in error.validator_value)
        return source.mark(path), path, f"must be one of {choices}, got {_show(instance)}"
    if keyword == "pattern":
        return (source.mark(path), path,
                f"{_show(instance)} does not match pattern '{_ecma(error.validator_value)}'")
    if keyword == "required":
        missing = [r for r in error.validator_value
                   if isinstance(instance, dict) and r not in instance]
        name = missing[0] if missing else error.validator_value[0]
        return source.mark(path), path, f"missing required property {_show(name)}"
    if keyword == "uniqueItems" and isinstance(instance, list):
        first, second = _equal_items(instance)
        mark = source.mark(path + (second,))
        return mark, path, f"items at {first} and {second} are equal"
    if keyword == "minimum":
        return source.mark(path), path, f"must be >= {error.validator_value}, got {_show(instance)}"
    if keyword == "maximum":
        return source.mark(path), path, f"must be <= {error.validator_value}, got {_show(instance)}"
    if keyword == "oneOf":
        return source.mark(path), path, "matches more than one of the allowed forms"
    return source.mark(path), path, error.message


def _branches(error: JsonSchemaError) -> dict[Any, list[JsonSchemaError]]:
    groups: dict[Any, list[JsonSchemaError]] = {}
    for sub in error.context or ():
        groups.setdefault(sub.relative_schema_path[0], []).append(sub)
    return groups


def _root_types(errors: Iterable[JsonSchemaError]) -> list[str] | None:
    """The types a branch wanted, if it failed only because the value has another type."""
    wanted: list[str] = []
    for e in errors:
        if e.relative_path:
            return None
        if e.validator == "type":
            v = e.validator_value
            wanted.extend([v] if isinstance(v, str) else v)
        elif e.validator in ("oneOf", "anyOf") and e.context:
            inner: list[str] = []
            for group in _branches(e).values():
                types = _root_types(group)
                if types is None:
                    return None
                inner.extend(types)
            wanted.extend(inner)
        else:
            return None
    return wanted


def _most_specific(error: JsonSchemaError) -> tuple[JsonSchemaError, list[str] | None]:
    """Descend through oneOf/anyOf into the branch that got furthest.

    A branch whose type matches the value beats one that wanted another type; among
    those, the deepest error wins (the first branch on a tie). When every branch
    failed on type, the answer is the union of the types they wanted.
    """
    while error.validator in ("oneOf", "anyOf") and error.context:
        groups = _branches(error)
        candidates = [g for g in groups.values() if _root_types(g) is None]
        if not candidates:
            union: list[str] = []
            for g in groups.values():
                for t in _root_types(g) or ():
                    if t not in union:
                        union.append(t)
            return error, union
        best = max(candidates, key=lambda g: max(len(e.absolute_path) for e in g))
        error = max(best, key=lambda e: len(e.absolute_path))
    return error, None


def _extra_keys(schema: Mapping[str, Any], instance: dict[str, Any]) -> list[str]:
    props = schema.get("properties", {})
    patterns = [re.compile(p).search for p in schema.get("patternProperties", {})]
    return [k for k in instance
            if k not in props and not any(search(k) for search in patterns)]


def _equal_items(items: list[Any]) -> tuple[int, int]:
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        key = json_key(item)
        if key in seen:
            return seen[key], i
        seen[key] = i
    return 0, 1


def _ecma(pattern: str) -> str:
    """Undo :func:`python_regex` for display."""
    return pattern.replace(r"\Z", "$")


def _join_types(types: list[str]) -> str:
    words = []
    for t in types:
        word = _TYPE_WORDS.get(t, t)
        if word not in words:
            words.append(word)
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _show(value: Any) -> str:
    """A value as a compose user wrote it: ``'abc'``, ``3``, ``true``, ``null``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, _Stamp):
        return f"a timestamp ({value.text}; quote it to make it a string)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)

"""Validation of one compose file against the project's compose-spec JSON schema.

The schema (``schemas/compose-spec.json``, shipped as ``composer/config/compose-spec.json``)
is the official Compose Specification schema adjusted to Docker Compose v2.40.3's verdicts.

Two validators share it:

* a fast yes/no check: the schema compiled once into plain Python closures (the
  schema uses a dozen Draft 7 keywords; the compiler refuses any other), which
  keeps a 1,000-service file in the tens of milliseconds;
* jsonschema's ``Draft7Validator``, run only when the fast check says no, and
  only on the failing top-level entries, to find and word the most specific error.

Patterns are JSON Schema (ECMA-262 / Go RE2) regexes; Python's ``$`` also matches
before a final newline, so both validators use a copy of the schema in which an
unescaped ``$`` is ``\\Z``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from composer.config.source import KeyPath, Override, Reset, SourceMap, Timestamp
from composer.errors import Mark, SchemaError

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError as JsonSchemaError

__all__ = [
    "is_valid", "load_schema", "merge_shapes", "validate_merged_schema", "validate_schema",
]

Check = Callable[[Any], bool]

_SCHEMA_FILE = "compose-spec.json"

# Keywords that only annotate: they never change a verdict.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated",
     "definitions"}
)
_NAMED_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
    "number": (int, float),
    "integer": (int,),
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


@cache
def load_schema() -> dict[str, Any]:
    """The compose-spec JSON schema composer validates with (parsed once; do not modify it)."""
    try:
        with open(os.path.join(os.path.dirname(__file__), _SCHEMA_FILE), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        # Not a plain directory (a zip, say): importlib.resources costs ~8 ms to import.
        from importlib import resources

        text = resources.files("composer.config").joinpath(_SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


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
                    str(d): {"condition": "service_started", "required": True} for d in deps
                }
            if isinstance(nets, list):
                svc["networks"] = {str(n): None for n in nets}
            if isinstance(build, str):
                svc["build"] = {"context": build}
        out[name] = svc
    return {**data, "services": out}


# --------------------------------------------------------------------------- regexes


def _python_regex(pattern: str) -> str:
    """Rewrite a JSON Schema regex so Python's ``re`` reads it the same way.

    Only ``$`` differs for the patterns compose uses: outside a character class and
    unescaped it means end of input, which in Python is ``\\Z``.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "$":
            c = r"\Z"
        out.append(c)
        i += 1
    return "".join(out)


def _python_schema(node: Any) -> Any:
    """A copy of a schema with every regex rewritten by :func:`_python_regex`."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                out[key] = _python_regex(value)
            elif key == "patternProperties" and isinstance(value, dict):
                out[key] = {_python_regex(p): _python_schema(s) for p, s in value.items()}
            elif key in ("properties", "definitions") and isinstance(value, dict):
                out[key] = {k: _python_schema(s) for k, s in value.items()}
            elif key in ("enum", "const", "default", "examples", "required"):
                out[key] = value
            else:
                out[key] = _python_schema(value)
        return out
    if isinstance(node, list):
        return [_python_schema(v) for v in node]
    return node


# --------------------------------------------------------------------------- JSON values


def _json_key(value: Any) -> Any:
    """A hashable key under which two values are equal exactly when JSON says they are.

    ``True`` and ``1`` differ (Python says they are equal); ``1`` and ``1.0`` are equal.
    """
    cls = value.__class__
    if cls is Override:
        return _json_key(value.value)
    if cls is bool:
        return ("b", value)
    if cls is int or cls is float:
        return ("n", value)
    if cls is str or value is None:
        return value
    if isinstance(value, dict):
        return ("o", frozenset((k, _json_key(v)) for k, v in value.items() if v.__class__
                               is not Reset))
    if isinstance(value, list):
        return ("a", tuple(_json_key(v) for v in value if v.__class__ is not Reset))
    return ("?", repr(value))


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


# --------------------------------------------------------------------------- compiler


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


class _Compiler:
    """Compile a Draft 7 schema into yes/no closures (only the keywords compose uses)."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root_schema = root
        self.by_node: dict[int, Check] = {}
        self._pending: dict[int, list[Check]] = {}

    def compile(self, node: Any) -> Check:
        if node is True or node == {}:
            return _always
        if node is False:
            return _never
        key = id(node)
        done = self.by_node.get(key)
        if done is not None:
            return done
        pending = self._pending.get(key)
        if pending is not None:  # a $ref cycle: call through the cell filled in below
            return lambda v: pending[0](v)
        cell: list[Check] = [_never]
        self._pending[key] = cell
        check = self._compile(node)
        cell[0] = check
        del self._pending[key]
        self.by_node[key] = check
        return check

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise ValueError(f"unsupported $ref {ref!r}")
        node: Any = self.root_schema
        for part in filter(None, ref[1:].split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _compile(self, node: dict[str, Any]) -> Check:
        if "$ref" in node:  # Draft 7: the siblings of $ref are ignored
            return self.compile(self._resolve(node["$ref"]))
        unknown = set(node) - _ANNOTATIONS - {
            "type", "properties", "patternProperties", "additionalProperties", "required",
            "items", "uniqueItems", "oneOf", "anyOf", "allOf", "enum", "pattern", "minimum",
            "maximum",
        }
        if unknown:
            raise ValueError(f"schema keyword(s) not supported by the fast validator: {unknown}")
        checks: list[Check] = []
        if "type" in node:
            checks.append(_type_check(node["type"]))
        if "enum" in node:
            allowed = {_json_key(v) for v in node["enum"]}
            checks.append(lambda v: _json_key(v) in allowed)
        if "pattern" in node:
            checks.append(_pattern_check(node["pattern"]))
        if "minimum" in node or "maximum" in node:
            checks.append(_range_check(node.get("minimum"), node.get("maximum")))
        if any(k in node for k in ("properties", "patternProperties", "additionalProperties",
                                   "required")):
            checks.append(self._object_check(node))
        if "items" in node or "uniqueItems" in node:
            checks.append(self._array_check(node))
        if "oneOf" in node:
            checks.append(_one_of([self.compile(s) for s in node["oneOf"]]))
        if "anyOf" in node:
            branches = [self.compile(s) for s in node["anyOf"]]
            checks.append(lambda v: any(b(v) for b in branches))
        if "allOf" in node:
            parts = [self.compile(s) for s in node["allOf"]]
            checks.append(lambda v: all(p(v) for p in parts))
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks
            return lambda v: first(v) and second(v)
        return lambda v: all(c(v) for c in checks)

    def _object_check(self, node: dict[str, Any]) -> Check:
        patterns = [
            (re.compile(_python_regex(p)).search, self.compile(s))
            for p, s in node.get("patternProperties", {}).items()
        ]
        props: dict[str, Check] = {}
        for name, sub in node.get("properties", {}).items():
            # A declared property is also subject to every pattern it matches.
            extra = [c for search, c in patterns if search(name)]
            own = self.compile(sub)
            props[name] = _all_of([own, *extra]) if extra else own
        additional = node.get("additionalProperties", True)
        add_check: Check | None = None if additional is True else (
            _never if additional is False else self.compile(additional)
        )
        required = tuple(node.get("required", ()))

        def check(value: Any) -> bool:
            if value.__class__ is not dict:
                if value.__class__ is Override:
                    return check(value.value)
                if not isinstance(value, dict):
                    return True  # other types are the business of "type"
            for key, item in value.items():
                if item.__class__ is Reset:
                    continue
                prop = props.get(key)
                if prop is not None:
                    if not prop(item):
                        return False
                    continue
                if key.__class__ is not str:
                    return False
                matched = False
                for search, sub in patterns:
                    if search(key):
                        matched = True
                        if not sub(item):
                            return False
                if not matched and add_check is not None and not add_check(item):
                    return False
            for name in required:
                if name not in value or value[name].__class__ is Reset:
                    return False
            return True

        return check

    def _array_check(self, node: dict[str, Any]) -> Check:
        items = node.get("items", True)
        if isinstance(items, list):
            raise ValueError("tuple-form items is not supported by the fast validator")
        item_check = self.compile(items)
        unique = bool(node.get("uniqueItems", False))

        def check(value: Any) -> bool:
            if value.__class__ is not list:
                if value.__class__ is Override:
                    return check(value.value)
                if not isinstance(value, list):
                    return True
            if item_check is not _always:
                for item in value:
                    if item.__class__ is not Reset and not item_check(item):
                        return False
            if unique and len(value) > 1:
                keys = [_json_key(v) for v in value if v.__class__ is not Reset]
                if len(set(keys)) != len(keys):
                    return False
            return True

        return check


def _all_of(checks: list[Check]) -> Check:
    return lambda v: all(c(v) for c in checks)


def _one_of(branches: list[Check]) -> Check:
    def check(value: Any) -> bool:
        found = False
        for branch in branches:
            if branch(value):
                if found:
                    return False
                found = True
        return found

    return check


def _type_check(spec: str | list[str]) -> Check:
    names = [spec] if isinstance(spec, str) else list(spec)
    classes = frozenset(c for name in names for c in _NAMED_TYPES[name])
    # JSON Schema: a boolean is never a number (exact class checks keep bool out of
    # int); 1.0 is an integer.
    float_ok = "number" in names
    integral_float_ok = "integer" in names

    def check(value: Any) -> bool:
        cls = value.__class__
        if cls in classes:
            return True
        if cls is float:
            return float_ok or (integral_float_ok and value.is_integer())
        if cls is Override:
            return check(value.value)
        if cls is bool or cls is int or cls is Timestamp:
            # A YAML timestamp has no JSON type: v2 refuses it wherever the schema
            # asks for one ("invalid jsonType time.Time"), x- extensions aside.
            return False
        # Subclasses (a source map may hand out dict/str subclasses).
        return any(isinstance(value, c) for c in classes if c is not int)

    return check


def _pattern_check(pattern: str) -> Check:
    search = re.compile(_python_regex(pattern)).search

    def check(value: Any) -> bool:
        if isinstance(value, str):
            return search(value) is not None
        if value.__class__ is Override:
            return check(value.value)
        return True

    return check


def _range_check(minimum: float | None, maximum: float | None) -> Check:
    def check(value: Any) -> bool:
        cls = value.__class__
        if cls is Override:
            return check(value.value)
        if cls is bool or not isinstance(value, (int, float)):
            return True
        if minimum is not None and value < minimum:
            return False
        return maximum is None or value <= maximum

    return check


class _Compiled:
    """The compiled schema: the root check and the checks of every schema node."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = _python_schema(schema)
        compiler = _Compiler(self.schema)
        self.root = compiler.compile(self.schema)
        self.by_node = compiler.by_node

    def check_of(self, node: Any) -> Check:
        return self.by_node.get(id(node)) or _always


@cache
def _compiled() -> _Compiled:
    return _Compiled(load_schema())


@cache
def _jsonschema_validator() -> Draft7Validator:
    from jsonschema import Draft7Validator

    return Draft7Validator(_compiled().schema)


# --------------------------------------------------------------------------- error report


def _failing_part(compiled: _Compiled, data: Any) -> Any:
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


def _report(compiled: _Compiled, data: Any, source: SourceMap) -> None:
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
        key = _json_key(item)
        if key in seen:
            return seen[key], i
        seen[key] = i
    return 0, 1


def _ecma(pattern: str) -> str:
    """Undo :func:`_python_regex` for display."""
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

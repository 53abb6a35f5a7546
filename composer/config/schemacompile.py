"""The compose-spec JSON schema, loaded and compiled into yes/no closures.

The schema (``composer/config/compose-spec.json``) is the official Compose
Specification schema adjusted to Docker Compose v2.40.3's verdicts. It uses a
dozen Draft 7 keywords; :func:`compiled` turns it once into plain Python closures
(the compiler refuses any other keyword), which checks a 1,000-service file in
the tens of milliseconds. :mod:`composer.config.schema` runs that check and, only
when it says no, jsonschema to word the error.

Patterns are JSON Schema (ECMA-262 / Go RE2) regexes; Python's ``$`` also matches
before a final newline, so both validators use a copy of the schema in which an
unescaped ``$`` is ``\\Z`` (:func:`python_regex`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from composer.config.scalar import Timestamp
from composer.config.source import Override, Reset

__all__ = ["Check", "Compiled", "compiled", "json_key", "load_schema", "python_regex"]

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


def python_regex(pattern: str) -> str:
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
    """A copy of a schema with every regex rewritten by :func:`python_regex`."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                out[key] = python_regex(value)
            elif key == "patternProperties" and isinstance(value, dict):
                out[key] = {python_regex(p): _python_schema(s) for p, s in value.items()}
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


def json_key(value: Any) -> Any:
    """A hashable key under which two values are equal exactly when JSON says they are.

    ``True`` and ``1`` differ (Python says they are equal); ``1`` and ``1.0`` are equal.
    """
    cls = value.__class__
    if cls is Override:
        return json_key(value.value)
    if cls is bool:
        return ("b", value)
    if cls is int or cls is float:
        return ("n", value)
    if cls is str or value is None:
        return value
    if isinstance(value, dict):
        return ("o", frozenset((k, json_key(v)) for k, v in value.items() if v.__class__
                               is not Reset))
    if isinstance(value, list):
        return ("a", tuple(json_key(v) for v in value if v.__class__ is not Reset))
    return ("?", repr(value))



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
            allowed = {json_key(v) for v in node["enum"]}
            checks.append(lambda v: json_key(v) in allowed)
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
            (re.compile(python_regex(p)).search, self.compile(s))
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
                keys = [json_key(v) for v in value if v.__class__ is not Reset]
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
    search = re.compile(python_regex(pattern)).search

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


class Compiled:
    """The compiled schema: the root check and the checks of every schema node."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = _python_schema(schema)
        compiler = _Compiler(self.schema)
        self.root = compiler.compile(self.schema)
        self.by_node = compiler.by_node

    def check_of(self, node: Any) -> Check:
        return self.by_node.get(id(node)) or _always


@cache
def compiled() -> Compiled:
    return Compiled(load_schema())

"""Conversion between canonical dicts and the frozen model classes, by the field table.

Each model class gets a :class:`Codec`, derived (:func:`bind`) from its struct in
:mod:`composer.model.fields`: the canonical keys in compose-go's field order, the
attribute each fills, and a load/dump pair for its value by the field's kind. Only keys
present in the input are converted, and a value of ``None`` on an attribute means
"absent", so ``dump(load(d)) == d`` without tracking anything else. Keys a class
does not know are kept (frozen) in its ``extensions`` and written back as they were.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any, TypeVar, dataclass_transform

from composer.frozen import frozen_delattr, frozen_setattr, value_methods
from composer.model.fields import ALWAYS, Field, Kind, Struct
from composer.model.units import format_duration, parse_bytes, parse_duration

_T = TypeVar("_T")
_MISSING: Any = object()


@dataclass_transform(kw_only_default=True, frozen_default=True,
                     field_specifiers=(dataclasses.field,))
def model(cls: type[_T]) -> type[_T]:
    """A frozen, keyword-only dataclass with shared generic methods.

    ``@dataclass(frozen=True)`` compiles an ``__init__``, ``__repr__``, ``__eq__``,
    ``__hash__``, ``__setattr__`` and ``__delattr__`` for every class, which made
    importing the ~45 model classes cost ~30 ms of CPU. Here the dataclass only
    records its fields (so ``dataclasses.fields``/``replace``/``asdict`` work), and
    the methods are shared: same behaviour, no per-class compilation. Defaults live
    on the class, so an instance's ``__dict__`` holds only what was given.
    """
    dc = dataclasses.dataclass(init=False, repr=False, eq=False, kw_only=True)(cls)
    all_fields = dataclasses.fields(dc)  # type: ignore[arg-type]
    names = frozenset(f.name for f in all_fields)
    required = tuple(f.name for f in all_fields if f.default is dataclasses.MISSING)
    compared = tuple(f.name for f in all_fields if f.compare)
    shown = tuple((f.name, f.default) for f in all_fields if f.repr)
    for f in all_fields:
        if f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: use a (hashable) default, not a factory")

    def __init__(self: Any, **kwargs: Any) -> None:
        for key in kwargs:
            if key not in names:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {key!r}")
        for key in required:
            if key not in kwargs:
                raise TypeError(f"{cls.__name__}() missing required keyword argument {key!r}")
        _setattr(self, "__dict__", kwargs)

    __eq__, __hash__ = value_methods(compared, compared)

    def __repr__(self: Any) -> str:
        # Only what differs from the defaults: these classes have many optional fields.
        parts = [f"{n}={getattr(self, n)!r}" for n, default in shown
                 if getattr(self, n) is not default and getattr(self, n) != default]
        return f"{cls.__qualname__}({', '.join(parts)})"

    for method in (__init__, __eq__, __hash__, __repr__):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(dc, method.__name__, method)
    dc.__setattr__ = frozen_setattr  # type: ignore[method-assign]
    dc.__delattr__ = frozen_delattr  # type: ignore[method-assign]
    return dc


Load = Callable[[Any], Any]
Dump = Callable[[Any], Any]

class _EmptyMap(Mapping[str, Any]):
    """The empty read-only mapping; hashable, so it can be a dataclass default."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and len(other) == 0

    def __repr__(self) -> str:
        return "{}"


EMPTY: Mapping[str, Any] = _EmptyMap()


def freeze(value: Any) -> Any:
    """JSON data made immutable: dicts -> read-only mappings, lists -> tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`: plain dicts and lists again."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


# Loaders and dumpers of the value shapes, by the field table's kinds.
def load_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def dump_list(value: Iterable[Any]) -> list[Any]:
    return list(value)


def load_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


def dump_map(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


def load_options(value: Mapping[str, Any]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({k: tuple(v) for k, v in value.items()})


def dump_options(value: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in value.items()}


# The same few durations and sizes recur across services ("30s", "512m"), and
# parsing one costs microseconds; the canonical strings are few, so cache them.
_parse_duration = lru_cache(maxsize=1024)(parse_duration)
_parse_bytes = lru_cache(maxsize=1024)(parse_bytes)
_INTEGER = re.compile(r"-?[0-9]+")


def load_duration(value: Any) -> int:
    return value if isinstance(value, int) else _parse_duration(str(value))


def load_bytes(value: Any) -> int:
    if isinstance(value, int):
        return value
    # v2's JSON writes a size as its decimal integer, of any sign (memswap_limit: -1,
    # "unlimited", and any other negative number the file gave, which go-units'
    # syntax has no words for).
    if _INTEGER.fullmatch(value):
        return int(value)
    return _parse_bytes(value)


def dump_bytes(value: int) -> str:
    return str(value)


def load_file_mode(value: Any) -> int:
    # FileMode prints as an octal string ("0440"); YAML may still give a number.
    return value if isinstance(value, int) else int(str(value), 8)


def dump_file_mode(value: int) -> str:
    return f"0{value:o}"


Pair = tuple[Load | None, Dump | None]
_PLAIN: Pair = (None, None)
_TUPLE: Pair = (load_tuple, dump_list)
_MAP: Pair = (load_map, dump_map)
_BY_KIND: dict[Kind, Pair] = {
    Kind.STR: _PLAIN,
    Kind.BOOL: _PLAIN,
    Kind.INT: _PLAIN,
    Kind.FLOAT32: _PLAIN,
    Kind.DEVICE_COUNT: _PLAIN,
    Kind.ANY: _PLAIN,
    Kind.BYTES: (load_bytes, dump_bytes),
    Kind.DURATION: (load_duration, format_duration),
    Kind.FILE_MODE: (load_file_mode, dump_file_mode),
    Kind.STRINGS: _TUPLE,
    Kind.COMMAND: _TUPLE,
    Kind.HEALTHCHECK_TEST: _TUPLE,
    Kind.HOSTS: _TUPLE,
    Kind.SSH: _TUPLE,
    Kind.STR_MAP: _MAP,
    Kind.ENV_MAP: _MAP,
    Kind.OPTIONS: (load_options, dump_options),
}


class Codec:
    """Loads one model class from its canonical dict and dumps it back.

    ``entries`` are ``(key, attr, (load, dump))`` in the order keys are written;
    ``nullable`` the keys whose ``None`` is written as ``null``.
    """

    __slots__ = ("by_key", "cls", "nullable", "order")

    def __init__(
        self,
        cls: type,
        entries: Iterable[tuple[str, str, Pair]],
        *,
        nullable: Iterable[str] = (),
    ) -> None:
        self.cls = cls
        rows = list(entries)
        self.by_key: dict[str, tuple[str, Load | None]] = {
            key: (attr, conv[0]) for key, attr, conv in rows}
        self.order: tuple[tuple[str, str, Dump | None], ...] = tuple(
            (key, attr, conv[1]) for key, attr, conv in rows)
        # Keys Go writes even when unset (no `omitempty`): None dumps as null.
        self.nullable = frozenset(nullable)

    def load(self, data: Mapping[str, Any]) -> Any:
        """An instance from ``data``; unknown keys land (frozen) in ``extensions``.

        The dataclass ``__init__`` is skipped: it would set every attribute one
        frozen setattr at a time (~100 ns each, ~100 attributes on a service). The
        instance's ``__dict__`` gets only the keys present; absent attributes fall
        back to their class-level defaults, which is what ``__init__`` would store.
        """
        state: dict[str, Any] = {}
        ext: dict[str, Any] | None = None
        by_key = self.by_key
        for key, value in data.items():
            field = by_key.get(key)
            if field is None:
                if ext is None:
                    ext = {}
                ext[key] = freeze(value)
            else:
                attr, load = field
                state[attr] = value if load is None or value is None else load(value)
        if ext:
            state["extensions"] = MappingProxyType(ext)
        obj: Any = _new(self.cls)
        _setattr(obj, "__dict__", state)
        return obj

    def dump(self, obj: Any) -> dict[str, Any]:
        """The canonical dict of ``obj``: known keys in compose-go order, then the rest."""
        out: dict[str, Any] = {}
        nullable = self.nullable
        for key, attr, dump in self.order:
            value = getattr(obj, attr)
            if value is None:
                if key in nullable:
                    out[key] = None
            else:
                out[key] = value if dump is None else dump(value)
        ext = obj.extensions
        if ext:
            for key, value in ext.items():
                out[key] = thaw(value)
        return out


_new = object.__new__
_setattr = object.__setattr__


def nested(codec: Codec) -> tuple[Load, Dump]:
    """Load/dump for a value that is one model object."""
    return codec.load, codec.dump


def nested_tuple(codec: Codec) -> tuple[Load, Dump]:
    """Load/dump for a list of model objects."""
    load, dump = codec.load, codec.dump

    def load_all(value: Iterable[Mapping[str, Any]]) -> tuple[Any, ...]:
        return tuple([load(v) for v in value])

    def dump_all(value: Iterable[Any]) -> list[dict[str, Any]]:
        return [dump(v) for v in value]

    return load_all, dump_all


def nested_map(codec: Codec) -> tuple[Load, Dump]:
    """Load/dump for a map of model objects (values may be null)."""
    load, dump = codec.load, codec.dump

    def load_all(value: Mapping[str, Any]) -> Mapping[str, Any]:
        return MappingProxyType({k: None if v is None else load(v) for k, v in value.items()})

    def dump_all(value: Mapping[str, Any]) -> dict[str, Any]:
        return {k: None if v is None else dump(v) for k, v in value.items()}

    return load_all, dump_all


# Attributes of a model class that are not compose-go fields.
_OWN_ATTRS = frozenset({"extensions", "name"})


def bind(classes: Mapping[Struct, type]) -> dict[Struct, Codec]:
    """The codec of each model class, derived from its struct in the field table.

    Every field of the struct must be an attribute of the class and every
    attribute of the class a field (but ``extensions`` and a service's ``name``):
    a model that drifted from the table fails at import. A kind's values load and
    dump as :data:`_BY_KIND` says; struct kinds nest the codec of their struct's
    class; ``ULIMITS``/``ENV_FILES`` use the class's own
    ``from_value``/``to_value`` (compose-go's custom JSON forms of those two).
    """
    codecs: dict[Struct, Codec] = {}

    def codec(struct: Struct) -> Codec:
        found = codecs.get(struct)
        if found is not None:
            return found
        cls = classes[struct]
        attrs = {f.name for f in dataclasses.fields(cls)}
        table = {f.attr for f in struct.fields.values()}
        if not table <= attrs or not attrs - table <= _OWN_ATTRS:
            raise TypeError(f"{cls.__name__} differs from {struct.name}: "
                            f"{sorted(table ^ (attrs - _OWN_ATTRS))}")
        rows = [(f.key, f.attr, pair(f)) for f in struct.fields.values()]
        nullable = [f.key for f in struct.fields.values()
                    if f.kind is Kind.COMMAND and f.omit is ALWAYS]
        found = codecs[struct] = Codec(cls, rows, nullable=nullable)
        return found

    def pair(field: Field) -> Pair:
        if field.item is None:
            return _BY_KIND[field.kind]
        if field.kind is Kind.STRUCT:
            return nested(codec(field.item))
        if field.kind is Kind.LIST:
            return nested_tuple(codec(field.item))
        if field.kind is Kind.MAP:
            return nested_map(codec(field.item))
        cls: Any = classes[field.item]
        if field.kind is Kind.ULIMITS:
            return (lambda v: MappingProxyType({k: cls.from_value(x) for k, x in v.items()}),
                    lambda v: {k: x.to_value() for k, x in v.items()})
        if field.kind is Kind.ENV_FILES:
            return (lambda v: tuple(cls.from_value(x) for x in v),
                    lambda v: [x.to_value() for x in v])
        raise TypeError(f"{field!r}: no model form for this kind")

    for struct in classes:
        codec(struct)
    return codecs

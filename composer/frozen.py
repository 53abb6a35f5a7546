"""Frozen value classes whose methods are shared, not compiled per class.

``@dataclass(frozen=True)`` compiles an ``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__`` and ``__delattr__`` (one ``exec`` each) for every
class: about 0.5 ms of CPU per class on CPython 3.11, and the command path imports
some 150 of them (plan steps, engine types, options), 80 ms of a ``down`` that
does nothing else. :func:`frozen` makes the same class, a dataclass as far as
``dataclasses.fields``/``replace``/``asdict`` and type checkers can tell, with
methods written once here and bound to each class's field table (0.1 ms a class).

Behaviour is the dataclass's: positional or keyword arguments (``kw_only=True``:
keywords only), defaults and ``default_factory``, ``field(init=False)``, ``repr``
and ``compare`` per field, ``__post_init__``, equality with the same class only,
a hash of the compared fields, ``FrozenInstanceError`` on assignment, and methods a
class defines itself are kept; ``slots=True`` as the dataclass's (a field then
also hides a base class's property of its name). The loader's model classes have their own variant
(:func:`composer.model._codec.model`), which keeps defaults on the class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["frozen", "frozen_delattr", "frozen_setattr", "value_methods"]

_T = TypeVar("_T")
_MISSING: Any = dataclasses.MISSING
_setattr = object.__setattr__


@overload
def frozen(cls: type[_T], /) -> type[_T]: ...
@overload
def frozen(*, kw_only: bool = False,
           slots: bool = False) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: type[_T] | None = None, /, *, kw_only: bool = False,
           slots: bool = False) -> Any:
    """``@frozen``, ``@frozen(kw_only=True, slots=True)``: as
    ``@dataclass(frozen=True, ...)``."""
    if cls is None:
        return lambda c: _make(c, kw_only, slots)
    return _make(cls, kw_only, slots)


def _make(cls: type[_T], kw_only: bool, slots: bool) -> type[_T]:
    body = vars(cls)
    own = set(body)
    if body.get("__hash__", _MISSING) is None and "__eq__" in body:
        own.discard("__hash__")  # set to None by the body's __eq__: a dataclass adds one
    dc = dataclasses.dataclass(init=False, repr=False, eq=False, kw_only=kw_only,
                               slots=slots)(cls)
    all_fields = dataclasses.fields(dc)  # type: ignore[arg-type]
    name = cls.__qualname__
    # Arguments: (name, default, factory) in order; positional ones first, as a
    # dataclass's __init__ takes them (kw_only fields only by keyword).
    init = [f for f in all_fields if f.init]
    positional = tuple(f.name for f in init if not f.kw_only)
    accepted = frozenset(f.name for f in init)
    required = tuple(f.name for f in init
                     if f.default is _MISSING and f.default_factory is _MISSING)
    filled: tuple[tuple[str, Any, Any], ...] = tuple(
        (f.name, f.default, f.default_factory) for f in all_fields
                   if f.default is not _MISSING or f.default_factory is not _MISSING)
    computed = frozenset(f.name for f in all_fields if not f.init)
    compared = tuple(f.name for f in all_fields if f.compare)
    hashed = tuple(f.name for f in all_fields
                   if (f.compare if f.hash is None else f.hash))
    shown = tuple(f.name for f in all_fields if f.repr)
    post_init = getattr(dc, "__post_init__", None)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if args:
            if len(args) > len(positional):
                raise TypeError(f"{name}.__init__() takes {len(positional) + 1} positional "
                                f"arguments but {len(args) + 1} were given")
            for key, value in zip(positional, args, strict=False):
                if key in kwargs:
                    raise TypeError(f"{name}.__init__() got multiple values for argument "
                                    f"{key!r}")
                kwargs[key] = value
        for key in kwargs:
            if key not in accepted:
                raise TypeError(f"{name}.__init__() got an unexpected keyword argument "
                                f"{key!r}")
        for key in required:
            if key not in kwargs:
                raise TypeError(f"{name}.__init__() missing required argument {key!r}")
        for key, default, factory in filled:
            if key not in kwargs or key in computed:
                kwargs[key] = default if factory is _MISSING else factory()
        if slots:
            for key, value in kwargs.items():
                _setattr(self, key, value)
        else:
            _setattr(self, "__dict__", kwargs)
        if post_init is not None:
            self.__post_init__()

    __eq__, __hash__ = value_methods(compared, hashed)

    def __repr__(self: Any) -> str:
        parts = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{self.__class__.__qualname__}({parts})"

    methods: dict[str, Any] = {"__init__": __init__, "__eq__": __eq__,
                               "__hash__": __hash__, "__repr__": __repr__,
                               "__setattr__": frozen_setattr,
                               "__delattr__": frozen_delattr}
    for key, method in methods.items():
        if key in own:
            continue  # the class's own, as a dataclass keeps it
        if key in ("__init__", "__eq__", "__hash__", "__repr__"):
            method.__qualname__ = f"{name}.{key}"
        setattr(dc, key, method)
    return dc


def value_methods(compared: tuple[str, ...], hashed: tuple[str, ...]
                  ) -> tuple[Callable[[Any, object], bool], Callable[[Any], int]]:
    """A dataclass's ``__eq__`` (same class, ``compared`` fields equal) and
    ``__hash__`` (of the ``hashed`` fields), shared rather than compiled."""

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in compared)

    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, n) for n in hashed))

    return __eq__, __hash__


def frozen_setattr(self: Any, name: str, value: Any) -> None:
    """A frozen dataclass's ``__setattr__``."""
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def frozen_delattr(self: Any, name: str) -> None:
    """A frozen dataclass's ``__delattr__``."""
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

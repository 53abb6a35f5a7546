"""composer.frozen.frozen behaves as @dataclass(frozen=True) for what composer uses."""

from __future__ import annotations

import dataclasses
from dataclasses import field

import pytest

from composer.frozen import frozen


@frozen
class Point:
    x: int
    y: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    note: str = field(default="", repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class RefPoint:
    x: int
    y: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    note: str = field(default="", repr=False, compare=False)


@frozen
class Pair:
    a: int
    note: str = field(default="", compare=False)


@dataclasses.dataclass(frozen=True)
class RefPair:
    a: int
    note: str = field(default="", compare=False)


@frozen(kw_only=True, slots=True)
class Base:
    display: str = ""

    @property
    def name(self) -> str:
        return type(self).__name__


@frozen(kw_only=True, slots=True)
class Named(Base):
    name: str  # type: ignore[assignment]  # the field hides the base's property


@frozen
class Derived:
    a: int
    b: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "b", self.a * 2)


@frozen
class OwnRepr:
    a: int

    def __repr__(self) -> str:
        return "mine"


def test_construction_equality_hash_and_repr_match_a_dataclass() -> None:
    for args, kwargs in (((1,), {}), ((1, 2), {}), ((), {"x": 1, "y": 2}),
                         ((1,), {"tags": {"a": "b"}, "note": "n"})):
        ours, ref = Point(*args, **kwargs), RefPoint(*args, **kwargs)
        assert repr(ours).replace("Point", "RefPoint") == repr(ref)
        assert dataclasses.asdict(ours) == dataclasses.asdict(ref)
    assert Point(1, 2) == Point(1, 2, note="other")  # note is not compared
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != RefPoint(1)  # another class, as a dataclass
    assert hash(Pair(1, "a")) == hash(Pair(1, "b")) == hash(RefPair(1, "c"))
    assert Point(1).tags is not Point(1).tags  # a fresh default per instance


def test_wrong_arguments_are_refused_as_a_dataclass_refuses_them() -> None:
    with pytest.raises(TypeError, match="missing required argument 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'x'"):
        Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="positional"):
        Point(1, 2, {}, "n", 5)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Named("x")  # type: ignore[misc]  # keywords only


def test_instances_are_frozen_and_replace_works() -> None:
    p = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x  # type: ignore[misc]
    assert dataclasses.replace(p, y=5) == Point(1, 5)
    assert [f.name for f in dataclasses.fields(Point)] == ["x", "y", "tags", "note"]


def test_slots_post_init_and_a_class_own_methods() -> None:
    assert Named(name="a").name == "a"
    assert Base().name == "Base"
    assert not hasattr(Named(name="a"), "__dict__")
    assert Derived(3).b == 6
    assert repr(OwnRepr(1)) == "mine"

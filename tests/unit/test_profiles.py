"""Profiles and service selection, checked against Docker Compose v2.40.3."""

from __future__ import annotations

from typing import Any

import pytest

from composer.config.profiles import apply_profiles, select_services
from composer.errors import Mark, ProfileError


def dep(required: bool = True) -> dict[str, Any]:
    return {"condition": "service_started", "required": required}


def project() -> dict[str, Any]:
    return {
        "name": "p",
        "services": {
            "web": {"image": "x", "depends_on": {"db": dep(required=False)}},
            "db": {"image": "x", "profiles": ["dbp"]},
            "tool": {"image": "x", "profiles": ["tools"], "depends_on": {"helper": dep()}},
            "helper": {"image": "x", "profiles": ["helpers"]},
            "plain": {"image": "x"},
        },
    }


def names(data: dict[str, Any]) -> list[str]:
    return sorted(data["services"])


@pytest.mark.parametrize(
    ("profiles", "expected"),
    [
        ((), ["plain", "web"]),
        (("dbp",), ["db", "plain", "web"]),
        (("helpers",), ["helper", "plain", "web"]),
        (("tools", "helpers"), ["helper", "plain", "tool", "web"]),
        (("*",), ["db", "helper", "plain", "tool", "web"]),
        (("unknown",), ["plain", "web"]),
    ],
)
def test_enabled_services(profiles: tuple[str, ...], expected: list[str]) -> None:
    assert names(apply_profiles(project(), profiles)) == expected


def test_a_not_required_dependency_on_a_disabled_service_is_kept() -> None:
    web = apply_profiles(project(), ())["services"]["web"]
    assert web["depends_on"] == {"db": dep(required=False)}


def test_everything_enabled_returns_the_same_object() -> None:
    data = project()
    assert apply_profiles(data, ("*",)) is data


@pytest.mark.parametrize(
    ("attrs", "path", "where"),
    [
        ({"depends_on": {"db": dep()}}, ("services", "web", "depends_on", "db"),
         "services.web.depends_on.db"),
        ({"links": ["db:alias"]}, ("services", "web", "links", 0), "services.web.links[0]"),
        ({"volumes_from": ["db:ro"]}, ("services", "web", "volumes_from", 0),
         "services.web.volumes_from[0]"),
        ({"network_mode": "service:db"}, ("services", "web", "network_mode"),
         "services.web.network_mode"),
        ({"ipc": "service:db"}, ("services", "web", "ipc"), "services.web.ipc"),
        ({"pid": "service:db"}, ("services", "web", "pid"), "services.web.pid"),
    ],
)
def test_an_enabled_service_needing_a_disabled_one(
    attrs: dict[str, Any], path: tuple[str | int, ...], where: str
) -> None:
    data = {"services": {"web": {"image": "x", **attrs},
                         "db": {"image": "x", "profiles": ["p"]}}}
    marks = {path: Mark("compose.yaml", 4, 7)}
    with pytest.raises(ProfileError) as err:
        apply_profiles(data, (), locate=marks.get)
    assert str(err.value) == (
        f'compose.yaml:4:7: {where}: service "web" depends on undefined service "db"'
    )


def test_volumes_from_a_container_is_not_a_service() -> None:
    data = {"services": {"web": {"image": "x", "volumes_from": ["container:db"]},
                         "db": {"image": "x", "profiles": ["p"]}}}
    assert names(apply_profiles(data, ())) == ["web"]


def test_a_named_service_enables_itself_and_its_profile() -> None:
    data = project()
    data["services"]["tool2"] = {"image": "x", "profiles": ["tools"]}
    data["services"]["tool"].pop("depends_on")
    # the named service's profiles become active: tool2 comes along
    assert names(apply_profiles(data, (), ("tool",))) == ["plain", "tool", "tool2", "web"]


def test_a_named_service_does_not_enable_its_dependencies() -> None:
    with pytest.raises(ProfileError, match="^no such service: helper$"):
        apply_profiles(project(), (), ("tool",))
    assert names(apply_profiles(project(), (), ("tool", "helper"))) == [
        "helper", "plain", "tool", "web"]
    assert names(apply_profiles(project(), ("helpers",), ("tool",))) == [
        "helper", "plain", "tool", "web"]


def test_an_unknown_named_service() -> None:
    with pytest.raises(ProfileError, match="^no such service: nope$"):
        apply_profiles(project(), (), ("nope",))


def test_a_pattern_does_not_enable_disabled_services() -> None:
    with pytest.raises(ProfileError, match=r"^no such service: h\*$"):
        apply_profiles(project(), (), ("h*",))


# -- selection ----------------------------------------------------------------------------


def selection() -> dict[str, Any]:
    return {"services": {
        "web": {"image": "x", "depends_on": {"db": dep()}},
        "db": {"image": "x", "depends_on": {"cache": dep(required=False)}},
        "other": {"image": "x", "depends_on": {"web": dep()}},
        "lone": {"image": "x"},
    }}


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (("web",), ["db", "web"]),
        (("other",), ["db", "other", "web"]),
        (("lone",), ["lone"]),
        (("l*",), ["lone"]),
        (("lone", "db"), ["db", "lone"]),
    ],
)
def test_select_services_with_their_dependencies(
    wanted: tuple[str, ...], expected: list[str]
) -> None:
    assert names(select_services(selection(), wanted)) == expected


def test_dependencies_outside_the_selection_are_dropped() -> None:
    data = selection()
    selected = select_services(data, ("web",))
    assert selected["services"]["db"] == {"image": "x", "depends_on": {}}
    assert data["services"]["db"]["depends_on"] == {"cache": dep(required=False)}


def test_select_nothing_keeps_everything() -> None:
    data = selection()
    assert select_services(data, ()) is data


@pytest.mark.parametrize(
    ("services", "wanted", "message"),
    [
        ({"web": {"image": "x"}}, ("nope",), "no such service: nope"),
        ({"web": {"image": "x", "depends_on": {"db": dep()}}}, ("web",), "no such service: db"),
    ],
)
def test_selection_errors(
    services: dict[str, Any], wanted: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ProfileError) as err:
        select_services({"services": services}, wanted)
    assert str(err.value) == message

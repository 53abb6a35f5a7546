"""The merge table: one case per attribute rule, on canonical (long) syntax.

Every expectation was checked against Docker Compose v2.40.3 with two ``-f``
files and ``config --format json`` (the override's short syntax written in the
long form the canonical phase produces).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from composer.config.merge import enforce_unicity, merge_documents, merge_service, strip_markers
from composer.config.source import Override, Reset
from composer.errors import MergeError


def port(target: int, published: str | None = None, **attrs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"mode": "ingress", "target": target, "protocol": "tcp", **attrs}
    if published is not None:
        out["published"] = published
    return out


def bind(source: str, target: str, **attrs: Any) -> dict[str, Any]:
    return {"type": "bind", "source": source, "target": target, **attrs}


def merged_service(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    data = merge_documents(
        {"services": {"web": {"image": "busybox", **base}}}, {"services": {"web": override}}
    )
    return data["services"]["web"]  # type: ignore[no-any-return]


# (id, base attributes, override attributes, expected attributes of the result)
SERVICE_RULES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("scalar replaces", {"user": "x"}, {"user": "y"}, {"user": "y"}),
    ("null keeps the base", {"user": "x"}, {"user": None}, {"user": "x"}),
    ("command replaces", {"command": ["a", "b"]}, {"command": "c"}, {"command": "c"}),
    ("command null replaces", {"command": ["a"]}, {"command": None}, {"command": None}),
    ("entrypoint replaces", {"entrypoint": "a b"}, {"entrypoint": ["c"]}, {"entrypoint": ["c"]}),
    (
        "healthcheck.test replaces, other keys merge",
        {"healthcheck": {"test": ["CMD", "a", "b"], "interval": "1s"}},
        {"healthcheck": {"test": ["CMD-SHELL", "c"], "retries": 3}},
        {"healthcheck": {"test": ["CMD-SHELL", "c"], "interval": "1s", "retries": 3}},
    ),
    (
        "environment merges by variable",
        {"environment": {"A": "1", "B": "2"}},
        {"environment": {"B": "3", "C": None}},
        {"environment": {"A": "1", "B": "3", "C": None}},
    ),
    (
        "a bare variable replaces a value",
        {"environment": {"A": "1"}},
        {"environment": {"A": None}},
        {"environment": {"A": None}},
    ),
    (
        "environment null keeps the base",
        {"environment": {"A": "1"}},
        {"environment": None},
        {"environment": {"A": "1"}},
    ),
    (
        "labels merge by key",
        {"labels": {"a": "1", "b": "2"}},
        {"labels": {"b": "3"}},
        {"labels": {"a": "1", "b": "3"}},
    ),
    ("annotations merge", {"annotations": {"q": "1"}}, {"annotations": {"q": "2"}},
     {"annotations": {"q": "2"}}),
    ("sysctls merge", {"sysctls": {"x": "1"}}, {"sysctls": {"x": 2, "y": 3}},
     {"sysctls": {"x": 2, "y": 3}}),
    (
        "extra_hosts append what is new; one host may get several addresses",
        {"extra_hosts": ["h=1.1.1.1", "g=3.3.3.3"]},
        {"extra_hosts": ["h=2.2.2.2", "g=3.3.3.3"]},
        {"extra_hosts": ["h=1.1.1.1", "g=3.3.3.3", "h=2.2.2.2"]},
    ),
    ("dns appends unique", {"dns": ["1.1.1.1", "8.8.8.8"]}, {"dns": ["8.8.8.8"]},
     {"dns": ["1.1.1.1", "8.8.8.8"]}),
    ("dns_opt appends unique", {"dns_opt": ["a"]}, {"dns_opt": ["a", "b"]},
     {"dns_opt": ["a", "b"]}),
    ("dns_search appends unique", {"dns_search": ["x"]}, {"dns_search": ["x", "y"]},
     {"dns_search": ["x", "y"]}),
    ("tmpfs appends unique", {"tmpfs": ["/a"]}, {"tmpfs": ["/a", "/b"]},
     {"tmpfs": ["/a", "/b"]}),
    ("cap_add appends unique", {"cap_add": ["A"]}, {"cap_add": ["A", "B"]},
     {"cap_add": ["A", "B"]}),
    ("cap_drop appends unique", {"cap_drop": ["A", "B"]}, {"cap_drop": ["B", "C"]},
     {"cap_drop": ["A", "B", "C"]}),
    ("profiles append unique", {"profiles": ["a", "b"]}, {"profiles": ["b", "c"]},
     {"profiles": ["a", "b", "c"]}),
    ("links append unique", {"links": ["db", "db:x"]}, {"links": ["db:y", "db"]},
     {"links": ["db", "db:x", "db:y"]}),
    ("expose appends unique, 80 is '80'", {"expose": ["80", "81"]}, {"expose": [80, "82"]},
     {"expose": [80, "81", "82"]}),
    ("security_opt appends", {"security_opt": ["x", "y"]}, {"security_opt": ["z"]},
     {"security_opt": ["x", "y", "z"]}),
    (
        "deploy merges deeply, constraints append with duplicates",
        {"deploy": {"resources": {"limits": {"cpus": "1"}}, "labels": {"a": "1"},
                    "placement": {"constraints": ["a"]}}},
        {"deploy": {"resources": {"limits": {"memory": "1g"}}, "labels": {"b": "2"},
                    "placement": {"constraints": ["a", "b"]}}},
        {"deploy": {"resources": {"limits": {"cpus": "1", "memory": "1g"}},
                    "labels": {"a": "1", "b": "2"},
                    "placement": {"constraints": ["a", "a", "b"]}}},
    ),
    (
        "ports: one per host ip, published port, target and protocol",
        {"ports": [port(80, "8080"), port(90, "9000"), port(70, "7000", host_ip="127.0.0.1")]},
        {"ports": [port(80, "8080"), {"target": 90, "published": "9000"}, port(70, "7000")]},
        {"ports": [port(80, "8080"), {"target": 90, "published": "9000"},
                   port(70, "7000", host_ip="127.0.0.1"), port(70, "7000")]},
    ),
    (
        "ports: a number published port is not the same as a text one",
        {"ports": [port(80, "8080")]},
        {"ports": [{"target": 80, "published": 8080, "mode": "host"}]},
        {"ports": [port(80, "8080"), {"target": 80, "published": 8080, "mode": "host"}]},
    ),
    (
        "ports: the mode is not part of the key",
        {"ports": [port(80)]},
        {"ports": [{"target": 80, "mode": "host"}]},
        {"ports": [{"target": 80, "mode": "host"}]},
    ),
    (
        "volumes: one per target, the later one whole",
        {"volumes": [bind("/a", "/d", read_only=True), {"type": "volume", "target": "/x"}]},
        {"volumes": [bind("/b", "/d"), {"type": "volume", "target": "/y"}]},
        {"volumes": [bind("/b", "/d"), {"type": "volume", "target": "/x"},
                     {"type": "volume", "target": "/y"}]},
    ),
    (
        "devices: one per target",
        {"devices": [{"source": "/dev/a", "target": "/dev/b", "permissions": "rwm"}]},
        {"devices": [{"source": "/dev/x", "target": "/dev/b", "permissions": "r"}]},
        {"devices": [{"source": "/dev/x", "target": "/dev/b", "permissions": "r"}]},
    ),
    (
        "secrets: one per target, /run/secrets/<source> by default",
        {"secrets": [{"source": "s"}, {"source": "t", "target": "/x"}]},
        {"secrets": [{"source": "s", "mode": 0o400}, {"source": "s", "target": "/x"}]},
        {"secrets": [{"source": "s", "mode": 0o400}, {"source": "s", "target": "/x"}]},
    ),
    (
        "configs: one per target, /<source> by default",
        {"configs": [{"source": "c"}]},
        {"configs": [{"source": "c", "target": "/c"}]},
        {"configs": [{"source": "c", "target": "/c"}]},
    ),
    (
        "env_file: one per path",
        {"env_file": [{"path": "/p/a.env", "required": True}]},
        {"env_file": [{"path": "/p/a.env", "required": False}, {"path": "/p/b.env"}]},
        {"env_file": [{"path": "/p/a.env", "required": False}, {"path": "/p/b.env"}]},
    ),
    ("label_file appends", {"label_file": ["/a"]}, {"label_file": ["/a", "/b"]},
     {"label_file": ["/a", "/a", "/b"]}),
    (
        "depends_on merges per service and per key",
        {"depends_on": {"db": {"condition": "service_healthy", "required": False}}},
        {"depends_on": {"db": {"restart": True}, "cache": {"condition": "service_started",
                                                           "required": True}}},
        {"depends_on": {"db": {"condition": "service_healthy", "required": False,
                               "restart": True},
                        "cache": {"condition": "service_started", "required": True}}},
    ),
    (
        "depends_on short syntax (its defaults) replaces the condition",
        {"depends_on": {"db": {"condition": "service_healthy", "required": True}}},
        {"depends_on": {"db": {"condition": "service_started", "required": True}}},
        {"depends_on": {"db": {"condition": "service_started", "required": True}}},
    ),
    (
        "networks merge per network, aliases append unique, null keeps the base",
        {"networks": {"a": {"aliases": ["x", "y"], "priority": 3}, "b": None, "d": {
            "aliases": ["q"]}}},
        {"networks": {"a": {"aliases": ["y", "z"]}, "b": {"aliases": ["q"]}, "c": None,
                      "d": None}},
        {"networks": {"a": {"aliases": ["x", "y", "z"], "priority": 3},
                      "b": {"aliases": ["q"]}, "c": None, "d": {"aliases": ["q"]}}},
    ),
    (
        "models merge per model",
        {"models": {"m1": None}},
        {"models": {"m1": {"endpoint_var": "X"}, "m2": None}},
        {"models": {"m1": {"endpoint_var": "X"}, "m2": None}},
    ),
    (
        "logging: same driver, options merge",
        {"logging": {"driver": "json-file", "options": {"a": "1"}}},
        {"logging": {"driver": "json-file", "options": {"b": "2"}}},
        {"logging": {"driver": "json-file", "options": {"a": "1", "b": "2"}}},
    ),
    (
        "logging: no driver in the override, options merge",
        {"logging": {"driver": "json-file", "options": {"a": "1"}}},
        {"logging": {"options": {"b": "2"}}},
        {"logging": {"driver": "json-file", "options": {"a": "1", "b": "2"}}},
    ),
    (
        "logging: no driver in the base, options merge",
        {"logging": {"options": {"a": "1"}}},
        {"logging": {"driver": "syslog", "options": {"b": "2"}}},
        {"logging": {"driver": "syslog", "options": {"a": "1", "b": "2"}}},
    ),
    (
        "logging: another driver replaces",
        {"logging": {"driver": "json-file", "options": {"a": "1"}}},
        {"logging": {"driver": "syslog", "options": {"b": "2"}}},
        {"logging": {"driver": "syslog", "options": {"b": "2"}}},
    ),
    (
        "ulimits: each limit replaced whole",
        {"ulimits": {"nofile": {"soft": 1, "hard": 2}, "nproc": 3, "core": 4}},
        {"ulimits": {"nofile": {"soft": 5, "hard": 6}, "nproc": {"soft": 1, "hard": 2}}},
        {"ulimits": {"nofile": {"soft": 5, "hard": 6}, "nproc": {"soft": 1, "hard": 2},
                     "core": 4}},
    ),
    (
        "build merges; args and labels per key",
        {"build": {"context": "/p", "args": {"A": "1"}, "labels": {"x": "1"}}},
        {"build": {"dockerfile": "X", "args": {"A": "2", "B": None}, "labels": {"y": "2"}}},
        {"build": {"context": "/p", "dockerfile": "X", "args": {"A": "2", "B": None},
                   "labels": {"x": "1", "y": "2"}}},
    ),
    (
        "build: tags unique, platforms and cache_from append",
        {"build": {"context": "/p", "tags": ["a", "b"], "platforms": ["linux/amd64"],
                   "cache_from": ["a"]}},
        {"build": {"tags": ["a", "c"], "platforms": ["linux/amd64"], "cache_from": ["a"]}},
        {"build": {"context": "/p", "tags": ["a", "b", "c"],
                   "platforms": ["linux/amd64", "linux/amd64"], "cache_from": ["a", "a"]}},
    ),
    (
        "build: extra_hosts append what is new",
        {"build": {"context": "/p", "extra_hosts": ["h=1.1.1.1"]}},
        {"build": {"extra_hosts": ["h=1.1.1.1", "h=2.2.2.2"]}},
        {"build": {"context": "/p", "extra_hosts": ["h=1.1.1.1", "h=2.2.2.2"]}},
    ),
    (
        "build: additional_contexts per name",
        {"build": {"context": "/p", "additional_contexts": {"a": "/x", "b": "/y"}}},
        {"build": {"additional_contexts": {"b": "/z"}}},
        {"build": {"context": "/p", "additional_contexts": {"a": "/x", "b": "/z"}}},
    ),
    (
        "post_start hooks append",
        {"post_start": [{"command": "a"}]},
        {"post_start": [{"command": "a"}]},
        {"post_start": [{"command": "a"}, {"command": "a"}]},
    ),
    (
        "extensions merge deeply",
        {"x-foo": {"a": 1, "l": [1]}},
        {"x-foo": {"b": 3, "l": [2]}},
        {"x-foo": {"a": 1, "b": 3, "l": [1, 2]}},
    ),
]


@pytest.mark.parametrize(
    ("base", "override", "expected"),
    [pytest.param(b, o, e, id=name) for name, b, o, e in SERVICE_RULES],
)
def test_service_rule(
    base: dict[str, Any], override: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = merged_service(base, override)
    assert {k: result.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("kind", "base", "override", "expected"),
    [
        (
            "networks",
            {"labels": {"a": "1"}, "driver_opts": {"x": "1"}, "ipam": {"driver": "d",
                                                                     "options": {"a": "1"}}},
            {"labels": {"b": "2"}, "driver_opts": {"y": "2"}, "ipam": {"options": {"b": "2"}}},
            {"labels": {"a": "1", "b": "2"}, "driver_opts": {"x": "1", "y": "2"},
             "ipam": {"driver": "d", "options": {"a": "1", "b": "2"}}},
        ),
        (
            "volumes",
            {"driver": "d", "driver_opts": {"a": "1"}, "labels": {"a": "1", "b": "1"}},
            {"driver_opts": {"b": "2"}, "labels": {"b": "2"}},
            {"driver": "d", "driver_opts": {"a": "1", "b": "2"}, "labels": {"a": "1", "b": "2"}},
        ),
        ("networks", {"external": True}, {"name": "foo"}, {"external": True, "name": "foo"}),
        ("secrets", {"file": "/a"}, {"file": "/b"}, {"file": "/b"}),
        ("configs", {"file": "/a"}, {"content": "hi"}, {"file": "/a", "content": "hi"}),
    ],
)
def test_top_level_resources_merge_deeply(
    kind: str, base: dict[str, Any], override: dict[str, Any], expected: dict[str, Any]
) -> None:
    data = merge_documents({kind: {"r": base}}, {kind: {"r": override}})
    assert data[kind]["r"] == expected


def test_top_level_extensions_merge_deeply() -> None:
    data = merge_documents(
        {"x-foo": {"a": 1, "b": [1], "c": {"d": 1}}}, {"x-foo": {"a": 3, "b": [2], "c": {"e": 2}}}
    )
    assert data["x-foo"] == {"a": 3, "b": [1, 2], "c": {"d": 1, "e": 2}}


def ipam(*configs: dict[str, Any]) -> dict[str, Any]:
    return {"networks": {"n": {"ipam": {"config": list(configs)}}}}


@pytest.mark.parametrize(
    ("base", "override", "expected"),
    [
        pytest.param(
            [{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1"}, {"subnet": "10.1.0.0/24"}],
            [{"subnet": "10.2.0.0/24"}],
            [{"subnet": "10.2.0.0/24"}],
            id="base entries without a counterpart are dropped",
        ),
        pytest.param(
            [{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1"}],
            [{"subnet": "10.0.0.0/24", "aux_addresses": {"a": "10.0.0.5"}},
             {"subnet": "10.0.0.0/24", "ip_range": "10.0.0.0/25"}],
            [{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1", "ip_range": "10.0.0.0/25",
              "aux_addresses": {"a": "10.0.0.5"}}],
            id="same subnet merges",
        ),
        pytest.param(
            [{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1"},
             {"subnet": "10.1.0.0/24", "gateway": "10.1.0.1"}],
            [{"subnet": "10.0.0.0/24", "ip_range": "10.0.0.0/25"}],
            [{"subnet": "10.0.0.0/24", "gateway": "10.1.0.1", "ip_range": "10.0.0.0/25"}],
            id="v2 quirk: a second base entry merges into the first",
        ),
        pytest.param(
            [{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1"},
             {"subnet": "10.1.0.0/24", "gateway": "10.1.0.1"}],
            [{"subnet": "10.0.0.0/24", "ip_range": "10.0.0.0/25"},
             {"subnet": "10.1.0.0/24", "ip_range": "10.1.0.0/25"}],
            [{"subnet": "10.1.0.0/24", "gateway": "10.1.0.1", "ip_range": "10.1.0.0/25"},
             {"subnet": "10.1.0.0/24", "ip_range": "10.1.0.0/25"}],
            id="v2 quirk: in-place merges",
        ),
    ],
)
def test_ipam_config_as_v2(
    base: list[dict[str, Any]], override: list[dict[str, Any]], expected: list[dict[str, Any]]
) -> None:
    before = copy.deepcopy(base), copy.deepcopy(override)
    data = merge_documents(ipam(*base), ipam(*override))
    assert data["networks"]["n"]["ipam"]["config"] == expected
    assert (base, override) == before


# -- !reset / !override ------------------------------------------------------------------


def test_reset_removes_the_key_and_override_replaces() -> None:
    base = {"services": {"web": {"image": "x", "ports": [port(80), port(81)],
                                 "environment": {"A": "1", "B": "2"}, "command": ["a"]}}}
    over = {"services": {"web": {"ports": Reset(), "environment": Override({"C": "3"}),
                                 "command": Reset()}}}
    web = strip_markers(merge_documents(base, over))["services"]["web"]
    assert web == {"image": "x", "environment": {"C": "3"}}


def test_a_later_file_merges_onto_reset_and_override() -> None:
    base = {"services": {"web": {"ports": [port(80)], "environment": {"A": "1"}}}}
    reset = {"services": {"web": {"ports": Reset(), "environment": Override({"Z": "1"})}}}
    later = {"services": {"web": {"ports": [port(82)], "environment": {"C": "3"}}}}
    web = strip_markers(merge_documents(merge_documents(base, reset), later))["services"]["web"]
    assert web == {"ports": [port(82)], "environment": {"Z": "1", "C": "3"}}


def test_reset_one_variable() -> None:
    web = strip_markers(
        merge_documents(
            {"services": {"web": {"environment": {"A": "1", "B": "2"}}}},
            {"services": {"web": {"environment": {"A": Reset(), "C": "3"}}}},
        )
    )["services"]["web"]
    assert web == {"environment": {"B": "2", "C": "3"}}


def test_reset_a_whole_service() -> None:
    data = strip_markers(
        merge_documents({"services": {"web": {"image": "x"}, "db": {"image": "y"}}},
                        {"services": {"db": Reset()}})
    )
    assert data == {"services": {"web": {"image": "x"}}}


def test_an_override_value_is_still_made_unique() -> None:
    data = merge_documents(
        {"services": {"web": {"ports": [port(80)]}}},
        {"services": {"web": {"ports": Override([port(81), port(81)])}}},
    )
    assert strip_markers(data)["services"]["web"]["ports"] == [port(81)]


def test_strip_markers_shares_what_has_no_marker() -> None:
    data = {"services": {"web": {"image": "x", "ports": [port(80)]}}, "x-a": Override([1])}
    out = strip_markers(data)
    assert out == {"services": {"web": {"image": "x", "ports": [port(80)]}}, "x-a": [1]}
    assert out["services"] is data["services"]


# -- unicity on one document ----------------------------------------------------------------


def test_unicity_applies_to_a_single_document() -> None:
    doc = {"services": {"web": {
        "dns": ["1.1.1.1", "1.1.1.1"],
        "ports": [port(80, "8080"), port(80, "8080", host_ip="127.0.0.1"),
                  {"target": 80, "published": "8080"}, port(80, "8080", protocol="udp")],
        "volumes": [bind("/a", "/d"), bind("/b", "/d")],
        "secrets": [{"source": "s"}, {"source": "s", "target": "/run/secrets/s"}],
        "expose": ["80", 80],
    }}}
    web = enforce_unicity(doc)["services"]["web"]
    assert web == {
        "dns": ["1.1.1.1"],
        "ports": [{"target": 80, "published": "8080"}, port(80, "8080", host_ip="127.0.0.1"),
                  port(80, "8080", protocol="udp")],
        "volumes": [bind("/b", "/d")],
        "secrets": [{"source": "s", "target": "/run/secrets/s"}],
        "expose": [80],
    }
    assert merge_documents({}, doc)["services"]["web"] == web


def test_unicity_returns_the_same_object_when_nothing_changes() -> None:
    doc = {"services": {"web": {"ports": [port(80)], "image": "x"}}}
    assert enforce_unicity(doc) is doc


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["security_opt", "group_add", "volumes_from",
                                 "external_links", "device_cgroup_rules"])
def test_a_duplicate_where_the_schema_wants_unique_items(key: str) -> None:
    with pytest.raises(MergeError) as err:
        merge_documents({"services": {"web": {key: ["x", "y"]}}},
                        {"services": {"web": {key: ["y", "z"]}}}, file="b.yaml")
    assert str(err.value) == f"b.yaml: services.web.{key}: items at 1 and 2 are equal"


@pytest.mark.parametrize(
    ("base", "override", "message"),
    [
        ({"a": 1}, 3, "x-foo: cannot override a mapping with a scalar"),
        ([1], {"a": 1}, "x-foo: cannot override a sequence with a mapping"),
    ],
)
def test_incompatible_types(base: Any, override: Any, message: str) -> None:
    with pytest.raises(MergeError) as err:
        merge_documents({"x-foo": base}, {"x-foo": override})
    assert str(err.value) == message


def test_a_scalar_may_become_a_mapping() -> None:
    assert merge_documents({"x-foo": 3}, {"x-foo": {"a": 1}}) == {"x-foo": {"a": 1}}


def test_a_volume_without_target_cannot_be_keyed() -> None:
    with pytest.raises(MergeError, match="missing a mount target"):
        merge_documents({}, {"services": {"web": {"volumes": [{"type": "volume"}]}}})


# -- contract -----------------------------------------------------------------------------


def test_inputs_are_not_changed() -> None:
    base = {"services": {"web": {"environment": {"A": "1"}, "ports": [port(80)],
                                 "networks": {"a": {"aliases": ["x"]}}}}}
    over = {"services": {"web": {"environment": {"B": "2"}, "ports": [port(80), port(81)],
                                 "networks": {"a": {"aliases": ["x", "y"]}}}}}
    before = copy.deepcopy(base), copy.deepcopy(over)
    merge_documents(base, over)
    assert (base, over) == before


def test_merge_service_uses_the_service_rules() -> None:
    base = {"image": "x", "command": ["a"], "environment": {"A": "1"}, "ports": [port(80)]}
    own = {"command": ["b"], "environment": {"B": "2"}, "ports": [port(80), port(81)]}
    assert merge_service(base, own, "web") == {
        "image": "x", "command": ["b"], "environment": {"A": "1", "B": "2"},
        "ports": [port(80), port(81)],
    }


def test_model_merge_turns_key_value_collections_into_one_sequence() -> None:
    # v2's mergeToSequence, as the untyped model (config --no-interpolate) shows it.
    base = {"services": {"a": {"environment": {"B": "2", "A": True, "N": None, "F": 1e6},
                               "labels": ["x=1"]}}}
    override = {"services": {"a": {"environment": ["C=3", "A=9"], "labels": {"x": 3}}}}
    a = merge_documents(base, override, model=True)["services"]["a"]
    assert a["environment"] == ["A=9", "B=2", "F=1e+06", "N", "C=3"]
    assert a["labels"] == ["x=3"]
    # A null override still turns the base into a sequence, as in v2.
    nulled = merge_documents(base, {"services": {"a": {"environment": None}}}, model=True)
    assert nulled["services"]["a"]["environment"] == ["A=true", "B=2", "F=1e+06", "N"]
    # The typed merge keeps mappings as mappings.
    typed = merge_documents(base, {"services": {"a": {"environment": {"A": "9"}}}})
    assert typed["services"]["a"]["environment"] == {"B": "2", "A": "9", "N": None, "F": 1e6}


def test_mapping_meeting_a_list_prints_values_as_go_does() -> None:
    base = {"services": {"a": {"environment": {"T": True, "F": False, "X": 1.5}}}}
    out = merge_documents(base, {"services": {"a": {"environment": ["Y=1"]}}})
    assert out["services"]["a"]["environment"] == ["F=false", "T=true", "X=1.5", "Y=1"]


def test_model_extends_merge_uses_the_model_rules() -> None:
    out = merge_service({"environment": {"A": "1"}}, {"environment": ["B=2"]}, "web",
                        model=True)
    assert out["environment"] == ["A=1", "B=2"]

"""The canonical phase: short syntaxes in the long form Docker Compose v2 prints.

Expected values were taken from Docker Compose v2.40.3 (``config --format json``).
"""

from __future__ import annotations

from typing import Any

import pytest

from composer.config.canonical import canonicalize
from composer.config.shortsyntax import clean_path, parse_port_spec, parse_volume_spec
from composer.config.source import Override, Reset, SourceMap
from composer.errors import ConfigError, Mark


def service(**attrs: Any) -> dict[str, Any]:
    """Canonicalise a one-service document; return the service."""
    data = canonicalize({"services": {"web": {"image": "nginx", **attrs}}})
    return data["services"]["web"]  # type: ignore[no-any-return]


def port(**attrs: Any) -> dict[str, Any]:
    return {"mode": "ingress", **attrs}


# -- ports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("80", [port(target=80, protocol="tcp")]),
        ("8080:80", [port(target=80, published="8080", protocol="tcp")]),
        (
            "127.0.0.1:8081:81/udp",
            [port(host_ip="127.0.0.1", target=81, published="8081", protocol="udp")],
        ),
        ("0.0.0.0::80", [port(host_ip="0.0.0.0", target=80, protocol="tcp")]),
        ("[::1]:82:82", [port(host_ip="::1", target=82, published="82", protocol="tcp")]),
        ("[::]:104:104", [port(host_ip="::", target=104, published="104", protocol="tcp")]),
        ("82/udp", [port(target=82, protocol="udp")]),
        ("80/", [port(target=80, protocol="tcp")]),
        (":80", [port(target=80, protocol="tcp")]),
        ("106:106/UDP", [port(target=106, published="106", protocol="udp")]),
        (
            "1.2.3.4:105:105/sctp",
            [port(host_ip="1.2.3.4", target=105, published="105", protocol="sctp")],
        ),
        # a host range for one container port stays one entry
        ("8000-8001:90", [port(target=90, published="8000-8001", protocol="tcp")]),
    ],
)
def test_short_port_syntax(spec: str, expected: list[dict[str, Any]]) -> None:
    assert service(ports=[spec])["ports"] == expected


def test_port_ranges_expand_to_one_entry_per_port() -> None:
    assert service(ports=["8000-8002:9000-9002"])["ports"] == [
        port(target=9000, published="8000", protocol="tcp"),
        port(target=9001, published="8001", protocol="tcp"),
        port(target=9002, published="8002", protocol="tcp"),
    ]


def test_port_range_entries_come_in_v2_string_order() -> None:
    # v2 sorts the expanded ports as "<port>/<proto>" strings.
    targets = [p["target"] for p in parse_port_spec("98-100")]
    assert targets == [100, 98, 99]


def test_int_port_is_a_target() -> None:
    assert service(ports=[83])["ports"] == [{"target": 83}]


def test_long_port_syntax_is_kept() -> None:
    long = {"target": 84, "published": 8084, "protocol": "udp", "app_protocol": "http"}
    assert service(ports=[long])["ports"] == [long]


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("abc:80", "invalid hostPort: abc"),
        ("80:abc", "invalid containerPort: abc"),
        ("1.2.3:80:80", "invalid IP address: 1.2.3"),
        ("80/xyz", "invalid proto: xyz"),
        ("70000", "invalid containerPort: 70000"),
        ("10-5", "invalid containerPort: 10-5"),
        (
            "8000-8002:80-81",
            "invalid ranges specified for container and host Ports: 80-81 and 8000-8002",
        ),
        ("::1:103", "invalid IP address: :"),
    ],
)
def test_malformed_port_is_refused_with_v2_reason(spec: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        service(ports=[spec])
    assert str(info.value) == f'services.web.ports[0]: invalid port "{spec}": {reason}'


@pytest.mark.parametrize("spec", ["0", "8080:0", "127.0.0.1:8080:0/udp", 0])
def test_a_zero_target_port_is_refused_as_v2_does(spec: str | int) -> None:
    # v2: "service ports services.web.ports.[0] is missing a target port"
    with pytest.raises(ConfigError) as info:
        service(ports=[spec])
    shown = f'"{spec}"' if isinstance(spec, str) else spec
    assert str(info.value) == f"services.web.ports[0]: invalid port {shown}: missing a target port"


def test_a_zero_target_in_the_long_syntax_is_kept_as_v2_does() -> None:
    assert service(ports=[{"target": 0, "published": "80"}])["ports"] == [
        {"target": 0, "published": "80"}]


def test_error_names_file_line_and_column() -> None:
    source = SourceMap("compose.yaml")
    source.marks[("services", "web", "ports", 0)] = Mark("compose.yaml", 4, 9)
    with pytest.raises(ConfigError) as info:
        canonicalize({"services": {"web": {"ports": ["abc:80"]}}}, source)
    assert str(info.value).startswith("compose.yaml:4:9: services.web.ports[0]: invalid port")
    assert info.value.path == ("services", "web", "ports", 0)


# -- volumes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "./src:/dst:ro,z",
            {
                "type": "bind", "source": "./src", "target": "/dst", "read_only": True,
                "bind": {"selinux": "z", "create_host_path": True},
            },
        ),
        (
            "data:/data:nocopy",
            {"type": "volume", "source": "data", "target": "/data", "volume": {"nocopy": True}},
        ),
        (
            "/abs:/abs2:rw,rshared",
            {
                "type": "bind", "source": "/abs", "target": "/abs2",
                "bind": {"propagation": "rshared", "create_host_path": True},
            },
        ),
        ("/anon", {"type": "volume", "target": "/anon", "volume": {}}),
        # v2 takes specs of two characters or less as a target without further ado
        ("/h", {"type": "volume", "target": "/h"}),
        (
            "vol:/f:ro",
            {"type": "volume", "source": "vol", "target": "/f", "read_only": True, "volume": {}},
        ),
        (
            "~/x:/y",
            {"type": "bind", "source": "~/x", "target": "/y", "bind": {"create_host_path": True}},
        ),
        (
            "c:\\foo:/z",
            {
                "type": "bind", "source": "c:\\foo", "target": "/z",
                "bind": {"create_host_path": True},
            },
        ),
        (
            ".:/dot:Z,nocopy",
            {
                "type": "bind", "source": ".", "target": "/dot",
                "bind": {"selinux": "Z", "create_host_path": True}, "volume": {"nocopy": True},
            },
        ),
        # unknown options (consistency) are ignored, and the target is cleaned
        (
            "./rel:/rel/:cached",
            {
                "type": "bind", "source": "./rel", "target": "/rel",
                "bind": {"create_host_path": True},
            },
        ),
    ],
)
def test_short_volume_syntax(spec: str, expected: dict[str, Any]) -> None:
    assert service(volumes=[spec])["volumes"] == [expected]
    assert parse_volume_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (":/text_file.txt", "empty section between colons"),
        ("vol::/b", "empty section between colons"),
        ("vol:/b:ro:x", "too many colons"),
        ("/x:/y:ro:", "too many colons"),
    ],
)
def test_malformed_volume_is_refused_with_v2_wording(spec: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        service(volumes=[spec])
    assert str(info.value) == f"services.web.volumes[0]: invalid spec: {spec}: {reason}"


def test_long_volume_syntax_is_kept() -> None:
    long = {"type": "bind", "source": "/a", "target": "/b"}
    assert service(volumes=[long])["volumes"] == [long]


def test_clean_path_is_gos_path_clean() -> None:
    assert clean_path("/s/") == "/s"
    assert clean_path("//a/./b/../c") == "/a/c"
    assert clean_path("") == "."


# -- mappings and lists ----------------------------------------------------------------------


def test_environment_list_becomes_mapping_with_bare_names_none() -> None:
    assert service(environment=["A=1", "B", "C=x=y", "D="])["environment"] == {
        "A": "1", "B": None, "C": "x=y", "D": "",
    }


def test_labels_list_becomes_mapping_with_bare_keys_empty() -> None:
    svc = service(labels=["a=b", "c"], annotations=["x=1"], sysctls=["net.core.somaxconn=1024"])
    assert svc["labels"] == {"a": "b", "c": ""}
    assert svc["annotations"] == {"x": "1"}
    assert svc["sysctls"] == {"net.core.somaxconn": "1024"}


def test_extra_hosts_take_v2s_printed_form() -> None:
    assert service(extra_hosts=["somehost:162.242.195.82", "other=1.2.3.4", "six=[::1]"])[
        "extra_hosts"
    ] == ["somehost=162.242.195.82", "other=1.2.3.4", "six=::1"]
    assert service(extra_hosts={"a": "1.1.1.1", "b": ["2.2.2.2", "::1"]})["extra_hosts"] == [
        "a=1.1.1.1", "b=2.2.2.2", "b=::1",
    ]


def test_extra_host_without_ip_is_refused() -> None:
    with pytest.raises(ConfigError, match="missing IP: nohost"):
        service(extra_hosts=["nohost"])


def test_depends_on_list_becomes_mapping_with_defaults() -> None:
    assert service(depends_on=["db"])["depends_on"] == {
        "db": {"condition": "service_started", "required": True}
    }
    # The long form gets its defaults only after merging (see test_loader), so an
    # override that names just the condition keeps an earlier ``required: false``,
    # and one that names just ``required`` keeps an earlier condition.
    assert service(depends_on={"db": {"condition": "service_healthy"}})["depends_on"] == {
        "db": {"condition": "service_healthy"}
    }
    assert service(depends_on={"db": {"required": False}})["depends_on"] == {
        "db": {"required": False}
    }


def test_env_file_forms() -> None:
    assert service(env_file="a.env")["env_file"] == [{"path": "a.env", "required": True}]
    assert service(env_file=["a.env", {"path": "b.env", "required": False}])["env_file"] == [
        {"path": "a.env", "required": True}, {"path": "b.env", "required": False},
    ]
    assert service(env_file=[{"path": "c.env", "format": "raw"}])["env_file"] == [
        {"path": "c.env", "format": "raw", "required": True}
    ]


def test_build_string_is_context() -> None:
    assert service(build="./dir")["build"] == {"context": "./dir"}


def test_build_lists_become_mappings() -> None:
    build = service(
        build={
            "context": ".", "args": ["A=1", "B"], "labels": ["l=1"],
            "additional_contexts": ["ctx=./x"], "secrets": ["s1"], "ssh": ["default"],
            "extra_hosts": ["h:1.1.1.1"],
        }
    )["build"]
    assert build["args"] == {"A": "1", "B": None}
    assert build["labels"] == {"l": "1"}
    assert build["additional_contexts"] == {"ctx": "./x"}
    assert build["secrets"] == [{"source": "s1"}]
    assert build["ssh"] == {"default": None}
    assert build["extra_hosts"] == ["h=1.1.1.1"]


def test_build_ssh_key_needs_a_path_unless_default() -> None:
    assert service(build={"ssh": ["key=/p"]})["build"]["ssh"] == {"key": "/p"}
    with pytest.raises(ConfigError, match='invalid ssh key "key"'):
        service(build={"ssh": ["key"]})


def test_small_short_forms() -> None:
    svc = service(
        networks=["front", "back"], models=["llm"], secrets=["s", {"source": "t"}],
        configs=["c"], extends="base", label_file="l.env", dns="8.8.8.8",
        dns_search="a.com", tmpfs="/tmp", gpus="all", healthcheck={"test": "curl x"},
    )
    assert svc["networks"] == {"front": None, "back": None}
    assert svc["models"] == {"llm": None}
    assert svc["secrets"] == [{"source": "s"}, {"source": "t"}]
    assert svc["configs"] == [{"source": "c"}]
    assert svc["extends"] == {"service": "base"}
    assert svc["label_file"] == ["l.env"]
    assert svc["dns"] == ["8.8.8.8"]
    assert svc["dns_search"] == ["a.com"]
    assert svc["tmpfs"] == ["/tmp"]
    assert svc["gpus"] == [{"count": "all"}]
    assert svc["healthcheck"] == {"test": ["CMD-SHELL", "curl x"]}


def test_devices_short_syntax() -> None:
    assert service(devices=["/dev/a:/dev/b", "/dev/c", "/dev/d:/dev/e:r"])["devices"] == [
        {"source": "/dev/a", "target": "/dev/b", "permissions": "rwm"},
        {"source": "/dev/c", "target": "/dev/c", "permissions": "rwm"},
        {"source": "/dev/d", "target": "/dev/e", "permissions": "r"},
    ]
    with pytest.raises(ConfigError, match="confusing device mapping"):
        service(devices=["a:b:c:d"])


def test_command_strings_are_left_for_after_merging() -> None:
    assert service(command="echo hi")["command"] == "echo hi"


# -- top level -------------------------------------------------------------------------------


def test_legacy_external_name_moves_to_name() -> None:
    data = canonicalize({"volumes": {"v": {"external": {"name": "vv"}}}, "networks": {"n": None}})
    assert data["volumes"] == {"v": {"name": "vv", "external": True}}
    assert data["networks"] == {"n": None}


def test_external_name_conflicting_with_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="can't use both"):
        canonicalize({"networks": {"n": {"name": "a", "external": {"name": "b"}}}})


# -- markers and purity ----------------------------------------------------------------------


def test_override_marker_is_kept_with_its_value_canonicalised() -> None:
    ports = service(ports=Override(["80:80"]))["ports"]
    assert isinstance(ports, Override)
    assert ports.value == [port(target=80, published="80", protocol="tcp")]


def test_reset_marker_is_kept() -> None:
    reset = Reset()
    assert service(ports=reset)["ports"] is reset


def test_input_is_not_changed() -> None:
    data = {"services": {"web": {"ports": ["80"], "environment": ["A=1"]}}}
    canonicalize(data)
    assert data == {"services": {"web": {"ports": ["80"], "environment": ["A=1"]}}}


def test_legacy_external_name_warns_as_v2() -> None:
    warnings: list[str] = []
    canonicalize({"volumes": {"v": {"external": {"name": "vv"}}}}, warn=warnings.append)
    assert warnings == [
        "volumes.v: external.name is deprecated. Please set name and external: true"
    ]


def test_lenient_keeps_ports_it_cannot_parse() -> None:
    # `config --no-interpolate`: v2 keeps the whole list as written.
    data = {"services": {"web": {"ports": ["${PORT:-80}:80", "90:90"]}}}
    assert canonicalize(data, lenient=True)["services"]["web"]["ports"] == [
        "${PORT:-80}:80", "90:90",
    ]
    with pytest.raises(ConfigError):
        canonicalize(data)


def test_list_items_lend_their_marks_to_the_keys_they_become() -> None:
    source = SourceMap("compose.yaml")
    source.marks[("services", "web", "depends_on", 1)] = Mark("compose.yaml", 6, 9)
    source.marks[("services", "web", "networks", 0)] = Mark("compose.yaml", 8, 9)
    canonicalize(
        {"services": {"web": {"depends_on": ["cache", "db"], "networks": ["front"]}}}, source
    )
    assert source.mark(("services", "web", "depends_on", "db")) == Mark("compose.yaml", 6, 9)
    assert source.mark(("services", "web", "networks", "front")) == Mark("compose.yaml", 8, 9)


def test_port_marks_follow_entries_moved_by_a_range() -> None:
    source = SourceMap("compose.yaml")
    source.marks[("services", "web", "ports", 0)] = Mark("compose.yaml", 4, 9)
    source.marks[("services", "web", "ports", 1)] = Mark("compose.yaml", 5, 9)
    canonicalize({"services": {"web": {"ports": ["80-81", "90"]}}}, source)
    assert source.marks[("services", "web", "ports", 1)] == Mark("compose.yaml", 4, 9)
    assert source.marks[("services", "web", "ports", 2)] == Mark("compose.yaml", 5, 9)


def test_model_mode_expands_only_what_compose_go_expands() -> None:
    # ``config --no-interpolate`` prints compose-go's model: v2 checked with the binary.
    svc = {"image": "x", "environment": ["A=1", "B"], "labels": ["l=1"],
           "extra_hosts": ["h:1.1.1.1"], "healthcheck": {"test": "echo"}, "dns": "8.8.8.8",
           "dns_search": "a.com", "tmpfs": "/run", "networks": ["n"], "models": ["m"],
           "build": {"context": ".", "args": ["X"], "labels": ["k=v"],
                     "additional_contexts": ["a=./x"], "ssh": ["default"]},
           "develop": {"watch": [{"path": ".", "action": "sync", "include": "a*"}]}}
    out = canonicalize({"services": {"web": svc}}, model=True)["services"]["web"]
    for kept in ("environment", "labels", "extra_hosts", "healthcheck", "dns_search", "tmpfs"):
        assert out[kept] == svc[kept], kept
    assert out["dns"] == ["8.8.8.8"]
    assert out["networks"] == {"n": None} and out["models"] == {"m": None}
    assert out["build"]["args"] == ["X"] and out["build"]["labels"] == ["k=v"]
    assert out["build"]["additional_contexts"] == {"a": "./x"}
    assert out["build"]["ssh"] == {"default": None}
    assert out["develop"]["watch"][0]["include"] == ["a*"]
    # The typed canonical form (the default) turns the same lists into mappings.
    typed = canonicalize({"services": {"web": svc}})["services"]["web"]
    assert typed["environment"] == {"A": "1", "B": None}


def test_model_mode_keeps_an_unparsed_port_list_when_lenient() -> None:
    svc = {"image": "x", "ports": ["${P}:80", "81"]}
    out = canonicalize({"services": {"web": svc}}, model=True, lenient=True)["services"]["web"]
    assert out["ports"] == ["${P}:80", "81"]
    with pytest.raises(ConfigError, match="invalid port"):
        canonicalize({"services": {"web": svc}}, model=True)

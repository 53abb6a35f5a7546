"""Normalisation: the merged project as Docker Compose v2 prints it.

Expected values were taken from Docker Compose v2.40.3 (``config --format json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from composer.config.canonical import canonicalize
from composer.config.normalize import normalize_project
from composer.config.shellwords import split_command
from composer.errors import ConfigError, EnvFileError
from composer.model.gofloat import shortest32 as float32
from composer.model.gofloat import sprint as go_float
from composer.model.units import format_duration, parse_bytes, parse_duration

WORKDIR = "/work/proj"


def normalize(
    data: dict[str, Any], environment: dict[str, str] | None = None, workdir: str = WORKDIR
) -> dict[str, Any]:
    return normalize_project(
        canonicalize(data), name="proj", working_dir=workdir, environment=environment or {}
    )


def web(
    project_env: dict[str, str] | None = None, workdir: str = WORKDIR, **attrs: Any
) -> dict[str, Any]:
    """Normalise a one-service project; return the service."""
    out = normalize({"services": {"web": {"image": "nginx", **attrs}}}, project_env, workdir)
    return out["services"]["web"]  # type: ignore[no-any-return]


# -- what v2 adds ----------------------------------------------------------------------------


def test_minimal_service() -> None:
    assert normalize({"services": {"web": {"image": "nginx"}}}) == {
        "name": "proj",
        "networks": {"default": {"name": "proj_default", "ipam": {}}},
        "services": {
            "web": {
                "command": None,
                "entrypoint": None,
                "image": "nginx",
                "networks": {"default": None},
            }
        },
    }


def test_no_default_network_without_a_service_on_it() -> None:
    out = normalize({"services": {"a": {"image": "x", "network_mode": "host"}}})
    assert "networks" not in out
    assert "networks" not in out["services"]["a"]


def test_provider_services_join_no_network() -> None:
    out = normalize({"services": {"p": {"provider": {"type": "x", "options": {"n": 1}}}}})
    assert "networks" not in out
    assert out["services"]["p"]["provider"] == {"type": "x", "options": {"n": ["1"]}}


def test_empty_service_networks_mean_default() -> None:
    assert web(networks={})["networks"] == {"default": None}


def test_resource_names() -> None:
    out = normalize(
        {
            "services": {
                "a": {
                    "image": "x",
                    "networks": ["n1", "n2", "n3"],
                    "volumes": ["v1:/a", "v2:/b", "v3:/c"],
                    "secrets": ["s1", "s2"],
                }
            },
            "networks": {"n1": None, "n2": {"external": True}, "n3": {"name": "custom"}},
            "volumes": {"v1": {}, "v2": {"external": {"name": "vv"}}, "v3": {"external": True}},
            "secrets": {"s1": {"file": "/s"}, "s2": {"external": True}},
        }
    )
    assert out["networks"] == {
        "n1": {"name": "proj_n1", "ipam": {}},
        "n2": {"name": "n2", "ipam": {}, "external": True},
        "n3": {"name": "custom", "ipam": {}},
    }
    assert out["volumes"] == {
        "v1": {"name": "proj_v1"},
        "v2": {"name": "vv", "external": True},
        "v3": {"name": "v3", "external": True},
    }
    assert out["secrets"] == {
        "s1": {"name": "proj_s1", "file": "/s"},
        "s2": {"name": "s2", "external": True},
    }


def test_resources_no_service_uses_are_dropped() -> None:
    out = normalize(
        {
            "services": {"a": {"image": "x", "network_mode": "host"}},
            "networks": {"n": {}},
            "volumes": {"v": {}},
            "secrets": {"s": {"file": "/s"}},
            "configs": {"c": {"content": "x"}},
        }
    )
    assert out == {
        "name": "proj",
        "services": {
            "a": {"command": None, "entrypoint": None, "image": "x", "network_mode": "host"}
        },
    }


def test_build_secrets_keep_their_secret() -> None:
    out = normalize(
        {
            "services": {"a": {"build": {"context": ".", "secrets": ["s"]}}},
            "secrets": {"s": {"environment": "S"}},
        }
    )
    assert out["secrets"] == {"s": {"name": "proj_s", "environment": "S"}}


def test_pull_policy_if_not_present_is_missing() -> None:
    assert web(pull_policy="if_not_present")["pull_policy"] == "missing"
    assert web(pull_policy="daily")["pull_policy"] == "daily"


def test_build_defaults() -> None:
    assert web(build={})["build"] == {"context": WORKDIR, "dockerfile": "Dockerfile"}
    assert web(build={"context": "/x", "dockerfile_inline": "FROM a"})["build"] == {
        "context": "/x", "dockerfile_inline": "FROM a",
    }


def test_build_args_without_value_come_from_the_environment_or_go() -> None:
    build = web({"FOO": "foo"}, build={"context": "/x", "args": ["A=1", "B", "FOO"]})["build"]
    assert build["args"] == {"A": "1", "FOO": "foo"}


def test_environment_values_are_strings_and_bare_names_resolved() -> None:
    env = web(
        {"FOO": "foo"},
        environment={"I": 1, "B": True, "F": 1.5, "N": None, "E": "", "FOO": None, "S": "a=b"},
    )["environment"]
    assert env == {"B": "true", "E": "", "F": "1.5", "FOO": "foo", "I": "1", "N": None, "S": "a=b"}


def test_implicit_dependencies() -> None:
    out = normalize(
        {
            "services": {
                "a": {"image": "x"},
                "b": {
                    "image": "x",
                    "network_mode": "service:a",
                    "links": ["c:alias"],
                    "volumes_from": ["d:ro", "container:foo"],
                },
                "c": {"image": "x"},
                "d": {"image": "x"},
            }
        }
    )
    assert out["services"]["b"]["depends_on"] == {
        "a": {"condition": "service_started", "restart": True, "required": True},
        "c": {"condition": "service_started", "restart": True, "required": True},
        "d": {"condition": "service_started", "required": True},
    }


def test_explicit_dependency_wins_over_implicit_one() -> None:
    deps = web(depends_on={"db": {"condition": "service_healthy"}}, links=["db"])["depends_on"]
    assert deps == {"db": {"condition": "service_healthy", "required": True}}


def test_secret_targets_default_to_run_secrets() -> None:
    out = normalize(
        {
            "services": {"a": {"image": "x", "secrets": ["s", {"source": "s", "target": "/t"}],
                               "configs": ["s"]}},
            "secrets": {"s": {"file": "/f"}},
            "configs": {"s": {"file": "/f"}},
        }
    )
    assert out["services"]["a"]["secrets"] == [
        {"source": "s", "target": "/run/secrets/s"}, {"source": "s", "target": "/t"},
    ]
    assert out["services"]["a"]["configs"] == [{"source": "s"}]


def test_secret_content_is_never_printed_config_content_only_when_inline() -> None:
    out = normalize(
        {
            "services": {"a": {"image": "x", "configs": ["inline", "env"]}},
            "configs": {"inline": {"content": "hello"}, "env": {"environment": "E",
                                                               "content": "x"}},
        }
    )
    assert out["configs"] == {
        "env": {"name": "proj_env", "environment": "E"},
        "inline": {"name": "proj_inline", "content": "hello"},
    }


# -- env_file and label_file -----------------------------------------------------------------


def test_env_files_under_environment(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text(
        "A=1\nB=${FOO}-x\nC\nFOO\nD=${A}\nE=${S}\nF=${NOPE:-def}\nG=\"quoted $A\"\nH='single $A'\n"
    )
    (tmp_path / "b.env").write_text("A=2\nI=${A}\n")
    env = web(
        {"FOO": "foo"},
        env_file=["a.env", "b.env", {"path": "missing.env", "required": False}],
        environment={"S": "from-svc", "X": None, "A": "svc"},
        workdir=str(tmp_path),
    )
    # v2: lookups see the project environment, then the service's environment,
    # then what the files defined; `environment` wins; unresolved bare names go.
    assert env["environment"] == {
        "A": "svc", "B": "foo-x", "D": "svc", "E": "from-svc", "F": "def", "FOO": "foo",
        "G": "quoted svc", "H": "single $A", "I": "svc", "S": "from-svc", "X": None,
    }
    assert "env_file" not in env


def web_in(tmp: Path, **attrs: Any) -> dict[str, Any]:
    return web(workdir=str(tmp), **attrs)


def test_missing_required_env_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EnvFileError) as info:
        web_in(tmp_path, env_file="nope.env")
    path = tmp_path / "nope.env"
    assert str(info.value).endswith(
        f"env file {path} not found: stat {path}: no such file or directory"
    )


def test_raw_env_file_keeps_values_verbatim(tmp_path: Path) -> None:
    (tmp_path / ".env.raw").write_text("TEST_VAR='{\"key\": \"value\"}'\n\n")
    svc = web_in(tmp_path, env_file=[{"path": ".env.raw", "format": "raw"}])
    assert svc["environment"] == {"TEST_VAR": "'{\"key\": \"value\"}'"}


def test_label_files_under_labels(tmp_path: Path) -> None:
    (tmp_path / "l.env").write_text("L1=a\nL2=${L1}-b\n")
    svc = web_in(tmp_path, label_file="l.env", labels={"L1": "override"})
    assert svc["labels"] == {"L1": "override", "L2": "a-b"}
    assert "label_file" not in svc


# -- v2's typed rendering --------------------------------------------------------------------


def test_empty_values_are_left_out_pointers_kept() -> None:
    svc = web(privileged=False, read_only=True, tty=False, init=False, cap_add=[], labels={},
              stop_grace_period="0s", scale=0)
    assert svc["read_only"] is True
    assert svc["init"] is False
    assert svc["stop_grace_period"] == "0s"
    assert svc["scale"] == 0
    for key in ("privileged", "tty", "cap_add", "labels"):
        assert key not in svc


def test_unknown_keys_and_service_extensions_are_dropped() -> None:
    out = normalize(
        {"version": "3", "x-top": {"a": 1}, "models": {"m": {"model": "ai/x"}},
         "services": {"web": {"image": "x", "x-ext": 1, "models": ["m"]}}}
    )
    assert out["x-top"] == {"a": 1}
    assert "version" not in out and "models" not in out
    assert "x-ext" not in out["services"]["web"]
    assert out["services"]["web"]["models"] == {"m": None}


def test_sizes_and_durations() -> None:
    svc = web(
        mem_limit="50M", shm_size="1gb", mem_swappiness=10, stop_grace_period="90s",
        healthcheck={"test": "curl x", "interval": "1m30s", "timeout": "10s", "retries": 3},
        cpus=0.5,
    )
    assert svc["mem_limit"] == "52428800"
    assert svc["shm_size"] == "1073741824"
    assert svc["mem_swappiness"] == "10"
    assert svc["stop_grace_period"] == "1m30s"
    assert svc["healthcheck"] == {
        "test": ["CMD-SHELL", "curl x"], "timeout": "10s", "interval": "1m30s", "retries": 3,
    }
    assert svc["cpus"] == 0.5


def test_deploy_always_has_resources_and_placement() -> None:
    assert web(deploy={"replicas": 2})["deploy"] == {
        "replicas": 2, "resources": {}, "placement": {},
    }
    deploy = web(deploy={"resources": {"limits": {"cpus": "0.5", "memory": "1g"}},
                         "restart_policy": {"condition": "on-failure", "delay": "5s"}})["deploy"]
    assert deploy == {
        "resources": {"limits": {"cpus": 0.5, "memory": "1073741824"}},
        "restart_policy": {"condition": "on-failure", "delay": "5s"},
        "placement": {},
    }


def test_device_requests_without_count_or_ids_ask_for_all() -> None:
    assert web(gpus="all")["gpus"] == [{"count": -1}]
    assert web(gpus=[{"driver": "nvidia"}, {"device_ids": ["1"]}, {"count": 0}])["gpus"] == [
        {"driver": "nvidia", "count": -1}, {"device_ids": ["1"]}, {},
    ]


def test_ports_long_syntax_defaults() -> None:
    assert web(ports=[83, {"target": "84", "published": 8084}])["ports"] == [
        {"mode": "ingress", "target": 83, "protocol": "tcp"},
        {"mode": "ingress", "target": 84, "published": "8084", "protocol": "tcp"},
    ]


def test_volumes_long_syntax() -> None:
    volumes = web(
        volumes=[
            {"type": "bind", "source": "/a", "target": "/s/", "bind": {"create_host_path": False}},
            {"type": "volume", "source": "v", "target": "/v", "volume": {"nocopy": False}},
            {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "10m", "mode": 1777}},
        ]
    )["volumes"]
    assert volumes == [
        {"type": "bind", "source": "/a", "target": "/s", "bind": {}},
        {"type": "volume", "source": "v", "target": "/v", "volume": {}},
        {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "10485760", "mode": 1777}},
    ]


def test_go_shapes_of_odd_fields() -> None:
    svc = web(
        blkio_config={"weight": 300, "device_read_bps": [{"path": "/dev/sda", "rate": "12mb"}]},
        ulimits={"nproc": 65535, "nofile": {"soft": 1, "hard": 2}},
        extra_hosts=["b=2.2.2.2", "a:1.1.1.1"],
        expose=[80, "90-91"],
        secrets=[{"source": "s", "mode": 0o440}],
    )
    assert svc["blkio_config"] == {
        "weight": 300, "device_read_bps": [{"Path": "/dev/sda", "Rate": "12582912"}],
    }
    assert svc["ulimits"] == {"nofile": {"soft": 1, "hard": 2}, "nproc": 65535}
    assert svc["extra_hosts"] == ["a=1.1.1.1", "b=2.2.2.2"]
    assert svc["expose"] == ["80", "90-91"]
    assert svc["secrets"] == [{"source": "s", "target": "/run/secrets/s", "mode": "0440"}]


def test_maps_are_sorted_and_fields_in_v2_order() -> None:
    svc = web(environment={"B": "1", "A": "2"}, command="x", cpus=1)
    assert list(svc) == ["cpus", "command", "entrypoint", "environment", "image", "networks"]
    assert list(svc["environment"]) == ["A", "B"]


def test_bad_size_is_an_error_with_its_path() -> None:
    with pytest.raises(ConfigError) as info:
        web(mem_limit="12xb")
    assert info.value.path == ("services", "web", "mem_limit")


# -- commands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo a; echo b", ["echo", "a"]),
        ('echo "a\\tb" c\\ d', ["echo", "atb", "c d"]),
        ("sh -c 'echo $HOME' 2>&1", ["sh", "-c", "echo $HOME"]),
        ("", []),
        ("echo $(date) x", ["echo", "$(date)", "x"]),
        ("a|b", ["a"]),
        ("echo `date` a 1>x", ["echo", "`date`", "a"]),
        ('echo ""', ["echo", ""]),
    ],
)
def test_command_strings_split_like_v2(command: str, expected: list[str]) -> None:
    assert split_command(command) == expected
    assert web(command=command)["command"] == expected


def test_command_lists_are_kept_and_empty_ones_too() -> None:
    assert web(command=[])["command"] == []
    assert web(entrypoint=["a", 1])["entrypoint"] == ["a", "1"]


def test_unbalanced_quote_is_an_error() -> None:
    with pytest.raises(ConfigError, match="invalid command line string"):
        web(command="echo 'a")


# -- scalars ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ns"),
    [("90s", 90_000_000_000), ("1h2m3s", 3_723_000_000_000), ("1.5s", 1_500_000_000),
     ("500ms", 500_000_000), ("2d", 172_800_000_000_000), ("0", 0), ("-1m", -60_000_000_000)],
)
def test_parse_duration(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["10", "soon", "1x", ""])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("ns", "text"),
    [(0, "0s"), (90_000_000_000, "1m30s"), (3_600_000_000_000, "1h0m0s"),
     (1_500_000_000, "1.5s"), (500_000_000, "500ms"), (1_500, "1.5µs"), (12, "12ns"),
     (3_723_000_000_000, "1h2m3s"), (-5_000_000_000, "-5s")],
)
def test_format_duration_is_gos(ns: int, text: str) -> None:
    assert format_duration(ns) == text


@pytest.mark.parametrize(
    ("text", "size"),
    [("50M", 52_428_800), ("1gb", 1 << 30), ("1GiB", 1 << 30), ("12mb", 12_582_912),
     ("1k", 1024), ("10 kb", 10_240), ("1.5g", 1_610_612_736), (1024, 1024), ("100", 100),
     ("100b", 100)],
)
def test_parse_bytes(text: Any, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text", ["12xb", "m", "1kbb", "-1m"])
def test_parse_bytes_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bytes(text)


def test_float32_keeps_short_decimals() -> None:
    assert float32(0.1) == 0.1
    assert float32(0.333333333333) == 0.33333334


@pytest.mark.parametrize(
    ("value", "text"),
    [(1000000.0, "1e+06"), (123456.0, "123456"), (0.0001, "0.0001"), (0.00001, "1e-05"),
     (1.5e10, "1.5e+10"), (1234567.5, "1.2345675e+06"), (-2.5, "-2.5"), (1.0, "1")],
)
def test_go_float_is_fmt_sprint(value: float, text: str) -> None:
    assert go_float(value) == text


def test_input_is_not_changed() -> None:
    data = canonicalize({"services": {"web": {"image": "x", "pull_policy": "if_not_present"}}})
    normalize_project(data, name="p", working_dir="/", environment={})
    assert data == {"services": {"web": {"image": "x", "pull_policy": "if_not_present"}}}


def test_no_normalize_skips_what_v2s_normalize_adds(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("A=1\n")
    data = canonicalize(
        {
            "services": {
                "a": {"image": "x", "env_file": "a.env", "environment": ["B", "FOO"],
                      "pull_policy": "if_not_present", "build": {"context": "/c", "args": ["X"]},
                      "links": ["b"], "secrets": ["s"]},
                "b": {"image": "y", "networks": ["n"]},
            },
            "networks": {"n": None, "unused": None},
            "secrets": {"s": {"file": "/s"}},
            "volumes": {"v": None},
        }
    )
    out = normalize_project(
        data, name="nn", working_dir=str(tmp_path), environment={"FOO": "foo"}, implicit=False
    )
    # as v2 prints it with `config --no-normalize`
    assert out == {
        "name": "nn",
        "networks": {"n": {"ipam": {}}},
        "secrets": {"s": {"file": "/s"}},
        "services": {
            "a": {
                "build": {"context": "/c", "args": {"X": None}},
                "command": None,
                "entrypoint": None,
                "environment": {"A": "1", "B": None, "FOO": "foo"},
                "image": "x",
                "links": ["b"],
                "pull_policy": "if_not_present",
                "secrets": [{"source": "s", "target": "/run/secrets/s"}],
            },
            "b": {"command": None, "entrypoint": None, "image": "y", "networks": {"n": None}},
        },
    }

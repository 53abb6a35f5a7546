"""Relative paths made absolute, checked against Docker Compose v2.40.3's output."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from composer.config.paths import (
    is_remote_context,
    resolve_path,
    resolve_relative_paths,
    resolve_symbolic_link,
)
from composer.config.source import Override, Reset
from composer.errors import ConfigError

BASE = "/project"
HOME = "/home/user"


def resolve(data: dict[str, Any], base: str = BASE) -> dict[str, Any]:
    return resolve_relative_paths(data, base, home=HOME)


def service(**attrs: Any) -> dict[str, Any]:
    return resolve({"services": {"web": attrs}})["services"]["web"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (".", "/project"),
        ("./ctx", "/project/ctx"),
        ("../up/ctx", "/up/ctx"),
        ("/abs", "/abs"),
        ("~/ctx", "/home/user/ctx"),
        ("git@github.com:x/y.git", "git@github.com:x/y.git"),
        ("github.com/x/y", "github.com/x/y"),
        ("https://github.com/x/y.git", "https://github.com/x/y.git"),
        ("http://x/y.tar", "http://x/y.tar"),
        ("git://x/y", "git://x/y"),
        ("ssh://x/y", "ssh://x/y"),
        ("foo://bar", "foo://bar"),
    ],
)
def test_build_context(context: str, expected: str) -> None:
    assert service(build={"context": context})["build"]["context"] == expected


def test_build_dockerfile_stays_relative() -> None:
    build = service(build={"context": "./ctx", "dockerfile": "../Dockerfile.x"})["build"]
    assert build == {"context": "/project/ctx", "dockerfile": "../Dockerfile.x"}


def test_additional_contexts() -> None:
    contexts = {
        "a": "./actx",
        "b": "docker-image://alpine",
        "c": "https://github.com/x/y.git",
        "d": "service:other",
        "e": "~/foo",
        "f": "/abs",
    }
    assert service(build={"context": ".", "additional_contexts": contexts})["build"][
        "additional_contexts"
    ] == {
        "a": "/project/actx",
        "b": "docker-image://alpine",
        "c": "https://github.com/x/y.git",
        "d": "service:other",
        "e": "/home/user/foo",
        "f": "/abs",
    }


def test_build_ssh_key_paths() -> None:
    ssh = {"default": None, "key": "./id_rsa", "k2": "~/x"}
    assert service(build={"context": ".", "ssh": ssh})["build"]["ssh"] == {
        "default": None,
        "key": "/project/id_rsa",
        "k2": "/home/user/x",
    }


def test_env_file_and_label_file() -> None:
    web = service(
        env_file=[{"path": "./my.env", "required": True}, {"path": "~/o.env", "required": False}],
        label_file=["./lab.env", "/abs.env"],
    )
    assert web["env_file"] == [
        {"path": "/project/my.env", "required": True},
        {"path": "/home/user/o.env", "required": False},
    ]
    assert web["label_file"] == ["/project/lab.env", "/abs.env"]


@pytest.mark.parametrize(
    ("volume", "expected_source"),
    [
        ({"type": "bind", "source": "./data", "target": "/d"}, "/project/data"),
        ({"type": "bind", "source": "rel", "target": "/d"}, "/project/rel"),
        ({"type": "bind", "source": "~/h", "target": "/d"}, "/home/user/h"),
        # v2 reads ``~x`` as ``$HOME/x``
        ({"type": "bind", "source": "~x", "target": "/d"}, "/home/user/x"),
        ({"type": "bind", "source": "/abs", "target": "/d"}, "/abs"),
        ({"type": "bind", "source": "C:\\win", "target": "/d"}, "C:\\win"),
        ({"type": "bind", "source": "C:/x", "target": "/d"}, "C:/x"),
        ({"type": "volume", "source": "named", "target": "/d"}, "named"),
        ({"type": "volume", "source": "./not-a-path", "target": "/d"}, "./not-a-path"),
    ],
)
def test_volume_sources(volume: dict[str, Any], expected_source: str) -> None:
    assert service(volumes=[volume])["volumes"][0]["source"] == expected_source


def test_bind_options_are_kept() -> None:
    volume = {"type": "bind", "source": "./d", "target": "/d", "bind": {"create_host_path": True}}
    assert service(volumes=[volume])["volumes"] == [
        {"type": "bind", "source": "/project/d", "target": "/d", "bind": {"create_host_path": True}}
    ]


def test_a_bind_mount_needs_a_source() -> None:
    with pytest.raises(ConfigError, match="field Source must not be empty"):
        service(volumes=[{"type": "bind", "target": "/d"}])


def test_extends_file() -> None:
    assert service(extends={"service": "b", "file": "sub/base.yaml"})["extends"] == {
        "service": "b",
        "file": "/project/sub/base.yaml",
    }


def test_secrets_configs_and_bind_volumes_at_top_level() -> None:
    data = resolve(
        {
            "secrets": {
                "s": {"file": "./secret.txt"},
                "bs": {"file": "~/bs"},
                "e": {"environment": "X"},
            },
            "configs": {"c": {"file": "../c.txt"}},
            "volumes": {
                "a": {"driver": "local", "driver_opts": {"o": "bind", "device": "./dev"}},
                "b": {"driver": "local", "driver_opts": {"o": "bind", "device": "~/dev"}},
                # v2 resolves ``device`` only for the local driver with ``o: bind`` exactly
                "c": {"driver_opts": {"o": "bind", "device": "./dev"}},
                "d": {"driver": "local", "driver_opts": {"o": "bind,ro", "device": "./dev"}},
                "e": None,
            },
        }
    )
    assert data["secrets"] == {
        "s": {"file": "/project/secret.txt"},
        "bs": {"file": "/home/user/bs"},
        "e": {"environment": "X"},
    }
    assert data["configs"] == {"c": {"file": "/c.txt"}}
    devices = {k: v and v["driver_opts"]["device"] for k, v in data["volumes"].items()}
    assert devices == {"a": "/project/dev", "b": "/home/user/dev", "c": "./dev",
                       "d": "./dev", "e": None}


def test_include_entries() -> None:
    data = resolve({"include": ["a.yaml", {"path": ["b.yaml", "/c.yaml"],
                                           "project_directory": "pd", "env_file": "e.env"}]})
    assert data["include"] == [
        "/project/a.yaml",
        {"path": ["/project/b.yaml", "/c.yaml"], "project_directory": "/project/pd",
         "env_file": "/project/e.env"},
    ]


def test_watch_paths_resolve_their_first_symbolic_link(tmp_path: Path) -> None:
    (tmp_path / "realdir" / "inner").mkdir(parents=True)
    (tmp_path / "linkdir").symlink_to(tmp_path / "realdir")
    watch = [
        {"path": "./linkdir/inner", "action": "sync", "target": "/w"},
        {"path": "linkdir", "action": "sync", "target": "/w2"},
        {"path": "./nonexist", "action": "rebuild"},
    ]
    data = resolve({"services": {"web": {"develop": {"watch": watch}}}}, str(tmp_path))
    paths = [w["path"] for w in data["services"]["web"]["develop"]["watch"]]
    assert paths == [
        str(tmp_path / "realdir" / "inner"),
        str(tmp_path / "realdir"),
        str(tmp_path / "nonexist"),
    ]


def test_a_dangling_link_in_a_watch_path(tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    with pytest.raises(ConfigError, match="cannot resolve symbolic link"):
        resolve_symbolic_link(str(tmp_path / "dangling" / "x"))


def test_markers_are_kept_and_looked_through() -> None:
    data = resolve({"services": {"web": {
        "build": Override({"context": "./a"}),
        "volumes": Reset(),
        "env_file": Override([{"path": "x.env"}]),
    }}})
    web = data["services"]["web"]
    assert web["build"] == Override({"context": "/project/a"})
    assert isinstance(web["volumes"], Reset)
    assert web["env_file"] == Override([{"path": "/project/x.env"}])


def test_pure_and_shares_what_does_not_change() -> None:
    data = {"services": {"web": {"image": "x", "build": {"context": "./a"}},
                         "db": {"image": "y", "volumes": [{"type": "volume", "target": "/v"}]}}}
    before = copy.deepcopy(data)
    out = resolve(data)
    assert data == before
    assert out["services"]["db"] is data["services"]["db"]
    assert out["services"]["web"]["build"] == {"context": "/project/a"}


def test_nothing_to_resolve_returns_the_same_object() -> None:
    data = {"services": {"web": {"image": "x", "volumes": [{"type": "bind", "source": "/a",
                                                             "target": "/b"}]}}}
    assert resolve(data) is data


def test_resolve_path_and_remote_contexts() -> None:
    assert resolve_path("a/../b", "/p", home=HOME) == "/p/b"
    assert resolve_path("/a/../b", "/p", home=HOME) == "/a/../b"
    assert resolve_path("~", "/p", home=HOME) == HOME
    assert is_remote_context("git@github.com:x/y.git")
    assert not is_remote_context("./git@x")


def test_home_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/somewhere")
    out = resolve_relative_paths({"secrets": {"s": {"file": "~/s"}}}, BASE)
    assert out["secrets"]["s"]["file"] == os.path.join("/somewhere", "s")

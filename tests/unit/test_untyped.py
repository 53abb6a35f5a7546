"""The untyped model: what ``config --no-interpolate`` prints (``LoadOptions(model=True)``).

Expected values were read from Docker Compose v2.40.3 (``config --no-interpolate
--format json``) on the same files. The oracle tests at the end run the binary on
every corpus file (and ``--no-normalize`` too) and compare the printed bytes.
"""

from __future__ import annotations

import csv
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from corpus import CORPUS, CORPUS_ENVIRON

from composer.cli.config_cmd import render
from composer.config import untyped
from composer.config.loader import LoadOptions, load_project
from composer.errors import ComposerError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def model(folder: Path, *files: str, environ: dict[str, str] | None = None,
          normalize: bool = True) -> dict[str, Any]:
    opts = LoadOptions(cwd=str(folder), files=files, environ=environ or {}, interpolate=False,
                       model=True, normalize=normalize, warn=lambda _: None)
    return load_project(opts).data


# -- what stays as written --------------------------------------------------------------------


def test_short_forms_v2_keeps_stay_as_written(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: busybox
            command: echo hi
            environment: [A=1, B]
            labels: [x=1]
            extra_hosts: ["h:1.2.3.4"]
            healthcheck: {test: echo hi, interval: 10s}
            dns_search: example.com
            tmpfs: /run
            mem_limit: 1g
            ports: ["${PORT}:80"]
        """)
    web = model(tmp_path, environ={"B": "set", "PORT": "1"})["services"]["web"]
    assert web["command"] == "echo hi"
    # v2 gives this path no environment: B stays unresolved even though it is set.
    assert web["environment"] == ["A=1", "B"]
    assert web["labels"] == ["x=1"]
    assert web["extra_hosts"] == ["h:1.2.3.4"]
    assert web["healthcheck"] == {"interval": "10s", "test": "echo hi"}
    assert (web["dns_search"], web["tmpfs"], web["mem_limit"]) == ("example.com", "/run", "1g")
    assert web["ports"] == ["${PORT}:80"]  # does not parse: the list is kept as written


def test_long_forms_v2_expands(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: busybox
            build: ./ctx
            dns: 8.8.8.8
            ports: ["8080:80/udp", 9000]
            volumes: ["./a:/a/", "/anon"]
            devices: ["/dev/a:/dev/b"]
            secrets: [s]
            depends_on: [db]
            networks: [front]
            gpus: all
          db:
            image: busybox
        networks:
          front:
        secrets:
          s:
            file: ./s.txt
        """)
    web = model(tmp_path)["services"]["web"]
    assert web["build"] == {"context": str(tmp_path / "ctx"), "dockerfile": "Dockerfile"}
    assert web["dns"] == ["8.8.8.8"]
    assert web["ports"] == [
        {"mode": "ingress", "protocol": "udp", "published": "8080", "target": 80},
        {"mode": "ingress", "protocol": "tcp", "target": 9000},
    ]
    assert web["volumes"] == [
        {"bind": {"create_host_path": True}, "source": str(tmp_path / "a"), "target": "/a",
         "type": "bind"},
        {"target": "/anon", "type": "volume", "volume": {}},
    ]
    assert web["devices"] == [{"permissions": "rwm", "source": "/dev/a", "target": "/dev/b"}]
    assert web["secrets"] == [{"source": "s", "target": "/run/secrets/s"}]
    assert web["depends_on"] == {"db": {"condition": "service_started", "required": True}}
    assert web["networks"] == {"front": None}
    assert web["gpus"] == [{"count": "all"}]


def test_project_level_normalisation(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        version: "3.7"
        services:
          app:
            image: busybox
            pull_policy: if_not_present
            links: ["db:alias"]
            volumes_from: [db, "container:x"]
            build:
              context: .
              args: [X=1, Y]
            x-mine: 1
          db:
            image: busybox
            network_mode: host
          hook:
            provider: {type: model}
        volumes:
          v:
          ext:
            external: true
        x-top: {b: 1, a: 2}
        """)
    data = model(tmp_path)
    assert list(data) == ["name", "networks", "services", "volumes", "x-top"]  # sorted
    assert data["x-top"] == {"a": 2, "b": 1}
    app = data["services"]["app"]
    assert app["pull_policy"] == "missing"
    assert app["build"]["args"] == ["X=1"]  # no value, no environment: dropped
    assert app["depends_on"] == {
        "db": {"condition": "service_started", "required": True, "restart": True}
    }
    assert app["x-mine"] == 1
    assert app["networks"] == {"default": None}
    assert "networks" not in data["services"]["db"]  # network_mode
    assert "networks" not in data["services"]["hook"]  # provider
    assert data["networks"] == {"default": {"name": f"{tmp_path.name}_default"}}
    assert data["volumes"] == {"ext": {"external": True, "name": "ext"},
                               "v": {"name": f"{tmp_path.name}_v"}}


def test_no_profiles_and_no_selection(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          app: {image: busybox}
          debug: {image: busybox, profiles: [debug]}
        """)
    opts = LoadOptions(cwd=str(tmp_path), environ={}, interpolate=False, model=True,
                       services=("app",), warn=lambda _: None)
    assert sorted(load_project(opts).data["services"]) == ["app", "debug"]


def test_no_consistency_checks(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          app: {image: busybox, networks: [nope], cpus: 1, deploy: {resources: {limits: {cpus: 2}}}}
        """)
    assert model(tmp_path)["services"]["app"]["networks"] == {"nope": None}


def test_key_value_collections_merge_into_one_sequence(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          a:
            image: busybox
            environment: {B: "2", A: "1", N: null}
            labels: [x=1]
            tmpfs: /run
            extra_hosts: ["a=1.1.1.1", "c:3.3.3.3"]
        """)
    write(tmp_path, "o.yaml", """
        services:
          a:
            environment: [C=3, A=9]
            labels: {y: 2, x: 3}
            tmpfs: /tmp
            extra_hosts: ["a=1.1.1.1", "b=2.2.2.2"]
        """)
    a = model(tmp_path, "compose.yaml", "o.yaml")["services"]["a"]
    # The mapping becomes sorted KEY=VALUE items; a later A replaces A in place.
    assert a["environment"] == ["A=9", "B=2", "N", "C=3"]
    assert a["labels"] == ["x=3", "y=2"]
    assert a["tmpfs"] == ["/run", "/tmp"]
    assert a["extra_hosts"] == ["a=1.1.1.1", "c:3.3.3.3", "b=2.2.2.2"]


def test_included_project_resolves_with_its_own_env_files(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        include:
          - path: sub/inc.yaml
            env_file: sub/inc.env
        services:
          main: {image: busybox, environment: [SECRET_V]}
        """)
    write(tmp_path, "sub/inc.yaml", """
        services:
          inc: {image: busybox, environment: [SECRET_V, OTHER]}
        secrets:
          s: {environment: SECRET_V}
        configs:
          c: {environment: SECRET_V}
        """)
    write(tmp_path, "sub/inc.env", "SECRET_V=hidden\n")
    data = model(tmp_path, environ={"OTHER": "process"})
    assert data["services"]["inc"]["environment"] == ["SECRET_V=hidden", "OTHER"]
    assert data["services"]["main"]["environment"] == ["SECRET_V"]
    assert data["secrets"]["s"]["x-#value"] == "hidden"
    assert data["configs"]["c"]["content"] == "hidden"


def test_no_normalize_keeps_only_what_the_files_say(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          a:
            image: busybox
            build: {dockerfile_inline: FROM x}
            depends_on: {b: {condition: service_healthy}}
          b: {image: busybox}
        volumes:
          v:
        """)
    data = model(tmp_path, normalize=False)
    assert "name" not in data and "networks" not in data
    a = data["services"]["a"]
    assert a["build"] == {"context": str(tmp_path), "dockerfile_inline": "FROM x"}
    assert a["depends_on"] == {"b": {"condition": "service_healthy", "required": True}}
    assert data["volumes"] == {"v": None}


# -- the helpers ------------------------------------------------------------------------------


def test_set_model_defaults_keeps_what_is_set() -> None:
    data: dict[str, Any] = {"services": {"a": {
        "build": {"context": "/x"},
        "secrets": [{"source": "s", "target": "y"}, {"source": "t"}],
        "ports": [{"target": 80, "protocol": "udp"}, "${P}:80"],
        "depends_on": {"b": {"condition": "c", "required": False}, "d": {"condition": "c"}},
    }}}
    a = untyped.set_model_defaults(data, "/wd")["services"]["a"]
    assert a["build"] == {"context": "/x"}
    assert a["secrets"] == [{"source": "s", "target": "y"},
                            {"source": "t", "target": "/run/secrets/t"}]
    assert a["ports"] == [{"target": 80, "protocol": "udp", "mode": "ingress"}, "${P}:80"]
    assert a["depends_on"] == {"b": {"condition": "c", "required": False},
                               "d": {"condition": "c", "required": True}}
    assert data["services"]["a"]["secrets"][1] == {"source": "t"}  # input unchanged


def test_empty_environment_list_prints_as_null() -> None:
    out = untyped.normalize_model(
        {"services": {"a": {"image": "x", "environment": [], "build": {"args": ["Y"]}}}},
        name="p",
    )
    assert out["services"]["a"]["environment"] is None
    assert out["services"]["a"]["build"]["args"] is None


def test_resolve_model_environment_drops_non_text_entries() -> None:
    data = {"services": {"a": {"environment": ["A", "B=1", 3]}}}
    out = untyped.resolve_model_environment(data, {"A": "x", "B": "y"})
    assert out["services"]["a"]["environment"] == ["A=x", "B=1"]


# -- printing ---------------------------------------------------------------------------------


def test_render_prints_the_model_unescaped_and_sorted(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: busybox
            command: echo "$$HOME ${X}"
            environment: {Y: null}
        """)
    data = model(tmp_path)
    text = render(data, "yaml", interpolated=False)
    assert 'command: echo "$$HOME ${X}"\n' in text
    assert '"Y": null' in text  # yaml.v3 quotes the YAML 1.1 boolean y
    assert text.startswith("name: ")
    assert text.index("networks:") < text.index("services:")
    assert render(data, "json", interpolated=False).count("$$HOME") == 1


# -- oracle: the v2 binary on the whole corpus ------------------------------------------------


def _rows() -> list[dict[str, str]]:
    manifest = CORPUS / "manifest.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = _rows()


def _ours(folder: Path, file_name: str, formats: tuple[str, ...],
          normalize: bool) -> dict[str, str] | None:
    opts = LoadOptions(files=[file_name], cwd=str(folder), interpolate=False, model=True,
                       normalize=normalize, environ={"PATH": os.environ.get("PATH", ""),
                                                    **CORPUS_ENVIRON},
                       warn=lambda _: None)
    try:
        data = load_project(opts).data
        return {fmt: render(data, fmt, interpolated=False) for fmt in formats}
    except ComposerError:
        return None


# Every file in both formats; --no-normalize (JSON) on a spread quarter of them, which
# covers each kind of file while keeping the binary's start-up time in check.
CASES = [
    pytest.param(row, [], ("json", "yaml"), id=f"{row['path']}") for row in ROWS
] + [
    pytest.param(row, ["--no-normalize"], ("json",), id=f"{row['path']}:no-normalize")
    for row in ROWS[::4]
]


@pytest.mark.oracle
@pytest.mark.skipif(not ROWS, reason=f"reference corpus not found at {CORPUS}")
@pytest.mark.parametrize(("row", "flags", "formats"), CASES)
def test_corpus_model_equals_v2(row: dict[str, str], flags: list[str],
                                formats: tuple[str, ...], v2_binary: str) -> None:
    path = CORPUS / row["path"]
    env = {"PATH": os.environ.get("PATH", ""), **CORPUS_ENVIRON}
    base = [v2_binary, "-f", path.name, "config", "--no-interpolate", *flags]
    # The formats at once: the binary's start-up is most of the time.
    procs = {
        fmt: subprocess.Popen([*base, "--format", fmt], cwd=path.parent, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        for fmt in formats
    }
    ours = _ours(path.parent, path.name, formats, normalize=not flags)
    for fmt, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            assert ours is None, f"v2 refused the file ({err.strip()}); composer did not"
            continue
        assert ours is not None, "v2 accepted the file; composer refused it"
        assert ours[fmt] == out, fmt

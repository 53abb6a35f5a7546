"""The ``composer`` command as a user runs it: a subprocess over ``samples/``.

What is checked here is the contract a script depends on: what goes to stdout,
that errors are one ``composer: file:line:col: ...`` line on stderr, and exit
codes. Where Docker Compose v2 is installed, the output is compared with its
output on the same sample, which is the behaviour composer promises to match.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from composer import __version__

SAMPLES = ("webapp", "profiles", "override", "include")


def _one_error_line(result: Any) -> str:
    """The single stderr line of a failed run (asserting there is exactly one)."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr_lines
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("composer: "), lines[0]
    assert result.stdout == ""
    return str(lines[0])


# -- version ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--version"], ["-v"]])
def test_version_prints_the_package_version(run_composer: Any, args: list[str]) -> None:
    result = run_composer(*args)
    assert result.returncode == 0
    assert result.stdout == f"composer version {__version__}\n"
    assert result.stderr == ""


def test_the_version_command_names_the_engine_and_its_socket(run_composer: Any,
                                                             tmp_path: Path) -> None:
    # No engine at a DOCKER_HOST socket that does not exist: said, not an error.
    missing = f"unix://{tmp_path}/none.sock"
    result = run_composer("version", env={"DOCKER_HOST": missing})
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == (f"composer version {__version__}\n"
                             f"engine: none answers at {missing} (DOCKER_HOST)\n")
    assert run_composer("version", "--short").stdout == f"{__version__}\n"
    data = json.loads(run_composer("version", "--format", "json",
                                   env={"DOCKER_HOST": missing}).stdout)
    assert data == {"version": __version__, "engine": None, "engine_version": None,
                    "address": missing, "found_by": "DOCKER_HOST"}


def test_python_dash_m_runs_the_same_cli(run_command: Any) -> None:
    result = run_command([sys.executable, "-m", "composer"], ["--version"])
    assert result.returncode == 0
    assert result.stdout == f"composer version {__version__}\n"


def test_no_command_prints_help(run_composer: Any) -> None:
    result = run_composer()
    assert result.returncode == 0
    assert "usage: composer" in result.stdout
    assert "config" in result.stdout


# -- config on the samples -------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES)
def test_config_json_is_a_project(run_composer: Any, samples_dir: Path, sample: str) -> None:
    result = run_composer("config", "--format", "json", cwd=samples_dir / sample)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == yaml.safe_load(
        (samples_dir / sample / "compose.yaml").read_text()
    ).get("name", sample)
    assert data["services"], "a sample has services"
    for service in data["services"].values():
        assert service["image"] == "busybox"


@pytest.mark.parametrize("sample", SAMPLES)
def test_config_yaml_and_json_agree(run_composer: Any, samples_dir: Path, sample: str) -> None:
    # The YAML leaves out what v2's YAML leaves out (command: null, ipam: {}), so
    # compare by loading it again: it must give the same project as the JSON.
    as_yaml = run_composer("config", cwd=samples_dir / sample)
    as_json = run_composer("config", "--format", "json", cwd=samples_dir / sample)
    assert as_yaml.returncode == 0, as_yaml.stderr
    again = run_composer("-f", "-", "--project-directory", samples_dir / sample,
                         "config", "--format", "json", cwd=samples_dir / sample,
                         input=as_yaml.stdout)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads(as_json.stdout)
    assert yaml.safe_load(as_yaml.stdout)["name"] == json.loads(as_json.stdout)["name"]


def test_config_interpolates_from_dotenv(run_composer: Any, samples_dir: Path) -> None:
    data = json.loads(run_composer("config", "--format", "json", cwd=samples_dir / "webapp").stdout)
    assert data["services"]["init"]["environment"]["GREETING"] == "Hello from composer"
    # `$$` is the escape for a literal `$` that the container's shell expands.
    assert "${GREETING}" in data["services"]["init"]["command"][2]
    assert data["services"]["web"]["ports"][0]["published"] == "8080"


def test_config_services_lists_names(run_composer: Any, samples_dir: Path) -> None:
    result = run_composer("config", "--services", cwd=samples_dir / "webapp")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["api", "init", "web"]


def test_config_quiet_prints_nothing(run_composer: Any, samples_dir: Path) -> None:
    result = run_composer("config", "-q", cwd=samples_dir / "webapp")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_config_output_file(run_composer: Any, samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "resolved.json"
    result = run_composer("-f", samples_dir / "webapp" / "compose.yaml", "config",
                          "--format", "json", "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text())["name"] == "webapp"


def test_project_name_flag(run_composer: Any, samples_dir: Path) -> None:
    result = run_composer("-f", samples_dir / "webapp" / "compose.yaml", "-p", "shop",
                          "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "shop"
    assert data["networks"]["back"]["name"] == "shop_back"
    assert data["volumes"]["content"]["name"] == "shop_content"


def test_env_file_flag_replaces_dotenv(run_composer: Any, samples_dir: Path,
                                       tmp_path: Path) -> None:
    env = tmp_path / "staging.env"
    env.write_text("GREETING=staging\nWEB_PORT=9090\n")
    result = run_composer("-f", samples_dir / "webapp" / "compose.yaml", "--env-file", env,
                          "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["services"]["init"]["environment"]["GREETING"] == "staging"
    assert data["services"]["web"]["ports"][0]["published"] == "9090"


def test_profiles_select_services(run_composer: Any, samples_dir: Path) -> None:
    cwd = samples_dir / "profiles"
    assert run_composer("config", "--services", cwd=cwd).stdout.split() == ["app"]
    debug = run_composer("--profile", "debug", "config", "--services", cwd=cwd)
    assert sorted(debug.stdout.split()) == ["app", "debug-shell", "report"]
    tools = run_composer("config", "--services", cwd=cwd, env={"COMPOSE_PROFILES": "tools"})
    assert sorted(tools.stdout.split()) == ["app", "migrate", "report"]
    listed = run_composer("config", "--profiles", cwd=cwd)
    assert listed.stdout.split() == ["debug", "tools"]


def test_override_file_is_merged(run_composer: Any, samples_dir: Path) -> None:
    data = json.loads(
        run_composer("config", "--format", "json", cwd=samples_dir / "override").stdout
    )
    worker = data["services"]["worker"]
    assert worker["environment"] == {"APP_ENV": "development", "DEBUG": "1", "TZ": "UTC"}
    assert worker["command"][-1].endswith("sleep 2; done")
    assert worker["restart"] == "on-failure", "inherited through extends"


def test_project_directory_flag(run_composer: Any, samples_dir: Path, tmp_path: Path) -> None:
    result = run_composer("--project-directory", samples_dir / "webapp", "config",
                          "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "webapp"


# -- the same output as Docker Compose v2 ----------------------------------------------------


V2_CASES: list[Any] = [
    (sample, ["config", "--format", "json"], {}) for sample in SAMPLES
] + [
    ("webapp", ["config", "--services"], {}),
    ("webapp", ["config", "--volumes"], {}),
    ("webapp", ["config", "--networks"], {}),
    ("webapp", ["config", "--images"], {}),
    ("webapp", ["config", "--hash", "*"], {}),
    ("webapp", ["config", "--format", "json", "web"], {}),
    ("webapp", ["-p", "other", "config", "--format", "json"], {}),
    ("webapp", ["config", "--format", "json", "--no-interpolate"], {}),
    ("profiles", ["--profile", "debug", "config", "--format", "json"], {}),
    ("profiles", ["config", "--format", "json"], {"COMPOSE_PROFILES": "tools"}),
    ("profiles", ["config", "--profiles"], {}),
    ("override", ["config", "--hash", "*"], {}),
]


def _case_id(case: Any) -> str:
    sample, args, env = case.values if hasattr(case, "values") else case
    return f"{sample}:{' '.join(args)}:{env}"


# v2 prints these from a Go map: its order changes from run to run.
UNORDERED = {"--networks", "--volumes", "--services"}


@pytest.mark.oracle
@pytest.mark.parametrize(("sample", "args", "env"), V2_CASES,
                         ids=[_case_id(c) for c in V2_CASES])
def test_same_output_as_v2(run_composer: Any, run_v2: Any, samples_dir: Path,
                           sample: str, args: list[str], env: dict[str, str]) -> None:
    cwd = samples_dir / sample
    expected = run_v2(*args, cwd=cwd, env=env)
    assert expected.returncode == 0, expected.stderr
    got = run_composer(*args, cwd=cwd, env=env)
    assert got.returncode == 0, got.stderr
    if "json" in args:
        assert json.loads(got.stdout) == json.loads(expected.stdout)
    if UNORDERED & set(args):
        assert sorted(got.stdout.splitlines()) == sorted(expected.stdout.splitlines())
    else:
        assert got.stdout == expected.stdout


@pytest.mark.oracle
@pytest.mark.parametrize("sample", SAMPLES)
def test_same_yaml_as_v2(run_composer: Any, run_v2: Any, samples_dir: Path,
                         sample: str) -> None:
    expected = run_v2("config", cwd=samples_dir / sample)
    got = run_composer("config", cwd=samples_dir / sample)
    assert got.returncode == 0, got.stderr
    assert yaml.safe_load(got.stdout) == yaml.safe_load(expected.stdout)


# -- errors ----------------------------------------------------------------------------------


BAD_FILES = [
    # (content, line of the mistake)
    ("services:\n  web:\n    image: busybox\n\tports: []\n", 4),
    ("services:\n  web:\n    image: busybox\n    restart: 3\n", 4),
    ("services:\n  web:\n    image: busybox\n    ports:\n      - \"abc:80\"\n", 5),
    ("services:\n  web:\n    image: busybox\n    depends_on: [db]\n", 4),
    ("services:\n  web:\n    image: busybox\n    volumes:\n      - data:/data\n", 5),
]


@pytest.mark.parametrize(("content", "line"), BAD_FILES,
                         ids=["tab", "schema", "port", "undefined-service", "undefined-volume"])
def test_bad_file_is_one_line_with_file_and_line(run_composer: Any, tmp_path: Path,
                                                 content: str, line: int) -> None:
    (tmp_path / "compose.yaml").write_text(content)
    message = _one_error_line(run_composer("config", cwd=tmp_path))
    assert re.search(rf"compose\.yaml:{line}:\d+: ", message), message


def test_required_variable_names_the_variable(run_composer: Any, samples_dir: Path,
                                              tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    message = _one_error_line(
        run_composer("--env-file", empty, "config", cwd=samples_dir / "webapp")
    )
    assert "GREETING" in message
    assert "set GREETING in .env" in message


def test_no_compose_file(run_composer: Any, tmp_path: Path) -> None:
    result = run_composer("config", cwd=tmp_path)
    message = _one_error_line(result)
    assert "no configuration file" in message or "not found" in message


def test_missing_file_flag(run_composer: Any, tmp_path: Path) -> None:
    message = _one_error_line(run_composer("-f", "nope.yaml", "config", cwd=tmp_path))
    assert "nope.yaml" in message


def test_bad_usage_exits_2(run_composer: Any, samples_dir: Path) -> None:
    result = run_composer("config", "--format", "xml", cwd=samples_dir / "webapp")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_engine_choice_on_the_command_line(run_composer: Any, tmp_path: Path) -> None:
    # No Podman socket answers and no podman on PATH to start one: one line.
    (tmp_path / "compose.yaml").write_text("services:\n  a: {image: busybox}\n")
    rootful = tmp_path / "podman.sock"
    result = run_composer("--engine", "podman", "up", "-d", cwd=tmp_path,
                          env={"XDG_RUNTIME_DIR": str(tmp_path), "PATH": str(tmp_path),
                               "COMPOSER_PODMAN_SOCKET": str(rootful)})
    assert result.returncode == 1
    line = _one_error_line(result)
    assert line.startswith(f"composer: no Podman engine answers (tried {rootful}, "
                           f"{tmp_path}/podman/podman.sock): start one with")
    assert line.endswith("podman itself is not on PATH, so composer cannot start one")
    bad = run_composer("ps", cwd=tmp_path, env={"COMPOSER_ENGINE": "rkt"})
    assert (bad.returncode, bad.stderr) == (
        2, "composer: COMPOSER_ENGINE: unknown engine 'rkt' (docker, podman, lxc or auto)\n")

"""Differential tests: our ``config --format json`` against Docker Compose v2's.

Each case is a folder of ``fixtures/differential/`` exercising syntax the reference
corpus lacks. Both run from that folder with the same small environment; the JSON
must be equal (v2 escapes every ``$`` of its output as ``$$``; so do we here, as the
CLI does when it prints).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from composer.config.loader import LoadOptions, load_project

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "differential"

# case folder -> (compose files, extra environment)
CASES: dict[str, tuple[list[str], dict[str, str]]] = {
    "ports": (["compose.yaml"], {}),
    "volumes": (["compose.yaml"], {}),
    "env_file": (["compose.yaml"], {}),
    "healthcheck": (["compose.yaml"], {}),
    "deploy": (["compose.yaml"], {}),
    "ulimits_devices": (["compose.yaml"], {}),
    "extra_hosts": (["compose.yaml"], {}),
    "logging_labels": (["compose.yaml"], {}),
    "extensions": (["compose.yaml"], {}),
    "multi_file": (["compose.yaml", "compose.override.yaml"], {}),
    "extends": (["compose.yaml"], {}),
    "profiles": (["compose.yaml"], {"COMPOSE_PROFILES": "debug"}),
    "build": (["compose.yaml"], {"FROM_ENV": "from-env", "TOKEN": "t"}),
    "resources": (["compose.yaml"], {}),
    "commands": (["compose.yaml"], {}),
    "depends_on": (["compose.yaml"], {}),
    "interpolation": (["compose.yaml"], {"PORT": "9090"}),
    "label_file": (["compose.yaml"], {}),
}

pytestmark = pytest.mark.oracle


def _environ(extra: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/root"),
        **extra,
    }


def run_v2(binary: str, folder: Path, files: list[str], env: dict[str, str]) -> Any:
    args = [binary]
    for name in files:
        args += ["-f", name]
    proc = subprocess.run(
        [*args, "config", "--format", "json"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"v2 refused the fixture: {proc.stderr.strip()}"
    return json.loads(proc.stdout)


def run_ours(folder: Path, files: list[str], env: dict[str, str]) -> Any:
    project = load_project(
        LoadOptions(files=files, cwd=str(folder), environ=env, warn=lambda _: None)
    )
    return json.loads(json.dumps(project.data).replace("$", "$$"))


def differences(expected: Any, ours: Any, path: str = "") -> list[str]:
    """Every leaf where the two documents differ, as readable lines."""
    if isinstance(expected, dict) and isinstance(ours, dict):
        out: list[str] = []
        for key in sorted(set(expected) | set(ours)):
            where = f"{path}.{key}" if path else key
            if key not in ours:
                out.append(f"{where}: missing (v2: {json.dumps(expected[key])[:200]})")
            elif key not in expected:
                out.append(f"{where}: extra ({json.dumps(ours[key])[:200]})")
            else:
                out.extend(differences(expected[key], ours[key], where))
        return out
    if isinstance(expected, list) and isinstance(ours, list) and len(expected) == len(ours):
        return [
            line
            for i, (e, o) in enumerate(zip(expected, ours, strict=True))
            for line in differences(e, o, f"{path}[{i}]")
        ]
    if expected != ours:
        return [f"{path}: v2 {json.dumps(expected)[:200]} != ours {json.dumps(ours)[:200]}"]
    return []


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_json_equals_v2(case: str, v2_binary: str) -> None:
    files, extra = CASES[case]
    folder = FIXTURES / case
    env = _environ(extra)
    expected = run_v2(v2_binary, folder, files, env)
    ours = run_ours(folder, files, env)
    diffs = differences(expected, ours)
    assert not diffs, f"{case}: differs from v2:\n" + "\n".join(diffs)
    # Same keys in the same order and the same number spellings (1, not 1.0).
    assert json.dumps(ours, indent=1) == json.dumps(expected, indent=1)


def test_every_fixture_folder_is_a_case() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == set(CASES)

"""scripts/engine/: one line of report, idempotent, a clear failure without an engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "engine"


def _run(script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(SCRIPTS / script)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})},
                          stdin=subprocess.DEVNULL)


@pytest.mark.engine
@pytest.mark.not_on_lxc("ensure-engine.sh starts Docker; ensure-lxc.sh is make lxc's")
def test_ensure_engine_reports_the_running_engine(engine: str) -> None:
    result = _run("ensure-engine.sh", {"DOCKER_HOST": engine})
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"engine: using {engine} (")


@pytest.mark.engine
@pytest.mark.not_on_lxc("ensure-images.sh fills Docker's or Podman's store")
def test_ensure_images_is_quick_when_everything_is_there(engine: str) -> None:
    # On Podman (make test-podman) the script fills Podman's storage, through its CLI.
    cli = "podman" if os.environ.get("COMPOSER_TEST_ENGINE") == "podman" else "docker"
    result = _run("ensure-images.sh", {"DOCKER_HOST": engine, "COMPOSER_IMAGES_CLI": cli})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["images: all present (busybox:latest)"]


def test_a_wrong_docker_host_is_one_line_and_non_zero(tmp_path: Path) -> None:
    host = f"unix://{tmp_path}/absent.sock"
    result = _run("ensure-engine.sh", {"DOCKER_HOST": host})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"engine: no engine answers at DOCKER_HOST={host}; start it there, or unset "
        "DOCKER_HOST to use a local dockerd"
    ]
    images = _run("ensure-images.sh", {"DOCKER_HOST": host})
    assert images.returncode == 1
    assert images.stderr.splitlines() == [
        f"images: no engine answers at {host} (run scripts/engine/ensure-engine.sh)"
    ]

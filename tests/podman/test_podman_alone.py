"""Podman with no socket running and no systemd: composer starts a private
service for the command, runs the healthchecks Podman leaves to systemd timers,
and leaves no service behind."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import RunCli

from tests.podman.conftest import podman_services

pytestmark = pytest.mark.podman

CHAIN = textwrap.dedent("""\
    services:
      db:
        image: busybox:latest
        command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 600"]
        healthcheck:
          test: ["CMD", "test", "-f", "/tmp/ready"]
          interval: 1s
          retries: 10
      cache:
        image: busybox:latest
        command: ["sleep", "600"]
        depends_on: {db: {condition: service_healthy}}
        healthcheck: {test: ["CMD-SHELL", "true"], interval: 1s}
      api:
        image: busybox:latest
        command: ["sleep", "600"]
        depends_on: {cache: {condition: service_healthy}}
        healthcheck: {test: ["CMD-SHELL", "echo fine"], interval: 1s, start_period: 30s}
      web:
        image: busybox:latest
        command: ["sleep", "600"]
        depends_on: {api: {condition: service_healthy}}
    """)

SICK = textwrap.dedent("""\
    services:
      sick:
        image: busybox:latest
        command: ["sleep", "600"]
        healthcheck:
          test: ["CMD-SHELL", "echo db is not accepting connections; exit 1"]
          interval: 1s
          retries: 2
    """)


def test_a_healthy_chain_comes_up_and_no_service_is_left(
        tmp_path: Path, run_composer: RunCli, alone: dict[str, str],
        podman_project: str) -> None:
    (tmp_path / "compose.yaml").write_text(CHAIN)
    up = run_composer("-p", podman_project, "up", "-d", cwd=tmp_path, env=alone,
                      timeout=180)
    assert up.returncode == 0, up.stderr
    assert f"Container {podman_project}-web-1  Started" in up.stderr
    assert podman_services(Path(alone["XDG_RUNTIME_DIR"])) == []
    assert list(Path(alone["XDG_RUNTIME_DIR"]).glob("composer-podman-*")) == []
    ps = run_composer("-p", podman_project, "ps", "--format", "json", cwd=tmp_path,
                      env=alone)
    assert ps.returncode == 0, ps.stderr
    rows = {row["Service"]: row for row in map(json.loads, ps.stdout.splitlines())}
    assert {s: (r["State"], r["Health"]) for s, r in rows.items()} == {
        "db": ("running", "healthy"), "cache": ("running", "healthy"),
        "api": ("running", "healthy"), "web": ("running", "")}
    version = run_composer("version", "--format", "json", env=alone)
    assert json.loads(version.stdout)["found_by"] == "a private podman service"
    down = run_composer("-p", podman_project, "down", "-t", "0", cwd=tmp_path, env=alone)
    assert down.returncode == 0, down.stderr
    assert podman_services(Path(alone["XDG_RUNTIME_DIR"])) == []


def test_a_failing_healthcheck_fails_up_wait_with_its_output(
        tmp_path: Path, run_composer: RunCli, alone: dict[str, str],
        podman_project: str) -> None:
    (tmp_path / "compose.yaml").write_text(SICK)
    up = run_composer("-p", podman_project, "up", "-d", "--wait", cwd=tmp_path, env=alone,
                      timeout=180)
    assert up.returncode != 0
    assert up.stderr_lines[-1] == (
        f'composer: service "sick": container {podman_project}-sick-1 is unhealthy: '
        "db is not accepting connections")
    ps = run_composer("-p", podman_project, "ps", cwd=tmp_path, env=alone)
    assert "(unhealthy)" in ps.stdout
    assert podman_services(Path(alone["XDG_RUNTIME_DIR"])) == []


EARLY = textwrap.dedent("""\
    services:
      early:
        image: busybox:latest
        command: ["sleep", "600"]
        healthcheck:
          test: ["CMD", "true"]
          interval: 1h
          start_period: 5m
          start_interval: 1s
    """)


def test_start_interval_is_honoured_though_podman_api_has_no_field_for_it(
        tmp_path: Path, run_composer: RunCli, alone: dict[str, str],
        podman_project: str) -> None:
    # Checked every second in the start period, not first after the hour's interval.
    (tmp_path / "compose.yaml").write_text(EARLY)
    up = run_composer("-p", podman_project, "up", "-d", "--wait", "--wait-timeout", "60",
                      cwd=tmp_path, env=alone, timeout=180)
    assert up.returncode == 0, up.stderr
    ps = run_composer("-p", podman_project, "ps", "--format", "json", cwd=tmp_path,
                      env=alone)
    assert [json.loads(row)["Health"] for row in ps.stdout.splitlines()] == ["healthy"]
    down = run_composer("-p", podman_project, "down", "-t", "0", cwd=tmp_path, env=alone)
    assert down.returncode == 0, down.stderr

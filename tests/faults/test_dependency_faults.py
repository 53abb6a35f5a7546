"""Faults in what ``up`` waits for: a container that dies during ``up --wait``, a
healthcheck that flaps (healthy, unhealthy, healthy), a dependency that exits
non-zero under ``service_completed_successfully``. Each service's behaviour is
driven by files the test creates in a bind-mounted ``gate`` folder, and each
moment is chosen by watching the engine (its health and states), never by time.
Each case: one clear line, exit 1, then a plain rerun that converges."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Proj, one_line_error

pytestmark = pytest.mark.engine


def _gated(proj: Proj) -> None:
    (proj.folder / "gate").mkdir()


def _health(proj: Proj, name: str) -> str:
    info: dict[str, Any] = proj.client.api.inspect_container(name)
    return str((info["State"].get("Health") or {}).get("Status", ""))


DIES = """services:
  web:
    image: busybox:latest
    volumes: ["./gate:/gate"]
    command: ["sh", "-c", "until [ -e /gate/die ]; do sleep 0.1; done; exit 3"]
    healthcheck:
      test: ["CMD", "test", "-e", "/gate/healthy"]
      interval: 1s
      retries: 10000
"""


def test_a_container_that_dies_during_up_wait(proj: Proj) -> None:
    _gated(proj)
    proj.write(DIES)
    up = proj.start("up", "-d", "--wait")
    proj.wait_for(lambda: proj.names("running") == [f"{proj.name}-web-1"], "web running")
    (proj.folder / "gate" / "die").touch()
    assert up.finish() == 1, up.err
    line = one_line_error(up.err)
    assert f"{proj.name}-web-1" in line and "exited (3)" in line, line
    (proj.folder / "gate" / "die").unlink()
    (proj.folder / "gate" / "healthy").touch()
    rerun = proj.run("up", "-d", "--wait")
    assert rerun.returncode == 0, rerun.stderr
    proj.assert_converged(["web"])
    assert _health(proj, f"{proj.name}-web-1") == "healthy"


FLAPS = """services:
  db:
    image: busybox:latest
    volumes: ["./gate:/gate"]
    command: ["sleep", "3600"]
    init: true
    healthcheck:
      test: ["CMD", "test", "-e", "/gate/healthy"]
      interval: 1s
      retries: 1
  app:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    depends_on:
      db: {condition: service_healthy}
"""


def test_a_healthcheck_that_flaps(proj: Proj) -> None:
    """Healthy: up --wait succeeds. Unhealthy: a rerun refuses, naming db, and
    leaves app running. Healthy again: a rerun converges."""
    _gated(proj)
    proj.write(FLAPS)
    db = f"{proj.name}-db-1"
    (proj.folder / "gate" / "healthy").touch()
    first = proj.run("up", "-d", "--wait")
    assert first.returncode == 0, first.stderr
    (proj.folder / "gate" / "healthy").unlink()
    proj.wait_for(lambda: _health(proj, db) == "unhealthy", "db unhealthy")
    refused = proj.run("up", "-d", "--wait")
    assert refused.returncode == 1, refused.stderr
    line = one_line_error(refused.stderr)
    assert db in line and "unhealthy" in line, line
    proj.assert_converged(["app", "db"])  # nothing removed or duplicated meanwhile
    (proj.folder / "gate" / "healthy").touch()
    proj.wait_for(lambda: _health(proj, db) == "healthy", "db healthy again")
    rerun = proj.run("up", "-d", "--wait")
    assert rerun.returncode == 0, rerun.stderr
    proj.assert_converged(["app", "db"])


COMPLETES = """services:
  init:
    image: busybox:latest
    volumes: ["./gate:/gate"]
    command: ["sh", "-c", "test -e /gate/ok || exit 4"]
  app:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    depends_on:
      init: {condition: service_completed_successfully}
"""


def test_a_dependency_that_exits_non_zero(proj: Proj) -> None:
    _gated(proj)
    proj.write(COMPLETES)
    up = proj.run("up", "-d")
    assert up.returncode == 1, up.stderr
    line = one_line_error(up.stderr)
    assert 'service "init" didn\'t complete successfully: exit 4' in line, line
    assert proj.names("running") == []  # app was not started
    (proj.folder / "gate" / "ok").touch()
    rerun = proj.run("up", "-d")
    assert rerun.returncode == 0, rerun.stderr
    names = {c["Names"][0].lstrip("/"): c for c in proj.containers()}
    assert sorted(names) == [f"{proj.name}-app-1", f"{proj.name}-init-1"]
    assert names[f"{proj.name}-app-1"]["State"] == "running"
    assert names[f"{proj.name}-init-1"]["Status"].startswith("Exited (0)")

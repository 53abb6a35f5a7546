"""Concurrent commands on one project: the project lock (one machine) and adoption
(two machines, which share no lock: simulated by giving each command its own
state directory). Docker Compose v2 fails both ways here (both ``up -d`` exit 1
and leave two networks of one name); see tests/faults/compare_v2.py."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from .conftest import Proj, services_yaml

pytestmark = pytest.mark.engine

SERVICES = [f"s{i:02d}" for i in range(20)]


def _runtime(tmp_path: Path, name: str) -> dict[str, str]:
    folder = tmp_path / name
    folder.mkdir(mode=0o700)
    return {"XDG_RUNTIME_DIR": str(folder)}


def test_two_ups_at_once_both_succeed_with_one_network(proj: Proj, tmp_path: Path) -> None:
    proj.write(services_yaml(20))
    run = _runtime(tmp_path, "run")
    first, second = proj.start("up", "-d", env=run), proj.start("up", "-d", env=run)
    assert first.finish() == 0, first.err
    assert second.finish() == 0, second.err
    assert "Traceback" not in first.err + second.err
    proj.assert_converged(SERVICES)


def test_two_machines_on_one_engine_adopt_what_the_other_made(proj: Proj,
                                                              tmp_path: Path) -> None:
    """No common lock: the creates race on the engine, and each adopts the other's
    equal containers and keeps the oldest of the two networks."""
    proj.write(services_yaml(20))
    first = proj.start("up", "-d", env=_runtime(tmp_path, "machine1"))
    second = proj.start("up", "-d", env=_runtime(tmp_path, "machine2"))
    assert first.finish() == 0, first.err
    assert second.finish() == 0, second.err
    proj.assert_converged(SERVICES)
    assert proj.run("up", "-d").returncode == 0
    proj.assert_converged(SERVICES)


GATED = """services:
  slow:
    image: busybox:latest
    stop_grace_period: 10m
    volumes: ["./gate:/gate"]
    command:
      - sh
      - -c
      - trap 'until [ -e /gate/open ]; do sleep 0.1; done; exit 0' TERM;
        while true; do sleep 1; done
"""


def test_up_during_down_waits_for_it_and_ends_up(proj: Proj, tmp_path: Path) -> None:
    """``down`` is held on a container that stops only once the test opens its
    gate; an ``up`` started then waits, says for whom, and runs after it."""
    (proj.folder / "gate").mkdir()
    proj.write(GATED + services_yaml(19).removeprefix("services:\n"))
    run = _runtime(tmp_path, "run")
    assert proj.run("up", "-d", env=run).returncode == 0
    down = proj.start("down", env=run)
    # The other containers go at once; "slow" holds down until its gate opens.
    proj.wait_for(lambda: proj.names() == [f"{proj.name}-slow-1"],
                  "down to have removed all but the gated container")
    up = proj.start("up", "-d", env=run)
    up.wait_for_text(f"Waiting for another composer command (down, pid {down.proc.pid}) "
                     "to finish", stream="err")
    (proj.folder / "gate" / "open").touch()
    assert down.finish() == 0, down.err
    assert up.finish() == 0, up.err
    proj.assert_converged(["slow", *SERVICES[:19]])


def test_the_state_directory_is_private_and_the_lock_gone_afterwards(
        proj: Proj, tmp_path: Path) -> None:
    proj.write(services_yaml(1))
    run = _runtime(tmp_path, "run")
    os.chmod(run["XDG_RUNTIME_DIR"], 0o755)  # a runtime dir of ours, even a loose one
    assert proj.run("up", "-d", env=run).returncode == 0
    state = Path(run["XDG_RUNTIME_DIR"]) / "composer"
    info = state.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.getuid()
    assert list(state.iterdir()) == []
    assert proj.run("down", env=run).returncode == 0
    assert list(state.iterdir()) == []


def _duplicate_networks(proj: Proj) -> list[str]:
    """The project's default network twice, as two racing creates leave it."""
    labels = {"com.docker.compose.project": proj.name,
              "com.docker.compose.network": "default",
              "com.docker.compose.version": "2.40.3"}
    api: Any = proj.client.api
    return [api.create_network(f"{proj.name}_default", driver="bridge", labels=labels,
                               check_duplicate=False)["Id"] for _ in range(2)]


def test_up_keeps_the_oldest_of_duplicate_networks(proj: Proj) -> None:
    proj.write(services_yaml(2))
    oldest, _ = _duplicate_networks(proj)
    result = proj.run("up", "-d")
    assert result.returncode == 0, result.stderr
    proj.assert_converged(SERVICES[:2])
    assert [n["Id"] for n in proj.networks()] == [oldest]


def test_down_removes_duplicate_networks(proj: Proj) -> None:
    proj.write(services_yaml(1))
    _duplicate_networks(proj)
    result = proj.run("down")
    assert result.returncode == 0, result.stderr
    assert proj.networks() == []

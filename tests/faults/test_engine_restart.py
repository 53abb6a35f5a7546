"""The engine stopped (and started again) under composer: during ``up -d`` of 20
services, and during ``logs -f``. On a private dockerd (:mod:`privateengine`),
never the shared one; the moment is chosen by watching that engine.

``logs -f`` ends when the engine goes away, with one line naming it and exit 1
(it does not reconnect: an engine that stops stops its containers too, and the
person re-runs ``logs -f`` once it is back)."""

from __future__ import annotations

import pytest

from .conftest import Proj, one_line_error, services_yaml
from .privateengine import PrivateEngine

pytestmark = pytest.mark.engine

SERVICES = [f"s{i:02d}" for i in range(20)]
PROJECT = services_yaml(20).replace(
    "  s00:\n    image: busybox:latest\n",
    "  s00:\n    image: busybox:latest\n    volumes: [\"data:/data\"]\n") + "volumes:\n  data: {}\n"


def test_engine_stopped_during_up_then_a_rerun_converges(private_engine: PrivateEngine,
                                                         private_proj: Proj) -> None:
    proj = private_proj
    proj.write(PROJECT)
    assert proj.run("up", "-d", "s00").returncode == 0
    proj.exec(f"{proj.name}-s00-1", "sh", "-c", "echo kept > /data/marker")
    up = proj.start("up", "-d")
    proj.wait_for(lambda: len(proj.names()) >= 6, "up to have created a few containers")
    private_engine.stop()
    assert up.finish() == 1, up.err
    line = one_line_error(up.err)
    # One line for the lost engine, not one per service that could not go on.
    assert [x for x in up.err.splitlines() if x.startswith("composer:")] == [line], up.err
    assert line.startswith(f"composer: cannot reach a container engine at "
                           f"{private_engine.address}: "), line
    private_engine.start()
    rerun = proj.run("up", "-d")
    assert rerun.returncode == 0, rerun.stderr
    proj.assert_converged(SERVICES, volumes=["data"])
    assert proj.exec(f"{proj.name}-s00-1", "cat", "/data/marker") == "kept\n"


def test_engine_stopped_during_logs_follow_ends_it_with_a_message(
        private_engine: PrivateEngine, private_proj: Proj) -> None:
    proj = private_proj
    proj.write(services_yaml(3, "    command: sh -c 'echo hello; exec sleep 3600'\n"
                                "    init: true\n"))
    assert proj.run("up", "-d").returncode == 0
    logs = proj.start("logs", "-f")
    logs.wait_for(lambda out, err: out.count("hello") == 3, what="every service's line")
    private_engine.stop()
    assert logs.finish() == 1, logs.err
    assert one_line_error(logs.err) == (
        f"composer: the container engine at {private_engine.address} went away: "
        "stopped following the logs")
    private_engine.start()
    rerun = proj.run("up", "-d")
    assert rerun.returncode == 0, rerun.stderr
    proj.assert_converged(SERVICES[:3])

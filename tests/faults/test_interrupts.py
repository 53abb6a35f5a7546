"""SIGINT and SIGKILL of composer in the middle of ``up -d`` (20 services),
``down`` and a recreate; the moment is chosen by watching the engine. Each case
checks the exit (130 and no traceback on SIGINT; nothing can be said on
SIGKILL) and that a plain rerun converges with nothing lost: the named volume's
data kept, the recreated service's anonymous volume carried over, no duplicate
container, network or volume."""

from __future__ import annotations

import signal

import pytest

from .conftest import Proj, services_yaml

pytestmark = pytest.mark.engine

SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGKILL, id="SIGKILL")]
SERVICES = [f"s{i:02d}" for i in range(20)]

#: s00 keeps its data in the named volume "data".
PROJECT = services_yaml(20).replace(
    "  s00:\n    image: busybox:latest\n",
    "  s00:\n    image: busybox:latest\n    volumes: [\"data:/data\"]\n") + "volumes:\n  data: {}\n"


def _seed(proj: Proj) -> None:
    """The named volume, with data in it, before the fault."""
    assert proj.run("up", "-d", "s00").returncode == 0
    proj.exec(f"{proj.name}-s00-1", "sh", "-c", "echo kept > /data/marker")


def _data_kept(proj: Proj) -> None:
    assert proj.exec(f"{proj.name}-s00-1", "cat", "/data/marker") == "kept\n"


def _interrupted(proj: Proj, sig: signal.Signals, stream: object) -> None:
    """Send ``sig``; on SIGINT composer ends at once with 130 and says nothing
    that looks like a crash."""
    from waiting import Streaming

    assert isinstance(stream, Streaming)
    stream.proc.send_signal(sig)
    code = stream.finish()
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 130, stream.err
        assert "Traceback" not in stream.err, stream.err


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_during_up_then_a_rerun_converges(proj: Proj, sig: signal.Signals) -> None:
    proj.write(PROJECT)
    _seed(proj)
    up = proj.start("up", "-d")
    proj.wait_for(lambda: len(proj.names()) >= 6, "up to have created a few containers")
    _interrupted(proj, sig, up)
    assert len(proj.names()) < 20 or len(proj.names("running")) < 20, "the fault came too late"
    rerun = proj.run("up", "-d")
    assert rerun.returncode == 0, rerun.stderr
    proj.assert_converged(SERVICES, volumes=["data"])
    _data_kept(proj)


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_during_down_then_a_rerun_converges(proj: Proj, sig: signal.Signals) -> None:
    proj.write(PROJECT)
    _seed(proj)
    assert proj.run("up", "-d").returncode == 0
    down = proj.start("down")
    proj.wait_for(lambda: len(proj.names()) <= 15, "down to have removed a few containers")
    _interrupted(proj, sig, down)
    assert proj.names() or proj.networks(), "the fault came too late"
    rerun = proj.run("down")
    assert rerun.returncode == 0, rerun.stderr
    assert proj.names() == [] and proj.networks() == []
    assert proj.volumes() == [f"{proj.name}_data"]  # down without -v keeps it
    assert proj.run("up", "-d").returncode == 0
    proj.assert_converged(SERVICES, volumes=["data"])
    _data_kept(proj)


#: "web" stops only once the test opens its gate (its stop grace period is long):
#: a recreate is held between "create the new container" and "remove the old".
RECREATE = """services:
  web:
    image: busybox:latest
    stop_grace_period: 10m
    environment: {{GENERATION: "{generation}"}}
    volumes: ["data:/data", "/anon", "./gate:/gate"]
    command:
      - sh
      - -c
      - trap 'until [ -e /gate/open ]; do sleep 0.1; done; exit 0' TERM;
        while true; do sleep 1; done
volumes:
  data: {{}}
"""


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_during_a_recreate_loses_nothing(proj: Proj, sig: signal.Signals) -> None:
    (proj.folder / "gate").mkdir()
    proj.write(RECREATE.format(generation=1))
    assert proj.run("up", "-d").returncode == 0
    web = f"{proj.name}-web-1"
    proj.exec(web, "sh", "-c", "echo kept > /data/marker; echo anon > /anon/marker")
    old = proj.names()
    proj.write(RECREATE.format(generation=2))
    up = proj.start("up", "-d")
    # The new container exists under its temporary name; the old one is stopping.
    proj.wait_for(lambda: len(proj.names()) == 2, "the replacement to have been created")
    # composer is waiting on the old container's stop, which lasts until the gate
    # opens: it must end on SIGINT all the same (the engine finishes the stop).
    _interrupted(proj, sig, up)
    (proj.folder / "gate" / "open").touch()
    # The old container was not lost without its replacement.
    names = proj.names()
    assert old[0] in names or any(n.endswith(f"_{web}") for n in names), names
    rerun = proj.run("up", "-d")
    assert rerun.returncode == 0, rerun.stderr
    proj.assert_converged(["web"], volumes=["data"])
    assert proj.exec(web, "cat", "/data/marker") == "kept\n"
    assert proj.exec(web, "cat", "/anon/marker") == "anon\n"
    assert proj.exec(web, "sh", "-c", "echo $GENERATION") == "2\n"


def test_sigint_during_a_long_stop_ends_composer_at_once(proj: Proj) -> None:
    """Ctrl-C while the engine waits out a container's grace period: composer
    ends (130) without waiting for it, as v2 does; a rerun of stop converges."""
    (proj.folder / "gate").mkdir()
    proj.write(RECREATE.format(generation=1))
    assert proj.run("up", "-d").returncode == 0
    stop = proj.start("stop")
    stop.wait_for_text("Stopping", stream="err")
    _interrupted(proj, signal.SIGINT, stop)
    assert proj.names("running") == [f"{proj.name}-web-1"]  # still stopping
    (proj.folder / "gate" / "open").touch()
    rerun = proj.run("stop")
    assert rerun.returncode == 0, rerun.stderr
    assert proj.names("exited") == [f"{proj.name}-web-1"]

"""Healthchecks composer runs where the engine does not (Podman without systemd).

The rules (:class:`HealthState`, Docker's), the schedule (:class:`HealthDriver`
on a clock the test moves) and the executor's waits on an in-memory engine that
runs no checks by itself (``engine_healthchecks=False``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from fakes import FakeBackend
from test_executor import Plans

from composer.backends.health import HealthState, check_command, health_schedule
from composer.backends.types import ContainerInfo, HealthSchedule
from composer.errors import EngineError
from composer.runtime import ExecutionError, execute
from composer.runtime.health import HealthDriver

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- the rules -------------------------------------------------------------------------------


def test_a_success_is_healthy_and_failures_count_up_to_retries() -> None:
    state = HealthState(HealthSchedule(retries=2), started=0.0)
    assert state.record(1, "no", began=1, ended=1) == "starting"
    assert state.record(0, "ok", began=2, ended=2) == "healthy"
    assert state.failing_streak == 0
    assert state.record(1, "no", began=3, ended=3) == "healthy"
    assert state.record(1, "no", began=4, ended=4) == "unhealthy"
    assert state.record(0, "ok", began=5, ended=5) == "healthy"


def test_failures_inside_the_start_period_do_not_count_until_healthy_once() -> None:
    state = HealthState(HealthSchedule(retries=1, start_period=10), started=100.0)
    assert state.record(1, "warming", began=105, ended=105) == "starting"
    assert state.failing_streak == 0
    assert state.record(1, "late", began=111, ended=111) == "unhealthy"
    again = HealthState(HealthSchedule(retries=1, start_period=10), started=100.0)
    again.record(0, "ok", began=101, ended=101)
    assert again.record(1, "no", began=102, ended=102) == "unhealthy"  # was healthy


def test_the_log_keeps_the_last_five_runs() -> None:
    state = HealthState(HealthSchedule(), started=0.0)
    for n in range(8):
        state.record(1, f"run {n}", began=n, ended=n)
    assert [p.output for p in state.log] == [f"run {n}" for n in range(3, 8)]


@pytest.mark.parametrize(("test", "command"), [
    (["CMD", "pg_isready", "-q"], ["pg_isready", "-q"]),
    (["CMD-SHELL", "curl -f x || exit 1"], ["/bin/sh", "-c", "curl -f x || exit 1"]),
    (["NONE"], None),
    ([], None),
])
def test_the_command_of_a_test(test: list[str], command: list[str] | None) -> None:
    assert check_command(test) == command


def test_the_schedule_from_the_engine_with_its_defaults() -> None:
    assert health_schedule({"Interval": 2_000_000_000, "Retries": 5,
                            "StartPeriod": 500_000_000}) == HealthSchedule(
        interval=2.0, timeout=30.0, start_period=0.5, start_interval=5.0, retries=5)
    assert health_schedule({}) == HealthSchedule()


# -- the schedule ----------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


STARTED = "2026-01-01T00:00:00.123456789Z"
T0 = 1767225600.123456


def running(schedule: HealthSchedule, health: str = "starting") -> ContainerInfo:
    return ContainerInfo(id="c1", name="p-db-1", image="busybox", image_id="sha256:x",
                         state="running", running=True, started_at=STARTED, health=health,
                         has_healthcheck=True, healthcheck=schedule)


class Recorder(FakeBackend):
    """An engine that runs no checks and remembers when it was asked to."""

    def __init__(self, clock: Clock, info: ContainerInfo) -> None:
        super().__init__(engine_healthchecks=False)
        self.clock = clock
        self.info = info
        self.runs: list[float] = []

    async def run_healthcheck(self, container: str) -> None:
        self.runs.append(self.clock.now - T0)

    async def inspect_container(self, container: str) -> ContainerInfo:
        return self.info


async def test_checks_run_each_interval_from_the_start_and_the_last_run() -> None:
    clock = Clock(T0)
    info = running(HealthSchedule(interval=3.0))
    engine = Recorder(clock, info)
    driver = HealthDriver(engine, clock=clock)
    assert await driver.drive(info) == (info, pytest.approx(3.0))
    clock.now = T0 + 3.0
    _, due = await driver.drive(info)
    assert engine.runs == [pytest.approx(3.0)] and due == pytest.approx(3.0)
    clock.now = T0 + 4.0
    assert (await driver.drive(info))[1] == pytest.approx(2.0)  # not yet: no run
    assert len(engine.runs) == 1


async def test_start_interval_applies_inside_the_start_period_only() -> None:
    clock = Clock(T0)
    info = running(HealthSchedule(interval=30.0, start_period=10.0, start_interval=1.0))
    engine = Recorder(clock, info)
    driver = HealthDriver(engine, clock=clock)
    assert driver.due_in(info) == pytest.approx(1.0)
    clock.now = T0 + 1.0
    await driver.drive(info)
    clock.now = T0 + 12.0  # past the start period: the next one is interval after the last
    assert driver.due_in(info) == pytest.approx(19.0)


async def test_nothing_is_driven_once_judged_or_when_the_engine_checks() -> None:
    clock = Clock(T0 + 100)
    schedule = HealthSchedule(interval=1.0)
    engine = Recorder(clock, running(schedule))
    driver = HealthDriver(engine, clock=clock)
    for info in (running(schedule, "healthy"), running(schedule, "unhealthy"),
                 replace(running(schedule), running=False, state="exited"),
                 replace(running(schedule), healthcheck=None, has_healthcheck=False)):
        assert await driver.drive(info) == (info, None)
    checking = Recorder(clock, running(schedule))
    checking.engine_healthchecks = True
    assert await HealthDriver(checking, clock=clock).drive(running(schedule)) == (
        running(schedule), None)
    assert engine.runs == [] and checking.runs == []


# -- the waits -------------------------------------------------------------------------------


def checked(test: Sequence[str], *, retries: int = 3, **timing: float) -> dict[str, Any]:
    """A ``Healthcheck`` body: ``timing`` in seconds (the engine's nanoseconds)."""
    return {"Test": list(test), "Retries": retries,
            **{k: int(v * 1e9) for k, v in timing.items()}}


def with_check(p: Plans, name: str, check: dict[str, Any], after: tuple[int, ...] = ()) -> int:
    start = p.service(name, after, healthcheck=True)
    create = next(s for s in p.plan if s.id == start - 1)
    create.operation.body["Healthcheck"] = check  # type: ignore[attr-defined]
    return start


async def test_a_healthy_chain_comes_up_on_an_engine_that_runs_no_checks() -> None:
    fake = FakeBackend(engine_healthchecks=False)
    fake.script("db", health=[(0.01, "unhealthy")])  # engine timers: never fire here
    p = Plans()
    after: tuple[int, ...] = ()
    for name in ("db", "cache", "api"):
        start = with_check(p, name, checked(["CMD-SHELL", "echo up"], Interval=0.02), after)
        after = (p.wait(name, "service_healthy", start, dependents=("next",)),)
    p.service("web", after)
    await execute(p.plan, fake)
    assert fake.by_name("p-web-1").state == "running"
    for name in ("db", "cache", "api"):
        container = fake.by_name(f"p-{name}-1")
        assert container.health == "healthy"
        assert f"run_healthcheck {container.id}" in fake.ops("run_healthcheck")


async def test_a_failing_check_fails_the_wait_with_its_output() -> None:
    fake = FakeBackend(engine_healthchecks=False)
    p = Plans()
    start = with_check(p, "db", checked(["CMD-SHELL", "echo connection refused >&2; exit 1"],
                                        Interval=0.02, retries=2))
    p.service("web", (p.wait("db", "service_healthy", start, dependents=("web",)),))
    with pytest.raises(ExecutionError) as info:
        await execute(p.plan, fake)
    assert str(info.value) == ('service "web": dependency failed to start: container '
                               "p-db-1 is unhealthy: connection refused")
    assert len(fake.ops("run_healthcheck")) == 2  # retries: 2
    assert "create_container p-web-1" not in fake.ops()


async def test_an_engine_that_checks_is_never_asked_to_run_one() -> None:
    fake = FakeBackend()
    fake.script("db", health=[(0.05, "healthy")])
    p = Plans()
    start = with_check(p, "db", checked(["CMD", "true"], Interval=0.01))
    p.service("web", (p.wait("db", "service_healthy", start, dependents=("web",)),))
    await execute(p.plan, fake)
    assert fake.ops("run_healthcheck") == []
    assert fake.by_name("p-web-1").state == "running"


class ExitsWhileChecked(FakeBackend):
    """The container exits as its check is asked for: the engine refuses the check."""

    async def run_healthcheck(self, container: str) -> None:
        c = self._find(container)
        c.state, c.exit_code = "exited", 4
        raise EngineError(f"container {c.id} is not running")


async def test_a_container_that_exits_as_its_check_runs_is_reported_as_exited() -> None:
    fake = ExitsWhileChecked(engine_healthchecks=False)
    p = Plans()
    start = with_check(p, "db", checked(["CMD", "true"], Interval=0.01))
    p.service("web", (p.wait("db", "service_healthy", start, dependents=("web",)),))
    with pytest.raises(ExecutionError) as info:
        await execute(p.plan, fake)
    assert str(info.value) == ('service "web": dependency failed to start: container '
                               "p-db-1 exited (4)")


def test_a_start_interval_the_engine_dropped_comes_from_the_label() -> None:
    from composer.backends.health import health_schedule

    check = {"Test": ["CMD", "true"], "Interval": 30_000_000_000}
    label = {"io.composer.healthcheck.start-interval": "1500000000"}
    assert health_schedule(check, label).start_interval == 1.5
    assert health_schedule(check).start_interval == 5.0  # the default
    kept = {**check, "StartInterval": 2_000_000_000}
    assert health_schedule(kept, label).start_interval == 2.0  # the engine's wins

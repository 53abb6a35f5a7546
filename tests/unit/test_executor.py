"""The executor against the in-memory FakeBackend: ordering, waits, failures."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest
from fakes import FakeBackend

from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.model.project import Project
from composer.plan.plan import Plan
from composer.plan.reconcile import DownPlanOptions, UpPlanOptions, plan_down, plan_up
from composer.plan.steps import CreateContainer, StartContainer, WaitCondition
from composer.runtime import ExecutionError, ProgressEvent, execute


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


pytestmark = pytest.mark.anyio

BODY = {"Image": "busybox", "HostConfig": {}}


def body(service: str, *, healthcheck: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {**BODY, "Labels": {
        "com.docker.compose.project": "p", "com.docker.compose.service": service,
        "com.docker.compose.container-number": "1"}}
    if healthcheck:
        out["Healthcheck"] = {"Test": ["CMD", "true"]}
    return out


class Plans:
    """Builds small plans by hand: create+start per service, waits between them."""

    def __init__(self) -> None:
        self.plan = Plan(project="p")

    def service(self, name: str, after: tuple[int, ...] = (), *,
                healthcheck: bool = False) -> int:
        create = self.plan.add(
            CreateContainer(name=f"p-{name}-1", body=body(name, healthcheck=healthcheck),
                            service=name, number=1, display=f"Container p-{name}-1"),
            f"service:{name}:1", "new", after)
        return self.plan.add(
            StartContainer(container=f"p-{name}-1", display=f"Container p-{name}-1"),
            f"service:{name}:1", "created", (create,))

    def wait(self, name: str, condition: str, after: int, *, dependents: tuple[str, ...] = (),
             required: bool = True, timeout: float | None = None) -> int:
        return self.plan.add(
            WaitCondition(service=name, condition=condition, containers=(f"p-{name}-1",),
                          dependents=dependents, required=required, restart=False,
                          healthcheck=True, timeout=timeout,
                          display=f"Service {name}"),
            f"service:{name}", condition, (after,))


async def progress(plan: Plan, fake: FakeBackend) -> list[str]:
    """Run the plan; its progress lines in the order the executor reported them."""
    seen: list[ProgressEvent] = []
    await execute(plan, fake, events=seen.append)
    return [f"{e.resource} {e.status}" for e in seen]


# -- scheduling --------------------------------------------------------------------------------


async def test_a_slow_healthcheck_holds_back_only_its_dependents() -> None:
    fake = FakeBackend()
    fake.script("db", health=[(0.3, "healthy")])
    p = Plans()
    db = p.service("db", healthcheck=True)
    ready = p.wait("db", "service_healthy", db, dependents=("web",))
    p.service("web", (ready,))
    p.service("cache")
    lines = await progress(p.plan, fake)
    # cache is not held back by db's healthcheck; web waits for it.
    assert lines.index("Container p-cache-1 Started") < lines.index("Container p-db-1 Healthy")
    assert lines.index("Container p-db-1 Healthy") < lines.index("Container p-web-1 Creating")
    assert fake.by_name("p-web-1").state == "running"


async def test_steps_start_node_by_node_not_layer_by_layer() -> None:
    # Layers: creates | starts | wait on slow, create fast2 | create dep, start fast2.
    # A layer-by-layer scheduler would hold "start fast2" until the slow wait is over.
    fake = FakeBackend()
    fake.script("slow", health=[(0.3, "healthy")])
    p = Plans()
    slow = p.service("slow", healthcheck=True)
    p.service("dep", (p.wait("slow", "service_healthy", slow),))
    p.service("fast2", (p.service("fast"),))
    lines = await progress(p.plan, fake)
    assert lines.index("Container p-fast2-1 Started") < lines.index("Container p-slow-1 Healthy")
    assert lines.index("Container p-slow-1 Healthy") < lines.index("Container p-dep-1 Creating")


async def test_recreate_creates_the_new_container_before_removing_the_old(
        tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path, "services:\n  web:\n    image: busybox\n    command: [a]\n")
    await up(fake, project)
    old = fake.by_name("p-web-1").id
    changed = load(tmp_path, "services:\n  web:\n    image: busybox\n    command: [b]\n")
    await up(fake, changed)
    calls = fake.ops("create_container", "stop_container", "remove_container",
                     "rename_container", "start_container")
    tail = calls[-5:]
    assert tail == [
        f"create_container {old[:12]}_p-web-1",
        f"stop_container {old}",
        f"remove_container {old}",
        f"rename_container {old[:12]}_p-web-1 p-web-1",
        "start_container p-web-1",
    ]
    assert fake.by_name("p-web-1").id != old
    assert fake.by_name("p-web-1").body["Cmd"] == ["b"]


async def test_anonymous_volumes_carry_over_to_the_new_container(tmp_path: Path) -> None:
    fake = FakeBackend()
    text = "services:\n  db:\n    image: busybox\n    volumes: [/scratch]\n    command: [{}]\n"
    await up(fake, load(tmp_path, text.format("a")))
    volume = fake.by_name("p-db-1").mounts[0]["Name"]
    await up(fake, load(tmp_path, text.format("b")))
    assert [m["Name"] for m in fake.by_name("p-db-1").mounts] == [volume]

    await up(fake, load(tmp_path, text.format("c")),
             UpPlanOptions(inherit=False, working_dir=str(tmp_path)))
    assert [m["Name"] for m in fake.by_name("p-db-1").mounts] != [volume]


async def test_scale_down_removes_the_highest_numbers(tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path, "services:\n  w:\n    image: busybox\n    scale: 3\n")
    await up(fake, project)
    assert sorted(c.name for c in fake.containers.values()) == ["p-w-1", "p-w-2", "p-w-3"]
    await up(fake, project, UpPlanOptions(scale={"w": 1}))
    assert sorted(c.name for c in fake.containers.values()) == ["p-w-1"]
    assert len(fake.ops("remove_container")) == 2


async def test_second_up_is_a_no_op(tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path, """
        services:
          db:
            image: busybox
            volumes: [data:/data]
          web:
            image: busybox
            depends_on: [db]
            networks: [front, default]
        networks:
          front:
        volumes:
          data:
    """)
    await up(fake, project)
    before = len(fake.calls)
    plan = await up(fake, project)
    assert len(plan) == 0
    assert fake.ops()[before:] == ["observe p"]


async def test_down_removes_containers_networks_and_only_with_volumes_the_volumes(
        tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path, """
        services:
          db:
            image: busybox
            volumes: [data:/data, /anon]
        volumes:
          data:
    """)
    await up(fake, project)
    assert set(fake.volumes) >= {"p_data"} and len(fake.volumes) == 2
    await execute(plan_down(model(project), await fake.observe("p")), fake)
    assert fake.containers == {} and fake.networks == {}
    assert "p_data" in fake.volumes and len(fake.volumes) == 2

    await up(fake, project)
    await execute(plan_down(model(project), await fake.observe("p"),
                            DownPlanOptions(volumes=True)), fake)
    assert fake.volumes == {}


async def test_down_stops_and_removes_each_running_container_in_one_backend_call(
        tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path, """
        services:
          web: {image: busybox, depends_on: [db]}
          db: {image: busybox}
    """)
    await up(fake, project)
    before = len(fake.calls)
    await execute(plan_down(model(project), await fake.observe("p")), fake)
    assert fake.containers == {}
    # stop_and_remove_container does both (one engine call on Podman); the plan's
    # remove step does not ask again.
    removes = [c.target for c in fake.calls[before:] if c.op == "remove_container"]
    assert sorted(removes) == sorted(set(removes)) and len(removes) == 2


# -- waits -------------------------------------------------------------------------------------


async def test_completed_successfully_lets_the_dependent_start() -> None:
    fake = FakeBackend()
    fake.script("migrate", exit=(0.1, 0))
    p = Plans()
    migrate = p.service("migrate")
    done = p.wait("migrate", "service_completed_successfully", migrate, dependents=("web",))
    p.service("web", (done,))
    lines = await progress(p.plan, fake)
    assert fake.by_name("p-web-1").state == "running"
    assert lines.index("Container p-migrate-1 Exited") < lines.index("Container p-web-1 Creating")


async def test_failed_completion_fails_its_dependents_only() -> None:
    fake = FakeBackend()
    fake.script("migrate", exit=(0.05, 3))
    p = Plans()
    migrate = p.service("migrate")
    done = p.wait("migrate", "service_completed_successfully", migrate, dependents=("web",))
    p.service("web", (done,))
    p.service("cache")
    with pytest.raises(ExecutionError) as info:
        await execute(p.plan, fake)
    assert str(info.value) == ('service "web": dependency failed to start: service "migrate" '
                               "didn't complete successfully: exit 3")
    assert fake.by_name("p-cache-1").state == "running"
    assert "create_container p-web-1" not in fake.ops()
    assert [s.split(": ")[0] for s in info.value.skipped] == [
        "#4 <- #3 service:web:1 CreateContainer", "#5 <- #4 service:web:1 StartContainer"]


async def test_unhealthy_dependency_is_named() -> None:
    fake = FakeBackend()
    fake.script("db", health=[(0.05, "unhealthy")])
    p = Plans()
    ready = p.wait("db", "service_healthy", p.service("db", healthcheck=True),
                   dependents=("web", "api"))
    p.service("web", (ready,))
    with pytest.raises(ExecutionError, match='^service "web", "api": dependency failed to '
                                             'start: container p-db-1 is unhealthy$'):
        await execute(p.plan, fake)


async def test_optional_dependency_failure_is_a_warning() -> None:
    fake = FakeBackend()
    fake.script("db", health=[(0.05, "unhealthy")])
    p = Plans()
    ready = p.wait("db", "service_healthy", p.service("db", healthcheck=True),
                   dependents=("web",), required=False)
    p.service("web", (ready,))
    seen: list[ProgressEvent] = []
    result = await execute(p.plan, fake, events=seen.append)
    assert fake.by_name("p-web-1").state == "running"
    assert result.warnings == ['optional dependency "db" failed: container p-db-1 is unhealthy']
    assert any(e.state == "warning" and e.status == "Skipped" for e in seen)


async def test_no_healthcheck_cannot_become_healthy() -> None:
    fake = FakeBackend()
    p = Plans()
    p.wait("db", "service_healthy", p.service("db"), dependents=("web",))
    with pytest.raises(ExecutionError, match="container p-db-1 has no healthcheck configured"):
        await execute(p.plan, fake)


async def test_wait_gives_up_after_its_timeout() -> None:
    fake = FakeBackend()
    p = Plans()
    p.wait("db", "service_healthy", p.service("db", healthcheck=True), timeout=0.2)
    with pytest.raises(ExecutionError, match='service "db": container p-db-1 is not healthy '
                                             'after 0.2s'):
        await execute(p.plan, fake)
    assert fake.by_name("p-db-1").health == "starting"  # it gave up; the container did not


async def test_waits_follow_events_not_polling() -> None:
    fake = FakeBackend()
    fake.script("db", health=[(0.3, "healthy")])
    p = Plans()
    p.wait("db", "service_healthy", p.service("db", healthcheck=True))
    # A poll interval far longer than any run: only the health_status event can wake
    # the waiter, which then looks once more.
    with anyio.fail_after(60):
        await execute(p.plan, fake, poll_interval=3600)
    assert fake.inspections <= 3


async def test_waits_poll_when_the_event_stream_fails() -> None:
    fake = FakeBackend(events_broken=True)
    fake.script("db", health=[(0.3, "healthy")])
    p = Plans()
    p.wait("db", "service_healthy", p.service("db", healthcheck=True))
    await execute(p.plan, fake, poll_interval=0.05)
    assert fake.inspections >= 4


# -- failures ----------------------------------------------------------------------------------


async def test_a_failed_step_fails_its_dependents_not_unrelated_branches() -> None:
    fake = FakeBackend()
    fake.script("db", fail_start="driver failed programming external connectivity: "
                                 "Bind for 0.0.0.0:5432 failed: port is already allocated")
    p = Plans()
    db = p.service("db")
    p.service("web", (db,))
    p.service("cache")
    with pytest.raises(ExecutionError) as info:
        await execute(p.plan, fake)
    assert str(info.value) == ('service "db": driver failed programming external connectivity: '
                               "Bind for 0.0.0.0:5432 failed: port is already allocated")
    assert info.value.exit_code == 1
    assert fake.by_name("p-cache-1").state == "running"
    assert "create_container p-web-1" not in fake.ops()


async def test_every_failure_is_reported() -> None:
    fake = FakeBackend()
    fake.script("a", fail_create="no space left on device")
    fake.script("b", fail_start="exec: \"nope\": executable file not found in $PATH")
    p = Plans()
    p.service("a")
    p.service("b")
    with pytest.raises(ExecutionError) as info:
        await execute(p.plan, fake)
    assert str(info.value).splitlines() == [
        'service "a": no space left on device',
        'service "b": exec: "nope": executable file not found in $PATH',
    ]


async def test_missing_image_names_the_service(tmp_path: Path) -> None:
    fake = FakeBackend(images={})
    project = load(tmp_path, "services:\n  web:\n    image: nope\n")
    with pytest.raises(ExecutionError, match='^service "web": No such image: nope$'):
        await up(fake, project)


async def test_rerun_after_fixing_the_cause_converges(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.script("web", fail_start="port is already allocated")
    project = load(tmp_path, "services:\n  web:\n    image: busybox\n")
    with pytest.raises(ExecutionError):
        await up(fake, project)
    del fake.scripts["web"]
    await up(fake, project)
    assert fake.by_name("p-web-1").state == "running"


# -- progress ----------------------------------------------------------------------------------


async def test_progress_events_read_like_compose(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.script("db", health=[(0.05, "healthy")])
    project = load(tmp_path, """
        services:
          db:
            image: busybox
            healthcheck: {test: ["CMD", "true"]}
          web:
            image: busybox
            depends_on: {db: {condition: service_healthy}}
    """)
    seen: list[ProgressEvent] = []
    await up(fake, project, events=seen.append)
    lines = [f"{e.resource} {e.status}" for e in seen]
    for expected in ["Network p_default Creating", "Network p_default Created",
                     "Container p-db-1 Created", "Container p-db-1 Started",
                     "Container p-db-1 Waiting", "Container p-db-1 Healthy",
                     "Container p-web-1 Started"]:
        assert expected in lines
    assert lines.index("Container p-db-1 Healthy") < lines.index("Container p-web-1 Starting")
    started = next(e for e in seen if e.status == "Started")
    assert started.state == "done" and started.elapsed is not None

    seen.clear()
    await up(fake, load(tmp_path, """
        services:
          db:
            image: busybox
            healthcheck: {test: ["CMD", "true"]}
            command: [changed]
          web:
            image: busybox
            depends_on: {db: {condition: service_healthy}}
    """), events=seen.append)
    lines = [f"{e.resource} {e.status}" for e in seen]
    assert lines[:2] == ["Container p-db-1 Recreate", "Container p-db-1 Recreated"]


# -- helpers -----------------------------------------------------------------------------------


def model(project: LoadedProject) -> Project:
    """The typed model every planner reads."""
    return project.model


def load(tmp_path: Path, text: str) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


async def up(fake: FakeBackend, project: LoadedProject, options: UpPlanOptions | None = None,
             **kwargs: Any) -> Plan:
    """observe -> plan -> execute, as the facade does."""
    plan = plan_up(model(project), await fake.observe("p"),
                   options or UpPlanOptions(working_dir=project.working_dir))
    await execute(plan, fake, **kwargs)
    return plan


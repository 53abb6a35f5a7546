"""``run`` goes through the plan and the executor, as ``up`` does: its dependencies'
steps and waits, then the one-off container's creation. No engine: the plans are
golden text and the runs use the in-memory FakeBackend. The failure wording is
Docker Compose v2.40.3's (``docker compose run`` on Engine 20.10, exit code 1)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from fakes import FakeBackend

from composer.api import Compose, RunOptions
from composer.backends.base import Observed
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.model import labels as L
from composer.model.project import Project
from composer.plan.reconcile import OneOffOptions, RunPlanOptions, plan_run, run_dependencies
from composer.runtime import ExecutionError

SLUG = "ab" * 32


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def load(tmp_path: Path, text: str) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


def model(project: LoadedProject) -> Project:
    return project.model


def plan_text(project: LoadedProject, service: str, **options: object) -> str:
    return str(plan_run(model(project), Observed(), RunPlanOptions(
        oneoff=OneOffOptions(service=service), slug=SLUG,
        working_dir=project.working_dir or "", **options)))  # type: ignore[arg-type]


HEALTHY = """
services:
  db:
    image: busybox
    healthcheck: {test: ["CMD", "true"]}
  app:
    image: busybox
    depends_on: {db: {condition: service_healthy}}
"""


def test_run_plans_the_dependencies_as_up_then_the_one_off(tmp_path: Path) -> None:
    assert plan_text(load(tmp_path, HEALTHY), "app") == textwrap.dedent("""\
        #1 network:default CreateNetwork: not found
        #2 <- #1 service:db:1 CreateContainer: no existing container
        #3 <- #2 service:db:1 StartContainer: created
        #4 <- #3 service:db WaitCondition: service_healthy for app
        #5 <- #1, #4 service:app CreateContainer: one-off container""")


def test_no_deps_plans_only_the_one_off_and_its_network(tmp_path: Path) -> None:
    assert plan_text(load(tmp_path, HEALTHY), "app", no_deps=True) == (
        "#1 network:default CreateNetwork: not found\n"
        "#2 <- #1 service:app CreateContainer: one-off container")


def test_implicit_dependencies_are_brought_up_too(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          vpn: {image: busybox}
          cache: {image: busybox}
          data: {image: busybox}
          app:
            image: busybox
            network_mode: service:vpn
            links: [cache]
            volumes_from: [data]
    """)
    assert sorted(run_dependencies(model(project), "app")) == ["cache", "data", "vpn"]
    text = plan_text(project, "app")
    for service in ("vpn", "cache", "data"):
        assert f"service:{service}:1 StartContainer: created" in text
    # service_started: the one-off waits for their starts, not for a condition.
    assert "WaitCondition" not in text
    last = text.splitlines()[-1]
    assert last.startswith("#8 <- #") and last.endswith("service:app CreateContainer: "
                                                        "one-off container")


def test_the_one_off_container_is_labelled_as_v2_labels_it(tmp_path: Path) -> None:
    project = load(tmp_path, HEALTHY)
    plan = plan_run(model(project), Observed(), RunPlanOptions(
        oneoff=OneOffOptions(service="app", command=("echo", "hi")), slug=SLUG, no_deps=True))
    create = plan.steps[-1].operation
    assert create.name == "p-app-run-" + SLUG[:12]  # type: ignore[attr-defined]
    labels = create.body["Labels"]  # type: ignore[attr-defined]
    assert labels[L.ONEOFF] == "True" and labels[L.SLUG] == SLUG
    assert L.CONTAINER_NUMBER not in labels
    assert create.body["Cmd"] == ["echo", "hi"]  # type: ignore[attr-defined]


# -- on the in-memory backend: v2's failures ---------------------------------------------------


async def run(tmp_path: Path, text: str, service: str = "app",
              fake: FakeBackend | None = None) -> tuple[FakeBackend, str]:
    fake = fake or FakeBackend()
    outcome = await Compose(fake).run(load(tmp_path, text), RunOptions(service=service,
                                                                       slug=SLUG))
    return fake, outcome.container_id


@pytest.mark.anyio
async def test_a_dependency_without_healthcheck_fails_the_run(tmp_path: Path) -> None:
    # v2: "dependency failed to start: container p-db-1 has no healthcheck configured", 1
    with pytest.raises(ExecutionError) as info:
        await run(tmp_path, """
            services:
              db: {image: busybox}
              app:
                image: busybox
                depends_on: {db: {condition: service_healthy}}
        """)
    assert str(info.value) == ('service "app": dependency failed to start: container p-db-1 '
                               "has no healthcheck configured")
    assert info.value.exit_code == 1


@pytest.mark.anyio
async def test_an_unhealthy_dependency_fails_the_run(tmp_path: Path) -> None:
    # v2: "dependency failed to start: container p-db-1 is unhealthy", exit 1
    fake = FakeBackend()
    fake.script("db", health=[(0.05, "unhealthy")])
    with pytest.raises(ExecutionError) as info:
        await run(tmp_path, HEALTHY, fake=fake)
    assert str(info.value).endswith("dependency failed to start: container p-db-1 is unhealthy")
    assert not any(c.name.startswith("p-app-run-") for c in fake.containers.values())


@pytest.mark.anyio
async def test_a_failed_completion_fails_the_run(tmp_path: Path) -> None:
    # v2: 'service "migrate" didn't complete successfully: exit 1', exit 1
    fake = FakeBackend()
    fake.script("migrate", exit=(0.05, 1))
    with pytest.raises(ExecutionError) as info:
        await run(tmp_path, """
            services:
              migrate: {image: busybox}
              app:
                image: busybox
                depends_on: {migrate: {condition: service_completed_successfully}}
        """, fake=fake)
    assert str(info.value).endswith('service "migrate" didn\'t complete successfully: exit 1')
    assert info.value.exit_code == 1


@pytest.mark.anyio
async def test_an_optional_dependency_only_warns(tmp_path: Path) -> None:
    fake, container = await run(tmp_path, """
        services:
          db: {image: busybox}
          app:
            image: busybox
            depends_on: {db: {condition: service_healthy, required: false}}
    """)
    created = fake.by_name("p-app-run-" + SLUG[:12])
    assert created.id == container and created.state == "created"  # the caller starts it


@pytest.mark.anyio
async def test_a_healthy_dependency_lets_the_one_off_be_created(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.script("db", health=[(0.05, "healthy")])
    _, container = await run(tmp_path, HEALTHY, fake=fake)
    assert fake.by_name("p-db-1").state == "running"
    assert fake.by_name("p-app-run-" + SLUG[:12]).id == container
    ops = fake.ops("create_container")
    assert ops == ["create_container p-db-1", "create_container p-app-run-" + SLUG[:12]]


def test_readiness_and_optional_dependencies_reach_the_run_waits(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          db:
            image: busybox
            x-composer-ready: {tcp: [5432], timeout: 5s}
          cache: {image: busybox}
          app:
            image: busybox
            depends_on:
              db: {condition: service_healthy}
              cache: {condition: service_healthy, required: false}
    """)
    plan = plan_run(model(project), Observed(), RunPlanOptions(
        oneoff=OneOffOptions(service="app"), slug=SLUG))
    waits = {s.operation.service: s.operation for s in plan  # type: ignore[attr-defined]
             if s.op == "WaitCondition"}
    assert (waits["db"].tcp, waits["db"].timeout, waits["db"].required) == ((5432,), 5.0, True)
    assert (waits["cache"].tcp, waits["cache"].required) == ((), False)

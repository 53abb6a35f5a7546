"""The Compose facade over the in-memory FakeBackend: the verbs end to end."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from fakes import FakeBackend

from composer.api import (
    Compose,
    DownOptions,
    KillOptions,
    PauseOptions,
    PsOptions,
    RestartOptions,
    RmOptions,
    StartOptions,
    StopOptions,
    UpOptions,
)
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import NotFoundError, UsageError, ValidationError
from composer.runtime import ExecutionError, ProgressEvent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


pytestmark = pytest.mark.anyio

APP = """
services:
  db:
    image: busybox
  web:
    image: busybox
    depends_on: [db]
  worker:
    image: busybox
    scale: 2
"""


def load(tmp_path: Path, text: str = APP) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


def states(fake: FakeBackend) -> dict[str, str]:
    return {c.name: c.state for c in fake.containers.values()}


async def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    fake = FakeBackend()
    outcome = await Compose(fake).up(load(tmp_path), UpOptions(dry_run=True))
    assert not outcome.executed and fake.containers == {} and fake.networks == {}
    assert "service:web:1 CreateContainer" in str(outcome.plan)


async def test_up_labels_containers_for_the_project(tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path)
    await Compose(fake).up(project, UpOptions())
    labels = fake.by_name("p-web-1").labels
    assert labels["com.docker.compose.project.working_dir"] == str(tmp_path)
    assert labels["com.docker.compose.project.config_files"] == str(tmp_path / "compose.yaml")
    assert labels["com.docker.compose.image"] == fake.images["busybox"]
    assert labels["com.docker.compose.depends_on"] == "db:service_started:false"


async def test_second_up_reports_running_containers(tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path)
    await Compose(fake).up(project, UpOptions())
    seen: list[ProgressEvent] = []
    outcome = await Compose(fake, events=seen.append).up(project, UpOptions())
    assert len(outcome.plan) == 0
    assert [f"{e.resource} {e.status}" for e in seen] == [
        "Container p-db-1 Running", "Container p-web-1 Running",
        "Container p-worker-1 Running", "Container p-worker-2 Running"]


async def test_missing_image_is_pulled_first(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.pullable["nginx"] = "sha256:nginx"
    outcome = await Compose(fake).up(load(tmp_path, "services:\n  web:\n    image: nginx\n"),
                                     UpOptions())
    assert str(outcome.plans[0]) == "#1 image:nginx PullImage: not found locally"
    assert fake.index("pull_image", "nginx") < fake.index("create_container", "p-web-1")
    assert fake.by_name("p-web-1").labels["com.docker.compose.image"] == "sha256:nginx"


async def test_pull_never_fails_before_anything_is_created(tmp_path: Path) -> None:
    fake = FakeBackend()
    with pytest.raises(NotFoundError, match='service "web": image "nginx" is not present'):
        await Compose(fake).up(load(tmp_path, "services:\n  web:\n    image: nginx\n"),
                               UpOptions(pull="never"))
    assert "pull_image nginx" not in fake.ops()
    assert not fake.containers


async def test_incompatible_recreate_flags(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="incompatible"):
        await Compose(FakeBackend()).up(load(tmp_path),
                                        UpOptions(force_recreate=True, no_recreate=True))


async def test_failure_keeps_the_orphan_warning(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.add_container("p", "old", 1)
    fake.script("web", fail_start="boom")
    with pytest.raises(ExecutionError) as info:
        await Compose(fake).up(load(tmp_path), UpOptions())
    assert info.value.warnings[0].startswith("Found orphan containers ([p-old-1])")


async def test_ps_filters_and_sorts(tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path)
    compose = Compose(fake)
    await compose.up(project, UpOptions())
    await compose.stop(project, StopOptions(services=["worker"]))
    assert [c.name for c in await compose.ps(project)] == ["p-db-1", "p-web-1"]
    assert len(await compose.ps("p", PsOptions(all=True))) == 4
    assert [c.name for c in await compose.ps(project, PsOptions(status=["exited"]))] == [
        "p-worker-1", "p-worker-2"]
    assert [c.name for c in await compose.ps(project, PsOptions(services=["web"]))] == [
        "p-web-1"]
    with pytest.raises(ValidationError, match="no such service: nope"):
        await compose.ps(project, PsOptions(services=["nope"]))


async def test_lifecycle_verbs(tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path)
    compose = Compose(fake)
    await compose.up(project, UpOptions())
    await compose.stop("p", StopOptions())
    assert set(states(fake).values()) == {"exited"}
    await compose.start(project, StartOptions(services=["web"]))
    assert states(fake) == {"p-db-1": "running", "p-web-1": "running",
                            "p-worker-1": "exited", "p-worker-2": "exited"}
    assert fake.index("start_container", fake.by_name("p-db-1").id) < fake.index(
        "start_container", fake.by_name("p-web-1").id)
    await compose.pause(project, PauseOptions(services=["db"]))
    assert states(fake)["p-db-1"] == "paused"
    await compose.unpause("p")
    assert states(fake)["p-db-1"] == "running"
    await compose.kill(project, KillOptions(signal="SIGTERM"))
    assert f"kill_container {fake.by_name('p-web-1').id} SIGTERM" in fake.ops()
    await compose.restart(project, RestartOptions(services=["web"]))
    assert states(fake)["p-web-1"] == "running"
    assert states(fake)["p-db-1"] == "exited"  # as v2: a dependency is not restarted
    outcome = await compose.rm(project, RmOptions())
    assert sorted(c.name for c in fake.containers.values()) == ["p-web-1"]
    assert outcome.executed


async def test_down_by_name_only(tmp_path: Path) -> None:
    fake = FakeBackend()
    await Compose(fake).up(load(tmp_path), UpOptions())
    outcome = await Compose(fake).down("p", DownOptions())
    assert fake.containers == {} and fake.networks == {}
    assert outcome.warnings == []
    again = await Compose(fake).down("p", DownOptions())
    assert again.warnings == ['No resource found to remove for project "p".']


async def test_down_rmi_all_removes_the_images(tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path)
    await Compose(fake).up(project, UpOptions())
    await Compose(fake).down(project, DownOptions(rmi="all"))
    assert fake.images == {}

"""``run`` with a dependency that cannot be satisfied fails as Docker Compose v2's does,
on a real engine, side by side with the v2 binary: the same exit code, v2's message
(composer's names the waiting service in front of it, as its ``up`` does), and no
one-off container left behind. A satisfiable dependency lets the command run.

Each case runs v2 and composer on their own projects (``rv<8 hex>``), removed by a
finaliser. Skipped when no engine answers, ``busybox:latest`` is missing or v2 is
not installed.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .cleanup import engine_client, remove_project

pytestmark = pytest.mark.engine

IMAGE = "busybox:latest"

CASES = {
    # service -> the message v2.40.3 prints (with {p}: its project), exit code 1
    "no_check": "dependency failed to start: container {p}-plain-1 has no healthcheck "
                "configured",
    "sick_dep": "dependency failed to start: container {p}-sick-1 is unhealthy",
    "after_migrate": 'service "migrate" didn\'t complete successfully: exit 3',
}

COMPOSE = """\
services:
  plain:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
  sick:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck: {test: ["CMD", "false"], interval: 1s, timeout: 1s, retries: 1}
  fine:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  migrate:
    image: busybox:latest
    command: ["sh", "-c", "exit 3"]
  no_check:
    image: busybox:latest
    depends_on: {plain: {condition: service_healthy}}
  sick_dep:
    image: busybox:latest
    depends_on: {sick: {condition: service_healthy}}
  after_migrate:
    image: busybox:latest
    depends_on: {migrate: {condition: service_completed_successfully}}
  happy:
    image: busybox:latest
    depends_on: {fine: {condition: service_healthy}}
"""


@pytest.fixture(scope="module")
def client() -> Any:
    return engine_client(IMAGE)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return tmp_path


@pytest.fixture
def projects(client: Any) -> Iterator[Callable[[], str]]:
    made: list[str] = []

    def new() -> str:
        made.append(f"rv{uuid.uuid4().hex[:8]}")
        return made[-1]

    try:
        yield new
    finally:
        for name in made:
            remove_project(client, name)


def _oneoffs(client: Any, project: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": [
        f"com.docker.compose.project={project}", "com.docker.compose.oneoff=True"]}))


@pytest.mark.parametrize("service", sorted(CASES))
def test_unsatisfiable_dependency_fails_as_v2(service: str, folder: Path, client: Any,
                                              projects: Callable[[], str],
                                              run_composer: Any, run_v2: Any) -> None:
    theirs, ours = projects(), projects()
    v2 = run_v2("-p", theirs, "run", "--rm", "-T", service, "echo", "hi", cwd=folder)
    assert v2.returncode == 1, v2.stderr
    expected = CASES[service]
    assert expected.format(p=theirs) in v2.stderr.splitlines()

    mine = run_composer("-p", ours, "run", "--rm", "-T", service, "echo", "hi", cwd=folder)
    assert "Traceback" not in mine.stderr
    assert mine.returncode == v2.returncode
    last = mine.stderr.splitlines()[-1]
    assert last.endswith(expected.format(p=ours)), mine.stderr
    assert last == f'composer: service "{service}": ' + (
        expected.format(p=ours) if expected.startswith("dependency failed")
        else "dependency failed to start: " + expected.format(p=ours))
    assert "hi" not in mine.stdout
    assert _oneoffs(client, ours) == [] == _oneoffs(client, theirs)


def test_satisfiable_dependency_runs_and_dry_run_shows_the_plan(
        folder: Path, client: Any, projects: Callable[[], str], run_composer: Any) -> None:
    ours = projects()
    dry = run_composer("-p", ours, "run", "--dry-run", "--rm", "-T", "happy", "true",
                       cwd=folder)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == textwrap.dedent("""\
        #1 network:default CreateNetwork: not found
        #2 <- #1 service:fine:1 CreateContainer: no existing container
        #3 <- #2 service:fine:1 StartContainer: created
        #4 <- #3 service:fine WaitCondition: service_healthy for happy
        #5 <- #1, #4 service:happy CreateContainer: one-off container""").splitlines()
    assert client.containers.list(all=True, filters={
        "label": f"com.docker.compose.project={ours}"}) == []

    done = run_composer("-p", ours, "run", "--rm", "-T", "happy", "echo", "hi", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hi\n"
    (fine,) = client.containers.list(filters={"label": [
        f"com.docker.compose.project={ours}", "com.docker.compose.service=fine"]})
    assert fine.attrs["State"]["Health"]["Status"] == "healthy"
    assert _oneoffs(client, ours) == []

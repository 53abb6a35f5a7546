"""Interoperability: composer, Docker Compose v2 and docker-compose 1.29.2 share projects.

The engine is the only state the tools share: containers, networks and volumes found
by their ``com.docker.compose.*`` labels. So a project composer started must be
listed (``ps``) and removed (``down``) by Docker Compose v2 and by Debian's Python
docker-compose 1.29.2, and composer must list and remove a project either of them
started. Each direction runs for each of the two other tools (skipped when that tool
is not installed).

A second ``up -d`` by another tool must not recreate containers when nothing
changed: tools decide from the ``com.docker.compose.config-hash`` label, so composer
must write the hash v2 computes and accept v2's. docker-compose 1.29.2 hashes a
different serialisation (its own and v2's recreate each other's containers), so with
it only the takeover is checked: composer's ``up`` after 1.29.2 leaves one running
container per service, renamed the v2 way, as v2's ``up`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engines import sdk_client

pytestmark = pytest.mark.engine

ENGINE_TIMEOUT = 180.0
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
HASH_LABEL = "com.docker.compose.config-hash"

# Kept to what docker-compose 1.29.2 understands too (no `name:`, no start_interval).
COMPOSE_FILE = """\
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo $$GREETING > /srv/index.html && exec httpd -f -p 8080 -h /srv"]
    init: true
    environment:
      GREETING: hello
    labels:
      com.example.role: web
    ports:
      - "127.0.0.1::8080"
    volumes:
      - data:/srv
    networks: [front, back]
    depends_on: [cache]
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 2s
      retries: 10
  cache:
    image: busybox
    command: ["sleep", "2147483647"]
    init: true
    networks: [back]

volumes:
  data:

networks:
  front:
  back:
"""
SERVICES = ["cache", "web"]


Run = Callable[..., Any]


@dataclass(frozen=True)
class Tool:
    """A compose implementation, run as a subprocess through ``run`` (the conftest runners)."""

    name: str
    run: Run
    # How it names the first container of a service: v2 "p-s-1", 1.29.2 "p_s_1".
    separator: str

    def container_name(self, project: str, service: str) -> str:
        """The name this tool gives replica 1 of ``service``."""
        return self.separator.join([project, service, "1"])

    def __call__(self, project: str, cwd: Path, *args: str) -> Any:
        """``TOOL -p project ARGS`` in ``cwd``; fails the test on a non-zero exit."""
        result = self.run("-p", project, *args, cwd=cwd, timeout=ENGINE_TIMEOUT)
        assert result.returncode == 0, (
            f"{' '.join(result.args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result


def find_v1_binary() -> str | None:
    """Path of docker-compose 1.x (Debian's 1.29.2), or None.

    The venv's ``docker-compose`` wraps v2, so each candidate must say
    ``docker-compose version 1.``.
    """
    candidates = ["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"]
    found = shutil.which("docker-compose")
    if found:
        candidates.append(found)
    for path in candidates:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        try:
            out = subprocess.run(
                [path, "version"], capture_output=True, text=True, timeout=30,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.startswith("docker-compose version 1."):
            return path
    return None


@pytest.fixture
def v2(run_v2: Run) -> Tool:
    """Docker Compose v2 (skips the test when it is not installed)."""
    return Tool("v2", run_v2, "-")


@pytest.fixture
def v1(run_command: Run) -> Tool:
    """docker-compose 1.29.2 (skips the test when no 1.x is installed)."""
    path = find_v1_binary()
    if path is None:
        pytest.skip("docker-compose 1.x not installed (Debian: apt-get install docker-compose)")

    def run(*args: str, **kwargs: Any) -> Any:
        return run_command([path], args, **kwargs)

    return Tool("1.29.2", run, "_")


@pytest.fixture
def composer(engine: str, run_composer: Run) -> Tool:
    """The composer CLI (its tests need the engine: skipped without one)."""
    return Tool("composer", run_composer, "-")


@pytest.fixture(params=["v2", "1.29.2"])
def other(request: pytest.FixtureRequest) -> Tool:
    """Each of the other tools in turn."""
    tool: Tool = request.getfixturevalue("v2" if request.param == "v2" else "v1")
    return tool


@pytest.fixture
def client(engine: str) -> Iterator[Any]:
    """A docker SDK client on the test engine."""

    instance = sdk_client(engine)
    yield instance
    instance.close()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A folder holding the shared compose file."""
    (tmp_path / "compose.yaml").write_text(COMPOSE_FILE)
    return tmp_path


def containers(client: Any, project: str) -> dict[str, Any]:
    """The project's containers by name (running or not)."""
    label = {"label": f"{PROJECT_LABEL}={project}"}
    return {c.name: c for c in client.containers.list(all=True, filters=label)}


def leftovers(client: Any, project: str) -> list[str]:
    """Every container, network and volume still labelled with the project."""
    label = {"label": f"{PROJECT_LABEL}={project}"}
    names = [f"container {c.name}" for c in client.containers.list(all=True, filters=label)]
    names += [f"network {n.name}" for n in client.networks.list(filters=label)]
    names += [f"volume {v.name}" for v in client.volumes.list(filters=label)]
    return sorted(names)


def expected_resources(project: str, tool_separator: str) -> list[str]:
    """What an `up` of COMPOSE_FILE leaves on the engine, by the naming of its tool."""
    names = [f"container {tool_separator.join([project, s, '1'])}" for s in SERVICES]
    names += [f"network {project}_{n}" for n in ("back", "front")]
    names += [f"volume {project}_data"]
    return sorted(names)


def ids(client: Any, project: str) -> dict[str, str]:
    """Container ID by service."""
    return {c.labels[SERVICE_LABEL]: c.id for c in containers(client, project).values()}


# -- ps and down across tools ----------------------------------------------------------------


@pytest.mark.not_on_lxc("the other tools (v2, 1.29.2) run on the Docker API")
def test_other_tool_lists_and_removes_a_composer_project(
        composer: Tool, other: Tool, client: Any, project_dir: Path, project_name: str) -> None:
    composer(project_name, project_dir, "up", "-d", "--wait")
    assert leftovers(client, project_name) == expected_resources(project_name, "-")
    started = ids(client, project_name)

    listed = other(project_name, project_dir, "ps")
    for service in SERVICES:
        assert composer.container_name(project_name, service) in listed.stdout, listed.stdout
    quiet = other(project_name, project_dir, "ps", "-q")
    assert sorted(quiet.stdout.split()) == sorted(started.values())

    other(project_name, project_dir, "down", "-v")
    assert leftovers(client, project_name) == []


@pytest.mark.not_on_lxc("the other tools (v2, 1.29.2) run on the Docker API")
def test_composer_lists_and_removes_another_tools_project(
        composer: Tool, other: Tool, client: Any, project_dir: Path, project_name: str) -> None:
    other(project_name, project_dir, "up", "-d")
    assert leftovers(client, project_name) == expected_resources(project_name, other.separator)
    started = ids(client, project_name)

    listed = composer(project_name, project_dir, "ps")
    for service in SERVICES:
        assert other.container_name(project_name, service) in listed.stdout, listed.stdout
    quiet = composer(project_name, project_dir, "ps", "-q")
    assert sorted(quiet.stdout.split()) == sorted(started.values())
    services = composer(project_name, project_dir, "ps", "--services")
    assert sorted(services.stdout.split()) == SERVICES

    composer(project_name, project_dir, "down", "-v")
    assert leftovers(client, project_name) == []


# -- a second `up` by another tool -----------------------------------------------------------


def test_v2_up_after_composer_recreates_nothing(
        composer: Tool, v2: Tool, client: Any, project_dir: Path, project_name: str) -> None:
    composer(project_name, project_dir, "up", "-d", "--wait")
    before = ids(client, project_name)
    hashes = {c.labels[SERVICE_LABEL]: c.labels.get(HASH_LABEL)
              for c in containers(client, project_name).values()}

    again = v2(project_name, project_dir, "up", "-d")
    assert "Recreate" not in again.stderr, f"composer's hashes: {hashes}\n{again.stderr}"
    assert ids(client, project_name) == before


def test_composer_up_after_v2_recreates_nothing(
        composer: Tool, v2: Tool, client: Any, project_dir: Path, project_name: str) -> None:
    v2(project_name, project_dir, "up", "-d", "--wait")
    before = ids(client, project_name)

    composer(project_name, project_dir, "up", "-d")
    assert ids(client, project_name) == before
    assert [c.status for c in containers(client, project_name).values()] == ["running"] * 2


def test_composer_up_takes_over_a_v1_project(
        composer: Tool, v1: Tool, client: Any, project_dir: Path, project_name: str) -> None:
    # 1.29.2's hash is not v2's, so (like v2) composer recreates its containers:
    # afterwards one running container per service, under v2's names, none of 1.29.2's.
    v1(project_name, project_dir, "up", "-d")

    composer(project_name, project_dir, "up", "-d", "--wait")
    assert leftovers(client, project_name) == expected_resources(project_name, "-")
    assert [c.status for c in containers(client, project_name).values()] == ["running"] * 2

    composer(project_name, project_dir, "down", "-v")
    assert leftovers(client, project_name) == []

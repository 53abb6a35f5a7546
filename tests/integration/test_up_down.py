"""The Compose facade on a real engine: up, a no-op second up, recreation, down.

Each test has its own project name (``project_name`` fixture); everything labelled
with it is removed when the test ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest
from engines import raw_inspect

from composer.api import Compose, DownOptions, PsOptions, UpOptions
from composer.backends.docker import DockerBackend
from composer.backends.errors import NotFoundError
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.runtime import ExecutionError, ProgressEvent

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

APP = """
services:
  db:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    stop_grace_period: 1s
    volumes: [data:/data]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  web:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    depends_on: {db: {condition: service_healthy}}
    networks: [front, default]
  worker:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    scale: 2
volumes:
  data:
networks:
  front:
"""


# An anonymous volume outlives ``down -v`` once it has been carried over to a new
# container (the engine then treats it as named, for v2 as for us): only the test
# that needs one has one, and removes it itself.
ANONYMOUS = APP.replace("volumes: [data:/data]", "volumes: [data:/data, /scratch]")


def load(folder: Path, name: str, text: str) -> LoadedProject:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(folder), project_name=name))


async def ids(backend: DockerBackend, name: str) -> dict[str, str]:
    return {c.name: c.id for c in (await backend.observe(name)).containers}


async def test_up_then_a_second_up_changes_nothing(backend: DockerBackend, project_name: str,
                                                   tmp_path: Path) -> None:
    project = load(tmp_path, project_name, APP)
    events: list[ProgressEvent] = []
    compose = Compose(backend, events=events.append)
    await compose.up(project, UpOptions())
    running = await compose.ps(project, PsOptions())
    assert [(c.name, c.state) for c in running] == [
        (f"{project_name}-db-1", "running"), (f"{project_name}-web-1", "running"),
        (f"{project_name}-worker-1", "running"), (f"{project_name}-worker-2", "running")]
    observed = await backend.observe(project_name)
    assert {n.name for n in observed.networks} == {f"{project_name}_default",
                                                    f"{project_name}_front"}
    assert {v.name for v in observed.volumes} == {f"{project_name}_data"}
    web = next(c for c in observed.containers if c.service == "web")
    assert set(web.networks) == {f"{project_name}_default", f"{project_name}_front"}
    assert f"Container {project_name}-db-1 Healthy" in [f"{e.resource} {e.status}"
                                                        for e in events]

    before = await ids(backend, project_name)
    again = await compose.up(project, UpOptions())
    assert {s.op for s in again.plan} <= {"WaitCondition"}
    assert await ids(backend, project_name) == before


async def test_changed_service_is_recreated_alone_keeping_its_anonymous_volume(
        backend: DockerBackend, project_name: str, tmp_path: Path) -> None:
    compose = Compose(backend)
    await compose.up(load(tmp_path, project_name, ANONYMOUS), UpOptions())
    before = await ids(backend, project_name)
    # What the engine holds, raw: the typed inspection has no mounts or command.
    db_before = raw_inspect(backend, f"{project_name}-db-1")
    scratch = next(m["Name"] for m in db_before["Mounts"] if m["Destination"] == "/scratch")
    try:
        changed = load(tmp_path, project_name, ANONYMOUS.replace(
            '["sleep", "3600"]\n    init: true\n    stop_grace_period',
            '["sleep", "3601"]\n    init: true\n    stop_grace_period'))
        outcome = await compose.up(changed, UpOptions())
        assert [s.resource for s in outcome.plan if s.op == "CreateContainer"] == [
            "service:db:1"]
        after = await ids(backend, project_name)
        assert after[f"{project_name}-db-1"] != before[f"{project_name}-db-1"]
        for name in ("web-1", "worker-1", "worker-2"):
            assert after[f"{project_name}-{name}"] == before[f"{project_name}-{name}"]
        db_after = raw_inspect(backend, f"{project_name}-db-1")
        assert db_after["Config"]["Cmd"] == ["sleep", "3601"]
        assert scratch in [m["Name"] for m in db_after["Mounts"]]
        assert db_after["State"]["Status"] == "running"
    finally:
        await compose.down(project_name, DownOptions(volumes=True))
        with contextlib.suppress(NotFoundError):
            await backend.remove_volume(scratch)


async def test_scale_down_removes_the_highest_numbers(backend: DockerBackend,
                                                      project_name: str,
                                                      tmp_path: Path) -> None:
    compose = Compose(backend)
    project = load(tmp_path, project_name, APP)
    await compose.up(project, UpOptions(services=["worker"], scale={"worker": 3}))
    await compose.up(project, UpOptions(services=["worker"], scale={"worker": 1}))
    names = sorted(await ids(backend, project_name))
    assert names == [f"{project_name}-worker-1"]


async def test_down_keeps_volumes_unless_asked(backend: DockerBackend, project_name: str,
                                               tmp_path: Path) -> None:
    compose = Compose(backend)
    project = load(tmp_path, project_name, APP)
    await compose.up(project, UpOptions())
    await compose.down(project, DownOptions())
    observed = await backend.observe(project_name)
    assert observed.containers == () and observed.networks == ()
    assert [v.name for v in observed.volumes] == [f"{project_name}_data"]

    await compose.up(project, UpOptions())
    await compose.down(project_name, DownOptions(volumes=True))  # from labels alone
    observed = await backend.observe(project_name)
    assert (observed.containers, observed.networks, observed.volumes) == ((), (), ())


async def test_readiness_extension_gates_the_dependent(backend: DockerBackend,
                                                       project_name: str,
                                                       tmp_path: Path) -> None:
    project = load(tmp_path, project_name, """
        services:
          server:
            image: busybox:latest
            command: ["sh", "-c", "sleep 1; exec httpd -f -p 8080"]
            init: true
            x-composer-ready: {tcp: [8080], timeout: 20s}
          client:
            image: busybox:latest
            command: ["sleep", "3600"]
            init: true
            depends_on: {server: {condition: service_healthy}}
    """)
    events: list[ProgressEvent] = []
    await Compose(backend, events=events.append).up(project, UpOptions())
    lines = [f"{e.resource} {e.status}" for e in events]
    assert lines.index(f"Container {project_name}-server-1 Healthy") < lines.index(
        f"Container {project_name}-client-1 Starting")


async def test_a_taken_port_names_the_service(backend: DockerBackend, project_name: str,
                                              tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        project = load(tmp_path, project_name, f"""
            services:
              web:
                image: busybox:latest
                command: ["sleep", "3600"]
                ports: ["127.0.0.1:{port}:80"]
              other:
                image: busybox:latest
                command: ["sleep", "3600"]
        """)
        compose = Compose(backend)
        with pytest.raises(ExecutionError) as info:
            await compose.up(project, UpOptions())
        message = str(info.value)
        assert message.startswith('service "web": ') and "\n" not in message
        assert str(port) in message
        states: dict[str, Any] = {c.service: c.state
                                  for c in (await backend.observe(project_name)).containers}
        assert states["other"] == "running"
    # The cause gone, the same command converges.
    await compose.up(project, UpOptions())
    assert {c.state for c in (await backend.observe(project_name)).containers} == {"running"}

"""An engine's refusals: a service key it cannot honour (``Backend.unsupported``)
stops the plan before anything is created, as one located line (file, line,
key); a container whose start the engine lost (its runtime keeps the task and
refuses every later start) is recreated by the next ``up``, not started."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from composer.api import Compose, UpOptions
from composer.backends.lxc.refusals import refusals
from composer.backends.memory import MemoryBackend
from composer.config.loader import LoadOptions, load_project
from composer.errors import ConfigError, EngineError

pytestmark = pytest.mark.anyio

COMPOSE = """\
services:
  db:
    image: busybox
  web:
    image: busybox
    devices:
      - /dev/null:/dev/mynull
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class NoDevices(MemoryBackend):
    """An engine that cannot give a container a device."""

    def unsupported(self, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        if (body.get("HostConfig") or {}).get("Devices"):
            return [("devices", "not supported on this engine")]
        return []


async def test_a_refused_key_is_one_located_line_and_nothing_is_created(
        tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    loaded = load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))
    backend = NoDevices()
    with pytest.raises(ConfigError) as caught:
        await Compose(backend).up(loaded, UpOptions())
    # The line of the refused value, the key, the engine's reason.
    assert str(caught.value) == (f"{tmp_path / 'compose.yaml'}:7:7: services.web.devices: "
                                 "not supported on this engine")
    observed = await backend.observe("p")
    assert observed.containers == () and observed.networks == ()


def test_lxc_names_the_keys_it_cannot_honour() -> None:
    assert refusals({"HostConfig": {"Sysctls": {"net.core.somaxconn": "1024"},
                                    "PidMode": "host", "NetworkMode": "host",
                                    "MemorySwappiness": -1, "OomScoreAdj": 0},
                     "Domainname": "example.org", "Tty": True}) == [
        "sysctls", "pid: host", "network_mode: host", "domainname"]
    # devices map onto LXC (a bind of the node and a cgroup rule): not refused
    assert refusals({"HostConfig": {"Devices": [{"PathOnHost": "/dev/null"}]}}) == []
    assert refusals({"HostConfig": {"NetworkMode": "p_default", "Init": True,
                                    "LogConfig": {"Type": "json-file"}}}) == []


class StaleTask(MemoryBackend):
    """An engine stopped while it started ``lost``'s container: that start failed
    (recorded as Docker records it), and its runtime kept the container's task, so
    every later start of that container is refused (seen with dockerd 20.10: the
    task stays for good; removing the container is what frees its name)."""

    def __init__(self, lost: str) -> None:
        super().__init__()
        self.lost = lost
        self.stale: set[str] = set()

    async def start_container(self, container: str) -> None:
        c = self._find(container)
        if c.service == self.lost and not self.stale:
            self.stale.add(c.id)
            c.start_error = "transport is closing: unavailable"
            raise EngineError(c.start_error)
        if c.id in self.stale:
            raise EngineError(f"Error response from daemon: task {c.id}: already exists")
        await super().start_container(container)


async def test_a_rerun_recreates_a_container_whose_start_the_engine_lost(
        tmp_path: Path) -> None:
    from composer.runtime.errors import ExecutionError

    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: busybox\n  web:\n    image: busybox\n")
    loaded = load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))
    backend = StaleTask(lost="db")
    with pytest.raises(ExecutionError, match="transport is closing"):
        await Compose(backend).up(loaded, UpOptions())
    lost = backend.by_name("p-db-1").id
    await Compose(backend).up(loaded, UpOptions())
    states = {c.name: (c.id, c.state) for c in (await backend.observe("p")).containers}
    assert states["p-db-1"][1] == "running" and states["p-db-1"][0] != lost
    assert states["p-web-1"][1] == "running"


async def test_a_created_container_with_no_failed_start_is_started_not_recreated(
        tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: busybox\n")
    loaded = load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))
    backend = MemoryBackend()
    await Compose(backend).create(loaded)
    made = backend.by_name("p-db-1").id
    await Compose(backend).up(loaded, UpOptions())
    assert [(c.id, c.state) for c in (await backend.observe("p")).containers] == [
        (made, "running")]


async def test_start_interval_is_refused_only_where_the_engine_runs_the_checks(
        tmp_path: Path) -> None:
    from composer.errors import UnsupportedError

    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: busybox\n    healthcheck:\n"
        "      test: [CMD, 'true']\n      start_interval: 1s\n")
    loaded = load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))
    engine = MemoryBackend()  # API 1.41, runs the checks itself: as v2 refuses it
    with pytest.raises(UnsupportedError, match="start_interval"):
        await Compose(engine).up(loaded, UpOptions())
    assert (await engine.observe("p")).containers == ()
    ours = MemoryBackend(engine_healthchecks=False)  # composer runs them (Podman, LXC)
    await Compose(ours).up(loaded, UpOptions())
    (db,) = (await ours.observe("p")).containers
    assert (await ours.inspect_container(db.id)).healthcheck.start_interval == 1.0

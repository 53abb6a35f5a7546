"""An engine's refusals: a service key it cannot honour (``Backend.unsupported``)
stops the plan before anything is created, as one located line (file, line,
key); a start refused because the runtime still holds the task of a previous run
is tried again, and fails with the engine's words when the task stays."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from composer.api import Compose, UpOptions
from composer.backends.lxc.refusals import refusals
from composer.backends.memory import MemoryBackend
from composer.config.loader import LoadOptions, load_project
from composer.errors import ConfigError

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
                     "Tty": True}) == ["sysctls", "pid: host", "network_mode: host", "tty"]
    # devices map onto LXC (a bind of the node and a cgroup rule): not refused
    assert refusals({"HostConfig": {"Devices": [{"PathOnHost": "/dev/null"}]}}) == []
    assert refusals({"HostConfig": {"NetworkMode": "p_default", "Init": True,
                                    "LogConfig": {"Type": "json-file"}}}) == []


class StaleTask(MemoryBackend):
    """An engine whose runtime still holds the task of a container's previous run
    for the first ``stale`` starts (a dockerd restarted while it ran)."""

    def __init__(self, stale: int) -> None:
        super().__init__()
        self.stale = stale

    async def start_container(self, container: str) -> None:
        if self.stale > 0:
            self.stale -= 1
            from composer.errors import EngineError

            raise EngineError(f"Error response from daemon: task {container}: already exists")
        await super().start_container(container)


async def test_a_start_waits_out_a_stale_task(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from composer.runtime import executor

    monkeypatch.setattr(executor, "TASK_RETRIES", (0.0, 0.0, 0.0))
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: busybox\n")
    loaded = load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))
    backend = StaleTask(stale=2)
    await Compose(backend).up(loaded, UpOptions())
    assert [c.state for c in (await backend.observe("p")).containers] == ["running"]
    lasting = StaleTask(stale=10)
    from composer.runtime.errors import ExecutionError

    with pytest.raises(ExecutionError, match="already exists"):
        await Compose(lasting).up(loaded, UpOptions(force_recreate=True))

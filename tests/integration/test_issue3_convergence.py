"""Convergence on a real engine, through the Compose facade, with every engine call
counted.

A second ``up`` plans no step and makes no per-container call; a changed service is
recreated new-container-first; scaling down removes the highest numbers; orphans are
named without ``--remove-orphans``; a rerun after fixing a failure converges.
Project names start with ``j1``.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from engines import api_client, raw_inspect

from composer.api import Compose, DownOptions, UpOptions
from composer.backends import connect
from composer.backends.docker import DockerBackend
from composer.backends.errors import NotFoundError
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.runtime import ExecutionError

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

APP = """
services:
  db:
    image: busybox:latest
    command: [sleep, "300"]
    stop_signal: SIGKILL
    volumes: [data:/data, /anon]
  web:
    image: busybox:latest
    command: [sleep, "300"]
    stop_signal: SIGKILL
    depends_on: [db]
    networks: [front, default]
  worker:
    image: busybox:latest
    command: [sleep, "300"]
    stop_signal: SIGKILL
    scale: 3
volumes:
  data:
networks:
  front:
"""

# Calls a converged project needs: the one listing, and what the images are.
READ_ONLY = {"observe", "image_id", "image_exists", "inspect_image", "inspect_network",
             "inspect_volume",
             "proxy_environment"}  # the client's config.json, no engine call


class Counting:
    """A backend that records the name of every engine call it passes on."""

    def __init__(self, inner: DockerBackend) -> None:
        self.inner = inner
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args))
            return attr(*args, **kwargs)

        return wrapped

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def j1_project(cleanup_project: Callable[[str], str]) -> str:
    return cleanup_project(f"j1{uuid.uuid4().hex[:8]}")


@pytest.fixture
def counting(engine: str) -> Iterator[Counting]:
    backend = connect(engine)
    yield Counting(backend)  # type: ignore[arg-type]
    if hasattr(backend, "_client"):
        backend._client.close()


def load(folder: Path, name: str, text: str) -> LoadedProject:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(folder), project_name=name))


async def test_second_up_plans_nothing_and_lists_once(
        counting: Counting, j1_project: str, tmp_path: Path) -> None:
    compose = Compose(counting)
    project = load(tmp_path, j1_project, APP)
    await compose.up(project, UpOptions())
    counting.calls.clear()
    again = await compose.up(project, UpOptions())
    assert [str(plan) for plan in again.plans] == [""]
    assert len(again.plan) == 0 and again.plan.unchanged
    assert counting.names().count("observe") == 1
    assert set(counting.names()) <= READ_ONLY, counting.names()
    # image lookups go by image, never by container
    assert len([n for n in counting.names()
                if n not in ("observe", "proxy_environment")]) <= 2


async def test_recreation_creates_first_and_spares_the_neighbours(
        counting: Counting, j1_project: str, tmp_path: Path) -> None:
    compose = Compose(counting)
    await compose.up(load(tmp_path, j1_project, APP), UpOptions())
    before = {c.name: c for c in (await counting.observe(j1_project)).containers}
    old_db = before[f"{j1_project}-db-1"]
    counting.calls.clear()
    changed = load(tmp_path, j1_project, APP.replace('[sleep, "300"]', '[sleep, "301"]', 1))
    outcome = await compose.up(changed, UpOptions())
    created = [s.resource for s in outcome.plan if s.op == "CreateContainer"]
    assert created == ["service:db:1"]
    names = counting.names()
    assert names.index("create_container") < names.index("remove_container")
    removed = [args for name, args in counting.calls if name == "remove_container"]
    assert [args[0] for args in removed] == [old_db.id]
    after = {c.name: c for c in (await counting.observe(j1_project)).containers}
    for name in before:
        same = after[name].id == before[name].id
        assert same == (name != f"{j1_project}-db-1"), name
    # Raw, from the engine: the typed inspection has no mounts.
    new_db = raw_inspect(counting.inner, f"{j1_project}-db-1")
    old_anon = [m for m in old_db.mounts if m.get("Destination") == "/anon"]
    assert [m["Name"] for m in new_db["Mounts"] if m["Destination"] == "/anon"] == [
        m["Name"] for m in old_anon]
    await compose.down(j1_project, DownOptions(volumes=True))
    for mount in old_anon:  # carried over, so the engine no longer calls it anonymous
        try:
            await counting.remove_volume(mount["Name"])
        except NotFoundError:
            pass


async def test_scale_down_removes_the_highest_numbers_and_orphans_are_named(
        counting: Counting, j1_project: str, tmp_path: Path) -> None:
    compose = Compose(counting)
    project = load(tmp_path, j1_project, APP)
    await compose.up(project, UpOptions(scale={"worker": 4}))
    await compose.up(project, UpOptions(scale={"worker": 2}))
    workers = sorted(c.name for c in (await counting.observe(j1_project)).containers
                     if c.service == "worker")
    assert workers == [f"{j1_project}-worker-1", f"{j1_project}-worker-2"]

    fewer = load(tmp_path, j1_project, APP.split("  worker:")[0] + APP.split("scale: 3")[1])
    outcome = await compose.up(fewer, UpOptions())
    warning = " ".join(outcome.warnings)
    assert "orphan" in warning.lower()
    assert f"{j1_project}-worker-1" in warning and f"{j1_project}-worker-2" in warning
    assert len([c for c in (await counting.observe(j1_project)).containers
                if c.service == "worker"]) == 2
    await compose.up(fewer, UpOptions(remove_orphans=True))
    assert not [c for c in (await counting.observe(j1_project)).containers
                if c.service == "worker"]


async def test_a_missing_image_then_converges_once_it_exists(
        counting: Counting, j1_project: str, tmp_path: Path, engine: str) -> None:

    tag = f"j1-later-{uuid.uuid4().hex[:8]}:latest"
    project = load(tmp_path, j1_project, f"""
        services:
          base:
            image: busybox:latest
            command: [sleep, "300"]
            stop_signal: SIGKILL
          app:
            image: {tag}
            command: [sleep, "300"]
            stop_signal: SIGKILL
            depends_on: [base]
    """)
    compose = Compose(counting)
    with pytest.raises(ExecutionError) as info:
        await compose.up(project, UpOptions())
    assert str(info.value).startswith('service "app": ') and tag in str(info.value)
    assert "\n" not in str(info.value)
    assert (await counting.observe(j1_project)).containers == ()
    client = api_client(engine)
    client.tag("busybox:latest", tag.split(":")[0], "latest")
    try:
        await compose.up(project, UpOptions())
        states = {c.service: c.state for c in (await counting.observe(j1_project)).containers}
        assert states == {"base": "running", "app": "running"}
    finally:
        await compose.down(j1_project, DownOptions())
        client.remove_image(tag)
        client.close()

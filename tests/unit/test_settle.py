"""A call abandoned by a cancellation (a create sent just before Ctrl-C, or before a
library project's block is cancelled) still finishes on the engine: ``settle``
waits for it, so the ``down`` that follows lists what it made."""

from __future__ import annotations

import threading

import anyio
import pytest
import requests
from anyio import wait_all_tasks_blocked

from composer.backends.docker.engine import Engine


class _Client:
    """Answers ``/_ping`` at once; ``create`` blocks until released."""

    api_version = "1.41"
    base_url = "http+docker://localhost"
    timeout = 5

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.created: list[str] = []

    def get(self, url: str, timeout: float) -> requests.Response:
        response = requests.Response()  # /_ping
        response.status_code = 200
        response.headers["Api-Version"] = "1.41"
        return response

    def create(self, name: str) -> str:
        self.entered.set()
        self.release.wait(10)
        self.created.append(name)
        return name

    def close(self) -> None:
        pass


@pytest.mark.anyio
async def test_settle_waits_for_a_create_its_caller_abandoned() -> None:
    client = _Client()
    engine = Engine(client, "fake://")  # type: ignore[arg-type]
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(engine._call, client.create, "p-web-1")
            await anyio.to_thread.run_sync(client.entered.wait)
            scope.cancel()
    assert client.created == []  # the caller went on; the engine has not answered
    async with anyio.create_task_group() as group:
        group.start_soon(engine.settle)
        await wait_all_tasks_blocked()  # settle waits on the abandoned call...
        assert client.created == []
        client.release.set()  # ...which the engine now finishes
    assert client.created == ["p-web-1"]


@pytest.mark.anyio
async def test_settle_returns_at_once_when_nothing_was_abandoned() -> None:
    client = _Client()
    client.release.set()
    engine = Engine(client, "fake://")  # type: ignore[arg-type]
    assert await engine._call(client.create, "p-web-1") == "p-web-1"
    with anyio.fail_after(5):
        await engine.settle()

"""The public library on the real engine: ``composer.open`` and its handle.

Each test opens its own project (``name=None``: a unique name, registered for
cleanup so nothing stays even when the test fails) and checks what a user of the
library sees: names, ps rows, endpoints that answer, exec results, log lines,
events, readiness failures with their context, errors by kind, and teardown on
the way out, cancelled or not.
"""

from __future__ import annotations

import socket
import textwrap
import time
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio
import pytest
from engines import ON_LXC, ON_PODMAN, api_client, not_listening

import composer
from composer import probes

pytestmark = [pytest.mark.engine]

PROJECT_LABEL = "com.docker.compose.project"

COMPOSE = textwrap.dedent("""\
    services:
      web:
        image: busybox:latest
        init: true
        command: ["sh", "-c", "echo hello from web; echo oops >&2; mkdir -p /www;
                  echo ok > /www/index.html; exec httpd -f -p 80 -h /www"]
        ports: ["80"]
        healthcheck:
          test: ["CMD", "wget", "-q", "-O", "-", "http://127.0.0.1/"]
          interval: 1s
          retries: 30
      worker:
        image: busybox:latest
        init: true
        command: ["sh", "-c", "while true; do echo tick; sleep 0.2; done"]
        depends_on:
          web: {condition: service_healthy}
    """)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "trio":
        pytest.importorskip("trio")
    return str(request.param)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return tmp_path


def _left(engine: str, name: str) -> dict[str, int]:
    client = api_client(engine)
    label = {"label": [f"{PROJECT_LABEL}={name}"]}
    try:
        found = {"containers": len(client.containers(all=True, filters=label)),
                 "networks": len(client.networks(filters=label)),
                 "volumes": len((client.volumes(filters=label) or {}).get("Volumes") or [])}
    finally:
        client.close()
    return {kind: n for kind, n in found.items() if n}


async def _readers_gone(ended: anyio.Event, tasks: int) -> None:
    """Wait for a stream's readers to end (the deadline is a hang guard, not a
    time), then check that no task of theirs is left."""
    with anyio.fail_after(30):
        await ended.wait()
    await anyio.wait_all_tasks_blocked()  # the readers' parent task finishes
    assert len(anyio.get_running_tasks()) <= tasks


def _get(host: str, port: int) -> bytes:
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    return data


@pytest.mark.anyio
async def test_a_unique_project_up_and_taken_down_on_the_way_out(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    async with composer.open([str(folder / "compose.yaml")]) as first, \
            composer.open([str(folder / "compose.yaml")]) as second:
        cleanup_project(first.name)
        cleanup_project(second.name)
        assert first.name != second.name and first.name.startswith("composer-")
        await first.up(["web"])
        rows = await first.ps()
        assert [(r.service, r.state, r.health) for r in rows] == [("web", "running", "healthy")]
        assert await second.ps() == []
        web = first.service("web")
        endpoint = await web.endpoint(80)
        answer = await anyio.to_thread.run_sync(_get, endpoint.host, endpoint.port)
        assert answer.startswith(b"HTTP/1.") and answer.endswith(b"ok\n")
        ips = await web.ips()
        assert len(ips) == 1 and await web.ips("default") == ips
        assert await web.ips("elsewhere") == []
        name = first.name
    assert _left(engine, name) == {}


@pytest.mark.anyio
async def test_exec_keeps_exit_code_stdout_and_stderr_apart(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    async with composer.open([str(folder / "compose.yaml")]) as project:
        cleanup_project(project.name)
        await project.up(["web"])
        result = await project.exec("web", ["sh", "-c", "echo out; echo err >&2; exit 3"])
        assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
        assert not result.ok
        same = await project.service("web").exec("echo $((40 + 2))")  # a string: sh -c
        assert (same.exit_code, same.stdout, same.stderr) == (0, "42\n", "")
        fed = await project.exec("web", ["cat"], stdin="fed in\n")
        assert fed.stdout == "fed in\n"
        missing = await project.exec("web", ["sh", "-c", "no-such-command"])
        assert missing.exit_code == 127 and "no-such-command" in missing.stderr
        with pytest.raises(composer.ExecFailedError) as caught:
            await project.exec("web", ["sh", "-c", "echo bad >&2; exit 5"], check=True)
        assert (caught.value.returncode, caught.value.stderr) == (5, "bad\n")
        assert caught.value.service == "web"
        assert 'service "web": sh -c echo bad >&2; exit 5 exited 5: bad' == str(caught.value)


@pytest.mark.anyio
async def test_run_a_one_off_with_its_output_apart(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    async with composer.open([str(folder / "compose.yaml")]) as project:
        cleanup_project(project.name)
        result = await project.run("web", "echo one-off; echo e >&2; exit 4", no_deps=True)
        assert (result.exit_code, result.stdout, result.stderr) == (4, "one-off\n", "e\n")
        assert await project.ps(all=True) == []  # the one-off is removed


@pytest.mark.not_on_lxc("each line's time: LXC's console log has no time stamps")
@pytest.mark.anyio
async def test_logs_are_lines_and_stop_when_the_consumer_breaks(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    async with composer.open([str(folder / "compose.yaml")]) as project:
        cleanup_project(project.name)
        await project.up()
        past = [line async for line in project.logs(["web"])]
        assert {(line.service, line.stream, line.text) for line in past} >= {
            ("web", "stdout", "hello from web"), ("web", "stderr", "oops")}
        assert all(line.time is not None and line.container.endswith("-web-1")
                   for line in past)
        tasks = len(anyio.get_running_tasks())
        seen = []
        stream = project.logs(["worker"], follow=True)
        async for line in stream:
            seen.append(line.text)
            if len(seen) == 3:
                break
        assert seen == ["tick"] * 3
        ended = stream.ended
        del stream  # the consumer lets go of it, as `async for` over a call does
        await _readers_gone(ended, tasks)
        # Held in a variable, a stream ends with its ``async with`` block (or aclose()).
        async with project.logs(["worker"], follow=True) as lines:
            async for _line in lines:
                break
        await _readers_gone(lines.ended, tasks)
        with pytest.raises(StopAsyncIteration):
            await lines.__anext__()
        with pytest.raises(composer.NotFoundError) as caught:
            project.logs(["nope"])
        assert (caught.value.kind, caught.value.name) == ("service", "nope")


@pytest.mark.anyio
async def test_events_of_the_project(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    async with composer.open([str(folder / "compose.yaml")]) as project:
        cleanup_project(project.name)
        await project.up(["web"])
        seen: list[composer.Event] = []
        began = time.time()
        await project.restart(["web"])
        # Read from before the restart (``since``): nothing can be missed. The
        # restart's start is the first start after a stop; older events of up may
        # come first, from the same second.
        with anyio.fail_after(60):
            async with aclosing(project.events(since=began)) as events:
                async for event in events:
                    seen.append(event)
                    stopped = any(e.action in ("kill", "die", "stop") for e in seen)
                    if event.action == "start" and stopped:
                        break
        assert seen[-1].action == "start" and seen[-1].service == "web"
        assert any(e.action in ("kill", "die", "stop") for e in seen)


@pytest.mark.anyio
async def test_a_readiness_timeout_says_why_with_health_log_and_logs(
        engine: str, tmp_path: Path, cleanup_project: Callable[[str], str]) -> None:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""\
        services:
          db:
            image: busybox:latest
            init: true
            command: ["sh", "-c", "echo starting db; echo no listener here >&2; sleep 600"]
            healthcheck:
              test: ["CMD-SHELL", "echo probe says no; exit 1"]
              interval: 1s
              retries: 100
        """))
    async with composer.open([str(tmp_path / "compose.yaml")]) as project:
        cleanup_project(project.name)
        began = time.time()
        await project.up(wait=False)
        db = project.service("db")
        await db.ready(probes.log("no listener"))  # a passing probe returns
        await db.ready(probes.any_of(probes.tcp(5432), probes.log("starting db")))
        # Wait for the engine's first health run to end (its exec's exit event), so
        # the health log has an entry by the time the wait below gives up. Podman
        # (and LXC) here runs no check (no systemd): composer runs them only while it waits on
        # health, which a probe does not.
        with anyio.fail_after(60):
            async with aclosing(project.events(["db"], since=began)) as events:
                async for event in events:
                    if event.action == "exec_die" or ON_PODMAN or ON_LXC:
                        break
        with pytest.raises(composer.NotReadyError) as caught:
            await db.ready([probes.tcp(5432), probes.exec("test -e /ready")], timeout=2)
        error = caught.value
        container = f"{project.name}-db-1"
        client = api_client(engine)
        try:
            ip = next(iter(client.inspect_container(container)["NetworkSettings"][
                "Networks"].values()))["IPAddress"]
        finally:
            client.close()
        assert error.service == "db" and error.probe == probes.tcp(5432)
        assert error.detail == not_listening(ip, 5432, container)
        assert "starting db" in error.logs_tail and "no listener here" in error.logs_tail
        text = str(error)
        assert text.startswith('service "db" is not ready after 2s: tcp port 5432: '
                               f"{not_listening(ip, 5432, container)}")
        if not ON_PODMAN and not ON_LXC:  # composer runs the checks there (see above)
            assert any("probe says no" in entry for entry in error.health_log)
            assert "health log:" in text and "probe says no" in text
        assert "last logs:" in text and "  starting db" in text


@pytest.mark.anyio
async def test_errors_by_kind(engine: str, folder: Path,
                              cleanup_project: Callable[[str], str]) -> None:
    async with composer.open([str(folder / "compose.yaml")]) as project:
        cleanup_project(project.name)
        with pytest.raises(composer.NotFoundError) as caught:
            project.service("nope")
        assert (caught.value.kind, caught.value.name) == ("service", "nope")
        await project.up(["web"])
        with pytest.raises(composer.NotFoundError) as caught:
            await project.service("web").endpoint(8080)
        assert caught.value.kind == "port"
        with pytest.raises(composer.NotFoundError) as caught:
            await project.service("web").container(2)
        assert caught.value.kind == "container"
        await project.stop(["web"])
        with pytest.raises(composer.ConflictError) as conflict:
            await project.exec("web", ["true"])
        assert conflict.value.status == (500 if ON_PODMAN else 409)  # Podman: 500
        assert isinstance(conflict.value, composer.EngineError)


@pytest.mark.anyio
async def test_teardown_when_cancelled_in_the_middle_of_up(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    names: list[str] = []
    began = time.time()
    with anyio.CancelScope() as scope:
        async with composer.open([str(folder / "compose.yaml")]) as project:
            names.append(cleanup_project(project.name))
            async with anyio.create_task_group() as group:
                group.start_soon(project.up)
                # Cancel once the engine has made the first container, mid-up
                # (worker waits for web's health: up cannot have ended).
                with anyio.fail_after(60):
                    async with aclosing(project.events(since=began)) as events:
                        async for event in events:
                            if event.action == "create":
                                break
                scope.cancel()
    assert scope.cancelled_caught
    assert _left(engine, names[0]) == {}


@pytest.mark.anyio
async def test_keep_leaves_the_project_running(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    async with composer.open([str(folder / "compose.yaml")], keep=True) as project:
        cleanup_project(project.name)
        await project.up(["web"])
        name = project.name
    assert _left(engine, name).get("containers") == 1
    async with composer.open([str(folder / "compose.yaml")], name=name) as again:
        assert [r.name for r in await again.ps()] == [f"{name}-web-1"]
    assert _left(engine, name) == {}


def test_bad_input_touches_no_engine(engine: str, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: [1]\n")

    async def main() -> None:
        async with composer.open([str(tmp_path / "compose.yaml")]):
            raise AssertionError("opened a bad project")

    with pytest.raises(composer.ConfigError) as caught:
        anyio.run(main)
    assert "compose.yaml:3" in str(caught.value) and "image" in str(caught.value)


def test_the_sync_facade_from_a_plain_call(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    import composer.sync

    with composer.sync.open([str(folder / "compose.yaml")]) as project:
        cleanup_project(project.name)
        project.up(["web"])
        assert project.exec("web", "cat /www/index.html").stdout == "ok\n"
        lines: list[Any] = []
        for line in project.logs(["web"], follow=True):
            lines.append(line)
            if len(lines) == 2:
                break
        assert {line.text for line in lines} == {"hello from web", "oops"}
        assert project.service("web").endpoint(80).port > 0
        name = project.name
    assert _left(engine, name) == {}


def test_the_sync_facade_from_a_thread_with_events(
        engine: str, folder: Path, cleanup_project: Callable[[str], str]) -> None:
    import threading

    import composer.sync

    found: dict[str, Any] = {}

    def body() -> None:
        with composer.sync.open([str(folder / "compose.yaml")]) as project:
            found["name"] = cleanup_project(project.name)
            project.up(["web"])
            found["exec"] = project.exec("web", "echo hi; echo there >&2")
            started = threading.Event()

            def restarter() -> None:
                # Restart until the reader below has seen a start (it subscribes
                # on its first next(), which may come after a first restart).
                for _ in range(20):
                    if started.is_set():
                        return
                    project.restart(["web"])

            helper = threading.Thread(target=restarter)
            helper.start()
            actions = []
            for event in project.events(["web"]):
                actions.append(event.action)
                if event.action == "start":
                    started.set()
                    break
            helper.join()
            found["actions"] = actions
            found["rows"] = [(r.service, r.state) for r in project.ps()]

    def guarded() -> None:
        try:
            body()
        except BaseException as exc:  # noqa: BLE001 - shown in the test's thread
            found["error"] = exc

    worker = threading.Thread(target=guarded)
    worker.start()
    worker.join()
    if "error" in found:
        raise found["error"]
    result = found["exec"]
    assert (result.exit_code, result.stdout, result.stderr) == (0, "hi\n", "there\n")
    assert found["actions"][-1] == "start"
    assert found["rows"] == [("web", "running")]
    assert _left(engine, found["name"]) == {}


SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "library"


@pytest.mark.parametrize("script, args", [("async_demo.py", ()), ("async_demo.py", ("trio",)),
                                          ("sync_demo.py", ())])
def test_the_samples_run_as_scripts(engine: str, script: str, args: tuple[str, ...]) -> None:
    import subprocess
    import sys

    if args == ("trio",):
        pytest.importorskip("trio")
    out = subprocess.run([sys.executable, str(SAMPLES / script), *args], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stdout.splitlines()
    if script == "async_demo.py":
        assert lines[0].startswith("GET http://") and lines[0].endswith("-> hello from web")
        assert lines[1] == "exec exit 3 stdout 'out\\n' stderr 'err\\n'"
        assert lines[2] == "log worker stdout worker fetched: hello from web"
        assert lines[3:5] == ["ps web running healthy", "ps worker running -"]
        assert lines[5] == "graph [('worker', 'web', 'service_healthy')]"
    else:
        # (What a user sees of a port nothing listens on, before " at ADDRESS".)
        refused = not_listening("ip", 5432, "web").split(" at ")[0]
        assert lines[1:] == ["exec hello from web", f"not ready: tcp port 5432 - {refused}",
                             "log web is up", "down"]
    # Each run named its own project and took it down: nothing of it is left.
    client = api_client(engine)
    try:
        mine = [c for c in client.containers(all=True)
                if c["Labels"].get("com.docker.compose.project", "").startswith("composer-")
                and c["Labels"].get("com.docker.compose.project.working_dir") == str(SAMPLES)]
    finally:
        client.close()
    assert mine == []

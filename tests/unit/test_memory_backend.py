"""The in-memory engine itself: what a library user or a unit test can rely on."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import anyio
import pytest

from composer.backends import connect
from composer.backends.base import (
    BuildRequest,
    ExecConfig,
    ExecOutput,
    RegistryCredentials,
    StatsSample,
)
from composer.backends.memory import MemoryBackend
from composer.backends.memory_process import run_command
from composer.errors import ConflictError, EngineError, NotFoundError
from composer.model import labels as L
from composer.runtime import copying

pytestmark = pytest.mark.anyio


def body(service: str, **extra: Any) -> dict[str, Any]:
    return {"Image": "busybox", "Labels": {L.PROJECT: "p", L.SERVICE: service,
                                           L.CONTAINER_NUMBER: "1"}, **extra}


async def created(engine: MemoryBackend, service: str, **extra: Any) -> str:
    return await engine.create_container(f"p-{service}-1", body(service, **extra))


def test_importable_and_constructible_without_an_event_loop() -> None:
    code = ("import sys; from composer.backends.memory import MemoryBackend; "
            "e = MemoryBackend(); e.script('db', health=[(1.0, 'healthy')]); "
            "e.add_container('p', 'db', 1); print(len(e.containers))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout == "1\n"


async def test_connect_memory_gives_a_fresh_engine() -> None:
    engine = connect("memory://")
    assert isinstance(engine, MemoryBackend) and engine.address == "memory://"
    await engine.ping()


async def test_containers_follow_the_engines_state_machine_and_its_errors() -> None:
    engine = MemoryBackend()
    cid = await created(engine, "web")
    with pytest.raises(ConflictError, match="already in use"):
        await created(engine, "web")
    with pytest.raises(NotFoundError, match="No such image"):
        await engine.create_container("x", {"Image": "nope"})
    info = await engine.inspect_container(cid)
    assert (info.state, info.running, info.name) == ("created", False, "p-web-1")
    await engine.start_container(cid)
    assert (await engine.inspect_container("p-web-1")).running
    with pytest.raises(ConflictError):
        await engine.remove_container(cid)
    await engine.kill_container(cid, "SIGTERM")
    info = await engine.inspect_container(cid)
    assert (info.state, info.exit_code) == ("exited", 137)
    assert info.finished_at >= info.started_at
    await engine.remove_container(cid)
    with pytest.raises(NotFoundError):
        await engine.inspect_container(cid)


async def test_scripts_drive_health_output_and_exit_on_the_event_loops_clock() -> None:
    engine = MemoryBackend()
    engine.script("db", health=[(0.05, "healthy")], output=[(0.01, "stdout", b"ready\n"),
                                                           (0.02, "stderr", b"warn\n")],
                  exit=(0.1, 3), healthcheck=True)
    cid = await created(engine, "db")
    actions: list[str] = []
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            async def watch() -> None:
                async for event in engine.events("p"):
                    actions.append(event.action)
                    if event.action == "die":
                        tg.cancel_scope.cancel()

            tg.start_soon(watch)
            await anyio.sleep(0)
            await engine.start_container(cid)
    assert actions == ["start", "health_status: healthy", "die"]
    info = await engine.inspect_container(cid)
    assert (info.exit_code, info.health, info.has_healthcheck) == (3, "healthy", True)
    frames = [f async for f in engine.logs(cid, follow=False)]
    assert frames == [("stdout", b"ready\n"), ("stderr", b"warn\n")]


async def test_logs_tail_timestamps_and_follow_until_the_exit() -> None:
    engine = MemoryBackend()
    engine.script("app", exit=(0.05, 0))
    cid = await created(engine, "app")
    await engine.start_container(cid)
    engine.write_output(cid, b"one\ntwo\nthree\n")
    assert [d for _, d in [f async for f in engine.logs(cid, follow=False, tail="1")]] == [
        b"three\n"]
    stamped = [d async for _, d in engine.logs(cid, follow=False, tail="1", timestamps=True)]
    assert stamped[0].endswith(b"Z three\n") and stamped[0][:2] == b"20"
    with anyio.fail_after(5):
        followed = [f async for f in engine.logs(cid, follow=True, tail="0")]
    assert followed == []  # nothing more came before the scripted exit
    assert [f async for f in engine.logs(cid, follow=False, since="9999999999")] == []


async def test_attached_output_runs_from_the_start_to_the_exit() -> None:
    engine = MemoryBackend()
    engine.script("job", output=[(0.01, "stdout", b"hi\n")], exit=(0.02, 0))
    cid = await created(engine, "job")
    batches = []
    attached = anyio.Event()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            async def read() -> None:
                async for batch in engine.attach_output(cid, on_attached=attached.set):
                    batches.extend(batch)

            tg.start_soon(read)
            await attached.wait()
            await engine.start_container(cid)
    assert batches == [("stdout", b"hi\n")]


async def test_a_session_carries_input_in_and_output_out_until_the_exit() -> None:
    engine = MemoryBackend()
    cid = await created(engine, "reader", OpenStdin=True)
    stream = await engine.attach(cid, stdin=True)
    waiter = await engine.wait_begin(cid, "next-exit")
    await engine.start_container(cid)
    await anyio.to_thread.run_sync(lambda: stream.write(b"typed\n"))
    engine.write_output(cid, b"out\n")
    engine.write_output(cid, b"err\n", "stderr")
    engine.exit_container(cid, 4)

    def drain() -> list[tuple[str, bytes]]:
        frames: list[tuple[str, bytes]] = []
        while batch := stream.read():
            frames += batch
        stream.close()
        return frames

    with anyio.fail_after(5):
        frames = await anyio.to_thread.run_sync(drain)
        assert await waiter.exit_code() == 4
    assert frames == [("stdout", b"out\n"), ("stderr", b"err\n")]
    reader = engine.by_name("p-reader-1")
    assert await anyio.to_thread.run_sync(reader.stdin_closed.wait, 10)
    assert bytes(reader.stdin) == b"typed\n"


async def test_exec_plays_commands_or_the_scripted_handler() -> None:
    engine = MemoryBackend()
    cid = await created(engine, "box", Env=["FROM_IMAGE=1"])
    with pytest.raises(ConflictError, match="is not running"):
        await engine.exec_create(cid, ExecConfig(["true"]))
    await engine.start_container(cid)
    assert await engine.exec_run(cid, ExecConfig(["sh", "-c", "echo out; echo err >&2; "
                                                              "exit 3"])) == \
        ExecOutput(3, b"out\n", b"err\n")
    assert await engine.exec_run(cid, ExecConfig(["cat"]), input=b"x") == ExecOutput(0, b"x",
                                                                                     b"")
    env = await engine.exec_run(cid, ExecConfig(["env"], environment=["A=b"]))
    assert env.stdout == b"FROM_IMAGE=1\nA=b\n"
    assert (await engine.exec_run(cid, ExecConfig(["nope"]))).exit_code == 127

    engine.script("box", exec=lambda argv, stdin, env, workdir: (7, b"scripted", b""))
    exec_id = await engine.exec_create(cid, ExecConfig(["anything"], stdin=True))
    stream = await engine.exec_start(exec_id, tty=False)

    def converse() -> bytes:
        stream.close_input()
        out = b""
        while batch := stream.read():
            out += b"".join(d for _, d in batch)
        stream.close()
        return out

    with anyio.fail_after(5):
        assert await anyio.to_thread.run_sync(converse) == b"scripted"
    info = await engine.exec_inspect(exec_id)
    assert (info.running, info.exit_code, info.container_id) == (False, 7, cid)


def test_the_command_interpreter() -> None:
    assert run_command(["echo", "-n", "a", "b"]) == (0, b"a b", b"")
    assert run_command(["sh", "-c", "true && echo yes; false && echo no; echo e >&2"]) == (
        0, b"yes\n", b"e\n")
    assert run_command(["sh", "-c", "echo a; exit 2; echo b"]) == (2, b"a\n", b"")
    assert run_command(["pwd"], workdir="/srv") == (0, b"/srv\n", b"")


async def test_waits_stats_and_top() -> None:
    engine = MemoryBackend()
    engine.script("app", stats=StatsSample(cpu_percent=50.0, pids=3))
    engine.stats_interval = 0.01
    cid = await created(engine, "app")
    assert await engine.wait_container(cid) == 0  # not running: at once
    await engine.start_container(cid)
    assert (await engine.stats(cid)).pids == 3
    samples = []
    async for sample in engine.stats_stream(cid):
        samples.append(sample)
        if len(samples) == 2:
            engine.exit_container(cid, 0)
    assert [s.cpu_percent for s in samples] == [50.0, 50.0]  # the stream ends at the exit
    with pytest.raises(ConflictError):
        await engine.top_container(cid)
    removed = await engine.wait_begin(cid, "removed")
    await engine.remove_container(cid)
    with anyio.fail_after(5):
        assert await removed.exit_code() == 0


async def test_cp_both_ways_through_the_runtime(tmp_path: Path) -> None:
    engine = MemoryBackend()
    cid = await created(engine, "files")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("A")
    await copying.to_container(engine, cid, str(tmp_path / "in"), "/tmp")
    stat = await engine.stat_path(cid, "/tmp/in/a.txt")
    assert stat is not None and (stat.name, stat.size, stat.is_dir) == ("a.txt", 1, False)
    assert (await engine.stat_path(cid, "/tmp/in")).is_dir  # type: ignore[union-attr]
    assert await engine.stat_path(cid, "/missing") is None
    await copying.from_container(engine, cid, "/tmp/in", str(tmp_path / "out"))
    assert (tmp_path / "out" / "a.txt").read_text() == "A"
    data = await engine.get_archive(cid, "/etc/hostname")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames() == ["hostname"]
    with pytest.raises(NotFoundError):
        await engine.put_archive(cid, "/no/such/dir", data)


async def test_images_build_pull_push_and_credentials() -> None:
    engine = MemoryBackend()
    built = await engine.build_image(BuildRequest(
        service="app", tag="reg.local/app:1", context="/nowhere", extra_tags=("app:extra",),
        labels={L.PROJECT: "p", L.SERVICE: "app"}))
    info = await engine.inspect_image("app:extra")
    assert info.id == built and info.repo_tags == ("app:extra", "reg.local/app:1")
    (listed,) = await engine.list_images(labels=[f"{L.PROJECT}=p"])
    assert listed.labels[L.SERVICE] == "app"
    assert await engine.list_images(labels=[f"{L.PROJECT}=other"]) == []
    with pytest.raises(EngineError, match="no registry"):
        await engine.push_image("reg.local/app:1")
    engine.registries.add("reg.local")
    await engine.push_image("reg.local/app:1")
    await engine.remove_image("reg.local/app:1")
    await engine.pull_image("reg.local/app:1")
    assert await engine.image_id("reg.local/app:1") == built
    with pytest.raises(NotFoundError):
        await engine.pull_image("nowhere/app:1")
    engine.credentials["reg.local"] = RegistryCredentials("reg.local", "me", "secret")
    creds = await engine.registry_credentials("reg.local")
    assert creds is not None and creds.username == "me" and "secret" not in repr(creds)
    engine.proxies["HTTP_PROXY"] = "http://proxy:3128"
    assert await engine.proxy_environment() == {"HTTP_PROXY": "http://proxy:3128"}

"""DockerBackend against a real engine: every Backend method, its states and its errors.

Containers run busybox (``scripts/engine/ensure-images.sh``); each test uses its own
project name and leaves nothing behind.
"""

from __future__ import annotations

import io
import socket
import tarfile
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from composer.backends import spec
from composer.backends.base import ExecConfig, ExecOutput
from composer.backends.docker import DockerBackend, connect
from composer.backends.docker.wire import api_url, body_reader, raw_socket, response_socket
from composer.backends.errors import ConflictError, NotFoundError
from composer.errors import EngineError, EngineUnreachableError
from composer.model.project import Project

pytestmark = [pytest.mark.engine, pytest.mark.anyio, pytest.mark.not_on_lxc(
    "the Docker backend's own tests, through its SDK (LXC's backend: tests/lxc)")]

IMAGE = "busybox:latest"


def _project(name: str, services: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A canonical project with a default network, as the loader gives it."""
    for service in services.values():
        service.setdefault("image", IMAGE)
        if "network_mode" not in service:
            service.setdefault("networks", {"default": None})
    return {"name": name, "networks": {"default": {"name": f"{name}_default", "ipam": {}}},
            "services": services, **extra}


async def _up(backend: DockerBackend, project: dict[str, Any], service: str, number: int = 1,
              *, start: bool = True, **options: Any) -> str:
    """Create the project's networks and volumes if missing, then one container."""
    observed = await backend.observe(project["name"])
    model = Project.from_dict(project)
    have_networks = {n.key for n in observed.networks}
    for key, network in project.get("networks", {}).items():
        if key not in have_networks and not network.get("external"):
            await backend.create_network(network["name"],
                                         spec.network_create_body(model, key))
    have_volumes = {v.key for v in observed.volumes}
    for key, volume in project.get("volumes", {}).items():
        if key not in have_volumes:
            await backend.create_volume(volume["name"], spec.volume_create_body(model, key))
    image_id = await backend.image_id(IMAGE)
    assert image_id is not None
    request = spec.container_create_request(
        model, model.services[service], number, config_files=["/dev/null"],
        working_dir="/", image_id=image_id, config_hash="hash-" + service,
        api_version=backend.api_version, **options)
    container = await backend.create_container(request.name, request.body,
                                               platform=request.platform)
    for network, endpoint in request.connects:
        await backend.connect_network(network, container, endpoint)
    if start:
        await backend.start_container(container)
    return container


async def _eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Await ``check()`` until it returns something truthy (polling: the thing under test
    here is the listing, not the event stream)."""
    with anyio.fail_after(timeout):
        while True:
            result = await check()
            if result:
                return result
            await anyio.sleep(0.2)


async def test_ping_negotiates_the_engine_api_version(backend: DockerBackend) -> None:
    await backend.ping()
    major, minor = (int(p) for p in backend.api_version.split("."))
    assert (major, minor) >= (1, 24)


async def test_no_engine_is_one_clear_error() -> None:
    absent = connect("unix:///nonexistent/composer-test.sock")
    with pytest.raises(EngineUnreachableError) as caught:
        await absent.observe("anything")
    message = str(caught.value)
    assert message.startswith("cannot reach a container engine at "
                              "unix:///nonexistent/composer-test.sock: ")
    assert "ensure-engine.sh" in message and "DOCKER_HOST" in message
    assert "\n" not in message


async def test_observe_maps_containers_networks_and_volumes(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {
        "web": {"command": ["sleep", "600"], "volumes": [
            {"type": "volume", "source": "data", "target": "/data", "volume": {}},
            {"type": "volume", "target": "/anon", "volume": {}},
        ], "ports": [{"target": 80, "published": "", "host_ip": "127.0.0.1",
                      "protocol": "tcp"}]},
    }, volumes={"data": {"name": f"{project_name}_data"}})
    assert await backend.observe(project_name) == type(await backend.observe(project_name))()
    container = await _up(backend, project, "web", 2, start=False)

    observed = await backend.observe(project_name)
    (state,) = observed.containers
    assert (state.id, state.name, state.project, state.service, state.number) == (
        container, f"{project_name}-web-2", project_name, "web", 2)
    assert (state.state, state.health, state.exit_code, state.oneoff) == (
        "created", None, None, False)
    assert state.config_hash == "hash-web"
    assert state.image == IMAGE and state.image_id.startswith("sha256:")
    assert state.networks == (f"{project_name}_default",)
    assert {m["Destination"] for m in state.mounts} == {"/data", "/anon"}
    assert [(n.name, n.key) for n in observed.networks] == [(f"{project_name}_default",
                                                             "default")]
    assert observed.networks[0].config_hash == spec.network_config_hash(Project.from_dict(
        {"name": project_name, "networks": {"default": {"name": f"{project_name}_default",
                                                         "ipam": {}}}}).networks["default"])
    assert [(v.name, v.key) for v in observed.volumes] == [(f"{project_name}_data", "data")]

    await backend.start_container(container)
    (running,) = (await backend.observe(project_name)).containers
    assert running.state == "running" and running.status.startswith("Up")
    assert running.ports and running.ports[0]["PrivatePort"] == 80

    # Other projects are not ours; all_projects lists them too.
    everything = await backend.observe(project_name, all_projects=True)
    assert container in {c.id for c in everything.containers}


async def test_health_and_exit_codes_come_from_the_listing(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {
        "ok": {"command": ["sleep", "600"], "healthcheck": {
            "test": ["CMD", "true"], "interval": "1s"}},
        "sick": {"command": ["sleep", "600"], "healthcheck": {
            "test": ["CMD", "false"], "interval": "1s", "retries": 1}},
        "done": {"command": ["sh", "-c", "exit 3"]},
    })
    for service in project["services"]:
        await _up(backend, project, service)
    engine_checks = await backend.runs_healthchecks()

    async def settled() -> dict[str, Any] | None:
        states = {c.service: c for c in (await backend.observe(project_name)).containers}
        if not engine_checks:  # Podman without systemd: run them as composer does
            for service in ("ok", "sick"):
                if states[service].health == "starting":
                    await backend.run_healthcheck(states[service].id)
        if states["ok"].health == "healthy" and states["sick"].health == "unhealthy" \
                and states["done"].state == "exited":
            return states
        return None

    states = await _eventually(settled)
    assert states["done"].exit_code == 3 and states["done"].health is None
    assert states["ok"].exit_code is None


async def test_events_stream_the_project_and_stop_when_cancelled(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {"app": {"command": ["sh", "-c", "exit 0"]}})
    since = int(time.time()) - 1
    container = await _up(backend, project, "app")
    # Podman tells one more event after the die: its cleanup (conmon's, once the
    # container's resources are let go).
    last = "cleanup" if backend.is_podman else "die"
    seen: list[Any] = []
    with anyio.fail_after(60):
        async for event in backend.events(project_name, since=since):
            seen.append(event)
            if event.action == last:
                break
    actions = [e.action for e in seen]
    assert "start" in actions and "die" in actions and actions[-1] == last
    assert {e.container_id for e in seen} == {container}
    assert {(e.project, e.service) for e in seen} == {(project_name, "app")}
    die = next(e for e in seen if e.action == "die")
    assert die.attributes["exitCode"] == "0" and die.time_nano > 0

    # Nothing happens in this project now: cancelling the wait returns, although the
    # stream's thread is blocked reading. Were it not abandoned, only an event could
    # free it: a watchdog makes one after a minute, and the test fails on it.
    watchdog_fired = False
    async with anyio.create_task_group() as tg:
        async def watchdog() -> None:
            nonlocal watchdog_fired
            await anyio.sleep(60)
            watchdog_fired = True
            await backend.start_container(container)

        tg.start_soon(watchdog)
        with anyio.move_on_after(0.5):
            async for _ in backend.events(project_name):
                pytest.fail("no event expected, or the cancelled stream did not return "
                            "until the watchdog's event came")
        tg.cancel_scope.cancel()
    assert not watchdog_fired


async def test_logs_demultiplex_stdout_and_stderr(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {
        "plain": {"command": ["sh", "-c", "echo out; echo err >&2; echo out2"]},
        "tty": {"command": ["sh", "-c", "echo on-a-tty"], "tty": True},
    })
    plain = await _up(backend, project, "plain")
    tty = await _up(backend, project, "tty")
    assert await backend.wait_container(plain) == 0
    assert await backend.wait_container(tty) == 0

    chunks = [c async for c in backend.logs(plain, follow=False)]
    by_stream: dict[str, bytes] = {}
    for stream, data in chunks:
        by_stream[stream] = by_stream.get(stream, b"") + data
    assert by_stream == {"stdout": b"out\nout2\n", "stderr": b"err\n"}

    tail = b"".join(d for _, d in [c async for c in backend.logs(plain, follow=False,
                                                                   tail="1")])
    assert tail in (b"out2\n", b"err\n")

    raw = [c async for c in backend.logs(tty, follow=False, timestamps=True)]
    assert {s for s, _ in raw} == {"stdout"}
    assert b"on-a-tty\r\n" in b"".join(d for _, d in raw)


async def test_following_logs_can_be_cancelled(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {
        "ticker": {"command": ["sh", "-c", "echo first; while true; do sleep 30; done"]},
    })
    container = await _up(backend, project, "ticker")
    threads = threading.active_count()
    received: list[bytes] = []
    with anyio.fail_after(20):
        async for _, data in backend.logs(container, follow=True):
            received.append(data)
            break  # the stream must close and free its thread
    assert received == [b"first\n"]
    with anyio.fail_after(60):
        with anyio.move_on_after(0.5):
            async for _ in backend.logs(container, follow=True, tail="0"):
                pytest.fail("no new output expected")
    # The cancelled stream's socket is shut down, which frees its blocked thread back to
    # the pool (a stuck one would stay).
    with anyio.fail_after(60):
        while threading.active_count() > threads + 2:
            await anyio.sleep(0.05)


@pytest.mark.docker_only(
    "Docker's wording for killing a stopped container (Podman: can only "
    'kill running containers)')
async def test_lifecycle_calls(backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {
        "svc": {"command": ["sh", "-c", "trap 'exit 7' TERM; while true; do sleep 1; done"],
                "stop_grace_period": "5s"},
    })
    container = await _up(backend, project, "svc")
    await backend.pause_container(container)
    paused = await backend.inspect_container(container)
    assert (paused.state, paused.paused, paused.running) == ("paused", True, True)
    await backend.unpause_container(container)
    top = await backend.top_container(container)
    assert "PID" in top.titles and top.processes and len(top.processes[0]) == len(top.titles)

    await backend.stop_container(container, timeout=10)
    info = await backend.inspect_container(container)
    assert (info.state, info.exit_code, info.running) == ("exited", 7, False)
    assert info.finished_at > info.started_at

    await backend.start_container(container)
    await backend.kill_container(container, "SIGKILL")
    assert (await backend.inspect_container(container)).exit_code == 137
    with pytest.raises(ConflictError, match="is not running"):
        await backend.kill_container(container)

    await backend.rename_container(container, f"{project_name}-svc-renamed")
    assert (await backend.inspect_container(container)).name == f"{project_name}-svc-renamed"
    await backend.remove_container(container, volumes=True)
    with pytest.raises(NotFoundError, match="No such container"):
        await backend.inspect_container(container)


@pytest.mark.docker_only(
    "Docker's wording for a container name in use (Podman answers 500 with "
    'its own words; composer still maps it to ConflictError)')
async def test_errors_are_mapped_at_one_boundary(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {"one": {"command": ["sleep", "600"]}})
    await _up(backend, project, "one", start=False)
    with pytest.raises(ConflictError, match=r"^Error response from daemon: Conflict\. The "
                                            r"container name .* is already in use"):
        await _up(backend, project, "one", start=False)
    with pytest.raises(NotFoundError):
        await backend.remove_network(f"{project_name}_missing")
    with pytest.raises(NotFoundError):
        await backend.remove_volume(f"{project_name}_missing")
    await backend.start_container(f"{project_name}-one-1")
    # 403 on Engine 20.10, 409 on later ones: an EngineError either way.
    with pytest.raises(EngineError, match="active endpoints"):
        await backend.remove_network(f"{project_name}_default")
    assert await backend.image_exists(IMAGE)
    assert not await backend.image_exists("composer-test/never-built:nope")
    assert await backend.image_id("composer-test/never-built:nope") is None
    with pytest.raises(EngineError):
        await backend.create_container(f"{project_name}-bad", {"Image": IMAGE,
                                                               "HostConfig": {"Memory": -5}})
    # No registry (offline) or no such repository: one EngineError, quickly either way.
    with pytest.raises(EngineError, match="^Error response from daemon: "):
        await backend.pull_image(f"composer-test/{project_name}:never")


async def test_images_are_inspected_and_removed(
        backend: DockerBackend, project_name: str) -> None:
    tag = f"composer-test/{project_name}:tag"
    await backend.ping()
    backend._client.tag(IMAGE, f"composer-test/{project_name}", tag="tag")
    try:
        info = await backend.inspect_image(tag)
        assert info.id == await backend.image_id(IMAGE)
        assert tag in info.repo_tags and info.os == "linux" and info.size > 0
        assert info.platform.startswith("linux/") and info.created.startswith("20")
        (listed,) = [i for i in await backend.list_images() if tag in i.repo_tags]
        assert listed.id == info.id
    finally:
        await backend.remove_image(tag)
    assert not await backend.image_exists(tag)
    assert await backend.image_exists(IMAGE)


@pytest.mark.docker_only(
    "Podman 4.3.1 reports the container's network mode as bridge, not its "
    'first network')
async def test_second_network_connected_with_aliases(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {
        "app": {"command": ["sleep", "600"],
                "networks": {"default": None, "back": {"aliases": ["db-alias"],
                                                      "priority": 10}}},
    })
    project["networks"]["back"] = {"name": f"{project_name}_back", "ipam": {}}
    container = await _up(backend, project, "app", start=False)
    # The create body as the engine took it: read raw, beside the backend's typed view.
    networks = backend._client.inspect_container(container)["NetworkSettings"]["Networks"]
    expected_first = spec.api_at_least(backend.api_version, "1.44")
    assert set(networks) == {f"{project_name}_back", f"{project_name}_default"}
    assert networks[f"{project_name}_back"]["Aliases"][:3] == [
        f"{project_name}-app-1", "app", "db-alias"]
    assert networks[f"{project_name}_default"]["Aliases"][:2] == [f"{project_name}-app-1",
                                                                  "app"]
    assert (await backend.inspect_container(container)).network_mode == \
        f"{project_name}_back" or expected_first
    await backend.disconnect_network(f"{project_name}_default", container)
    await backend.start_container(container)
    info = await backend.inspect_container(container)
    assert set(info.ip_addresses) == {f"{project_name}_back"}


async def test_volumes_created_with_labels_and_removed(
        backend: DockerBackend, project_name: str) -> None:
    project = {"name": project_name, "volumes": {"v": {"name": f"{project_name}_v",
                                                       "labels": {"x": "y"}}}}
    name = await backend.create_volume(f"{project_name}_v",
                                       spec.volume_create_body(Project.from_dict(project), "v"))
    assert name == f"{project_name}_v"
    (volume,) = (await backend.observe(project_name)).volumes
    assert volume.labels["x"] == "y" and volume.labels[spec.LABEL_VOLUME] == "v"
    await backend.remove_volume(name)
    assert (await backend.observe(project_name)).volumes == ()


async def test_engine_calls_share_one_capacity_limiter(
        backend: DockerBackend, project_name: str) -> None:
    await backend.ping()
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()
    real = backend._client.inspect_image

    def held_inspect(image: str) -> Any:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        release.wait(60)  # held until every call is either in here or queued
        with lock:
            in_flight -= 1
        return real(image)

    backend._client.inspect_image = held_inspect
    limiter, _ = backend._limiters()
    async with anyio.create_task_group() as tg:
        for _ in range(30):
            tg.start_soon(backend.image_id, IMAGE)
        # However slowly the threads start, all 30 calls end up either in the engine
        # call or waiting for the limiter; only then are they let go.
        with anyio.fail_after(60):
            while in_flight + limiter.statistics().tasks_waiting < 30:
                await anyio.sleep(0.01)
        release.set()
    assert peak == 16


# -- exec, attach, waits -----------------------------------------------------------------------


async def test_exec_keeps_stdout_and_stderr_apart_with_the_exit_code(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {"box": {"command": ["sleep", "600"]}})
    container = await _up(backend, project, "box")
    result = await backend.exec_run(container, ExecConfig(
        ["sh", "-c", "echo out; echo err >&2; exit 3"]))
    assert result == ExecOutput(3, b"out\n", b"err\n")
    fed = await backend.exec_run(container, ExecConfig(["sh", "-c", "cat; echo done >&2"]),
                                 input=b"hello\n")
    assert fed == ExecOutput(0, b"hello\n", b"done\n")
    tty = await backend.exec_run(container, ExecConfig(["sh", "-c", "echo a; echo b >&2"],
                                                       tty=True))
    assert tty.stderr == b"" and tty.stdout.replace(b"\r\n", b"\n") == b"a\nb\n"

    # Step by step, as `composer exec` runs it.
    exec_id = await backend.exec_create(container, ExecConfig(
        ["sh", "-c", 'read x; echo "got $x $Y"; exit 5'], stdin=True, environment=["Y=1"]))
    stream = await backend.exec_start(exec_id, tty=False)

    def converse() -> list[tuple[str, bytes]]:
        stream.write(b"ping\n")
        stream.close_input()
        frames: list[tuple[str, bytes]] = []
        while batch := stream.read():
            frames += batch
        stream.close()
        return frames

    frames = await anyio.to_thread.run_sync(converse)
    assert b"".join(d for s, d in frames if s == "stdout") == b"got ping 1\n"

    async def ended() -> Any:
        info = await backend.exec_inspect(exec_id)
        return None if info.running else info

    info = await _eventually(ended)
    assert (info.exit_code, info.container_id) == (5, container)
    with pytest.raises(NotFoundError):
        await backend.exec_inspect("0" * 64)


async def test_attach_then_wait_then_start_loses_no_output_and_gives_the_exit_code(
        backend: DockerBackend, project_name: str) -> None:
    # `composer run`'s order: attach, register the wait, start.
    project = _project(project_name, {"job": {
        "command": ["sh", "-c", "read line; echo got $line; echo oops >&2; exit 4"],
        "stdin_open": True}})
    container = await _up(backend, project, "job", start=False)
    stream = await backend.attach(container, stdin=True)  # the engine says: no TTY
    assert stream.multiplexed
    waiter = await backend.wait_begin(container, "next-exit")
    await backend.start_container(container)

    def converse() -> list[tuple[str, bytes]]:
        stream.write(b"hi\n")
        frames: list[tuple[str, bytes]] = []
        while batch := stream.read():
            frames += batch
        stream.close()
        return frames

    with anyio.fail_after(30):
        frames = await anyio.to_thread.run_sync(converse)
        assert await waiter.exit_code() == 4
    assert b"".join(d for s, d in frames if s == "stdout") == b"got hi\n"
    assert b"".join(d for s, d in frames if s == "stderr") == b"oops\n"
    assert await backend.wait_container(container) == 4  # not running: at once


async def test_a_tty_session_is_raw_and_follows_the_resize(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {"term": {
        "command": ["sh", "-c", "read go; stty size"], "stdin_open": True, "tty": True}})
    container = await _up(backend, project, "term", start=False)
    stream = await backend.attach(container, stdin=True, tty=True)
    assert not stream.multiplexed
    waiter = await backend.wait_begin(container)
    await backend.start_container(container)
    await backend.resize_container(container, 30, 100)

    def converse() -> bytes:
        stream.write(b"go\n")
        out = b""
        while batch := stream.read():
            assert {s for s, _ in batch} == {"stdout"}
            out += b"".join(d for _, d in batch)
        stream.close()
        return out

    with anyio.fail_after(30):
        output = await anyio.to_thread.run_sync(converse)
        assert await waiter.exit_code() == 0
    assert b"30 100" in output


async def test_attached_output_from_before_the_start_loses_nothing(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {"talk": {
        "command": ["sh", "-c", "echo first; echo second >&2; echo third"]}})
    container = await _up(backend, project, "talk", start=False)
    frames: list[tuple[str, bytes]] = []
    attached = anyio.Event()

    async def read() -> None:
        async for batch in backend.attach_output(container, on_attached=attached.set):
            frames.extend(batch)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await attached.wait()
            await backend.start_container(container)
    assert b"".join(d for s, d in frames if s == "stdout") == b"first\nthird\n"
    assert b"".join(d for s, d in frames if s == "stderr") == b"second\n"
    batches = [b async for b in backend.log_batches(container, follow=False)]
    assert b"".join(d for batch in batches for _, d in batch).count(b"\n") == 3


# -- stats and files ---------------------------------------------------------------------------


@pytest.mark.needs_cgroup("its stats count no pids")
async def test_stats_are_typed_samples(backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {"load": {"command": ["sleep", "600"]}})
    container = await _up(backend, project, "load")
    sample = await backend.stats(container)
    assert sample.pids >= 1 and sample.memory_limit > 0 and sample.memory_usage > 0
    assert 0 <= sample.memory_percent <= 100 and sample.cpu_percent >= 0
    with anyio.fail_after(30):
        async for streamed in backend.stats_stream(container):
            assert streamed.pids >= 1
            break


async def test_files_go_in_and_out_as_tar_archives(
        backend: DockerBackend, project_name: str) -> None:
    project = _project(project_name, {"files": {"command": ["sleep", "600"]}})
    container = await _up(backend, project, "files")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mode = 3, 0o640
        tar.addfile(info, io.BytesIO(b"hi\n"))
    await backend.put_archive(container, "/tmp", buffer.getvalue())
    stat = await backend.stat_path(container, "/tmp/hello.txt")
    assert stat is not None
    assert (stat.name, stat.size, stat.mode & 0o777, stat.is_dir) == ("hello.txt", 3, 0o640,
                                                                      False)
    folder = await backend.stat_path(container, "/tmp")
    assert folder is not None and folder.is_dir
    assert await backend.stat_path(container, "/no/such/path") is None
    data = await backend.get_archive(container, "/tmp/hello.txt")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("hello.txt")
        assert member is not None and member.read() == b"hi\n"
    with pytest.raises(NotFoundError):
        await backend.stat_path(f"{project_name}-no-such-container", "/")


# -- the docker SDK internals the backend relies on --------------------------------------------


async def test_the_sdk_internals_the_backend_reaches_are_still_there(
        backend: DockerBackend, project_name: str) -> None:
    # composer.backends.docker.wire reaches below docker-py's public API in two places;
    # if docker-py, urllib3 or http.client change them, this fails first.
    project = _project(project_name, {"talk": {"command": ["sh", "-c", "echo hi; sleep 600"]}})
    container = await _up(backend, project, "talk")
    await backend.ping()
    client = backend._client
    # body_reader: urllib3's HTTPResponse._fp (http.client's response), its buffered fp.
    response = client.get(api_url(client, "/containers/{0}/logs", container),
                          params={"stdout": 1, "stderr": 1}, stream=True)
    try:
        reader = body_reader(response)
        assert callable(reader.read1)
        assert isinstance(response_socket(response), socket.socket)
    finally:
        response.close()
    # raw_socket: the socket.socket inside the SocketIO a hijacked connection comes as.
    hijacked = client.attach_socket(container, params={"stdout": 1, "stderr": 1, "stream": 1})
    try:
        assert isinstance(raw_socket(hijacked), socket.socket)
    finally:
        hijacked.close()
    exec_id = client.exec_create(container, ["true"])["Id"]
    started = client.exec_start(exec_id, socket=True)
    try:
        assert isinstance(raw_socket(started), socket.socket)
    finally:
        started.close()

"""``x-composer-ready`` without an engine: its declarations as the planner reads
them, and the probes and waits on the in-memory backend (time is virtual: the
loop's clock jumps to the next timer, so a 60 s timeout costs nothing and no
test depends on the machine's speed).

The in-memory engine gives every container the address 127.0.0.1, so the TCP and
HTTP probes here reach listeners these tests open on this host.
"""

from __future__ import annotations

import errno
import json
import socket
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from anyio.abc import SocketAttribute
from fakes import FakeBackend
from virtual_clock import VirtualClockLoop

from composer.backends.base import ContainerInfo, Observed
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import ValidationError, WaitError
from composer.plan.plan import Plan
from composer.plan.reconcile import UpPlanOptions, plan_up
from composer.plan.steps import (
    CreateContainer,
    ExecProbe,
    HttpProbe,
    LogProbe,
    ReadinessProbe,
    StartContainer,
    TcpProbe,
    WaitCondition,
)
from composer.runtime import ExecutionError, ProgressEvent, execute
from composer.runtime.readiness import (
    NotReadyError,
    Prober,
    _since,
    engine_is_local,
    listening_sockets,
    on_link,
    wait_ready,
)


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return "asyncio", {"loop_factory": VirtualClockLoop}


# -- planning: the declaration -----------------------------------------------------------------


def load(tmp_path: Path, text: str) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


def the_wait(plan: Plan) -> WaitCondition:
    found = [s.operation for s in plan if isinstance(s.operation, WaitCondition)]
    assert len(found) == 1, plan
    return found[0]


def test_every_probe_kind_goes_into_the_wait(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          db:
            image: busybox
            x-composer-ready:
              tcp: [5432, "8080"]
              http: {port: 8080, path: /health, status: 204}
              log: [ready to accept, {pattern: "listening on .*:5432", count: 2}]
              timeout: 5s
              probe_image: helper:1
          web:
            image: busybox
            depends_on: {db: {condition: service_healthy}}
    """)
    wait = the_wait(plan_up(project.model, Observed()))
    assert wait.probes == (TcpProbe(5432), TcpProbe(8080), HttpProbe(8080, "/health", 204),
                           LogProbe("ready to accept"), LogProbe("listening on .*:5432", 2))
    assert (wait.timeout, wait.probe_image, wait.healthcheck) == (5.0, "helper:1", False)
    assert wait.tcp == (5432, 8080)


def test_an_exec_probe_as_a_string_or_a_list(tmp_path: Path) -> None:
    for value, command in (('"pg_isready -q"', ("/bin/sh", "-c", "pg_isready -q")),
                           ("[pg_isready, -q]", ("pg_isready", "-q"))):
        project = load(tmp_path, f"""
            services:
              db:
                image: busybox
                x-composer-ready: {{exec: {value}}}
              web:
                image: busybox
                depends_on: {{db: {{condition: service_healthy}}}}
        """)
        assert the_wait(plan_up(project.model, Observed())).probes == (ExecProbe(command),)


@pytest.mark.anyio
async def test_an_exec_probe_passes_when_the_command_exits_zero() -> None:
    from composer.backends.memory import MemoryBackend
    from composer.runtime.readiness import check_exec

    engine = MemoryBackend()
    await engine.create_container("c1", {"Image": "busybox", "Labels": {}})
    await engine.start_container("c1")
    info = await engine.inspect_container("c1")
    prober = Prober(engine)
    passed = await check_exec(prober, ExecProbe(("sh", "-c", "exit 0")), info)
    failed = await check_exec(prober, ExecProbe(("sh", "-c", "echo not yet >&2; exit 3")), info)
    assert passed.ok and not failed.ok
    assert failed.detail == "exited 3: not yet"
    from composer import probes

    either = probes.any_of(probes.exec("exit 1"), probes.exec("exit 0"))
    neither = probes.any_of(probes.exec("exit 1"), probes.exec("exit 2"))
    assert (await prober.check(either, info)).ok
    result = await prober.check(neither, info)
    assert not result.ok and result.detail == (
        "exec /bin/sh -c exit 1: exited 1; exec /bin/sh -c exit 2: exited 2")


def test_defaults_of_the_declaration(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          db:
            image: busybox
            x-composer-ready: {tcp: 5432, http: {port: 80}}
    """)
    wait = the_wait(plan_up(project.model, Observed(), UpPlanOptions(wait=True)))
    assert wait.condition == "running_or_healthy"
    assert wait.probes == (TcpProbe(5432), HttpProbe(80, "/", 200))
    assert (wait.timeout, wait.probe_image) == (60.0, "busybox:latest")


def test_a_healthcheck_wins_over_the_extension(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          db:
            image: busybox
            healthcheck: {test: ["CMD", "true"]}
            x-composer-ready: {tcp: [5432], timeout: 5s}
          web:
            image: busybox
            depends_on: {db: {condition: service_healthy}}
    """)
    wait = the_wait(plan_up(project.model, Observed()))
    assert (wait.probes, wait.timeout, wait.healthcheck) == ((), None, True)


@pytest.mark.parametrize(("value", "path", "message"), [
    ("5432", "", "must be a mapping of probes"),
    ({"timeout": "5s"}, "", "declares no probe: give tcp, http, log or exec"),
    ({"tcp": [80], "delay": 1}, "", "unknown key 'delay'"),
    ({"tcp": []}, ".tcp", "tcp must list at least one port"),
    ({"tcp": [80, 70000]}, ".tcp[1]", "expected a port number, got 70000"),
    ({"tcp": ["http"]}, ".tcp[0]", "expected a port number, got 'http'"),
    ({"tcp": [True]}, ".tcp[0]", "expected a port number, got True"),
    ({"http": 80}, ".http", "expected a mapping with port, path, status"),
    ({"http": {"path": "/"}}, ".http", "port is required"),
    ({"http": {"port": 80, "verb": "HEAD"}}, ".http", "unknown key 'verb'"),
    ({"http": [{"port": 80}, {"port": 81, "path": "health"}]}, ".http[1].path",
     "expected a path starting with /, got 'health'"),
    ({"http": {"port": 80, "status": 700}}, ".http.status",
     "expected an HTTP status code (100-599), got 700"),
    ({"log": ""}, ".log", "expected a regular expression, got ''"),
    ({"log": "ready ("}, ".log", "invalid regular expression 'ready ('"),
    ({"log": {"pattern": "up", "count": 0}}, ".log.count", "expected a count of lines"),
    ({"log": []}, ".log", "must not be an empty list"),
    ({"tcp": [80], "timeout": "soon"}, ".timeout", 'time: invalid duration "soon"'),
    ({"tcp": [80], "timeout": "-1s"}, ".timeout", "timeout must be positive"),
    ({"tcp": [80], "probe_image": ""}, ".probe_image", "expected an image name"),
])
def test_a_malformed_declaration_is_refused_with_its_key_path(
        tmp_path: Path, value: Any, path: str, message: str) -> None:
    project = load(tmp_path, f"""
        services:
          db: {{image: busybox, x-composer-ready: {json.dumps(value)}}}
          web:
            image: busybox
            depends_on: {{db: {{condition: service_healthy}}}}
    """)
    with pytest.raises(ValidationError) as info:
        plan_up(project.model, Observed())
    assert str(info.value).startswith(f"services.db.x-composer-ready{path}: {message}")


def test_a_malformed_declaration_is_refused_even_when_nothing_waits(tmp_path: Path) -> None:
    # No dependent and no --wait: the declaration is unused, and still refused before
    # anything is created.
    project = load(tmp_path, """
        services:
          db: {image: busybox, x-composer-ready: {tcp: [0]}}
    """)
    with pytest.raises(ValidationError, match=r"^services\.db\.x-composer-ready\.tcp\[0\]"):
        plan_up(project.model, Observed())


# -- where probes go ---------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "local"), [
    ("unix:///var/run/docker.sock", True),
    ("/var/run/docker.sock", True),
    ("npipe:////./pipe/docker_engine", True),
    ("memory://", True),
    ("lxc://", True),  # LXC runs containers on this machine
    ("tcp://127.0.0.1:2375", True),
    ("tcp://[::1]:2375", True),
    ("ssh://me@127.0.0.1", True),
    ("tcp://203.0.113.9:2376", False),  # TEST-NET-3: never one of this machine's
    ("ssh://me@198.51.100.7", False),
    ("tcp://", False),
])
def test_engine_locality(address: str, local: bool) -> None:
    assert engine_is_local(address) is local


# /proc/net/route of a host with a default gateway (192.168.1.1 on eth0) and a Docker
# bridge (172.18.0.0/16 on br-1): values are the kernel's little-endian hex.
ROUTES = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
br-1\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
"""


@pytest.mark.skipif(__import__("sys").byteorder != "little", reason="the table is x86's")
@pytest.mark.parametrize(("ip", "expected"), [
    ("172.18.0.2", True),  # a container on the bridge: reached directly
    ("192.168.1.40", True),  # the LAN, on-link
    ("172.17.0.2", False),  # only via the default gateway: a proxy there may answer
    ("10.255.255.1", False),
    ("127.0.0.1", True),
    ("fd00::2", False),
    ("not-an-ip", False),
])
def test_only_addresses_on_a_network_of_this_machine_are_probed_directly(
        ip: str, expected: bool) -> None:
    assert on_link(ip, ROUTES) is expected


PROC_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 020012AC:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 020012AC:1538 030012AC:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1
  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:15B4 00000000000000000000000000000000:0000 0A 0 0
   1: 0000000000000000FFFF0000020012AC:0050 00000000000000000000000000000000:0000 0A 0 0
"""


def test_listening_sockets_of_proc_net_tcp() -> None:
    found = listening_sockets(PROC_TCP)
    assert found is not None
    by_port = {port: readings for readings, port in found}
    assert set(by_port) == {8080, 5432, 5556, 80}  # the established socket is not listed
    assert "127.0.0.1" in by_port[8080]
    assert "172.18.0.2" in by_port[5432]
    assert "::" in by_port[5556]
    assert "172.18.0.2" in by_port[80]  # an IPv4-mapped IPv6 listener
    assert listening_sockets("cat: can't open '/proc/net/tcp': No such file") is None


def test_log_lines_count_from_the_end_of_the_previous_run() -> None:
    def info(started: str, finished: str) -> ContainerInfo:
        return ContainerInfo(id="c", name="p-db-1", image="busybox", image_id="",
                             state="running", started_at=started, finished_at=finished)

    assert _since(info("2024-05-01T10:00:00.5Z", "0001-01-01T00:00:00Z")) is None
    assert _since(info("2024-05-01T10:00:05Z", "2024-05-01T10:00:01.25Z")) == \
        "1714557601.250000000"
    # Finished after it started: the container is not running its next run yet.
    assert _since(info("2024-05-01T10:00:00Z", "2024-05-01T10:00:03Z")) is None


# -- probes and waits on the in-memory engine ---------------------------------------------------


pytestmark = pytest.mark.anyio

BODY = {"Image": "busybox", "HostConfig": {}}


def body(service: str, ports: dict[str, int] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {**BODY, "Labels": {
        "com.docker.compose.project": "p", "com.docker.compose.service": service,
        "com.docker.compose.container-number": "1"}}
    if ports:
        out["HostConfig"] = {"PortBindings": {
            key: [{"HostIp": "127.0.0.1", "HostPort": str(port)}] for key, port in ports.items()}}
    return out


def plan_with_wait(probes: Sequence[ReadinessProbe], *, timeout: float = 60,
                   ports: dict[str, int] | None = None, image: str = "") -> Plan:
    """db (probed), then web once db is ready."""
    plan = Plan(project="p")
    created = plan.add(CreateContainer(name="p-db-1", body=body("db", ports), service="db",
                                       number=1, display="Container p-db-1"),
                       "service:db:1", "new")
    started = plan.add(StartContainer(container="p-db-1", display="Container p-db-1"),
                       "service:db:1", "created", (created,))
    ready = plan.add(WaitCondition(service="db", condition="service_healthy",
                                   containers=("p-db-1",), dependents=("web",),
                                   probes=tuple(probes), probe_image=image, timeout=timeout,
                                   display="Service db"),
                     "service:db", "service_healthy for web", (started,))
    web = plan.add(CreateContainer(name="p-web-1", body=body("web"), service="web", number=1,
                                   display="Container p-web-1"),
                   "service:web:1", "new", (ready,))
    plan.add(StartContainer(container="p-web-1", display="Container p-web-1"),
             "service:web:1", "created", (web,))
    return plan


async def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (it was free a moment ago)."""
    probe = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = int(probe.extra(SocketAttribute.local_port))
    await probe.aclose()
    return port


async def test_the_dependent_starts_only_once_the_port_accepts_connections() -> None:
    fake = FakeBackend()
    port = await closed_port()
    seen: list[ProgressEvent] = []
    opened_after: list[int] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: execute(plan_with_wait([TcpProbe(port)]), fake,
                                      events=seen.append))
        # Open the port once the waiter has found it closed a few times.
        while fake.inspections < 4:
            await anyio.sleep(0.1)
        opened_after.append(len(fake.calls))
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=port)
    await listener.aclose()
    assert "create_container p-web-1" not in fake.ops()[:opened_after[0]]
    assert fake.by_name("p-web-1").state == "running"
    lines = [f"{e.resource} {e.status}" for e in seen]
    assert lines.index("Container p-db-1 Healthy") < lines.index("Container p-web-1 Creating")


async def test_a_published_port_answered_by_a_proxy_is_not_readiness() -> None:
    # The engine's userland proxy accepts on the published host port whether or not
    # the container listens: only the container's own address counts.
    fake = FakeBackend()
    container_port = await closed_port()
    proxy = await anyio.create_tcp_listener(local_host="127.0.0.1")
    host_port = int(proxy.extra(SocketAttribute.local_port))
    plan = plan_with_wait([TcpProbe(container_port)], timeout=3,
                          ports={f"{container_port}/tcp": host_port})
    async with proxy:
        with pytest.raises(ExecutionError) as info:
            await execute(plan, fake)
    assert str(info.value) == (
        f'service "web": dependency failed to start: service "db" is not ready after 3s: '
        f"tcp port {container_port}: connection refused at 127.0.0.1:{container_port} "
        "(container p-db-1)")
    assert "create_container p-web-1" not in fake.ops()


async def test_a_timeout_without_dependents_names_the_service_and_the_port() -> None:
    fake = FakeBackend()
    port = await closed_port()
    plan = Plan(project="p")
    created = plan.add(CreateContainer(name="p-db-1", body=body("db"), service="db", number=1),
                       "service:db:1", "new")
    started = plan.add(StartContainer(container="p-db-1"), "service:db:1", "created",
                       (created,))
    plan.add(WaitCondition(service="db", condition="running_or_healthy",
                           containers=("p-db-1",), probes=(TcpProbe(port),), timeout=2),
             "service:db", "running_or_healthy", (started,))
    with pytest.raises(ExecutionError) as info:
        await execute(plan, fake)
    assert str(info.value) == (
        f'service "db": not ready after 2s: tcp port {port}: connection refused at '
        f"127.0.0.1:{port} (container p-db-1)")


class HttpServer:
    """A listener on 127.0.0.1 answering each request with the next of ``statuses``
    (the last one for ever after); ``requests`` are the request lines it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[str] = []
        self.port = 0

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
            self.port = int(listener.extra(SocketAttribute.local_port))
            task_status.started()
            await listener.serve(self.answer)

    async def answer(self, client: anyio.abc.SocketStream) -> None:
        async with client:
            data = b""
            while b"\r\n\r\n" not in data:
                data += await client.receive()
            self.requests.append(data.split(b"\r\n", 1)[0].decode())
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            await client.send(f"HTTP/1.1 {status} Whatever\r\nContent-Length: 0\r\n\r\n"
                              .encode())


async def test_the_http_probe_waits_for_the_status() -> None:
    fake = FakeBackend()
    server = HttpServer([503, 503, 200])
    seen: list[ProgressEvent] = []
    async with anyio.create_task_group() as tg:
        await tg.start(server.run)
        await execute(plan_with_wait([HttpProbe(server.port, "/health")]), fake,
                      events=seen.append)
        tg.cancel_scope.cancel()
    assert server.requests == ["GET /health HTTP/1.0"] * 3
    lines = [f"{e.resource} {e.status}" for e in seen]
    assert lines.index("Container p-db-1 Healthy") < lines.index("Container p-web-1 Creating")


async def test_the_http_probe_times_out_with_the_last_status() -> None:
    fake = FakeBackend()
    server = HttpServer([503])
    async with anyio.create_task_group() as tg:
        await tg.start(server.run)
        port = server.port
        with pytest.raises(ExecutionError, match=(
                rf'service "db" is not ready after 2s: http port {port} GET /ready '
                rf"\(want 204\): HTTP 503 from 127\.0\.0\.1:{port}/ready \(container p-db-1\)")):
            await execute(plan_with_wait([HttpProbe(port, "/ready", 204)], timeout=2), fake)
        tg.cancel_scope.cancel()


async def test_the_log_probe_waits_for_the_line() -> None:
    fake = FakeBackend()
    fake.script("db", output=[(0.0, "stdout", b"starting\n"),
                              (5.0, "stderr", b"LOG:  ready to accept connections\n")])
    seen: list[ProgressEvent] = []
    await execute(plan_with_wait([LogProbe("ready to accept")]), fake, events=seen.append)
    assert fake.by_name("p-web-1").state == "running"
    # On the engine's (virtual) timeline the line comes 5 s after db's start: web is
    # created after it, not on "starting".
    assert fake.time_of("create_container", "p-web-1") >= (
        fake.time_of("start_container", "p-db-1") + 5.0)


async def test_the_log_probe_counts_lines_of_the_current_run_only() -> None:
    fake = FakeBackend()
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")
    fake.write_output("p-db-1", b"ready\nready\n")
    await fake.stop_container("p-db-1")
    await fake.start_container("p-db-1")
    fake.write_output("p-db-1", b"ready\n")
    with pytest.raises(NotReadyError) as info:
        await wait_ready(fake, "p-db-1", [LogProbe("^ready$", 2)], service="db", timeout=2)
    assert info.value.detail == "1 of 2 lines match so far"
    assert str(info.value) == (
        "service \"db\" is not ready after 2s: log line matching '^ready$' 2 times: "
        "1 of 2 lines match so far (container p-db-1)")
    fake.write_output("p-db-1", b"ready\n")
    await wait_ready(fake, "p-db-1", [LogProbe("^ready$", 2)], service="db", timeout=2)


async def test_every_probe_must_pass_and_the_error_names_the_pending_one() -> None:
    fake = FakeBackend()
    fake.script("db", output=[(0.0, "stdout", b"ready\n")])
    port = await closed_port()
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")
    probes: list[ReadinessProbe] = [LogProbe("ready"), TcpProbe(port)]
    with pytest.raises(NotReadyError) as info:
        await wait_ready(fake, "p-db-1", probes, service="db", timeout=2)
    assert info.value.probe == TcpProbe(port)
    async with await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=port):
        await wait_ready(fake, "p-db-1", probes, service="db", timeout=2)


async def test_a_container_that_exits_fails_the_wait_at_once() -> None:
    fake = FakeBackend()
    fake.script("db", exit=(1.0, 3))
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")
    with pytest.raises(WaitError, match=r"^container p-db-1 exited \(3\)$"):
        await wait_ready(fake, "p-db-1", [TcpProbe(await closed_port())], timeout=60)


# -- from inside the container's namespace -----------------------------------------------------


def proc_net(listening: int | None) -> str:
    line = (f"   0: 00000000000000000000000000000000:{listening:04X} "
            "00000000000000000000000000000000:0000 0A 0 0\n") if listening else ""
    return ("  sl  local_address rem_address   st\n"
            "  sl  local_address                         remote_address   st\n" + line)


def unroutable_connect(calls: list[str]) -> Any:
    async def connect(host: str, port: int) -> anyio.abc.ByteStream:
        calls.append(f"{host}:{port}")
        raise OSError(errno.EHOSTUNREACH, "No route to host")
    return connect


async def test_a_connection_to_itself_is_not_a_listener() -> None:
    # TCP's self-connect: a connect to a local port nothing listens on can get that
    # very port as its source and succeed with nobody at the other end.
    fake = FakeBackend()
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")

    async def self_connect(host: str, port: int) -> Any:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.connect(sock.getsockname())  # simultaneous open with itself
        return await anyio.abc.SocketStream.from_socket(sock)

    async with Prober(fake, connect=self_connect) as prober:
        info = await fake.inspect_container("p-db-1")
        result = await prober.check(TcpProbe(5432), info)
    assert not result.ok
    assert result.detail == "connection refused at 127.0.0.1:5432"


async def test_an_unroutable_container_is_probed_from_inside_with_its_own_cat() -> None:
    fake = FakeBackend()
    listening: list[int] = []

    def exec_in_db(argv: Sequence[str], stdin: bytes, env: Any, workdir: str
                   ) -> tuple[int, bytes, bytes]:
        assert list(argv) == ["cat", "/proc/net/tcp", "/proc/net/tcp6"]
        return 0, proc_net(listening[0] if listening else None).encode(), b""

    fake.script("db", exec=exec_in_db)
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")
    calls: list[str] = []
    async with Prober(fake, connect=unroutable_connect(calls)) as prober:
        info = await fake.inspect_container("p-db-1")
        result = await prober.check(TcpProbe(5432), info)
        assert not result.ok and not result.cannot_run
        assert result.detail == ("nothing listens on port 5432 at 127.0.0.1 "
                                 "(read inside container p-db-1)")
        assert prober.unroutable[info.id] == "no route to host at 127.0.0.1:5432"
        listening.append(5432)
        assert (await prober.check(TcpProbe(5432), info)).ok
    assert calls == ["127.0.0.1:5432"]  # once found unroutable, never tried again
    assert not fake.ops("create_container")[1:]  # no helper was needed


async def test_without_cat_the_probe_runs_in_a_helper_sharing_the_namespace() -> None:
    fake = FakeBackend(images={"busybox": "sha256:b", "busybox:latest": "sha256:b"})
    seen: list[tuple[str, ...]] = []

    def exec_in_helper(argv: Sequence[str], stdin: bytes, env: Any, workdir: str
                       ) -> tuple[int, bytes, bytes]:
        seen.append(tuple(argv))
        if argv[0] == "cat":
            return 0, proc_net(5432).encode(), b""
        return 0, b"HTTP/1.0 200 OK\r\n\r\n", b""

    fake.script("", exec=exec_in_helper)  # the helper belongs to no service
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")
    info = await fake.inspect_container("p-db-1")
    async with Prober(fake, route="namespace") as prober:
        assert (await prober.check(TcpProbe(5432), info)).ok
        assert (await prober.check(HttpProbe(8080, "/health"), info)).ok
        helper = fake.by_name(next(n for n in (c.name for c in fake.containers.values())
                                   if n.startswith("p-db-1-probe-")))
        assert helper.body["HostConfig"] == {"NetworkMode": f"container:{info.id}",
                                             "AutoRemove": True}
        assert helper.body["Image"] == "busybox:latest"
    assert seen == [("cat", "/proc/net/tcp", "/proc/net/tcp6"),
                    ("timeout", "5", "nc", "-w", "1", "127.0.0.1", "8080")]
    assert len(fake.ops("create_container")) == 2  # one helper for both probes
    assert not any(c.name.startswith("p-db-1-probe-") for c in fake.containers.values())


async def test_without_a_helper_image_the_probe_says_it_cannot_run() -> None:
    fake = FakeBackend()  # busybox, but not busybox:latest
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")
    calls: list[str] = []
    with pytest.raises(NotReadyError) as info:
        async with Prober(fake, connect=unroutable_connect(calls)) as prober:
            await wait_ready(fake, "p-db-1", [HttpProbe(8080)], service="db", timeout=60,
                             prober=prober)
    assert info.value.cannot_run
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(
        'service "db": readiness cannot be checked: http port 8080 GET / (want 200): '
        "composer cannot reach container p-db-1 from here (no route to host at "
        "127.0.0.1:8080), and the probe helper image busybox:latest is not on the engine")
    assert anyio.current_time() < 60  # at once, not after the timeout


async def test_a_remote_engine_is_never_probed_directly() -> None:
    fake = FakeBackend()
    fake.address = "tcp://203.0.113.9:2376"
    fake.script("db", exec=lambda argv, stdin, env, wd: (0, proc_net(5432).encode(), b""))
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")
    calls: list[str] = []
    async with Prober(fake, connect=unroutable_connect(calls)) as prober:
        info = await fake.inspect_container("p-db-1")
        assert (await prober.check(TcpProbe(5432), info)).ok
        assert prober.unroutable[info.id] == (
            "the engine at tcp://203.0.113.9:2376 is on another machine")
    assert calls == []


async def test_a_rootless_engine_is_never_probed_directly() -> None:
    # A rootless engine's networks live in its own namespace: a route here to the
    # same subnet (a rootful network's) would lead to another container.
    fake = FakeBackend()
    fake.rootless = True
    fake.script("db", exec=lambda argv, stdin, env, wd: (0, proc_net(None).encode(), b""))
    await fake.create_container("p-db-1", body("db"))
    await fake.start_container("p-db-1")
    calls: list[str] = []
    async with Prober(fake, connect=unroutable_connect(calls)) as prober:
        info = await fake.inspect_container("p-db-1")
        result = await prober.check(TcpProbe(5432), info)
        assert result.detail == ("nothing listens on port 5432 at 127.0.0.1 "
                                 "(read inside container p-db-1)")
        assert prober.unroutable[info.id] == (
            "the engine is rootless: its networks are not this machine's")
    assert calls == []


async def test_exec_events_do_not_wake_the_waiters() -> None:
    # Each probe run inside a container (and each healthcheck run) is an exec the
    # engine reports: waking the waiters for those would re-run the probes at once.
    from composer.backends.base import EngineEvent
    from composer.runtime.executor import _EventHub

    class Events:
        async def events(self, project: str, since: int | None = None) -> Any:
            for action in ("exec_create: cat /proc/net/tcp", "exec_start: cat /proc/net/tcp",
                           "exec_die", "die"):
                yield EngineEvent(action, "c1", "db", project)

    hub = _EventHub(Events(), "p", 0)  # type: ignore[arg-type]
    await hub.run()
    assert hub.version("db") == 1  # the die; no exec

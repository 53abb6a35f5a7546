"""The library's pure parts, and its handle on the in-memory engine (no Docker):
probes, results, errors by kind, the project graph, the config hash, open()'s
naming and teardown."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

import composer
from composer import probes
from composer.backends.memory import MemoryBackend
from composer.backends.types import ContainerState, Frame
from composer.library.logstream import LogStream, by_time, parse_time
from composer.library.project import unique_name
from composer.library.results import LogLine


def test_probes_are_values_and_flatten() -> None:
    both = probes.all_of(probes.tcp(5432), [probes.http(80, "/h", 204), probes.tcp(5432)])
    assert both == (probes.tcp(5432), probes.http(80, "/h", 204))
    assert str(probes.http(80, "/h", 204)) == "http port 80 GET /h (want 204)"
    assert str(probes.log("ready", 2)) == "log line matching 'ready' 2 times"
    assert probes.exec("pg_isready") == probes.exec(["/bin/sh", "-c", "pg_isready"])
    assert str(probes.exec(["true"])) == "exec true"
    with pytest.raises(TypeError):
        probes.all_of("tcp 80")  # type: ignore[arg-type]
    either = probes.any_of(probes.tcp(5432), probes.any_of(probes.log("ready"), probes.tcp(1)))
    assert str(either) == "any of (tcp port 5432, log line matching 'ready', tcp port 1)"
    assert probes.all_of(either, probes.tcp(80)) == (either, probes.tcp(80))


def test_exec_result_check_raises_by_kind() -> None:
    ok = composer.ExecResult(0, "out\n", "", service="web", cmd=("true",))
    assert ok.check() is ok and ok.ok
    bad = composer.ExecResult(2, "", "no such file\n", service="web", cmd=("ls", "/x"))
    with pytest.raises(composer.ExecFailedError) as caught:
        bad.check()
    error = caught.value
    assert (error.service, error.cmd, error.returncode, error.stderr) == (
        "web", ("ls", "/x"), 2, "no such file\n")
    assert str(error) == 'service "web": ls /x exited 2: no such file'
    assert isinstance(error, composer.EngineError) and error.exit_code == 1


def test_endpoint_and_times() -> None:
    assert composer.Endpoint("127.0.0.1", 8080).url("/x") == "http://127.0.0.1:8080/x"
    assert composer.Endpoint("::1", 80).url() == "http://[::1]:80/"
    assert parse_time("2026-12-05T01:02:03.123456789Z") == datetime(
        2026, 12, 5, 1, 2, 3, 123456, tzinfo=UTC)
    assert parse_time("hello") is None


def test_not_ready_error_shows_its_context() -> None:
    error = composer.NotReadyError(service="db", container="p-db-1", probe=probes.tcp(5432),
                                   detail="connection refused at 10.0.0.2:5432", timeout=3)
    assert str(error) == ('service "db" is not ready after 3s: tcp port 5432: connection '
                          "refused at 10.0.0.2:5432 (container p-db-1)")
    full = error.with_context(health_log=("t exit 1: nope",), logs_tail=("booting",))
    assert str(full).splitlines()[1:] == ["health log:", "  t exit 1: nope", "last logs:",
                                          "  booting"]
    assert isinstance(full, composer.WaitError) and full.probe == probes.tcp(5432)
    assert full.last_error == full.detail == "connection refused at 10.0.0.2:5432"


def test_unique_names() -> None:
    names = {unique_name() for _ in range(100)}
    assert len(names) == 100 and all(n.startswith("composer-") for n in names)


CHAIN = textwrap.dedent("""\
    services:
      db:
        image: busybox
        healthcheck: {test: ["CMD", "true"]}
      migrate:
        image: busybox
        depends_on: {db: {condition: service_healthy}}
      app:
        image: busybox
        ports: ["8080:80"]
        links: [db]
        volumes_from: [migrate]
        depends_on:
          migrate: {condition: service_completed_successfully, required: false}
      sidecar:
        image: busybox
        network_mode: "service:app"
    """)


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    (tmp_path / "compose.yaml").write_text(CHAIN)
    return tmp_path / "compose.yaml"


@pytest.mark.anyio
async def test_graph_config_hash_and_teardown_on_the_memory_engine(chain: Path) -> None:
    engine = MemoryBackend(images={"busybox": "sha256:" + "0" * 64})
    async with composer.open([str(chain)], backend=engine) as project:
        graph = project.graph
        assert set(graph.nodes) == {"db", "migrate", "app", "sidecar"}
        assert graph.edges["app", "migrate"] == {
            "kind": "depends_on", "condition": "service_completed_successfully",
            "required": False, "restart": False}
        assert graph.edges["app", "db"]["kind"] == "links"
        assert graph.edges["sidecar", "app"]["kind"] == "network_mode"
        assert graph.nodes["app"]["ports"] == ("8080",)
        assert graph.nodes["db"]["healthcheck"] is True
        first_hash = project.config_hash
        with pytest.raises(composer.NotFoundError) as nothing:  # not up: never "ready"
            await project.service("db").ready(probes.tcp(1), timeout=1)
        assert (nothing.value.kind, nothing.value.name) == ("container", "db-1")
        await project.up(["db"], wait=False)
        assert [(r.service, r.state) for r in await project.ps()] == [("db", "running")]
        result = await project.exec("db", ["echo", "hi"])
        assert (result.exit_code, result.stdout) == (0, "hi\n")
        name = project.name
    observed = await engine.observe(name)
    assert (observed.containers, observed.networks) == ((), ())
    async with composer.open([str(chain)], backend=engine, name="other") as again:
        assert again.config_hash == first_hash  # the name is not configuration
    chain.write_text(CHAIN.replace("8080:80", "8081:80"))
    async with composer.open([str(chain)], backend=engine, name="other") as changed:
        assert changed.config_hash != first_hash


def test_the_sync_facade_refuses_a_running_loop(chain: Path) -> None:
    import composer.sync

    async def inside() -> None:
        with composer.sync.open([str(chain)], backend=MemoryBackend()):
            raise AssertionError("opened inside a loop")

    with pytest.raises(composer.ComposerError, match="inside a running event loop"):
        anyio.run(inside)


def test_import_composer_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, composer; composer.__version__; "
            "print(sorted(m for m in ('yaml', 'docker', 'anyio', 'networkx', 'jsonschema') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def _state(service: str) -> ContainerState:
    return ContainerState(id=f"id-{service}", name=f"p-{service}-1", project="p",
                          service=service, number=1, oneoff=False, state="running",
                          status="", health=None, exit_code=None, config_hash="",
                          image="busybox", labels={})


class _TwoWriters:
    """A backend whose ``logs`` gives each container's lines, timestamped, the
    later container's first: what arrives is not what happened."""

    OUTPUT = {
        "id-a": [("stdout", "2026-01-01T00:00:01.000000001Z a1"),
                 ("stderr", "2026-01-01T00:00:03Z a3"),
                 ("stdout", "no time, after a3")],
        "id-b": [("stdout", "2026-01-01T00:00:02Z b2"), ("stdout", "2026-01-01T00:00:04Z b4")],
    }

    def __init__(self) -> None:
        self.b_done = anyio.Event()

    async def logs(self, container: str, **_: object) -> object:
        if container == "id-a":
            await self.b_done.wait()  # a arrives last
        for stream, line in self.OUTPUT[container]:
            yield Frame(stream, (line + "\n").encode())
        if container == "id-b":
            self.b_done.set()


def test_lines_merge_by_time_stably() -> None:
    def line(container: str, text: str, second: int | None) -> LogLine:
        time = None if second is None else datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC)
        return LogLine("s", container, "stdout", time, text)

    lines = [line("b", "b2", 2), line("b", "b2 again", 2), line("a", "untimed first", None),
             line("a", "a1", 1), line("a", "after a1", None), line("b", "b3", 3)]
    assert [x.text for x in by_time(lines)] == [
        "untimed first", "a1", "after a1", "b2", "b2 again", "b3"]


@pytest.mark.anyio
async def test_logs_without_follow_come_merged_by_time() -> None:
    async def containers() -> list[ContainerState]:
        return [_state("a"), _state("b")]

    async with anyio.create_task_group() as group:
        stream = LogStream(_TwoWriters(), group, containers,  # type: ignore[arg-type]
                           follow=False, since=None, tail="all")
        lines = [line async for line in stream]
    assert [(x.container, x.stream, x.text) for x in lines] == [
        ("p-a-1", "stdout", "a1"), ("p-b-1", "stdout", "b2"), ("p-a-1", "stderr", "a3"),
        ("p-a-1", "stdout", "no time, after a3"), ("p-b-1", "stdout", "b4")]
    assert lines[0].time == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)

"""composer's pytest plugin, run as users run it: pytest in a subprocess on a
small project, on the real engine. Each run's test module records the project
names it was given in a file, so the test can check them and clean up after
them whatever happens."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from engines import api_client
from waiting import wait_until

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "pytest-demo"
LABEL = "com.docker.compose.project"

COMPOSE = textwrap.dedent("""\
    services:
      app:
        image: busybox:latest
        init: true
        command: ["sh", "-c", "echo app started; exec sleep 600"]
    """)


def _pytest(folder: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=folder, capture_output=True, text=True, timeout=600,
                          **kwargs)  # type: ignore[call-overload]


def _projects(engine: str, working_dir: str | None = None) -> dict[str, set[str]]:
    """Every compose project on the engine -> its container IDs (only those with
    containers made in ``working_dir``, when given)."""
    client = api_client(engine)
    try:
        out: dict[str, set[str]] = {}
        for c in client.containers(all=True, filters={"label": LABEL}):
            if working_dir is None or c["Labels"].get(f"{LABEL}.working_dir") == working_dir:
                out.setdefault(c["Labels"][LABEL], set()).add(c["Id"])
        if working_dir is not None:
            return out
        for n in client.networks(filters={"label": LABEL}):
            out.setdefault(n["Labels"][LABEL], set())
        return out
    finally:
        client.close()


@pytest.fixture
def project_dir(tmp_path: Path, engine: str,
                cleanup_project: Callable[[str], str]) -> Iterator[Path]:
    """A folder with compose.yaml and a names file; every name recorded there is
    cleaned up after the test."""
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "pytest.ini").write_text("[pytest]\ncompose_files = compose.yaml\n")
    yield tmp_path
    names = tmp_path / "names"
    if names.is_file():
        for line in names.read_text().split():
            cleanup_project(line.split(":")[0])


RECORDING = textwrap.dedent("""\
    import os, pathlib
    NAMES = pathlib.Path(__file__).parent / "names"

    def record(project):
        container = project.ps()[0].id if project.ps() else "-"
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with NAMES.open("a") as f:
            f.write(f"{project.name}:{container}:{worker}\\n")
    """)


def _names(folder: Path) -> list[tuple[str, str, str]]:
    path = folder / "names"
    if not path.is_file():
        return []
    return [tuple(line.split(":")) for line in path.read_text().split()]  # type: ignore[misc]


def test_the_demo_passes_and_a_failure_reports_ps_and_logs(engine: str) -> None:
    before = set(_projects(engine))
    passed = _pytest(DEMO)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "4 passed" in passed.stdout
    failed = _pytest(DEMO, "failing")
    assert failed.returncode == 1
    out = failed.stdout
    ps = out[out.index("compose ps (pt"):]
    assert "-web-1  web  running (healthy)" in ps
    assert "since the test began) ---" in ps and "-web-1 | web ready" in ps
    assert "AssertionError: assert 'pong\\n' == 'hello\\n'" in out
    # Both runs took their stacks down (other tests may run beside: only the
    # plugin's names count).
    assert {p for p in _projects(engine) if p.startswith("pt")} <= before


def test_unique_names_under_xdist_and_cleanup(engine: str, project_dir: Path) -> None:
    (project_dir / "test_many.py").write_text(RECORDING + textwrap.dedent("""\
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_one(compose_project, n):
            record(compose_project)
            assert compose_project.exec("app", ["echo", str(n)]).stdout == f"{n}\\n"
        """))
    result = _pytest(project_dir, "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    names = _names(project_dir)
    assert len(names) == 4 and len({name for name, _, _ in names}) == 4
    assert {worker for _, _, worker in names} == {"gw0", "gw1"}
    assert all(name.startswith("pt") and f"-{worker}-" in name for name, _, worker in names)
    left = _projects(engine)
    assert not [name for name, _, _ in names if name in left]


def test_workers_share_one_stack_the_last_takes_it_down(engine: str,
                                                         project_dir: Path) -> None:
    (project_dir / "test_shared.py").write_text(RECORDING + textwrap.dedent("""\
        import pytest

        pytestmark = pytest.mark.compose(shared=True)

        @pytest.mark.parametrize("n", range(6))
        def test_one(compose_project, n):
            record(compose_project)
        """))
    result = _pytest(project_dir, "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    names = _names(project_dir)
    assert len(names) == 6 and {worker for _, _, worker in names} == {"gw0", "gw1"}
    assert len({(name, container) for name, container, _ in names}) == 1  # one stack
    assert "-shared-" in names[0][0]
    assert names[0][0] not in _projects(engine)


def test_a_shared_stack_outlives_a_worker_that_finishes_first(engine: str,
                                                               project_dir: Path) -> None:
    """One worker ends its session before the other needs the stack: the stack
    stays up for the other (both counted in at collection), then goes down."""
    (project_dir / "conftest.py").write_text(textwrap.dedent("""\
        import fcntl, os, pathlib
        import pytest

        HERE = pathlib.Path(__file__).parent
        WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

        def pytest_configure(config):
            # Held until this worker's session has ended (xdist hands out no
            # test before every worker has collected, so all hold theirs by then).
            config.alive = open(HERE / f"alive-{WORKER}", "w")
            fcntl.flock(config.alive, fcntl.LOCK_EX)

        @pytest.hookimpl(trylast=True)  # after the plugin has ended its stacks
        def pytest_sessionfinish(session):
            session.config.alive.close()
        """))
    (project_dir / "test_first.py").write_text(RECORDING + textwrap.dedent("""\
        import pytest

        @pytest.mark.compose(shared=True)
        def test_first(compose_project):
            record(compose_project)
        """))
    (project_dir / "test_later.py").write_text(RECORDING + textwrap.dedent("""\
        import fcntl, os
        import pytest

        def test_wait_for_the_other_worker_to_finish():
            own = f"alive-{os.environ['PYTEST_XDIST_WORKER']}"
            for path in NAMES.parent.glob("alive-gw*"):  # workers, not the controller
                if path.name != own:
                    with open(path) as other:
                        fcntl.flock(other, fcntl.LOCK_SH)  # until its session ended

        @pytest.mark.compose(shared=True)
        def test_later(compose_project):
            record(compose_project)
        """))
    result = _pytest(project_dir, "-n", "2", "--dist", "loadfile")  # a file a worker
    assert result.returncode == 0, result.stdout + result.stderr
    names = _names(project_dir)
    assert len(names) == 2 and {worker for _, _, worker in names} == {"gw0", "gw1"}
    assert len({(name, container) for name, container, _ in names}) == 1  # not remade
    assert names[0][0] not in _projects(engine)


def test_x_stops_and_still_cleans_up(engine: str, project_dir: Path) -> None:
    (project_dir / "test_x.py").write_text(RECORDING + textwrap.dedent("""\
        def test_a(compose_project):
            record(compose_project)
            assert False, "first failure"

        def test_b(compose_project):
            record(compose_project)
        """))
    result = _pytest(project_dir, "-x", "--compose-logs-dir", "saved")
    assert result.returncode == 1 and "1 failed" in result.stdout
    names = _names(project_dir)
    assert len(names) == 1 and names[0][0] not in _projects(engine)
    # The failure's report, also kept as a file named after the test.
    saved = (project_dir / "saved" / "test_x.py_test_a.log").read_text()
    assert saved.startswith("# ps\n") and f"{names[0][0]}-app-1" in saved
    assert "app started" in saved.split("# logs\n", 1)[1]


BLOCKING = RECORDING + textwrap.dedent("""\
    import signal

    def test_block(compose_project):
        record(compose_project)
        (NAMES.parent / "ready").write_text("ready")
        while True:
            signal.pause()  # until SIGINT (KeyboardInterrupt) or SIGKILL
    """)


def _as_at_a_terminal() -> None:
    """(In the child, before exec.) SIGINT as Ctrl-C at a terminal finds pytest:
    handled. A suite started by a shell in the background (``make ... &``, a CI
    runner's) has SIGINT ignored, its children inherit that, and Python installs no
    KeyboardInterrupt handler for an ignored SIGINT: the signal would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_blocking(folder: Path, name: str = "test_block.py") -> subprocess.Popen[str]:
    (folder / name).write_text(BLOCKING)
    child = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                              name], cwd=folder, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             preexec_fn=_as_at_a_terminal)
    wait_until(lambda: (folder / "ready").is_file() or child.poll() is not None,
               what="the test to hold its stack", timeout=120)
    assert child.poll() is None, child.stdout.read() if child.stdout else ""
    return child


def test_ctrl_c_takes_the_stack_down(engine: str, project_dir: Path) -> None:
    child = _start_blocking(project_dir)
    (name, _, _), = _names(project_dir)
    assert name in _projects(engine)
    child.send_signal(signal.SIGINT)
    output, _ = child.communicate(timeout=300)
    assert child.returncode == 2, output  # pytest's "interrupted"
    assert "KeyboardInterrupt" in output
    assert name not in _projects(engine)


NEVER_HEALTHY = textwrap.dedent("""\
    services:
      app:
        image: busybox:latest
        init: true
        command: ["sleep", "600"]
        healthcheck:
          test: ["CMD", "false"]
          interval: 1s
          retries: 1000
    """)


def test_ctrl_c_while_the_stack_starts_takes_it_down(engine: str, project_dir: Path,
                                                     cleanup_project: Callable[[str], str]
                                                     ) -> None:
    (project_dir / "compose.yaml").write_text(NEVER_HEALTHY)
    (project_dir / "test_setup.py").write_text(RECORDING + textwrap.dedent("""\
        def test_never_runs(compose_project):
            record(compose_project)
        """))
    child = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                             cwd=project_dir, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             preexec_fn=_as_at_a_terminal)
    try:
        def starting() -> list[str]:
            return [p for p in _projects(engine, working_dir=str(project_dir))
                    if p.startswith("pt")]
        # Waiting for app to be healthy, which it never is: set-up, not the test.
        wait_until(lambda: starting() or child.poll() is not None,
                   what="the stack to be started", timeout=120)
        assert child.poll() is None, child.stdout.read() if child.stdout else ""
        name, = starting()
        cleanup_project(name)
        child.send_signal(signal.SIGINT)
        output, _ = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 2, output
    assert "KeyboardInterrupt" in output and not _names(project_dir)
    assert name not in _projects(engine)


def test_a_killed_runs_stack_is_removed_by_the_next_run_a_live_ones_is_not(
        engine: str, project_dir: Path, tmp_path_factory: pytest.TempPathFactory,
        cleanup_project: Callable[[str], str]) -> None:
    child = _start_blocking(project_dir)
    (name, _, _), = _names(project_dir)
    other = tmp_path_factory.mktemp("other")
    (other / "compose.yaml").write_text(COMPOSE)
    (other / "pytest.ini").write_text("[pytest]\ncompose_files = compose.yaml\n")
    (other / "test_quick.py").write_text("def test_q(compose_project):\n"
                                         "    assert compose_project.ps()\n")
    # A project the plugin did not create, though named as it names its own.
    foreign = cleanup_project(f"pt{os.urandom(4).hex()}-main-1")
    made = subprocess.run([sys.executable, "-m", "composer", "-p", foreign, "up", "-d"],
                          cwd=other, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    try:
        alive = _pytest(other)
        assert alive.returncode == 0, alive.stdout
        assert name in _projects(engine)  # a live run's stack is left alone
        assert "left by killed runs" not in alive.stdout
    finally:
        child.kill()  # SIGKILL: no teardown at all
        child.communicate(timeout=60)
    assert name in _projects(engine)
    after = _pytest(other)
    assert after.returncode == 0, after.stdout
    assert f"composer: removed 1 stack(s) left by killed runs: {name}" in after.stdout
    assert name not in _projects(engine)
    assert foreign in _projects(engine)  # never the plugin's: never touched


def test_keep_on_failure_keeps_and_a_rerun_reuses_when_the_hash_matches(
        engine: str, project_dir: Path, cleanup_project: Callable[[str], str]) -> None:
    (project_dir / "test_keep.py").write_text(RECORDING + textwrap.dedent("""\
        import os

        def test_k(compose_project):
            record(compose_project)
            assert os.environ.get("PASS") == "1"
        """))
    first = _pytest(project_dir, "--compose-keep=on-failure")
    assert first.returncode == 1
    (name, container, _), = _names(project_dir)
    cleanup_project(name)
    assert name.startswith("ptk") and container in _projects(engine)[name]  # kept
    assert f"composer: kept stack {name}" in first.stdout
    # Another configuration: the kept stack is made again, under the same name.
    (project_dir / "compose.yaml").write_text(COMPOSE.replace("sleep 600", "sleep 601"))
    second = _pytest(project_dir, "--compose-keep=on-failure")
    assert second.returncode == 1
    assert f"composer: recreated kept stack {name}: its configuration changed" \
        in second.stdout
    name2, container2, _ = _names(project_dir)[-1]
    assert name2 == name and container2 != container
    assert _projects(engine)[name] == {container2}  # the old container is gone
    # The same configuration: reused as it is, then taken down (the test passes).
    third = _pytest(project_dir, "--compose-keep=on-failure",
                    env={**os.environ, "PASS": "1"})
    assert third.returncode == 0, third.stdout
    assert _names(project_dir)[-1][:2] == (name, container2)  # the same stack, reused
    assert "recreated" not in third.stdout
    assert name not in _projects(engine)  # passed: taken down


def test_the_plugin_is_inert_for_tests_that_do_not_use_it(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        "import sys\n"
        "def test_plain():\n"
        "    assert not {'docker', 'yaml', 'anyio'} & set(sys.modules)\n")
    result = _pytest(tmp_path, "-p", "no:anyio", "-p", "no:hypothesispytest")
    assert result.returncode == 0, result.stdout
    # (The temporary folder's path names the user, who may be called composer-...)
    shown = result.stdout.replace("composer-orchestrator", "").replace(str(tmp_path), "")
    assert "composer" not in shown.replace(getpass.getuser(), "")


def test_the_async_fixture_for_anyio_tests(engine: str, project_dir: Path) -> None:
    (project_dir / "test_async.py").write_text(textwrap.dedent("""\
        import pathlib
        import pytest

        @pytest.fixture(params=["asyncio", "trio"])
        def anyio_backend(request):
            return request.param

        @pytest.mark.anyio
        async def test_a(async_compose_project):
            with (pathlib.Path(__file__).parent / "names").open("a") as f:
                f.write(f"{async_compose_project.name}:-:main\\n")
            result = await async_compose_project.exec("app", ["echo", "async"])
            assert result.stdout == "async\\n"

        @pytest.mark.anyio
        async def test_fails(async_compose_project, anyio_backend):
            assert anyio_backend == "neither"
        """))
    result = _pytest(project_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 passed" in result.stdout and "2 failed" in result.stdout
    assert result.stdout.count("-app-1  app  running") == 2  # each failure's report
    assert result.stdout.count("-app-1 | app started") == 2
    names = [name for name, _, _ in _names(project_dir)]
    assert len(set(names)) == 2 and not set(names) & set(_projects(engine))
    assert not [p for p in _projects(engine) if p.startswith("pt")
                and any(p.startswith(n.rsplit("-", 1)[0]) for n in names)]

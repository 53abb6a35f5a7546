"""The engine commands as a user runs them: ``composer`` as a subprocess against a
real Docker Engine.

Each test gets its own project name (``ct<8 hex>``) and folder; a finaliser
removes every container, network and volume carrying that project's label with
the docker SDK directly, whatever the test left behind. The tests skip when no
engine answers (``DOCKER_HOST`` or the default socket) or ``busybox:latest`` is
not there (``scripts/engine/`` builds it offline).
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from waiting import Streaming, wait_until

from .cleanup import engine_client

pytestmark = pytest.mark.engine

PROJECT_LABEL = "com.docker.compose.project"
IMAGE = "busybox:latest"
SLOW = 120.0  # hang guard for commands that start containers; no test asserts on it

BASE = """\
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "80"]
    ports: ["127.0.0.1::80", "5353/udp"]
    stop_signal: SIGKILL
  worker:
    image: busybox:latest
    command: ["sleep", "300"]
    depends_on: [web]
    stop_signal: SIGKILL
    volumes: ["data:/data"]
volumes:
  data: {}
"""


@pytest.fixture(scope="module")
def engine() -> Any:
    """A docker SDK client on the engine the tests use; skips when there is none."""
    return engine_client(IMAGE)


def remove_project(client: Any, name: str) -> None:
    """Remove everything labelled with project ``name``; never fails."""
    label = {"label": f"{PROJECT_LABEL}={name}"}
    listings: list[tuple[Callable[[], list[Any]], Callable[[Any], None]]] = [
        (lambda: list(client.containers.list(all=True, filters=label)),
         lambda c: c.remove(force=True, v=True)),
        (lambda: list(client.networks.list(filters=label)), lambda n: n.remove()),
        (lambda: list(client.volumes.list(filters=label)), lambda v: v.remove(force=True)),
    ]
    for listing, remove in listings:
        try:
            items = listing()
        except Exception:
            continue
        for item in items:
            try:
                remove(item)
            except Exception:
                pass


@dataclass
class Project:
    """A test's project: its name, folder, and a way to run composer on it."""

    name: str
    folder: Path
    client: Any
    run_composer: Callable[..., Any]

    def write(self, text: str, filename: str = "compose.yaml") -> None:
        (self.folder / filename).write_text(text)

    def run(self, *args: str, timeout: float = SLOW, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> Any:
        """``composer -p NAME ARGS...`` in the project folder; asserts no traceback."""
        result = self.run_composer("-p", self.name, *args, cwd=cwd or self.folder,
                                   timeout=timeout, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def ok(self, *args: str, **kwargs: Any) -> Any:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, f"{args}: {result.stderr}"
        return result

    def containers(self, **filters: str) -> dict[str, Any]:
        """The project's containers by name (all states)."""
        labels = [f"{PROJECT_LABEL}={self.name}"]
        labels += [f"com.docker.compose.{k}={v}" for k, v in filters.items()]
        found = self.client.containers.list(all=True, filters={"label": labels})
        return {c.name: c for c in found}

    def states(self) -> dict[str, str]:
        return {name: c.status for name, c in self.containers().items()}

    def ids(self) -> dict[str, str]:
        return {name: c.id for name, c in self.containers().items()}

    def networks(self) -> list[str]:
        found = self.client.networks.list(filters={"label": f"{PROJECT_LABEL}={self.name}"})
        return sorted(n.name for n in found)

    def volumes(self) -> list[str]:
        found = self.client.volumes.list(filters={"label": f"{PROJECT_LABEL}={self.name}"})
        return sorted(v.name for v in found)


@pytest.fixture
def project(engine: Any, tmp_path: Path, run_composer: Any) -> Iterator[Project]:
    name = f"ct{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "proj"
    folder.mkdir()
    proj = Project(name, folder, engine, run_composer)
    proj.write(BASE)
    try:
        yield proj
    finally:
        remove_project(engine, name)


def one_error_line(result: Any) -> str:
    """The one ``composer: ...`` line of a failed run."""
    assert result.returncode != 0, result.stdout
    lines = [ln for ln in result.stderr.splitlines()
             if ln.strip() and not ln.startswith((" ", "WARN"))]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("composer: "), lines[0]
    return str(lines[0])


# -- up ----------------------------------------------------------------------------------------


def test_up_detached_creates_and_starts_with_progress_lines(project: Project) -> None:
    result = project.ok("up", "-d")
    p = project.name
    assert result.stdout == ""
    for line in (f" Network {p}_default  Created", f" Volume {p}_data  Created",
                 f" Container {p}-web-1  Started", f" Container {p}-worker-1  Started"):
        assert line in result.stderr.splitlines(), result.stderr
    assert project.states() == {f"{p}-web-1": "running", f"{p}-worker-1": "running"}
    assert project.networks() == [f"{p}_default"]
    assert project.volumes() == [f"{p}_data"]


def test_second_up_changes_nothing_and_changed_service_is_recreated(project: Project) -> None:
    project.ok("up", "-d")
    before = project.ids()
    again = project.ok("up", "-d")
    assert project.ids() == before
    assert f" Container {project.name}-web-1  Running" in again.stderr.splitlines()
    project.write(BASE.replace('["sleep", "300"]', '["sleep", "301"]'))
    project.ok("up", "-d")
    after = project.ids()
    assert after[f"{project.name}-web-1"] == before[f"{project.name}-web-1"]
    assert after[f"{project.name}-worker-1"] != before[f"{project.name}-worker-1"]


def test_force_recreate_and_no_recreate(project: Project) -> None:
    project.ok("up", "-d")
    before = project.ids()
    project.ok("up", "-d", "--force-recreate")
    forced = project.ids()
    assert set(forced) == set(before)
    assert all(forced[n] != before[n] for n in before)
    project.write(BASE.replace('["sleep", "300"]', '["sleep", "302"]'))
    project.ok("up", "-d", "--no-recreate")
    assert project.ids() == forced
    line = one_error_line(project.run("up", "-d", "--force-recreate", "--no-recreate"))
    assert "--force-recreate and --no-recreate are incompatible" in line


def test_scale_up_and_down_removes_the_highest_numbers(project: Project) -> None:
    project.ok("up", "-d", "--scale", "worker=3")
    p = project.name
    assert sorted(project.containers(service="worker")) == [
        f"{p}-worker-1", f"{p}-worker-2", f"{p}-worker-3"]
    project.ok("up", "-d", "--scale", "worker=1")
    assert sorted(project.containers(service="worker")) == [f"{p}-worker-1"]
    line = one_error_line(project.run("up", "-d", "--scale", "worker"))
    assert 'invalid --scale option "worker"' in line


def test_services_and_no_deps(project: Project) -> None:
    project.ok("up", "-d", "--no-deps", "worker")
    assert list(project.states()) == [f"{project.name}-worker-1"]
    project.ok("up", "-d", "worker")  # now with its dependency
    assert sorted(project.states()) == [f"{project.name}-web-1", f"{project.name}-worker-1"]


def test_no_start_only_creates(project: Project) -> None:
    project.ok("up", "--no-start")
    assert set(project.states().values()) == {"created"}


def test_orphans_are_reported_then_removed(project: Project) -> None:
    project.ok("up", "-d")
    project.write(BASE.split("  worker:")[0] + "volumes:\n  data: {}\n")
    warned = project.ok("up", "-d")
    assert "orphan" in warned.stderr.lower()
    assert f"{project.name}-worker-1" in project.states()
    project.ok("up", "-d", "--remove-orphans")
    assert list(project.states()) == [f"{project.name}-web-1"]


def test_wait_returns_once_healthy(project: Project) -> None:
    project.write("""\
services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 300"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 30
""")
    project.ok("up", "--wait", "--wait-timeout", "60")
    health = project.containers()[f"{project.name}-db-1"].attrs["State"]["Health"]["Status"]
    assert health == "healthy"


def test_wait_timeout_names_the_unhealthy_service(project: Project) -> None:
    project.write("""\
services:
  sick:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1000
""")
    result = project.run("up", "--wait", "--wait-timeout", "3")
    assert result.returncode != 0
    assert "sick" in result.stderr
    assert "Traceback" not in result.stderr


def test_timeout_bounds_the_stop_of_a_replaced_container(project: Project) -> None:
    # `sleep` as PID 1 ignores SIGTERM: only the timeout ends it. With an hour of
    # grace, a command that ignored `-t 0` would still be waiting when its hang guard
    # (SLOW) gives up; no time is measured.
    project.write(BASE.replace("    stop_signal: SIGKILL\n    volumes",
                               "    stop_grace_period: 1h\n    volumes"))
    project.ok("up", "-d")
    for args in (("up", "-d", "--force-recreate", "-t", "0", "worker"),
                 ("stop", "-t", "0", "worker"), ("start", "worker"),
                 ("restart", "-t", "0", "worker"), ("down", "-t", "0")):
        project.ok(*args)
    assert project.states() == {}


def test_pull_never_with_a_missing_image_names_service_and_image(project: Project) -> None:
    missing = f"composer-test-missing-{uuid.uuid4().hex[:8]}:latest"
    project.write(f"services:\n  ghost:\n    image: {missing}\n")
    result = project.run("up", "-d", "--pull", "never")
    assert result.returncode != 0
    assert "ghost" in result.stderr and missing.split(":")[0] in result.stderr
    assert project.states() == {}
    bad = one_error_line(project.run("up", "-d", "--pull", "sometimes"))
    assert 'invalid --pull option "sometimes"' in bad


def test_pull_missing_uses_the_local_image(project: Project) -> None:
    project.ok("up", "-d", "--pull", "missing")
    assert len(project.states()) == 2


def test_attached_up_streams_logs_until_containers_exit(project: Project) -> None:
    project.write("""\
services:
  a:
    image: busybox:latest
    command: ["sh", "-c", "echo one; echo two; exit 3"]
""")
    result = project.ok("up")
    assert "a-1  | one" in result.stdout.splitlines()
    assert "a-1  | two" in result.stdout.splitlines()
    assert "a-1 exited with code 3" in result.stdout


def test_attached_up_stops_containers_on_ctrl_c(project: Project) -> None:
    project.write("""\
services:
  s:
    image: busybox:latest
    command: ["sh", "-c", "echo started; exec sleep 300"]
    stop_signal: SIGKILL
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    up = Streaming([sys.executable, "-m", "composer", "-p", project.name, "up"],
                   cwd=project.folder, env=env)
    try:
        up.wait_for_text("s-1  | started")  # running, and its output reaches us
        rc = up.interrupt(timeout=SLOW)
    finally:
        up.kill()
    out, err = up.out, up.err
    assert rc != 0
    assert "Traceback" not in err
    assert "s-1  | started" in out
    assert f" Container {project.name}-s-1  Stopped" in err.splitlines()
    assert project.states() == {f"{project.name}-s-1": "exited"}


def test_dry_run_prints_the_plan_and_changes_nothing(project: Project) -> None:
    result = project.ok("--dry-run", "up", "-d")
    assert "CreateContainer" in result.stdout and "service:web:1" in result.stdout
    assert project.states() == {} and project.networks() == []
    project.ok("up", "-d")
    down = project.ok("down", "--dry-run")
    assert "RemoveContainer" in down.stdout
    assert len(project.states()) == 2


# -- down --------------------------------------------------------------------------------------


def test_down_removes_containers_and_networks_but_keeps_volumes(project: Project) -> None:
    project.ok("up", "-d")
    result = project.ok("down")
    p = project.name
    assert f" Container {p}-worker-1  Removed" in result.stderr.splitlines()
    assert f" Network {p}_default  Removed" in result.stderr.splitlines()
    lines = result.stderr.splitlines()
    # dependents go first
    assert (lines.index(f" Container {p}-worker-1  Stopping")
            < lines.index(f" Container {p}-web-1  Stopping"))
    assert project.states() == {} and project.networks() == []
    assert project.volumes() == [f"{p}_data"]
    project.ok("up", "-d")
    project.ok("down", "-v", "-t", "0")
    assert project.volumes() == []


def test_down_keeps_orphans_unless_asked(project: Project) -> None:
    project.ok("up", "-d")
    project.write(BASE.split("  worker:")[0] + "volumes:\n  data: {}\n")
    # -f: the file is read (with -p alone, v2 and composer go by labels: no orphans then)
    project.ok("-f", "compose.yaml", "down")
    assert list(project.states()) == [f"{project.name}-worker-1"]
    project.ok("-f", "compose.yaml", "down", "--remove-orphans")
    assert project.states() == {}


@pytest.mark.docker_only(
    "the test tags an image as repo:tag in one parameter, which Podman's "
    'compat API refuses')
def test_down_rmi_local_keeps_and_all_removes_the_projects_image(project: Project) -> None:
    tag = f"{project.name}-img:latest"
    project.client.images.get(IMAGE).tag(tag)
    try:
        project.write(f"services:\n  app:\n    image: {tag}\n    command: [sleep, '300']\n"
                      "    stop_signal: SIGKILL\n")
        project.ok("up", "-d")
        project.ok("down", "--rmi", "local")  # a custom tag is not "local"
        assert tag in {t for img in project.client.images.list() for t in img.tags}
        project.ok("up", "-d")
        project.ok("down", "--rmi", "all")
        tags = {t for img in project.client.images.list() for t in img.tags}
        assert tag not in tags
        assert IMAGE in tags
    finally:
        try:
            project.client.images.remove(tag)
        except Exception:
            pass
    bad = one_error_line(project.run("down", "--rmi", "some"))
    assert 'invalid value for --rmi: "some"' in bad


def test_label_only_commands_need_no_compose_file(project: Project, tmp_path: Path) -> None:
    project.ok("up", "-d")
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    ps = project.ok("ps", "--services", cwd=elsewhere)
    assert sorted(ps.stdout.split()) == ["web", "worker"]
    project.ok("stop", cwd=elsewhere)
    assert set(project.states().values()) == {"exited"}
    project.ok("down", cwd=elsewhere)
    assert project.states() == {} and project.networks() == []


# -- ps ----------------------------------------------------------------------------------------


def test_ps_table_and_flags(project: Project) -> None:
    project.ok("up", "-d")
    project.ok("stop", "worker")
    p = project.name
    table = project.ok("ps").stdout.splitlines()
    assert table[0].split() == ["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS",
                                "PORTS"]
    assert [ln.split()[0] for ln in table[1:]] == [f"{p}-web-1"]
    assert re.search(r"127\.0\.0\.1:\d+->80/tcp", table[1])
    everything = project.ok("ps", "-a").stdout.splitlines()
    assert [ln.split()[0] for ln in everything[1:]] == [f"{p}-web-1", f"{p}-worker-1"]
    exited = project.ok("ps", "--status", "exited").stdout.splitlines()
    assert [ln.split()[0] for ln in exited[1:]] == [f"{p}-worker-1"]
    both = project.ok("ps", "--status", "exited", "--status", "running", "-q").stdout.split()
    assert sorted(both) == sorted(project.ids().values())
    assert project.ok("ps", "--services").stdout == "web\n"
    rows = [json.loads(ln) for ln in project.ok("ps", "-a", "--format", "json").stdout
            .splitlines()]
    assert [(r["Name"], r["Service"], r["State"]) for r in rows] == [
        (f"{p}-web-1", "web", "running"), (f"{p}-worker-1", "worker", "exited")]
    assert rows[0]["Project"] == p and rows[0]["Image"] == IMAGE
    assert {pub["TargetPort"] for pub in rows[0]["Publishers"]} == {80, 5353}
    one_error_line(project.run("ps", "--format", "{{.Name}}"))


# -- lifecycle ---------------------------------------------------------------------------------


def test_create_then_start(project: Project) -> None:
    result = project.ok("create")
    assert f" Container {project.name}-web-1  Created" in result.stderr.splitlines()
    assert set(project.states().values()) == {"created"}
    project.ok("start")
    assert set(project.states().values()) == {"running"}


@pytest.mark.needs_cgroup("Podman cannot pause it")
def test_stop_start_restart_pause_unpause_kill(project: Project) -> None:
    project.ok("up", "-d")
    p = project.name
    stopped = project.ok("stop", "-t", "1", "worker")
    assert f" Container {p}-worker-1  Stopped" in stopped.stderr.splitlines()
    assert project.states() == {f"{p}-web-1": "running", f"{p}-worker-1": "exited"}
    project.ok("start", "worker")
    assert set(project.states().values()) == {"running"}
    before = project.containers()[f"{p}-web-1"].attrs["State"]["StartedAt"]
    project.ok("restart", "-t", "1", "web")
    assert project.containers()[f"{p}-web-1"].attrs["State"]["StartedAt"] != before
    project.ok("pause")
    assert set(project.states().values()) == {"paused"}
    project.ok("unpause")
    assert set(project.states().values()) == {"running"}
    project.ok("kill")
    assert set(project.states().values()) == {"exited"}
    assert project.containers()[f"{p}-worker-1"].attrs["State"]["ExitCode"] == 137


def test_kill_sends_the_signal_asked_for(project: Project) -> None:
    project.write("""\
services:
  t:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.2; done"]
""")
    project.ok("up", "-d")
    name = f"{project.name}-t-1"
    project.ok("kill", "-s", "SIGTERM", "t")
    wait_until(lambda: project.states()[name] == "exited", what="SIGTERM to end the container")
    assert project.containers()[name].attrs["State"]["ExitCode"] == 42


def test_rm_asks_then_removes_with_force_stop_and_volumes(project: Project) -> None:
    project.write(BASE.replace('volumes: ["data:/data"]', 'volumes: ["/anon"]'))
    project.ok("up", "-d")
    p = project.name
    nothing = project.ok("rm", "-f")
    assert "No stopped containers" in nothing.stderr
    project.ok("stop", "worker")
    asked = project.ok("rm", "worker")  # stdin is not a terminal: the answer is no
    assert f"Going to remove {p}-worker-1" in asked.stdout
    assert f"{p}-worker-1" in project.states()
    anon = [m["Name"] for m in project.containers()[f"{p}-worker-1"].attrs["Mounts"]
            if m["Type"] == "volume"]
    project.ok("rm", "-f", "-v", "worker")
    assert f"{p}-worker-1" not in project.states()
    assert not project.client.volumes.list(filters={"name": anon[0]}) if anon else True
    project.ok("rm", "-f", "-s", "web")
    assert project.states() == {}


# -- top, port, images, ls ---------------------------------------------------------------------


@pytest.mark.docker_only("Podman's top answers ps's own columns (COMMAND, not CMD)")
def test_top_lists_processes(project: Project) -> None:
    project.ok("up", "-d")
    lines = project.ok("top").stdout.splitlines()
    assert lines[0].split()[:2] == ["SERVICE", "#"] and lines[0].split()[-1] == "CMD"
    body = " ".join(lines[1:])
    assert "httpd" in body and "sleep 300" in body
    only = project.ok("top", "worker").stdout.splitlines()
    assert [ln.split()[0] for ln in only[1:]] == ["worker"]


def test_port_prints_the_published_address(project: Project) -> None:
    project.write(BASE.replace('["sleep", "300"]', '["sleep", "300"]\n    ports: ["5000"]'))
    project.ok("up", "-d", "--scale", "worker=2")
    host = project.containers()[f"{project.name}-web-1"].attrs["NetworkSettings"]["Ports"]
    out = project.ok("port", "web", "80").stdout.strip()
    assert out == f"127.0.0.1:{host['80/tcp'][0]['HostPort']}"
    udp = project.ok("port", "--protocol", "udp", "web", "5353").stdout.strip()
    assert re.fullmatch(r"(0\.0\.0\.0|::|\[::\]):\d+", udp)
    second = project.containers()[f"{project.name}-worker-2"].attrs["NetworkSettings"]["Ports"]
    two = project.ok("port", "--index", "2", "worker", "5000").stdout.strip()
    assert two.endswith(":" + second["5000/tcp"][0]["HostPort"])
    line = one_error_line(project.run("port", "web", "81"))
    assert "no port 81/tcp" in line
    line = one_error_line(project.run("port", "--index", "3", "worker", "5000"))
    assert 'service "worker" is not running container #3' in line


def test_images_lists_the_image_of_each_container(project: Project) -> None:
    project.ok("up", "-d")
    p = project.name
    table = project.ok("images").stdout.splitlines()
    assert table[0].split()[:3] == ["CONTAINER", "REPOSITORY", "TAG"]
    assert [ln.split()[:3] for ln in table[1:]] == [
        [f"{p}-web-1", "busybox", "latest"], [f"{p}-worker-1", "busybox", "latest"]]
    image_id = project.client.images.get(IMAGE).id
    assert project.ok("images", "-q").stdout == image_id.split(":", 1)[1] + "\n"
    rows = json.loads(project.ok("images", "--format", "json").stdout)
    assert sorted(r["ContainerName"] for r in rows) == [f"{p}-web-1", f"{p}-worker-1"]
    assert {r["ID"] for r in rows} == {image_id}


def test_ls_lists_the_project(project: Project) -> None:
    project.ok("up", "-d")
    p = project.name
    lines = project.ok("ls").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "CONFIG", "FILES"]
    mine = [ln.split() for ln in lines[1:] if ln.split()[0] == p]
    assert mine == [[p, "running(2)", str(project.folder / "compose.yaml")]]
    assert p in project.ok("ls", "-q").stdout.split()
    project.ok("stop")
    assert p not in project.ok("ls", "-q").stdout.split()
    rows = json.loads(project.ok("ls", "-a", "--format", "json").stdout)
    assert {"Name": p, "Status": "exited(2)",
            "ConfigFiles": str(project.folder / "compose.yaml")} in rows


# -- no engine ---------------------------------------------------------------------------------


@pytest.mark.not_on_lxc("an engine at an address (DOCKER_HOST); LXC is chosen by name")
@pytest.mark.parametrize("args", [["ps"], ["up", "-d"], ["down"], ["ls"], ["stop"]])
def test_unreachable_engine_is_one_line_naming_the_address(
    run_composer: Any, tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: busybox:latest\n")
    result = run_composer(*args, cwd=tmp_path,
                          env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    line = one_error_line(result)
    assert "unix:///nonexistent.sock" in line
    assert "DOCKER_HOST" in line  # says how to point at (or start) an engine
    assert result.stdout == ""


# -- the same listings as Docker Compose v2 ----------------------------------------------------

_VOLATILE = re.compile(r"(Less than a second|About a minute|About an hour|\d+ \w+) ago|"
                       r"Up (Less than a second|About a minute|\d+ \w+)")


def _stable(text: str) -> list[list[str]]:
    """Table rows split on runs of 2+ spaces, with durations blanked (a second may tick)."""
    return [re.split(r"\s{2,}", _VOLATILE.sub("~", line).rstrip())
            for line in text.splitlines()]


def test_listings_read_as_v2s(project: Project, run_v2: Any) -> None:
    project.ok("up", "-d", "--scale", "worker=2")
    project.ok("stop", "worker")

    def both(*args: str) -> tuple[str, str]:
        ours = project.ok(*args).stdout
        theirs = run_v2("-p", project.name, *args, cwd=project.folder, timeout=SLOW)
        assert theirs.returncode == 0, theirs.stderr
        return ours, theirs.stdout

    for args in (("images",), ("ls", "-a", "--filter", f"name={project.name}"),
                 ("ps",), ("ps", "-a"), ("ps", "-a", "--no-trunc")):
        ours, theirs = both(*args)
        assert _stable(ours) == _stable(theirs), args
    for args in (("ps", "-q"), ("ps", "-a", "--services"), ("images", "-q"),
                 ("port", "web", "80"), ("ps", "--status", "exited", "-q")):
        ours, theirs = both(*args)
        assert ours == theirs, args
    ours, theirs = both("ps", "-a", "--format", "json")
    volatile = {"CreatedAt", "RunningFor", "Status"}

    def comparable(line: str) -> dict[str, Any]:
        obj = {k: v for k, v in json.loads(line).items() if k not in volatile}
        obj["Labels"] = sorted(obj["Labels"].split(","))  # a Go map: any order
        return obj

    assert ([comparable(ln) for ln in ours.splitlines()]
            == [comparable(ln) for ln in theirs.splitlines()])
    ours, theirs = both("top", "web")
    assert [ln.split()[:2] + ln.split()[-1:] for ln in ours.splitlines()] == [
        ln.split()[:2] + ln.split()[-1:] for ln in theirs.splitlines()]

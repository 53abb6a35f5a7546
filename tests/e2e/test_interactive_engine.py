"""``exec``, ``run``, ``attach``, ``events``, ``wait``, ``cp``, ``stats`` as a person runs
them: ``composer`` as a subprocess against a real engine, on a pseudo-terminal
where a person would type.

Each test has its own project (``k2<8 hex>``) and folder; a finaliser removes
everything labelled with the project (one-off containers included). Skipped
when no engine answers or ``busybox:latest`` is missing.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import select
import struct
import subprocess
import sys
import tarfile
import termios
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from waiting import Streaming, wait_until

from .cleanup import engine_client, remove_project

pytestmark = pytest.mark.engine

PROJECT_LABEL = "com.docker.compose.project"
IMAGE = "busybox:latest"

COMPOSE = """\
services:
  web:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    depends_on: [db]
    ports: ["127.0.0.1::80"]
    restart: always
  db:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
  job:
    image: busybox:latest
    command: ["sh", "-c", "sleep 2; exit 3"]
    profiles: [jobs]
  reader:
    image: busybox:latest
    stdin_open: true
    command: ["sh", "-c", "read line; echo got $$line; exit 4"]
    profiles: [reader]
  console:
    image: busybox:latest
    stdin_open: true
    tty: true
    command: ["sh"]
    profiles: [console]
"""


RunCli = Callable[..., Any]


def composer_command() -> list[str]:
    beside = Path(sys.executable).with_name("composer")
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "composer"]


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}


@pytest.fixture(scope="module")
def client() -> Any:
    return engine_client(IMAGE)


def _remove(client: Any, name: str) -> None:
    remove_project(client, name)


@dataclass
class Proj:
    name: str
    folder: Path
    client: Any
    composer: RunCli

    def run(self, *args: str, input: str | None = None, timeout: float = 120) -> Any:
        result = self.composer("-p", self.name, *args, cwd=self.folder, input=input,
                               timeout=timeout)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def ok(self, *args: str, **kwargs: Any) -> Any:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, (args, result.stderr)
        return result

    def containers(self, **labels: str) -> list[Any]:
        wanted = [f"{PROJECT_LABEL}={self.name}"]
        wanted += [f"com.docker.compose.{k}={v}" for k, v in labels.items()]
        return list(self.client.containers.list(all=True, filters={"label": wanted}))


@pytest.fixture
def proj(client: Any, tmp_path: Path, run_composer: RunCli) -> Iterator[Proj]:
    name = f"k2{uuid.uuid4().hex[:8]}"
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    try:
        yield Proj(name, tmp_path, client, run_composer)
    finally:
        _remove(client, name)


# -- a person at a terminal --------------------------------------------------------------------


class Terminal:
    """``composer`` on a pseudo-terminal: type lines, read the screen, get the exit code."""

    def __init__(self, args: Sequence[str], cwd: Path, rows: int = 33, cols: int = 111) -> None:
        self.master, slave = pty.openpty()
        self.resize(rows, cols)
        self.proc = subprocess.Popen(
            [*composer_command(), *args], cwd=cwd, env=clean_environ(),
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.screen = b""

    def resize(self, rows: int, cols: int) -> None:
        # On the master side: the kernel sends SIGWINCH to the foreground process group.
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def read_until(self, text: bytes, timeout: float = 30) -> bytes:
        end = time.monotonic() + timeout
        while text not in self.screen:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never appeared; screen: {self.screen!r}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{text!r} never appeared; screen: {self.screen!r}")
                self.screen += chunk
        return self.screen

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def ask_until(self, line: str, answer: bytes, timeout: float = 60) -> None:
        """Type ``line`` (again, a second apart, while no answer comes) until the
        screen shows ``answer``: for a state that takes effect asynchronously."""
        end = time.monotonic() + timeout
        while True:
            start = len(self.screen)
            self.type(line)
            try:
                self.read_until(answer, timeout=1)
            except AssertionError:
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise
                continue
            if answer in self.screen[start:]:
                return

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            os.close(self.master)


def _shell_session(term: Terminal, container: Callable[[], Any]) -> None:
    """Type into a shell: the answers come back, the window size is the terminal's and
    follows it, Ctrl-C reaches the shell (not composer), the exit code comes back.
    ``container`` finds the container the shell runs in."""
    term.read_until(b"# ")
    term.type("echo answer=$((6*7))")
    term.read_until(b"answer=42")
    term.type("stty size")
    term.read_until(b"33 111")
    term.resize(40, 120)
    # The new size travels SIGWINCH -> composer -> the engine: ask until it has arrived.
    term.ask_until("stty size", b"40 120")

    def sleeping() -> bool:
        return any("sleep 3000" in " ".join(p) for p in container().top()["Processes"])

    term.type("sleep 3000")
    wait_until(sleeping, what="sleep 3000 to run in the container")
    os.write(term.master, b"\x03")  # raw mode: Ctrl-C goes to the container's shell
    wait_until(lambda: not sleeping(), what="Ctrl-C to end sleep 3000")
    term.type("echo still-here")
    term.read_until(b"still-here\r\n")
    term.type("exit 3")
    assert term.wait() == 3


def test_exec_on_a_terminal_is_an_interactive_shell(proj: Proj) -> None:
    proj.ok("up", "-d", "web")
    term = Terminal(["-p", proj.name, "exec", "web", "sh"], proj.folder)
    _shell_session(term, lambda: proj.containers(service="web")[0])


def test_run_on_a_terminal_is_an_interactive_shell_and_rm_leaves_nothing(proj: Proj) -> None:
    term = Terminal(["-p", proj.name, "run", "--rm", "web", "sh"], proj.folder)
    _shell_session(term, lambda: proj.containers(oneoff="True")[0])
    assert proj.containers(oneoff="True") == []
    # the dependency was started first
    assert [c.name for c in proj.containers(service="db")] == [f"{proj.name}-db-1"]


# -- without a terminal ------------------------------------------------------------------------


def test_exec_piped_forwards_stdin_keeps_streams_apart_and_returns_the_exit_code(
        proj: Proj) -> None:
    proj.ok("up", "-d", "web")
    result = proj.run("exec", "-T", "web", "sh", "-c", "tr a-z A-Z; echo oops >&2; exit 7",
                      input="hello\n")
    assert result.returncode == 7
    assert result.stdout == "HELLO\n"
    assert "oops" in result.stderr


def test_exec_flags_env_user_workdir_and_no_tty(proj: Proj) -> None:
    proj.ok("up", "-d", "web")
    result = proj.ok("exec", "-e", "FOO=bar", "-u", "nobody", "-w", "/tmp", "web",
                     "sh", "-c", 'echo "$FOO $(id -u) $(pwd)"; [ -t 0 ] || echo no-tty')
    assert result.stdout == "bar 65534 /tmp\nno-tty\n"


def test_exec_detached_and_missing_service(proj: Proj) -> None:
    proj.ok("up", "-d", "web")
    assert proj.ok("exec", "-d", "web", "touch", "/tmp/flag").stdout == ""
    # Detached: it runs on after exec returns; the file appears when it has.
    wait_until(lambda: proj.run("exec", "web", "test", "-f", "/tmp/flag").returncode == 0,
               what="the detached command's file", interval=0.5)
    result = proj.run("exec", "job", "true")
    assert result.returncode == 1
    assert "is not running" in result.stderr


def test_run_piped_exit_code_and_one_off_labels_then_down_removes_leftovers(
        proj: Proj) -> None:
    result = proj.run("run", "-T", "-e", "X=1", "web", "sh", "-c", "cat; echo x=$X; exit 5",
                      input="typed\n")
    assert result.returncode == 5
    assert result.stdout == "typed\nx=1\n"
    (left,) = proj.containers(oneoff="True")
    assert left.name.startswith(f"{proj.name}-web-run-")
    assert len(left.name) == len(f"{proj.name}-web-run-") + 12
    labels = left.labels
    assert labels["com.docker.compose.service"] == "web"
    assert len(labels["com.docker.compose.slug"]) == 64
    assert "com.docker.compose.container-number" not in labels
    host = left.attrs["HostConfig"]
    assert host["RestartPolicy"]["Name"] in ("", "no")
    assert host["PortBindings"] in ({}, None)  # no --service-ports: no ports
    proj.ok("down", "--remove-orphans")
    assert proj.containers() == []


def test_run_detached_named_with_label_workdir_user_and_service_ports(proj: Proj) -> None:
    cid = proj.ok("run", "-d", "--name", f"{proj.name}-custom", "-l", "team=k2", "-w", "/tmp",
                  "-u", "nobody", "--service-ports", "web").stdout.strip()
    assert len(cid) == 64
    info = proj.client.api.inspect_container(cid)
    assert info["Name"] == f"/{proj.name}-custom"
    assert info["Config"]["Labels"]["team"] == "k2"
    assert info["Config"]["Labels"]["com.docker.compose.oneoff"] == "True"
    assert info["Config"]["WorkingDir"] == "/tmp"
    assert info["Config"]["User"] == "nobody"
    assert "80/tcp" in info["HostConfig"]["PortBindings"]


def test_run_entrypoint_volume_no_deps_and_rm(proj: Proj, tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("from-host\n")
    result = proj.ok("run", "--rm", "--no-deps", "-v", f"{tmp_path}:/mnt", "--entrypoint",
                     "cat", "web", "/mnt/data.txt")
    assert result.stdout == "from-host\n"
    assert proj.containers() == []  # no dependency started, nothing left


def test_attach_forwards_stdin_and_returns_the_exit_code(proj: Proj) -> None:
    proj.ok("--profile", "reader", "up", "-d", "reader")
    result = proj.run("--profile", "reader", "attach", "reader", input="hi\n")
    assert result.returncode == 4


def test_attach_to_a_service_with_a_terminal_types_into_its_shell(proj: Proj) -> None:
    proj.ok("--profile", "console", "up", "-d", "console")
    (console,) = proj.containers(service="console")
    assert console.status == "running"  # a shell on a terminal waits for its input
    term = Terminal(["-p", proj.name, "--profile", "console", "attach", "console"],
                    proj.folder)
    # Typed again until the attach is there to carry it (the shell's prompt came
    # before the attach and is not shown again).
    term.ask_until("echo answer=$((6*7))", b"answer=42")
    term.type("exit 6")
    assert term.wait() == 6


def test_run_waits_for_a_healthy_dependency(proj: Proj) -> None:
    (proj.folder / "compose.yaml").write_text("""\
services:
  app:
    image: busybox:latest
    depends_on:
      db: {condition: service_healthy}
  db:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck: {test: ["CMD", "true"], interval: 2s}
""")
    proj.ok("run", "--rm", "app", "true")
    (db,) = proj.containers(service="db")
    assert db.attrs["State"]["Health"]["Status"] == "healthy"


# -- events, wait, cp, stats -------------------------------------------------------------------


def test_events_json_shows_start_and_die(proj: Proj) -> None:
    proj.ok("--profile", "jobs", "create", "job")
    watcher = Streaming(
        [*composer_command(), "-p", proj.name, "--profile", "jobs", "events", "--json"],
        cwd=proj.folder, env=clean_environ())
    (job,) = proj.containers(service="job")

    def both_seen() -> bool:
        whole = watcher.out.split("\n")[:-1]  # the last one may still be on its way
        actions = [json.loads(line)["action"] for line in whole if line]
        if "start" in actions and "die" in actions:
            return True
        # The watcher may subscribe after a start: run the job again once it has ended.
        job.reload()
        if job.status != "running":
            proj.ok("--profile", "jobs", "start", "job")
        return False

    try:
        wait_until(both_seen, what="a start and a die", interval=0.5, timeout=120)
    finally:
        watcher.proc.terminate()
        watcher.finish()
    out, err = watcher.out, watcher.err
    events = [json.loads(line) for line in out.splitlines() if line]
    actions = [e["action"] for e in events]
    assert "start" in actions and "die" in actions, (out, err)
    die = next(e for e in events if e["action"] == "die")
    assert die["service"] == "job"
    assert die["type"] == "container"
    assert die["attributes"]["exitCode"] == "3"
    assert die["attributes"]["name"] == f"{proj.name}-job-1"
    assert not any(k.startswith("com.docker.compose") for k in die["attributes"])
    assert sorted(die) == ["action", "attributes", "id", "service", "time", "type"]


def test_wait_returns_the_exit_code_and_down_project_removes_it(proj: Proj) -> None:
    proj.ok("--profile", "jobs", "up", "-d", "job")
    result = proj.run("--profile", "jobs", "wait", "job")
    assert result.returncode == 3
    assert result.stdout.startswith('container "')
    assert result.stdout.endswith('" exited with status code 3\n')
    proj.ok("--profile", "jobs", "start", "job")
    assert proj.run("--profile", "jobs", "wait", "--down-project", "job").returncode == 3
    assert proj.containers() == []


def test_cp_round_trip(proj: Proj, tmp_path: Path) -> None:
    proj.ok("up", "-d", "db")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "sub" / "b.txt").write_text("beta\n")
    proj.ok("cp", str(src), "db:/tmp/copied")
    listing = proj.ok("exec", "-T", "db", "sh", "-c", "cat /tmp/copied/a.txt "
                      "/tmp/copied/sub/b.txt; stat -c %u /tmp/copied/a.txt").stdout
    assert listing == "alpha\nbeta\n0\n"
    back = tmp_path / "back"
    proj.ok("cp", "db:/tmp/copied", str(back))
    assert (back / "a.txt").read_text() == "alpha\n"
    assert (back / "sub" / "b.txt").read_text() == "beta\n"
    into = tmp_path / "into"
    into.mkdir()
    proj.ok("cp", "db:/tmp/copied/a.txt", f"{into}/")
    assert (into / "a.txt").read_text() == "alpha\n"
    # "-": a tar stream on stdout, and from stdin
    out = subprocess.run([*composer_command(), "-p", proj.name, "cp", "db:/tmp/copied/sub",
                          "-"], cwd=proj.folder, env=clean_environ(), capture_output=True,
                         stdin=subprocess.DEVNULL, timeout=60, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        assert sorted(tar.getnames()) == ["sub", "sub/b.txt"]
    subprocess.run([*composer_command(), "-p", proj.name, "cp", "-", "db:/tmp"],
                   cwd=proj.folder, env=clean_environ(), input=out, capture_output=True,
                   timeout=60, check=True)
    assert proj.ok("exec", "-T", "db", "cat", "/tmp/sub/b.txt").stdout == "beta\n"
    missing = proj.run("cp", "db:/nope", str(tmp_path / "x"))
    assert missing.returncode == 1
    assert "Could not find the file /nope" in missing.stderr


@pytest.mark.needs_cgroup("its stats count no pids")
def test_stats_no_stream_shows_v2_columns(proj: Proj) -> None:
    proj.ok("up", "-d", "db")
    out = proj.ok("stats", "--no-stream").stdout.splitlines()
    header = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
              "BLOCK I/O", "PIDS"]
    assert [c.strip() for c in out[0].split("   ") if c.strip()] == header
    assert len(out) == 2
    cells = out[1].split()
    assert cells[1] == f"{proj.name}-db-1"
    assert cells[2].endswith("%")
    assert cells[-1] == "1"

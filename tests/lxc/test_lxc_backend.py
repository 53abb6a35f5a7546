"""The LXC backend on this machine: samples/counter up with no Docker or Podman
needed (the image imported once from a local store or built from busybox-static),
healthy, answering on its published port, its count kept in a named volume
across ``down``/``up`` and gone after ``down -v``; names resolved between the
services of a network; ``exec`` exit codes; ``stop`` with the service's signal.

Skipped when LXC (its Python binding) is missing or this is not root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from commands import RunCli
from waiting import wait_until

pytestmark = pytest.mark.lxc

REPO = Path(__file__).resolve().parents[2]


def _lxc_ready() -> str | None:
    if os.geteuid() != 0:
        return "LXC containers need root"
    try:
        import lxc  # noqa: F401
    except ImportError:
        return "LXC's Python binding is not installed (scripts/engine/ensure-lxc.sh)"
    if shutil.which("busybox") is None:
        return "busybox-static is not installed"
    return None


@pytest.fixture
def project(tmp_path: Path, run_composer: RunCli) -> Iterator[tuple[str, Path]]:
    why = _lxc_ready()
    if why:
        pytest.skip(why)
    name = f"lxct-{uuid.uuid4().hex[:8]}"
    try:
        yield name, tmp_path
    finally:
        run_composer("--engine", "lxc", "-p", name, "down", "--volumes", "-t", "1",
                     cwd=tmp_path)


def _run(run_composer: RunCli, folder: Path, name: str, *args: str) -> object:
    result = run_composer("--engine", "lxc", "-p", name, *args, cwd=folder)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_counter_sample_runs_on_lxc(project: tuple[str, Path], run_composer: RunCli) -> None:
    name, folder = project
    shutil.copytree(REPO / "samples" / "counter", folder / "counter")
    here = folder / "counter"
    port = str(18000 + uuid.uuid4().int % 1000)
    env = {"HITS_PORT": port}
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", "--wait", cwd=here, env=env)
    assert up.returncode == 0, up.stderr
    ps = run_composer("--engine", "lxc", "-p", name, "ps", cwd=here, env=env)
    assert "(healthy)" in ps.stdout, ps.stdout

    def count() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/cgi-bin/counter",
                                    timeout=5) as answer:
            return answer.read().decode()

    first = count()
    second = count()
    assert first != second
    down = run_composer("--engine", "lxc", "-p", name, "down", "-t", "1", cwd=here, env=env)
    assert down.returncode == 0, down.stderr
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", "--wait", cwd=here, env=env)
    assert up.returncode == 0, up.stderr
    third = count()
    assert third not in (first, second)  # the count went on: the volume was kept
    down = run_composer("--engine", "lxc", "-p", name, "down", "-v", "-t", "1", cwd=here,
                        env=env)
    assert down.returncode == 0, down.stderr
    rules = subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True,
                           text=True).stdout
    assert f"--dport {port}" not in rules  # no forwarding left behind


def test_services_reach_each_other_by_name(project: tuple[str, Path],
                                           run_composer: RunCli) -> None:
    name, folder = project
    (folder / "compose.yaml").write_text("""\
services:
  db:
    image: busybox
    command: ["sh", "-c", "echo db ready; exec sleep 600"]
    stop_signal: SIGKILL
  web:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 1s
    depends_on: [db]
""")
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", cwd=folder)
    assert up.returncode == 0, up.stderr
    ping = run_composer("--engine", "lxc", "-p", name, "exec", "-T", "web", "ping", "-c", "1",
                        "-W", "2", "db", cwd=folder)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    code = run_composer("--engine", "lxc", "-p", name, "exec", "-T", "web", "sh", "-c",
                        "exit 7", cwd=folder)
    assert code.returncode == 7
    logs = run_composer("--engine", "lxc", "-p", name, "logs", "db", cwd=folder)
    assert "db ready" in logs.stdout
    stop = run_composer("--engine", "lxc", "-p", name, "stop", "-t", "1", cwd=folder)
    assert stop.returncode == 0, stop.stderr
    ps = run_composer("--engine", "lxc", "-p", name, "ps", "-a", "--format", "json", cwd=folder)
    assert '"State":"exited"' in ps.stdout.replace(" ", ""), ps.stdout


def test_chain_sample_runs_on_lxc(project: tuple[str, Path], run_composer: RunCli) -> None:
    """depends_on conditions (healthy, completed successfully) and replicas on LXC."""
    name, folder = project
    shutil.copytree(REPO / "samples" / "chain", folder / "chain")
    here = folder / "chain"
    port = str(19000 + uuid.uuid4().int % 1000)
    env = {"CHAIN_PORT": port}
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", "--wait", cwd=here, env=env)
    assert up.returncode == 0, up.stderr
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
        assert "schema version 3" in answer.read().decode()
    ps = run_composer("--engine", "lxc", "-p", name, "ps", "-a", "--format", "json", cwd=here,
                      env=env)
    assert ps.stdout.count('"Service":"worker"') == 3, ps.stdout
    down = run_composer("--engine", "lxc", "-p", name, "down", "-v", "-t", "1", cwd=here,
                        env=env)
    assert down.returncode == 0, down.stderr


def test_resource_limits_reach_the_containers_cgroup(project: tuple[str, Path],
                                                     run_composer: RunCli) -> None:
    name, folder = project
    (folder / "compose.yaml").write_text("""\
services:
  a:
    image: busybox
    command: ["sleep", "600"]
    mem_limit: 64m
    pids_limit: 50
    stop_signal: SIGKILL
""")
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", cwd=folder)
    assert up.returncode == 0, up.stderr
    payload = f"lxc.payload.{name}-a-1"
    unified = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    memory = (Path("/sys/fs/cgroup") / payload / "memory.max" if unified else
              Path("/sys/fs/cgroup/memory") / payload / "memory.limit_in_bytes")
    pids = (Path("/sys/fs/cgroup") / payload / "pids.max" if unified else
            Path("/sys/fs/cgroup/pids") / payload / "pids.max")
    assert memory.read_text().strip() == str(64 * 1024 * 1024)
    assert pids.read_text().strip() == "50"


def test_restarts_sample_follows_each_policy_on_lxc(project: tuple[str, Path],
                                                    run_composer: RunCli) -> None:
    """restart: no, always, on-failure:3 and deploy.restart_policy, done by composer's
    shell in the container (LXC restarts no application container)."""
    name, folder = project
    shutil.copytree(REPO / "samples" / "restarts", folder / "restarts")
    here = folder / "restarts"
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", cwd=here)
    assert up.returncode == 0, up.stderr

    def logs() -> str:
        return str(run_composer("--engine", "lxc", "-p", name, "logs", cwd=here).stdout)

    text = wait_until(lambda: (lambda t: t if "attempt 3: up" in t and "attempt 4 failed" in t
                               and t.count("| beat") >= 2 else "")(logs()),
                      timeout=60, what="flaky up at its third attempt, broken given up")
    assert "attempt 5" not in text  # on-failure:3 and max_attempts: 3 stop there
    assert text.count("one-off job done") == 1  # restart: "no"
    ps = run_composer("--engine", "lxc", "-p", name, "ps", "-a", "--format", "json", cwd=here)
    states = {line.split('"Service":"')[1].split('"')[0]: line
              for line in ps.stdout.replace(" ", "").splitlines() if '"Service":"' in line}
    assert '"State":"exited"' in states["broken"] and '"ExitCode":1' in states["broken"]
    assert '"State":"running"' in states["flaky"]


def test_capabilities_top_and_stats(project: tuple[str, Path], run_composer: RunCli) -> None:
    """Docker's default capabilities (cap_add, cap_drop), ``top`` and ``stats``."""
    name, folder = project
    (folder / "compose.yaml").write_text("""\
services:
  plain:
    image: busybox
    command: ["sleep", "600"]
    stop_signal: SIGKILL
  tuned:
    image: busybox
    command: ["sleep", "600"]
    cap_add: [NET_ADMIN]
    cap_drop: [NET_RAW]
    stop_signal: SIGKILL
""")
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", cwd=folder)
    assert up.returncode == 0, up.stderr

    def caps(service: str) -> str:
        out = run_composer("--engine", "lxc", "-p", name, "exec", "-T", service, "grep",
                           "CapEff", "/proc/self/status", cwd=folder)
        return str(out.stdout.split()[-1])

    assert caps("plain") == "00000000a80425fb"  # what a Docker container gets
    assert caps("tuned") == f"{0xa80425fb + (1 << 12) - (1 << 13):016x}"
    top = run_composer("--engine", "lxc", "-p", name, "top", "plain", cwd=folder)
    assert top.returncode == 0, top.stderr
    # The service's process only, as on Docker: not LXC's init nor composer's shell.
    assert "sleep 600" in top.stdout and "composer-init" not in top.stdout
    assert "init.lxc" not in top.stdout, top.stdout
    stats = run_composer("--engine", "lxc", "-p", name, "stats", "--no-stream", cwd=folder)
    assert stats.returncode == 0, stats.stderr
    rows = [line.split() for line in stats.stdout.splitlines()[1:]]
    assert len(rows) == 2 and all(row[-1] == "1" for row in rows), stats.stdout  # PIDS


def test_cp_and_watch_sync(project: tuple[str, Path], run_composer: RunCli) -> None:
    """``cp`` both ways (composer's busybox tar in the container) and a watch's sync."""
    import anyio

    import composer

    name, folder = project
    (folder / "src").mkdir()
    (folder / "compose.yaml").write_text("""\
services:
  web:
    image: busybox
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    develop:
      watch:
        - {path: ./src, target: /app, action: sync}
""")
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", cwd=folder)
    assert up.returncode == 0, up.stderr
    (folder / "note.txt").write_text("copied in\n")
    into = run_composer("--engine", "lxc", "-p", name, "cp", "note.txt", "web:/tmp/", cwd=folder)
    assert into.returncode == 0, into.stderr
    out = run_composer("--engine", "lxc", "-p", name, "cp", "web:/tmp/note.txt", "back.txt",
                       cwd=folder)
    assert out.returncode == 0, out.stderr
    assert (folder / "back.txt").read_text() == "copied in\n"
    # A stopped container too (its filesystem mounted for the copy, then let go).
    assert run_composer("--engine", "lxc", "-p", name, "stop", cwd=folder).returncode == 0
    (folder / "late.txt").write_text("while stopped\n")
    late = run_composer("--engine", "lxc", "-p", name, "cp", "late.txt", "web:/tmp/", cwd=folder)
    assert late.returncode == 0, late.stderr
    gone = run_composer("--engine", "lxc", "-p", name, "cp", "web:/tmp/none", "x", cwd=folder)
    assert gone.returncode == 1 and "Could not find the file /tmp/none" in gone.stderr
    assert run_composer("--engine", "lxc", "-p", name, "start", cwd=folder).returncode == 0
    seen = run_composer("--engine", "lxc", "-p", name, "exec", "-T", "web", "cat",
                        "/tmp/late.txt", "/tmp/note.txt", cwd=folder)
    assert seen.stdout == "while stopped\ncopied in\n", seen.stderr

    async def watch() -> str:
        async with composer.open([str(folder / "compose.yaml")], name=name,
                                 engine="lxc") as project_handle:
            async with project_handle.watch() as w:
                (folder / "src" / "a.txt").write_text("synced\n")
                await w.next("synced", service="web")
            result = await project_handle.exec("web", ["cat", "/app/a.txt"])
            return result.stdout

    assert anyio.run(watch) == "synced\n"


def test_attached_up_and_run(project: tuple[str, Path], run_composer: RunCli) -> None:
    """The attached ``up`` follows the output and ends with the exit code;
    ``run --rm`` shows the output, returns the code and leaves no container."""
    name, folder = project
    (folder / "compose.yaml").write_text("""\
services:
  a:
    image: busybox
    command: ["sh", "-c", "echo one; exit 4"]
  b:
    image: busybox
    command: ["sh", "-c", "echo b-line"]
""")
    up = run_composer("--engine", "lxc", "-p", name, "up", "--exit-code-from", "a", cwd=folder)
    assert up.returncode == 4, up.stdout + up.stderr
    assert "a-1  | one" in up.stdout and "b-1  | b-line" in up.stdout
    run = run_composer("--engine", "lxc", "-p", name, "run", "--rm", "b", "sh", "-c",
                       "echo from run; exit 3", cwd=folder)
    assert run.returncode == 3, run.stderr
    assert "from run" in run.stdout
    ps = run_composer("--engine", "lxc", "-p", name, "ps", "-a", "--format", "json",
                      cwd=folder)
    assert "-run-" not in ps.stdout  # --rm removed the one-off container


def test_exec_with_a_terminal(project: tuple[str, Path], run_composer: RunCli) -> None:
    """``exec -it``: a shell on a pseudo-terminal, its exit code."""
    import pty
    import select
    import time

    from commands import clean_environ, composer_command

    name, folder = project
    (folder / "compose.yaml").write_text("""\
services:
  web:
    image: busybox
    command: ["sleep", "600"]
    stop_signal: SIGKILL
""")
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", cwd=folder)
    assert up.returncode == 0, up.stderr
    pid, fd = pty.fork()
    if pid == 0:  # the child: composer exec on the terminal pty.fork made
        os.chdir(folder)
        argv = [*composer_command(), "--engine", "lxc", "-p", name, "exec", "web", "sh"]
        os.execve(argv[0], argv, clean_environ())
    seen = b""
    sent = False
    deadline = time.monotonic() + 30  # a bound on a hang only
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
        if not sent and b"# " in seen:
            os.write(fd, b"echo sum-$((2+3)); exit 5\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    assert b"sum-5" in seen, seen
    assert os.waitstatus_to_exitcode(status) == 5


def test_users_by_name_and_recreate(project: tuple[str, Path], run_composer: RunCli) -> None:
    """``user:`` by name (the image's /etc/passwd), exec as the container's user
    unless told; a changed service is recreated (create, rename) on ``up``."""
    name, folder = project
    compose = folder / "compose.yaml"
    compose.write_text("""\
services:
  a:
    image: busybox
    command: ["sleep", "600"]
    user: nobody
    stop_signal: SIGKILL
""")
    assert run_composer("--engine", "lxc", "-p", name, "up", "-d", cwd=folder).returncode == 0
    ident = run_composer("--engine", "lxc", "-p", name, "exec", "-T", "a", "id", cwd=folder)
    assert ident.stdout.startswith("uid=65534"), ident.stdout
    root = run_composer("--engine", "lxc", "-p", name, "exec", "-T", "--user", "root", "a", "id",
                        cwd=folder)
    assert root.stdout.startswith("uid=0(root)"), root.stdout
    before = run_composer("--engine", "lxc", "-p", name, "ps", "-q", cwd=folder).stdout
    compose.write_text(compose.read_text().replace("user: nobody", "user: \"0\""))
    again = run_composer("--engine", "lxc", "-p", name, "up", "-d", cwd=folder)
    assert again.returncode == 0, again.stderr
    after = run_composer("--engine", "lxc", "-p", name, "ps", "-q", cwd=folder).stdout
    assert after.strip() and after != before  # a new container, under the same name
    ident = run_composer("--engine", "lxc", "-p", name, "exec", "-T", "a", "id", cwd=folder)
    assert ident.stdout.startswith("uid=0(root)"), ident.stdout


def test_a_command_run_as_another_user_keeps_its_exit_code_and_its_streams_apart(
        project: tuple[str, Path], run_composer: RunCli) -> None:
    """composer's shell runs as the service's user: it can still write the exit
    code and pass stderr through its FIFO (both were root's: 137, no stderr)."""
    name, folder = project
    (folder / "compose.yaml").write_text("""\
services:
  job:
    image: busybox
    user: nobody
    command: ["sh", "-c", "echo out; echo err >&2; exit 3"]
""")
    ran = run_composer("--engine", "lxc", "-p", name, "run", "--rm", "-T", "job", cwd=folder)
    assert (ran.returncode, ran.stdout) == (3, "out\n"), ran.stderr
    assert "err" in ran.stderr
    assert run_composer("--engine", "lxc", "-p", name, "up", cwd=folder).returncode == 0
    ps = run_composer("--engine", "lxc", "-p", name, "ps", "-a", "--format", "json",
                      cwd=folder)
    assert [json.loads(row)["ExitCode"] for row in ps.stdout.splitlines()] == [3]


def test_what_lxc_cannot_honour_is_refused_and_dns_hosts_ulimits_apply(
        project: tuple[str, Path], run_composer: RunCli) -> None:
    name, folder = project
    (folder / "compose.yaml").write_text("""\
services:
  a:
    image: busybox
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    dns: [10.9.9.9]
    dns_search: [example.test]
    extra_hosts: ["gateway.test:10.1.2.3"]
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    devices: ["/dev/null:/dev/mynull"]
  b:
    image: busybox
    command: ["sleep", "600"]
    sysctls: {net.core.somaxconn: 1024}
""")
    refused = run_composer("--engine", "lxc", "-p", name, "up", "-d", "b", cwd=folder)
    assert refused.returncode != 0
    # One line: the file, the line of the value, the key; nothing created.
    assert refused.stderr == (f"composer: {folder / 'compose.yaml'}:14:14: "
                              "services.b.sysctls: not supported on LXC\n")
    ps = run_composer("--engine", "lxc", "-p", name, "ps", "-a", "-q", cwd=folder)
    assert ps.stdout.strip() == ""
    up = run_composer("--engine", "lxc", "-p", name, "up", "-d", "a", cwd=folder)
    assert up.returncode == 0, up.stderr
    seen = run_composer("--engine", "lxc", "-p", name, "exec", "-T", "a", "sh", "-c",
                        "cat /etc/resolv.conf /etc/hosts; ulimit -n; ulimit -Hn", cwd=folder)
    lines = seen.stdout.splitlines()
    assert "nameserver 10.9.9.9" in lines and "search example.test" in lines
    assert "10.1.2.3\tgateway.test" in lines
    assert lines[-2:] == ["1024", "2048"]
    # devices: the host's node at the container's path, usable (the cgroup allows it)
    device = run_composer("--engine", "lxc", "-p", name, "exec", "-T", "a", "sh", "-c",
                          "echo x > /dev/mynull && stat -c '%F %t:%T' /dev/mynull",
                          cwd=folder)
    assert device.returncode == 0, device.stderr
    assert device.stdout == "character special file 1:3\n"

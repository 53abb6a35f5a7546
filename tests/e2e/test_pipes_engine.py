"""Output that is not a terminal carries no escape sequence, in every command.

``composer`` runs as a subprocess with stdout and stderr on pipes (as in
``composer logs -f | grep x`` or a CI log) against a real engine: ``up`` (detached
and attached), ``ps``, ``logs`` (with and without ``-f``), ``stats`` (``--no-stream``
and streaming), ``events``, ``top``, ``images``, ``ls``, ``pull`` and ``build``
progress, ``down``, and the other verbs (``exec``, ``run``, ``pause``... ``config``):
no byte of either stream is ``\\x1b``. ``--ansi always`` still
forces the colours and the live view, so the check can see an escape when there is
one.

The project is named ``pp<8 hex>``; a finaliser removes everything labelled with it
(its built image included). Skips without an engine or ``busybox:latest``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from engines import no_container_cgroup
from waiting import Streaming, wait_until

from .cleanup import engine_client, remove_images, remove_project

pytestmark = pytest.mark.engine

ESC = b"\x1b"

COMPOSE = """\
services:
  a:
    image: busybox:latest
    command: ["sh", "-c", "echo hello-a; exec sleep 300"]
    stop_signal: SIGKILL
  j:
    image: busybox:latest
    command: ["sh", "-c", "echo hello-j"]
  b:
    build: .
    image: {name}-built:1
    command: ["true"]
    profiles: [build]
"""


@pytest.fixture(scope="module")
def client() -> Any:
    return engine_client("busybox:latest")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.pop("NO_COLOR", None)  # colours off must come from the pipe, not from here
    env.pop("TERM", None)
    return env | extra


@dataclass
class Proj:
    name: str
    folder: Path
    client: Any
    seen: list[tuple[str, str, bytes]] = field(default_factory=list)  # (command, stream, data)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "composer", "-p", self.name, *args]

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[bytes]:
        """Run to the end with both streams on pipes; remember what they carried."""
        result = subprocess.run(self.argv(*args), cwd=self.folder, env=_env(),
                                capture_output=True, stdin=subprocess.DEVNULL, timeout=120,
                                check=False)
        assert b"Traceback" not in result.stderr, result.stderr.decode()
        if ok:
            assert result.returncode == 0, (args, result.stderr.decode())
        self.remember(" ".join(args), result.stdout, result.stderr)
        return result

    def stream(self, *args: str) -> Streaming:
        return Streaming(self.argv(*args), cwd=self.folder, env=_env())

    def remember(self, command: str, out: bytes, err: bytes) -> None:
        self.seen += [(command, "stdout", out), (command, "stderr", err)]

    def states(self) -> dict[str, str]:
        found = self.client.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={self.name}"})
        return {c.name: c.status for c in found}


@pytest.fixture
def proj(client: Any, tmp_path: Path) -> Iterator[Proj]:
    name = f"pp{uuid.uuid4().hex[:8]}"
    (tmp_path / "compose.yaml").write_text(COMPOSE.format(name=name))
    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\nLABEL purpose=pipes-test\n")
    try:
        yield Proj(name, tmp_path, client)
    finally:
        remove_project(client, name)
        remove_images(client, name)
        for image in client.images.list(name=f"{name}-built"):
            client.images.remove(image.id, force=True)


def _escapes(seen: list[tuple[str, str, bytes]]) -> list[str]:
    """``command (stream): ...text around the first escape...`` for each stream with one."""
    found = []
    for command, stream, data in seen:
        at = data.find(ESC)
        if at >= 0:
            found.append(f"`composer {command}` ({stream}): {data[max(0, at - 40):at + 20]!r}")
    return found


@pytest.mark.not_on_lxc("among its commands, a build from a Dockerfile")
def test_no_escape_sequence_reaches_a_pipe(proj: Proj) -> None:
    a1, j1 = f"{proj.name}-a-1", f"{proj.name}-j-1"
    up = proj.run("up", "-d")
    assert f" Container {a1}  Started" in up.stderr.decode()  # the progress lines were there
    wait_until(lambda: proj.states().get(j1) == "exited", what=f"{j1} to exit")
    ps = proj.run("ps", "-a")
    assert a1 in ps.stdout.decode() and j1 in ps.stdout.decode()
    logs = proj.run("logs")
    assert "j-1  | hello-j" in logs.stdout.decode()

    # logs -f: an exit is announced with a status line (v2 starts it with "\r\x1b[K").
    follow = proj.stream("logs", "-f")
    try:
        follow.wait_for_text("j-1 exited with code 0")
        follow.wait_for_text("a-1  | hello-a")
    finally:
        assert follow.interrupt() == 130
    proj.remember("logs -f", follow.out_bytes, follow.err_bytes)

    # stats, streaming: until a second table has been printed.
    stats = proj.stream("stats")
    try:
        stats.wait_for(lambda out, _: out.count(a1) >= 2, what="two stats tables")
    finally:
        assert stats.interrupt() == 130
    proj.remember("stats", stats.out_bytes, stats.err_bytes)
    proj.run("stats", "--no-stream")

    # events: start `j` again until the watcher shows it (it may subscribe late).
    events = proj.stream("events")
    try:
        def shown() -> bool:
            if " container die " in events.out:
                return True
            if proj.states().get(j1) != "running":
                proj.run("start", "j")
            return False

        wait_until(shown, what="the events of a restarted container", interval=0.5)
    finally:
        events.interrupt()
    proj.remember("events", events.out_bytes, events.err_bytes)

    proj.run("top")
    proj.run("images")
    proj.run("ls")
    # The other commands that report progress or print tables, for good measure.
    proj.run("exec", "-T", "a", "echo", "from-exec")
    proj.run("run", "--rm", "-T", "j")
    verbs = ["pause", "unpause", "restart", "stop", "start", "kill"]
    if no_container_cgroup():
        verbs[:2] = []  # rootless on cgroup v1: Podman cannot pause a container without one
    for verb in verbs:
        proj.run(verb, "a")
    proj.run("rm", "-f", "a")
    proj.run("create", "a")
    proj.run("config")
    proj.run("version")
    proj.run("pull", ok=False)  # no registry here: the progress lines, then the error
    proj.run("--profile", "build", "build", "b")
    proj.run("--profile", "build", "pull", "--ignore-buildable", "b")
    proj.run("down")

    # The attached up: the containers' lines, exits, and the abort on stderr.
    attached = proj.run("up", "--abort-on-container-exit")
    out = attached.stdout.decode()
    assert "j-1  | hello-j" in out and "j-1 exited with code 0" in out, out
    assert "Aborting on container exit..." in attached.stderr.decode()
    proj.run("down")

    assert _escapes(proj.seen) == []


def test_ansi_always_still_forces_escapes_onto_a_pipe(proj: Proj) -> None:
    up = proj.run("--ansi", "always", "up", "-d")
    assert ESC + b"[" in up.stderr  # the live progress view
    wait_until(lambda: proj.states().get(f"{proj.name}-j-1") == "exited", what="j to exit")
    logs = proj.run("--ansi", "always", "logs")
    assert ESC + b"[3" in logs.stdout  # coloured prefixes
    follow = proj.stream("--ansi", "always", "logs", "-f")
    try:
        follow.wait_for_text("j-1 exited with code 0")
    finally:
        follow.interrupt()
    assert b"\r\x1b[K" in follow.out_bytes  # v2's line reset before a status line
    down = proj.run("--ansi", "always", "down")
    assert ESC + b"[" in down.stderr
    # And the check of the other test sees them.
    assert len(_escapes(proj.seen)) == 3

"""Secrets and configs on a real engine, side by side with Docker Compose v2.40.3.

The same project is brought up by composer and by v2 (two project names); inside
each container, every secret's and config's mode, owner, size, type, content
digest and mount flags must be the same. v2's semantics, which these tests pin:

* from a ``file:``: a read-only bind mount; the host file's own mode and owner
  show through, the reference's ``uid``/``gid``/``mode`` are ignored with a
  warning (``secrets `uid`, `gid` and `mode` are not supported, they will be
  ignored``, ``config ...`` for configs);
* from ``environment:`` or ``content:``: a file copied in before each start, with
  the reference's mode (default 0444), uid and gid; ``start`` copies the value
  again (a changed variable shows), the root filesystem is not read-only there.

And what composer prints (progress, ``--dry-run`` plans, errors, ``ps``) never
holds a value; ``config`` prints ``content:`` as v2 does.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .cleanup import engine_client, remove_project

pytestmark = pytest.mark.engine

IMAGE = "busybox:latest"
TOKEN = "tok3n-VALUE-9f2b"
INLINE = "inline-CONTENT-41ac"
FILE_SECRET = "file-SECRET-77d0"

COMPOSE = """\
services:
  app:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    secrets:
      - source: from_file
        target: /run/secrets/file_owned
        uid: "1000"
        gid: "1001"
        mode: 0400
      - from_file
      - source: token
        uid: "1000"
        gid: "1001"
        mode: 0440
      - source: token
        target: nested/token
    configs:
      - source: file_config
        target: /etc/file.conf
        mode: 0400
      - source: inline
        target: /etc/inline.conf
        uid: "1000"
        gid: "1001"
        mode: 0440
      - inline
      - source: env_config
        target: relative.conf
"""
TOP = f"""\
secrets:
  from_file:
    file: ./secret.txt
  token:
    environment: TOKEN
configs:
  file_config:
    file: ./config.txt
  inline:
    content: "{INLINE}"
  env_config:
    environment: TOKEN
"""
PATHS = ["/run/secrets/file_owned", "/run/secrets/from_file", "/run/secrets/token",
         "/run/secrets/nested/token", "/etc/file.conf", "/etc/inline.conf", "/inline",
         "/relative.conf"]
PROBE = ("for f in " + " ".join(PATHS) + "; do "
         "echo \"$f $(stat -c '%a %u %g %s %F' $f) $(md5sum < $f | cut -c1-32) "
         "$(grep \" $f \" /proc/mounts | cut -d' ' -f4 | cut -d, -f1)\"; done")

RunCli = Callable[..., Any]


class Side:
    """One tool's project: composer or v2."""

    def __init__(self, run: RunCli, folder: Path, name: str) -> None:
        self.run_cli, self.folder, self.name = run, folder, name

    def run(self, *args: str, token: str | None = TOKEN) -> Any:
        # The name from the environment, not -p: with -p and no -f, v2's start (and
        # composer's) work from labels alone and load no secret.
        env = {"COMPOSE_PROJECT_NAME": self.name}
        if token is not None:
            env["TOKEN"] = token
        return self.run_cli(*args, cwd=self.folder, env=env, timeout=120)

    def probe(self) -> list[str]:
        result = self.run("exec", "-T", "app", "sh", "-c", PROBE)
        assert result.returncode == 0, result.stderr
        return sorted(str(result.stdout).splitlines())


@pytest.fixture
def sides(tmp_path: Path, run_composer: RunCli, run_v2: RunCli) -> Iterator[dict[str, Side]]:
    client = engine_client(IMAGE)
    (tmp_path / "compose.yaml").write_text(COMPOSE + TOP)
    (tmp_path / "secret.txt").write_text(FILE_SECRET)
    os.chmod(tmp_path / "secret.txt", 0o640)
    (tmp_path / "config.txt").write_text("file-config\n")
    tag = uuid.uuid4().hex[:8]
    made = {"composer": Side(run_composer, tmp_path, f"sec{tag}c"),
            "v2": Side(run_v2, tmp_path, f"sec{tag}v")}
    try:
        yield made
    finally:
        for side in made.values():
            remove_project(client, side.name)


def warnings(stderr: str) -> list[str]:
    """The warnings' words: composer's ``WARN[0000] x``, v2's ``level=warning msg="x"``."""
    found = re.findall(r'level=warning msg="(.*)"', stderr)
    found += re.findall(r"^WARN\[\d+\] (.*)$", stderr, flags=re.M)
    return sorted(found)


def no_value_in(text: str) -> None:
    for value in (TOKEN, INLINE, FILE_SECRET):
        assert value not in text, text


def test_secrets_and_configs_reach_the_container_as_v2s_do(sides: dict[str, Side]) -> None:
    ours, theirs = sides["composer"], sides["v2"]
    plan = ours.run("up", "-d", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "CopyToContainer: secret token -> /run/secrets/token" in plan.stdout
    no_value_in(plan.stdout + plan.stderr)

    up = ours.run("up", "-d")
    assert up.returncode == 0, up.stderr
    no_value_in(up.stdout + up.stderr)
    v2_up = theirs.run("up", "-d")
    assert v2_up.returncode == 0, v2_up.stderr
    assert warnings(up.stderr) == warnings(v2_up.stderr) == [
        "config `uid`, `gid` and `mode` are not supported, they will be ignored",
        "secrets `uid`, `gid` and `mode` are not supported, they will be ignored"]

    seen = ours.probe()
    assert seen == theirs.probe()
    by_path = {line.split()[0]: line.split()[1:] for line in seen}
    # A file's own mode and owner, read-only; the others as the reference asks.
    assert by_path["/run/secrets/file_owned"][:3] == ["640", "0", "0"]
    assert by_path["/run/secrets/file_owned"][-1] == "ro"
    assert by_path["/run/secrets/token"][:3] == ["440", "1000", "1001"]
    assert by_path["/run/secrets/nested/token"][:3] == ["444", "0", "0"]
    assert by_path["/etc/inline.conf"][:3] == ["440", "1000", "1001"]
    assert by_path["/relative.conf"][:3] == ["444", "0", "0"]

    ps = ours.run("ps")
    no_value_in(ps.stdout + ps.stderr)
    # config prints what v2 prints, content included: it is the user's own file.
    config = ours.run("config")
    same_name = theirs.run_cli("config", cwd=theirs.folder,
                               env={"TOKEN": TOKEN, "COMPOSE_PROJECT_NAME": ours.name})
    assert config.stdout == same_name.stdout
    assert INLINE in config.stdout


def test_start_copies_the_value_again_as_v2s_does(sides: dict[str, Side]) -> None:
    for side in sides.values():
        assert side.run("up", "-d").returncode == 0
        assert side.run("stop").returncode == 0
        started = side.run("start", token="changed-VALUE")
        assert started.returncode == 0, started.stderr
        no_value_in(started.stdout + started.stderr)
    contents = {tool: side.run("exec", "-T", "app", "cat", "/run/secrets/token").stdout
                for tool, side in sides.items()}
    assert contents == {"composer": "changed-VALUE", "v2": "changed-VALUE"}


def test_an_unset_variable_is_refused_before_anything_is_created(
        sides: dict[str, Side]) -> None:
    ours, theirs = sides["composer"], sides["v2"]
    refused = ours.run("up", "-d", token=None)
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1] == (
        'composer: secrets.token.environment: environment variable "TOKEN" required by '
        f'secret "{ours.name}_token" is not set')
    assert ours.run("ps", "-a", "-q").stdout == ""
    # v2 says the same, after creating the container.
    v2 = theirs.run("up", "-d", token=None)
    assert v2.returncode == 1
    assert v2.stderr.strip().splitlines()[-1] == (
        f'environment variable "TOKEN" required by secret "{theirs.name}_token" is not set')
    assert theirs.run("ps", "-a", "-q").stdout.strip() != ""


def test_an_owner_for_a_service_running_as_a_user_follows_the_engines_rule(
        sides: dict[str, Side], tmp_path: Path) -> None:
    # v2 asks the engine to keep the file's uid/gid (copyUIDGID) whenever the
    # reference gives one; with `user:` set, this engine then looks the user up in
    # the container's /etc/passwd and refuses one it cannot find.
    (tmp_path / "compose.yaml").write_text(
        COMPOSE.replace("    stop_signal: SIGKILL\n", "    stop_signal: SIGKILL\n"
                        "    user: \"4321:4321\"\n") + TOP)
    results = {tool: side.run("up", "-d") for tool, side in sides.items()}
    assert (results["composer"].returncode, results["v2"].returncode) == (1, 1)
    reason = 'getent unable to find entry "4321:4321" in passwd database'
    assert reason in results["v2"].stderr
    assert results["composer"].stderr.strip().splitlines()[-1] == (
        'composer: service "app": copying secret token to /run/secrets/token: Error '
        f"response from daemon: {reason}")
    no_value_in(results["composer"].stdout + results["composer"].stderr)

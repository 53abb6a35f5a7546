"""``develop.watch`` on a real engine: ``project.watch()`` from the library, and
``composer watch`` / ``composer up --watch`` as a user runs them.

Each test has its own project (``wte-<hex>``) in its own folder; whatever it
leaves (containers, networks, volumes, the images it built, the image a rebuild
replaced) is removed when it ends, passed or failed: ``down --volumes --rmi
local``, then the docker SDK on everything carrying the project's label.

Files are written only once the watch is ready (entering ``project.watch()``
waits for ``Watch enabled``; the CLI tests wait for that line), and every
effect is waited on as a condition (a file's content in each replica, a line of
output, an image gone), a deadline only guarding against a hang. Only
``busybox:latest`` is used, with no healthcheck, so the tests hold on Podman too.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from commands import RunCli, clean_environ, composer_command
from waiting import Streaming, wait_until

import composer
from composer.errors import ConfigError
from composer.library import Watch

from .cleanup import PROJECT_LABEL, engine_client, remove_images, remove_project

pytestmark = pytest.mark.engine

IMAGE = "busybox:latest"
#: Hang guard of one wait (a build or an up included); no test asserts on time.
DEADLINE = 120.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")



@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Workspace:
    """A project's name and folder, with what a test writes there."""

    name: str
    folder: Path
    token: str  # in every file's content: nothing is shared with another run

    @property
    def compose_file(self) -> str:
        return str(self.folder / "compose.yaml")

    def write(self, rel: str, text: str) -> Path:
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def labelled(self, client: Any) -> list[Any]:
        return list(client.containers.list(
            all=True, filters={"label": f"{PROJECT_LABEL}={self.name}"}))


@pytest.fixture
def client() -> Any:
    return engine_client(IMAGE)


@pytest.fixture
def ws(tmp_path: Path, client: Any, run_composer: RunCli) -> Iterator[Workspace]:
    token = secrets.token_hex(4)
    folder = tmp_path / "project"
    folder.mkdir()
    workspace = Workspace(f"wte-{token}", folder, token)
    try:
        yield workspace
    finally:
        if (folder / "compose.yaml").is_file():
            run_composer("-p", workspace.name, "down", "--volumes", "--rmi", "local",
                         "--remove-orphans", cwd=folder, timeout=DEADLINE)
        remove_project(client, workspace.name)
        remove_images(client, workspace.name)


# -- waiting on conditions ----------------------------------------------------------------------


async def read_each(project: composer.Project, path: str, service: str = "web",
                    replicas: int = 2) -> tuple[str | None, ...]:
    """``path``'s content in each replica of ``service`` (None where it is absent,
    ``<folder>`` for a folder)."""
    script = 'test -e "$1" || exit 100; test -d "$1" && exec echo "<folder>"; cat "$1"'
    found: list[str | None] = []
    for index in range(1, replicas + 1):
        result = await project.exec(service, ["sh", "-c", script, "sh", path], index=index)
        assert result.exit_code in (0, 100), result
        found.append(None if result.exit_code == 100 else result.stdout)
    return tuple(found)


async def arrives(watch: Watch, project: composer.Project, path: str, text: str | None, *,
                  service: str = "web", replicas: int = 2, after: str = "synced") -> None:
    """Until ``path`` holds ``text`` in every replica (``None``: is gone from each):
    checked now, then after each of the watch's ``after`` events of ``service`` (the
    sync that brings it), never on a timer; the deadline is a hang guard."""
    want = (text,) * replicas
    with anyio.fail_after(DEADLINE):
        while await read_each(project, path, service, replicas) != want:
            async for event in watch:
                if event.kind == after and service in event.services:
                    break
            else:
                raise AssertionError(f"the watch ended before {path} was {text!r}")


async def started(project: composer.Project, service: str = "web",
                  replicas: int = 2) -> dict[str, str]:
    """Container id -> StartedAt, for each replica."""
    out = {}
    for index in range(1, replicas + 1):
        info = await project.service(service).inspect(index)
        out[info.id] = info.started_at
    return out


def rfc3339(text: str) -> float:
    """An engine's RFC 3339 time (nanoseconds allowed) as a POSIX timestamp."""
    found = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    assert found is not None, text
    zone = "+00:00" if found.group(3) == "Z" else found.group(3)
    return (datetime.fromisoformat(found.group(1) + zone).timestamp()
            + float("0" + (found.group(2) or ".0")))


def replicated(rules: str, *, replicas: int = 2, extra: str = "") -> str:
    """A compose file: ``web`` (busybox, ``replicas`` containers) with the
    ``develop.watch`` list ``rules`` (YAML, indented as a list at column 0)."""
    return textwrap.dedent("""\
        services:
          web:
            image: busybox:latest
            command: ["sleep", "86400"]
            stop_signal: SIGKILL
            deploy:
              replicas: {replicas}
            develop:
              watch:
        """).format(replicas=replicas) + textwrap.indent(rules, " " * 8) + extra


# -- sync ---------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_sync_reaches_every_replica_and_follows_creations_and_deletions(
        ws: Workspace, anyio_backend: str) -> None:
    if anyio_backend == "trio":
        pytest.importorskip("trio")
    ws.write("compose.yaml", replicated(textwrap.dedent("""\
        - path: ./src
          target: /app
          action: sync
          ignore: ["**/*.tmp", "skipme/"]
        """)))
    (ws.folder / "src").mkdir()
    tok = ws.token
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up()
        async with project.watch() as watch:
            # A new file: in both replicas.
            ws.write("src/x.txt", f"one {tok}\n")
            await watch.next("synced", service="web")
            await arrives(watch, project, "/app/x.txt", f"one {tok}\n")
            # Written again: the new content.
            ws.write("src/x.txt", f"two {tok}\n")
            await arrives(watch, project, "/app/x.txt", f"two {tok}\n")

            # A symbolic link arrives as a link.
            os.symlink("x.txt", ws.folder / "src" / "link")
            await arrives(watch, project, "/app/link", f"two {tok}\n")
            for index in (1, 2):
                target = await project.exec("web", ["readlink", "/app/link"], index=index)
                assert target.stdout == "x.txt\n", target

            # Ignored files (a pattern, a folder) stay here; a file written with
            # them arrives, so the sync that left them out is done.
            ws.write("src/skip.tmp", "ignored\n")
            ws.write("src/skipme/inner.txt", "ignored\n")
            ws.write("src/marker.txt", f"marker {tok}\n")
            await arrives(watch, project, "/app/marker.txt", f"marker {tok}\n")
            assert await read_each(project, "/app/skip.tmp") == (None, None)
            assert await read_each(project, "/app/skipme/inner.txt") == (None, None)

            # A new nested folder made in place: its files arrive.
            ws.write("src/new/deep/f.txt", f"nested {tok}\n")
            await arrives(watch, project, "/app/new/deep/f.txt", f"nested {tok}\n")
            assert await read_each(project, "/app/new/deep") == ("<folder>\n",) * 2

            # A folder moved in whole, made outside the watched path: its files go
            # through the rules one by one (composer's departure from v2, which
            # copies the folder whole, ignored files included).
            # (``**/``: a bare ``*.tmp`` would only match at the rule's path, as v2's.)
            staging = ws.folder / "staging"
            ws.write("staging/nd/inner/g.txt", f"moved {tok}\n")
            ws.write("staging/nd/h.tmp", "ignored\n")
            os.rename(staging / "nd", ws.folder / "src" / "nd")
            await arrives(watch, project, "/app/nd/inner/g.txt", f"moved {tok}\n")
            assert await read_each(project, "/app/nd/h.tmp") == (None, None)

            # Deletions: a file, then a whole folder.
            (ws.folder / "src" / "x.txt").unlink()
            await arrives(watch, project, "/app/x.txt", None)
            shutil.rmtree(ws.folder / "src" / "new")
            await arrives(watch, project, "/app/new", None)
            assert await read_each(project, "/app/marker.txt") == (f"marker {tok}\n",) * 2

            # What the events said, up to the last sync (the folder's removal): no
            # ignored path among them, v2's words.
            new = str(ws.folder / "src" / "new")
            if not any(new in e.paths for e in watch.events if e.kind == "synced"):
                while new not in (await watch.next("synced", service="web")).paths:
                    pass
            seen = [p for e in watch.events for p in e.paths]
            assert not [p for p in seen if p.endswith(".tmp") or "/skipme" in p], seen
            for event in watch.events:
                if event.kind == "syncing":
                    assert re.fullmatch(r'Syncing service "web" after \d+ changes were '
                                        r"detected", event.message), event.message
            assert {e.kind for e in watch.events} == {"enabled", "syncing", "synced"}, \
                watch.events


@pytest.mark.anyio
async def test_sync_restart_copies_then_restarts_every_replica(ws: Workspace) -> None:
    ws.write("compose.yaml", replicated(textwrap.dedent("""\
        - path: ./src
          target: /app
          action: sync+restart
        """)))
    (ws.folder / "src").mkdir()
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up()
        before = await started(project)
        async with project.watch() as watch:
            ws.write("src/x.txt", f"restart {ws.token}\n")
            restarted = await watch.next("restarted", service="web")
            assert restarted.message == 'service(s) ["web"] restarted'
            kinds = [e.kind for e in watch.events]
            assert kinds.index("synced") < kinds.index("restarted"), kinds
            # The same containers (restarted, not recreated), each started again,
            # the file there.
            await arrives(watch, project, "/app/x.txt", f"restart {ws.token}\n")
            after = await started(project)
            assert sorted(after) == sorted(before)
            assert all(after[c] != before[c] for c in before), (before, after)
            assert [c.state for c in await project.ps()] == ["running", "running"]


@pytest.mark.anyio
async def test_sync_exec_runs_its_command_in_each_running_container(ws: Workspace) -> None:
    ws.write("compose.yaml", replicated(textwrap.dedent("""\
        - path: ./src
          target: /app
          action: sync+exec
          exec:
            command: ["sh", "-c", "cat x.txt > /tmp/seen; echo \\"$$WHO in $$(pwd)\\""]
            working_dir: /app
            environment:
              WHO: hook
        """)))
    (ws.folder / "src").mkdir()
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up()
        before = await started(project)
        async with project.watch() as watch:
            ws.write("src/x.txt", f"exec {ws.token}\n")
            # Its output (working_dir and environment applied), once per container:
            # each comes once its hook has ended.
            outputs = [await watch.next("output", service="web") for _ in range(2)]
            assert [(o.message, o.stream) for o in outputs] == [("hook in /app\n", "stdout")] * 2
            # The hook's effect, in each replica: it ran after the sync.
            assert await read_each(project, "/tmp/seen") == (f"exec {ws.token}\n",) * 2
            # No restart.
            assert await started(project) == before
            assert "restarted" not in {e.kind for e in watch.events}


@pytest.mark.anyio
async def test_restart_restarts_without_copying(ws: Workspace) -> None:
    ws.write("compose.yaml", replicated(textwrap.dedent("""\
        - path: ./conf
          target: /conf
          action: restart
        """)))
    (ws.folder / "conf").mkdir()
    marker = f"marker-{ws.token}.txt"
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up()
        before = await started(project)
        async with project.watch() as watch:
            ws.write(f"conf/{marker}", "not copied\n")
            restarted = await watch.next("restarted", service="web")
            assert restarted.message == 'service(s) ["web"] restarted'
            after = await started(project)
            assert sorted(after) == sorted(before)
            assert all(after[c] != before[c] for c in before), (before, after)
            assert not {"syncing", "synced"} & {e.kind for e in watch.events}, watch.events
        for index in (1, 2):
            found = await project.exec("web", ["find", "/", "-xdev", "-name", marker],
                                       index=index)
            assert found.stdout == "", found


# -- rebuild ------------------------------------------------------------------------------------


REBUILD = """\
services:
  web:
    build: ./web
    stop_signal: SIGKILL
    develop:
      watch:
        - path: ./web
          action: rebuild
  other:
    image: busybox:latest
    command: ["sleep", "86400"]
    stop_signal: SIGKILL
"""


@pytest.mark.not_on_lxc("rebuild builds from a Dockerfile: LXC makes only x-composer-rootfs images")
@pytest.mark.anyio
@pytest.mark.parametrize("prune", [True, False])
async def test_rebuild_makes_a_new_image_and_recreates_only_that_service(
        ws: Workspace, prune: bool) -> None:
    ws.write("compose.yaml", REBUILD)
    ws.write("web/Dockerfile", 'FROM busybox:latest\nCOPY app.txt /app.txt\n'
                               'CMD ["sleep", "86400"]\n')
    ws.write("web/app.txt", f"v1 {ws.token}\n")
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up(build=True)
        web, other = await project.service("web").inspect(), \
            await project.service("other").inspect()
        async with project.watch(prune=prune) as watch:
            ws.write("web/app.txt", f"v2 {ws.token}\n")
            await watch.next("recreated", service="web", timeout=DEADLINE)
            messages = [e.message for e in watch.events if e.message]
            assert messages == [
                "Watch enabled",
                'Rebuilding service(s) ["web"] after changes were detected...',
                'service(s) ["web"] successfully built'], messages
            new_web = await project.service("web").inspect()
            assert new_web.id != web.id and new_web.image_id != web.image_id
            assert new_web.state == "running"
            assert (await project.exec("web", ["cat", "/app.txt"])).stdout == f"v2 {ws.token}\n"
            # The other service's container is untouched.
            new_other = await project.service("other").inspect()
            assert (new_other.id, new_other.started_at) == (other.id, other.started_at)
            assert [(c.service, c.number) for c in await project.ps()] == [
                ("other", 1), ("web", 1)]

            backend = project.backend
            if prune:
                # "recreated" comes once the rebuild is done, the pruning included.
                assert not await backend.image_exists(web.image_id), web.image_id
        if not prune:
            # The watch has ended, so nothing could prune it later: the replaced image
            # stays, untagged.
            assert await project.backend.image_exists(web.image_id)
            assert not (await project.backend.inspect_image(web.image_id)).repo_tags


# -- initial_sync -------------------------------------------------------------------------------


@pytest.mark.not_on_lxc("the project's image is built from a Dockerfile")
@pytest.mark.anyio
async def test_initial_sync_copies_what_changed_since_the_image_was_built(
        ws: Workspace) -> None:
    ws.write("compose.yaml", textwrap.dedent("""\
        services:
          web:
            build: ./web
            command: ["sleep", "86400"]
            stop_signal: SIGKILL
            deploy:
              replicas: 2
            develop:
              watch:
                - path: ./src
                  target: /app
                  action: sync
                  initial_sync: true
                  ignore: ["*.tmp"]
        """))
    ws.write("web/Dockerfile", f"FROM busybox:latest\nLABEL wte.token={ws.token}\n")
    tok = ws.token
    paths = {name: ws.write(f"src/{name}", f"{name} {tok}\n")
             for name in ("old.txt", "new.txt", "sub/deep.txt", "skip.tmp")}
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up(build=True)
        info = await project.service("web").inspect()
        created = rfc3339((await project.backend.inspect_image(info.image_id)).created)
        # Which side of the image's creation each file is, whatever the clocks say.
        os.utime(paths["old.txt"], (created - 3600, created - 3600))
        for name in ("new.txt", "sub/deep.txt", "skip.tmp"):
            os.utime(paths[name], (created + 3600, created + 3600))
        async with project.watch():
            # Done before the watch is ready, with no change made.
            assert await read_each(project, "/app/new.txt") == (f"new.txt {tok}\n",) * 2
            assert await read_each(project, "/app/sub/deep.txt") == \
                (f"sub/deep.txt {tok}\n",) * 2
            assert await read_each(project, "/app/old.txt") == (None, None)
            assert await read_each(project, "/app/skip.tmp") == (None, None)


# -- bad rules ----------------------------------------------------------------------------------


RELATIVE_TARGET = """\
services:
  web:
    image: busybox:latest
    command: ["sleep", "86400"]
    develop:
      watch:
        - path: ./src
          target: app
          action: sync
"""

REBUILD_WITHOUT_BUILD = """\
services:
  web:
    image: busybox:latest
    command: ["sleep", "86400"]
    develop:
      watch:
        - path: ./src
          action: rebuild
"""


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


BAD_RULES = [
    pytest.param(RELATIVE_TARGET, "target: app", r"\.target: target 'app' is not an absolute "
                 r"path in the container", id="relative-target"),
    pytest.param(REBUILD_WITHOUT_BUILD, "action: rebuild",
                 r'\.action: can\'t watch service "web" with action rebuild without a build '
                 r"context", id="rebuild-without-build"),
]


@pytest.mark.parametrize("command", [["watch"], ["up", "--watch"]], ids=["watch", "up-watch"])
@pytest.mark.parametrize(("text", "at", "says"), BAD_RULES)
def test_a_bad_rule_is_one_located_line_and_nothing_is_created(
        ws: Workspace, client: Any, run_composer: RunCli, command: list[str], text: str,
        at: str, says: str) -> None:
    ws.write("compose.yaml", text)
    (ws.folder / "src").mkdir()
    result = run_composer("-p", ws.name, *command, cwd=ws.folder, timeout=DEADLINE)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    line = _line_of(text, at)
    assert len(result.stderr_lines) == 1, result.stderr
    assert re.fullmatch(rf"composer: {re.escape(ws.compose_file)}:{line}:\d+: "
                        rf"services\.web\.develop\.watch\[0\]{says}",
                        result.stderr_lines[0]), result.stderr
    assert ws.labelled(client) == []
    assert not [n for n in client.networks.list() if n.name.startswith(ws.name)]


@pytest.mark.anyio
async def test_a_bad_rule_raises_from_the_library_before_anything_runs(ws: Workspace) -> None:
    ws.write("compose.yaml", RELATIVE_TARGET)
    async with composer.open([ws.compose_file], name=ws.name) as project:
        with pytest.raises(ConfigError) as caught:
            async with project.watch():
                pytest.fail("the watch started")
        assert "is not an absolute path" in str(caught.value)
        assert f"compose.yaml:{_line_of(RELATIVE_TARGET, 'target: app')}:" in str(caught.value)


# -- the CLI ------------------------------------------------------------------------------------


SIMPLE = """\
services:
  web:
    image: busybox:latest
    command: ["sh", "-c", "echo started; exec sleep 86400"]
    stop_signal: SIGKILL
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
"""


def _exec_cat(run_composer: RunCli, ws: Workspace, path: str) -> str | None:
    result = run_composer("-p", ws.name, "exec", "-T", "web", "cat", path, cwd=ws.folder)
    return result.stdout if result.returncode == 0 else None


def _states(client: Any, ws: Workspace) -> list[str]:
    return sorted(c.status for c in ws.labelled(client))


def test_cli_watch_syncs_and_ctrl_c_leaves_the_containers_running(
        ws: Workspace, client: Any, run_composer: RunCli) -> None:
    ws.write("compose.yaml", SIMPLE)
    (ws.folder / "src").mkdir()
    watch = Streaming([*composer_command(), "-p", ws.name, "watch"], cwd=ws.folder,
                      env=clean_environ())
    try:
        watch.wait_for(lambda out, err: "Watch enabled" in out.splitlines(),
                       what="the line 'Watch enabled'", timeout=DEADLINE)
        ws.write("src/x.txt", f"cli {ws.token}\n")
        synced = 'Syncing service "web" after 1 changes were detected'
        watch.wait_for(lambda out, err: synced in out.splitlines(), what=synced)
        wait_until(lambda: _exec_cat(run_composer, ws, "/app/x.txt") == f"cli {ws.token}\n",
                   what="/app/x.txt in the container", interval=0.2)
        rc = watch.interrupt(timeout=DEADLINE)
    finally:
        watch.kill()
    assert rc == 130, (watch.out, watch.err)
    assert "Traceback" not in watch.err, watch.err
    lines = watch.out.splitlines()
    assert lines.index("Watch enabled") < lines.index(synced), lines
    assert _states(client, ws) == ["running"]


def test_cli_up_watch_prints_among_the_logs_and_ctrl_c_stops(
        ws: Workspace, client: Any, run_composer: RunCli) -> None:
    ws.write("compose.yaml", SIMPLE)
    (ws.folder / "src").mkdir()
    up = Streaming([*composer_command(), "-p", ws.name, "up", "--watch"], cwd=ws.folder,
                   env=clean_environ())

    def plain(out: str) -> list[str]:
        return ANSI.sub("", out).splitlines()

    # v2's prefix: the width of the longest name ("#watch" counts) + 1, then " ⦿ ".
    enabled = " " * 8 + "\u29bf Watch enabled"
    synced = " " * 8 + '\u29bf Syncing service "web" after 1 changes were detected'
    try:
        up.wait_for(lambda out, err: enabled in plain(out) and "web-1  | started" in plain(out),
                    what="the watch enabled and the container's output", timeout=DEADLINE)
        ws.write("src/x.txt", f"up {ws.token}\n")
        up.wait_for(lambda out, err: synced in plain(out), what=synced)
        wait_until(lambda: _exec_cat(run_composer, ws, "/app/x.txt") == f"up {ws.token}\n",
                   what="/app/x.txt in the container", interval=0.2)
        rc = up.interrupt(timeout=DEADLINE)
    finally:
        up.kill()
    assert rc == 130, (up.out, up.err)
    assert "Traceback" not in up.err, up.err
    assert _states(client, ws) == ["exited"]


UP_WATCH_ACTIONS = """\
services:
  web:
    build: ./web
    command: ["sh", "-c", "echo started $$(cat /app.txt); exec sleep 86400"]
    stop_signal: SIGKILL
    develop:
      watch:
        - path: ./web
          action: rebuild
        - path: ./conf
          target: /conf
          action: sync+restart
"""


@pytest.mark.not_on_lxc("its rebuild builds from a Dockerfile")
def test_cli_up_watch_follows_the_restarted_and_the_recreated_containers(
        ws: Workspace, client: Any) -> None:
    ws.write("compose.yaml", UP_WATCH_ACTIONS)
    ws.write("web/Dockerfile", "FROM busybox:latest\nCOPY app.txt /app.txt\n")
    ws.write("web/app.txt", f"v1-{ws.token}\n")
    (ws.folder / "conf").mkdir()
    up = Streaming([*composer_command(), "-p", ws.name, "up", "--watch"], cwd=ws.folder,
                   env=clean_environ())

    def lines(out: str) -> list[str]:
        return ANSI.sub("", out).splitlines()

    def count(line: str) -> Callable[[str, str], bool]:
        return lambda out, err: line in lines(out)

    first = f"web-1  | started v1-{ws.token}"
    try:
        up.wait_for(lambda out, err: first in lines(out) and any(
            line.endswith("\u29bf Watch enabled") for line in lines(out)),
            what="the watch enabled and the container's output", timeout=DEADLINE)
        # sync+restart: the container restarts (on engines that report it stopped
        # meanwhile v2's up ends there; composer's goes on) and its output follows.
        ws.write("conf/c.txt", "c\n")
        up.wait_for(count(" " * 8 + '\u29bf service(s) ["web"] restarted'),
                    what="the restart's line")
        up.wait_for(lambda out, err: lines(out).count(first) == 2,
                    what="the restarted container's output", timeout=DEADLINE)
        # rebuild: a new container, whose output follows.
        ws.write("web/app.txt", f"v2-{ws.token}\n")
        up.wait_for(count(" " * 8 + '\u29bf service(s) ["web"] successfully built'),
                    what="the build's line", timeout=DEADLINE)
        up.wait_for(count(f"web-1  | started v2-{ws.token}"),
                    what="the recreated container's output", timeout=DEADLINE)
        assert up.proc.poll() is None, (up.out, up.err)
        rc = up.interrupt(timeout=DEADLINE)
    finally:
        up.kill()
    assert rc == 130, (up.out, up.err)
    assert "Traceback" not in up.err, up.err
    assert _states(client, ws) == ["exited"]


@pytest.mark.anyio
async def test_a_failing_batch_is_reported_and_the_watch_goes_on(ws: Workspace) -> None:
    ws.write("compose.yaml", replicated(textwrap.dedent("""\
        - path: ./src
          target: /app
          action: sync+exec
          exec:
            command: ["sh", "-c", "test ! -e /app/fail"]
        """), replicas=1))
    (ws.folder / "src").mkdir()
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up()
        async with project.watch() as watch:
            ws.write("src/fail", "x\n")
            error = await watch.next("error", service="web")
            assert error.message.startswith("Error handling changed files: "), error
            assert "exited with code 1" in error.message, error
            # The watch is still on: the next change is synced, its hook passes.
            (ws.folder / "src" / "fail").unlink()
            ws.write("src/ok.txt", f"ok {ws.token}\n")
            await arrives(watch, project, "/app/ok.txt", f"ok {ws.token}\n", replicas=1)
            await arrives(watch, project, "/app/fail", None, replicas=1)


@pytest.mark.anyio
async def test_a_project_reached_through_a_symbolic_link_is_watched(
        ws: Workspace, tmp_path: Path) -> None:
    ws.write("compose.yaml", replicated(textwrap.dedent("""\
        - path: ./src
          target: /app
          action: sync
        """), replicas=1))
    (ws.folder / "src").mkdir()
    link = tmp_path / "link"
    link.symlink_to(ws.folder, target_is_directory=True)
    refused: ConfigError | None = None
    async with composer.open([str(link / "compose.yaml")], name=ws.name) as project:
        await project.up()
        try:
            async with project.watch() as watch:
                ws.write("src/x.txt", f"linked {ws.token}\n")
                await arrives(watch, project, "/app/x.txt", f"linked {ws.token}\n", replicas=1)
        except ConfigError as exc:  # raised plainly on the way in (not in a group)
            refused = exc
    if refused is not None:
        raise refused


@pytest.mark.anyio
async def test_sync_copies_into_a_stopped_replica_too(ws: Workspace) -> None:
    # As v2: every container of the service, stopped ones included, gets the copies
    # (deletions need a running container: there is no exec in a stopped one).
    ws.write("compose.yaml", replicated(textwrap.dedent("""\
        - path: ./src
          target: /app
          action: sync
        """)))
    (ws.folder / "src").mkdir()
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up()
        second = await project.service("web").container(2)
        await project.backend.stop_container(second.id, timeout=0)
        async with project.watch() as watch:
            ws.write("src/x.txt", f"stopped {ws.token}\n")
            await arrives(watch, project, "/app/x.txt", f"stopped {ws.token}\n", replicas=1)
            written = str(ws.folder / "src" / "x.txt")
            if not any(written in e.paths for e in watch.events if e.kind == "synced"):
                while written not in (await watch.next("synced", service="web")).paths:
                    pass
        assert (await project.service("web").inspect(2)).state == "exited"
        await project.backend.start_container(second.id)
        assert await read_each(project, "/app/x.txt") == (f"stopped {ws.token}\n",) * 2


BROKEN_BUILD = """\
FROM busybox:latest
COPY app.txt /app.txt
RUN test "$(cat /app.txt)" != broken
CMD ["sleep", "86400"]
"""


@pytest.mark.not_on_lxc("rebuild builds from a Dockerfile")
@pytest.mark.anyio
async def test_a_failed_rebuild_keeps_the_container_and_the_next_one_recreates_it(
        ws: Workspace) -> None:
    ws.write("compose.yaml", REBUILD)
    ws.write("web/Dockerfile", BROKEN_BUILD)
    ws.write("web/app.txt", f"v1 {ws.token}\n")
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up(build=True)
        web = await project.service("web").inspect()
        async with project.watch() as watch:
            ws.write("web/app.txt", "broken\n")
            failed = await watch.next("error", service="web", timeout=DEADLINE)
            assert failed.message.startswith("Build failed. Error: "), failed
            assert "recreated" not in {e.kind for e in watch.events}
            still = await project.service("web").inspect()
            assert (still.id, still.image_id, still.state) == (web.id, web.image_id, "running")
            # The watch goes on: the fix is built and the container recreated.
            ws.write("web/app.txt", f"v3 {ws.token}\n")
            await watch.next("recreated", service="web", timeout=DEADLINE)
            assert (await project.exec("web", ["cat", "/app.txt"])).stdout == f"v3 {ws.token}\n"
            assert (await project.service("web").inspect()).id != web.id


@pytest.mark.anyio
async def test_a_file_rule_follows_an_editor_that_saves_by_replacing_the_file(
        ws: Workspace) -> None:
    ws.write("compose.yaml", replicated(textwrap.dedent("""\
        - path: ./app.conf
          target: /etc/app.conf
          action: sync
        - path: ./src
          target: /app
          action: sync
        """), replicas=1))
    conf = ws.write("app.conf", "v0\n")
    (ws.folder / "src").mkdir()
    saves = [f"v{n} {ws.token}\n" for n in (1, 2, 3)]
    seen: list[str | None] = []
    async with composer.open([ws.compose_file], name=ws.name) as project:
        await project.up()
        async with project.watch() as watch:
            for n, text in enumerate(saves):
                os.replace(ws.write("app.conf.new", text), conf)
                # A later change, synced: whatever the save changed is synced by then.
                ws.write(f"src/after{n}", "after\n")
                await arrives(watch, project, f"/app/after{n}", "after\n", replicas=1)
                seen += await read_each(project, "/etc/app.conf", replicas=1)
    assert seen == saves

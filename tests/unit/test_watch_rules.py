"""``watch`` without an engine: the ``develop.watch`` rules (what is refused, and
where), how a batch of changed files is sorted per service, the sync steps, the
sync itself on the in-memory engine, a batch handled end to end by the
:class:`~composer.api.watch.Watcher`, and the folders the file watcher follows.

Projects are YAML files in ``tmp_path`` read by the real loader, so paths are
absolute as in production. What v2 does comes from /work/notes/watch_v2.md
(Docker Compose v2.40.3).
"""

from __future__ import annotations

import dataclasses
import io
import os
import tarfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from composer.api import Compose, UpOptions
from composer.api.watch import Watcher, WatchEvent, WatchOptions
from composer.backends.memory import MemoryBackend, MemoryContainer
from composer.backends.types import ContainerState, ImageInfo
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import ConfigError, EngineError
from composer.plan.steps import SyncFiles
from composer.plan.watch import NoWatchError, WatchRule, classify, plan_sync, watch_rules
from composer.runtime.copying import sync_to_container
from composer.runtime.filewatch import watched_roots

pytestmark = pytest.mark.anyio

NO_WATCH = ("none of the selected services is configured for watch, consider setting a "
            "'develop' section")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "compose.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load(tmp_path: Path, text: str) -> LoadedProject:
    write(tmp_path, text)
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


def rules_of(tmp_path: Path, text: str, services: Sequence[str] = (),
             dockerignore: dict[str, list[str]] | None = None) -> list[WatchRule]:
    loaded = load(tmp_path, text)
    return watch_rules(loaded.model, services, dockerignore=dockerignore,
                       project_dir=loaded.working_dir)


def web(*rules: str, build: bool = False) -> str:
    """A project whose service ``web`` has these ``develop.watch`` rules (flow style)."""
    lines = ["services:", "  web:", "    build: ." if build else "    image: busybox",
             "    develop:", "      watch:", *(f"        - {r}" for r in rules)]
    return "\n".join(lines) + "\n"


# -- the rules --------------------------------------------------------------------------------


def test_no_service_with_develop_is_v2s_error(tmp_path: Path) -> None:
    text = "services:\n  web:\n    image: busybox\n  db:\n    image: busybox\n"
    with pytest.raises(NoWatchError) as caught:
        rules_of(tmp_path, text)
    assert str(caught.value) == NO_WATCH
    assert caught.value.exit_code == 1


@pytest.mark.parametrize("action", ["sync", "sync+restart", "sync+exec"])
def test_a_relative_target_is_refused_at_its_key(tmp_path: Path, action: str) -> None:
    # v2 takes "target: app" as /app; composer asks for what is meant.
    with pytest.raises(ConfigError) as caught:
        rules_of(tmp_path, web(f"{{path: ./src, action: {action}, target: app, "
                               "exec: {command: [make]}}"))
    assert caught.value.path == ("services", "web", "develop", "watch", 0, "target")
    assert "target 'app' is not an absolute path in the container" in str(caught.value)


def test_rebuild_needs_no_target(tmp_path: Path) -> None:
    [rule] = rules_of(tmp_path, web("{path: ./src, action: rebuild}", build=True))
    assert (rule.action, rule.path, rule.target) == ("rebuild", str(tmp_path / "src"), "")


def test_restart_needs_no_target(tmp_path: Path) -> None:
    [rule] = rules_of(tmp_path, web("{path: ./src, action: restart}"))
    assert (rule.action, rule.target) == ("restart", "")


def test_a_path_outside_the_project_folder_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    with pytest.raises(ConfigError) as caught:
        rules_of(project, web("{path: ./ok, action: sync, target: /ok}",
                              "{path: ../elsewhere, action: sync, target: /app}"))
    assert caught.value.path == ("services", "web", "develop", "watch", 1, "path")
    assert (f"watch path {tmp_path / 'elsewhere'} is outside the project folder {project}"
            in str(caught.value))


def test_rebuild_without_build_is_v2s_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        rules_of(tmp_path, web("{path: ./src, action: rebuild}"))
    assert caught.value.path == ("services", "web", "develop", "watch", 0, "action")
    assert ("can't watch service \"web\" with action rebuild without a build context"
            in str(caught.value))


def test_only_the_selected_services_rules_are_compiled(tmp_path: Path) -> None:
    text = """
        services:
          web:
            image: busybox
            develop:
              watch: [{path: ./web, action: sync, target: relative}]
          db:
            image: busybox
            develop:
              watch:
                - {path: ./db, action: sync, target: /db}
                - {path: ./x, action: sync+restart, target: /x}
          cache:
            image: busybox
    """
    # web's bad rule is not looked at when web is not watched
    rules = rules_of(tmp_path, text, ["db"])
    assert [(r.service, r.index, r.target) for r in rules] == [("db", 0, "/db"), ("db", 1, "/x")]
    with pytest.raises(NoWatchError):
        rules_of(tmp_path, text, ["cache"])


def test_watching_a_service_watches_its_dependencies_rules(tmp_path: Path) -> None:
    loaded = load(tmp_path, """
        services:
          web:
            image: busybox
            depends_on: [db]
          db:
            image: busybox
            develop:
              watch: [{path: ./db, action: sync, target: /db}]
    """)
    watcher = Watcher(Compose(MemoryBackend()), loaded, WatchOptions(services=("web",)))
    assert [r.service for r in watcher.compile()] == ["db"]


# -- the same refusals on the command line ------------------------------------------------------

# The rules are compiled before anything asks the engine: an engine that is not there
# changes nothing (its error would be "cannot reach a container engine ...").
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/composer-watch-test.sock"}


@pytest.mark.parametrize(("rule", "key", "message"), [
    ("{path: ./src, action: sync, target: app}", "watch[0].target",
     "target 'app' is not an absolute path in the container"),
    ("{path: ./src, action: rebuild}", "watch[0].action",
     "can't watch service \"web\" with action rebuild without a build context"),
    ("{path: ../elsewhere, action: sync, target: /app}", "watch[0].path",
     "watch path {parent}/elsewhere is outside the project folder {here}"),
])
def test_the_cli_refuses_a_bad_rule_in_one_located_line(
        tmp_path: Path, run_composer: Any, rule: str, key: str, message: str) -> None:
    compose = write(tmp_path, web(rule))
    result = run_composer("watch", "--no-up", cwd=tmp_path, env=NO_ENGINE)
    assert result.returncode == 15, result.stderr
    assert result.stdout == ""
    assert len(result.stderr_lines) == 1, result.stderr
    line = result.stderr_lines[0]
    # the rule is the file's 6th line ("- {...}"), its keys are on it
    assert line.startswith(f"composer: {compose}:6:"), line
    assert line.endswith(f"services.web.develop.{key}: "
                         + message.format(parent=tmp_path.parent, here=tmp_path)), line


def test_the_cli_says_when_no_service_is_watched(tmp_path: Path, run_composer: Any) -> None:
    write(tmp_path, """
        services:
          web:
            image: busybox
          db:
            image: busybox
            develop:
              watch: [{path: ./db, action: sync, target: /db}]
    """)
    result = run_composer("watch", "--no-up", "web", cwd=tmp_path, env=NO_ENGINE)
    assert result.returncode == 1, result.stderr
    assert result.stderr_lines == [f"composer: {NO_WATCH}"]


# -- classify ---------------------------------------------------------------------------------


def test_ignore_is_relative_to_the_rules_path(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, web(
        "{path: ./src, action: sync, target: /app, ignore: ['*.tmp', build, src/x.txt]}"))
    src = tmp_path / "src"
    paths = [src / "a.tmp", src / "sub/a.tmp", src / "build/out.js", src / "x.txt",
             src / "main.py"]
    batch = classify(rules, map(str, paths))
    assert batch.sync == {"web": [
        (str(src / "main.py"), "/app/main.py"),
        (str(src / "sub/a.tmp"), "/app/sub/a.tmp"),  # "*" does not cross "/"
        (str(src / "x.txt"), "/app/x.txt"),  # "src/x.txt" means src/src/x.txt
    ]}


def test_dockerignore_patterns_are_relative_to_the_build_context(tmp_path: Path) -> None:
    # v2 (observed): "ignored.txt" did not ignore src/ignored.txt; "src/..." and "**/" did.
    text = web("{path: ./src, action: sync, target: /app}",
               "{path: ./src/hot, action: rebuild}", build=True)
    rules = rules_of(tmp_path, text, dockerignore={
        "web": ["ignored.txt", "src/skip.txt", "**/*.log", "src/hot/cold"]})
    src = tmp_path / "src"
    batch = classify(rules, map(str, [src / "ignored.txt", src / "skip.txt",
                                      src / "deep/x.log", src / "hot/cold/a"]))
    assert batch.sync == {"web": [(str(src / "ignored.txt"), "/app/ignored.txt")]}
    assert batch.rebuild == []  # the rebuild rule's only change is ignored too


def test_dockerignore_is_that_of_the_services_build(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, web("{path: ./src, action: sync, target: /app}"),
                     dockerignore={"web": ["src"]})
    changed = str(tmp_path / "src/a")
    assert classify(rules, [changed]).sync == {"web": [(changed, "/app/a")]}


def test_include_takes_only_what_it_names(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, web(
        "{path: ./src, action: sync, target: /app, include: ['*.txt', lib]}"))
    src = tmp_path / "src"
    batch = classify(rules, map(str, [src / "a.txt", src / "a.py", src / "sub/z.txt",
                                      src / "lib/deep/m.py"]))
    assert [there for _, there in batch.sync["web"]] == ["/app/a.txt", "/app/lib/deep/m.py"]


def test_include_star_alone_takes_nothing(tmp_path: Path) -> None:
    # v2's quirk (observed): include: ["*"] syncs nothing.
    rules = rules_of(tmp_path, web("{path: ./src, action: sync, target: /app, include: '*'}"))
    assert not classify(rules, [str(tmp_path / "src/a.txt")])


def test_editors_files_and_git_folders_are_no_change(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, web("{path: ./src, action: sync, target: /app}"))
    src = tmp_path / "src"
    ignored = [".a.swp", "x~", "4913", "deep/.b.swx", "#x#", ".#x", ".idea/workspace.xml",
               "f___jb_tmp___", ".git/HEAD", "deep/.git/objects/ab/cd", ".git"]
    assert not classify(rules, [str(src / name) for name in ignored])
    kept = [".github/ci.yml", "my.git/x", "x4913", "4913.txt", "a.swp", ".gitignore"]
    batch = classify(rules, [str(src / name) for name in kept])
    assert sorted(there for _, there in batch.sync["web"]) == sorted(
        f"/app/{name}" for name in kept)


def test_a_file_under_two_rules_counts_twice(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, web("{path: ./src, action: sync, target: /app}",
                                   "{path: ./src/lib, action: sync, target: /lib}"))
    changed = str(tmp_path / "src/lib/a.py")
    assert classify(rules, [changed]).sync == {
        "web": [(changed, "/app/lib/a.py"), (changed, "/lib/a.py")]}


def test_the_rules_path_itself_goes_to_the_target(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, web("{path: ./app.conf, action: sync, target: /etc/app.conf}"))
    changed = str(tmp_path / "app.conf")
    assert classify(rules, [changed, str(tmp_path / "app.conf.bak")]).sync == {
        "web": [(changed, "/etc/app.conf")]}


def test_rebuild_comes_with_the_same_services_sync_restart_and_exec(tmp_path: Path) -> None:
    # As v2's handleWatchBatch: the rebuild runs first, then the rest of the batch
    # goes to the new containers.
    rules = rules_of(tmp_path, """
        services:
          web:
            build: .
            develop:
              watch:
                - {path: ./src, action: sync+restart, target: /app}
                - {path: ./src, action: sync+exec, target: /app, exec: {command: [make]}}
                - {path: ./src, action: rebuild}
          api:
            image: busybox
            develop:
              watch: [{path: ./src, action: sync+restart, target: /srv}]
    """)
    changed = str(tmp_path / "src/a.py")
    batch = classify(rules, [changed])
    assert batch.rebuild == ["web"]
    assert batch.sync == {"web": [(changed, "/app/a.py"), (changed, "/app/a.py")],
                          "api": [(changed, "/srv/a.py")]}
    assert batch.restart == ["api", "web"]  # the project's (sorted) order
    assert [rule.index for rule in batch.exec["web"]] == [1]


def test_restart_and_exec_hooks_come_once_per_batch(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, web(
        "{path: ./src, action: sync+restart, target: /app}",
        "{path: ./src, action: sync+exec, target: /app, exec: {command: [make]}}"))
    batch = classify(rules, [str(tmp_path / f"src/{n}.py") for n in "abc"])
    assert len(batch.sync["web"]) == 6
    assert batch.restart == ["web"]
    assert [(r.index, r.exec.command if r.exec else None) for r in batch.exec["web"]] == [
        (1, ("make",))]


def test_nothing_under_a_rule_is_an_empty_batch(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, web("{path: ./src, action: sync, target: /app}"))
    assert not classify(rules, [str(tmp_path / "other/a.py"), str(tmp_path / "srcfoo")])


# -- plan_sync --------------------------------------------------------------------------------


def container(number: int, *, service: str = "web", state: str = "running",
              oneoff: bool = False) -> ContainerState:
    return ContainerState(
        id=f"id-{service}-{number}", name=f"p-{service}-{number}", project="p",
        service=service, number=number, oneoff=oneoff, state=state, status="", health=None,
        exit_code=None, config_hash="", image="busybox", labels={})


def test_plan_sync_one_step_per_container_deletions_only_where_running() -> None:
    copies = [("/here/a.py", "/app/a.py")]
    plan = plan_sync("p", "web", [
        container(2), container(1, state="exited"), container(3, oneoff=True),
        container(1, service="db"), container(4, state="restarting")],
        copies, ["/app/gone.py"])
    ops = [step.operation for step in plan.steps]
    assert all(isinstance(op, SyncFiles) for op in ops)
    assert [(op.container, op.copies, op.deletions) for op in ops] == [  # type: ignore[attr-defined]
        ("id-web-1", tuple(copies), ()),
        ("id-web-2", tuple(copies), ("/app/gone.py",)),
        ("id-web-4", tuple(copies), ("/app/gone.py",)),
    ]
    assert [op.display for op in ops] == ["Container p-web-1", "Container p-web-2",
                                          "Container p-web-4"]


def test_plan_sync_without_containers_is_empty() -> None:
    assert plan_sync("p", "web", [container(1, service="db")], [("/a", "/b")], []).steps == []


# -- the sync on the in-memory engine ---------------------------------------------------------


def engine_with_web() -> tuple[MemoryBackend, MemoryContainer]:
    engine = MemoryBackend()
    return engine, engine.add_container("p", "web", 1)


async def test_sync_puts_files_at_their_container_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "sub/b.txt").write_text("B")
    engine, web_1 = engine_with_web()
    await sync_to_container(engine, web_1.id, [
        (str(tmp_path / "a.txt"), "/app/a.txt"),
        (str(tmp_path / "sub/b.txt"), "/app/deep/er/b.txt"),
        (str(tmp_path / "vanished.txt"), "/app/vanished.txt"),  # gone meanwhile: skipped
    ])
    assert web_1.files.read("/app/a.txt") == b"A"
    assert web_1.files.read("/app/deep/er/b.txt") == b"B"
    assert web_1.files.stat("/app/vanished.txt") is None
    # missing folders are made by the engine (root's, 0755), not taken from this machine
    assert [op for op in engine.ops("put_archive", "exec_create")] == [
        f"put_archive {web_1.id}:/"]


async def test_sync_deletes_with_rm_in_the_container(tmp_path: Path) -> None:
    engine, web_1 = engine_with_web()
    seen: list[list[str]] = []

    def rm(argv: Sequence[str], stdin: bytes, env: Any, workdir: str) -> tuple[int, bytes, bytes]:
        seen.append(list(argv))
        return 0, b"", b""

    engine.script("web", exec=rm)
    (tmp_path / "new.txt").write_text("N")
    await sync_to_container(engine, web_1.id, [(str(tmp_path / "new.txt"), "/app/new.txt")],
                            ["/app/gone.txt", "/app/old dir"])
    assert seen == [["rm", "-rf", "/app/gone.txt", "/app/old dir"]]
    assert web_1.files.read("/app/new.txt") == b"N"


async def test_a_container_without_rm_says_so_and_nothing_is_copied(tmp_path: Path) -> None:
    # The memory engine's interpreter has no rm: what a user of an image without one sees.
    engine, web_1 = engine_with_web()
    (tmp_path / "new.txt").write_text("N")
    with pytest.raises(EngineError) as caught:
        await sync_to_container(engine, web_1.id, [(str(tmp_path / "new.txt"), "/app/new.txt")],
                                ["/app/gone.txt"])
    text = str(caught.value)
    assert text.startswith(f"deleting paths in {web_1.id[:12]}: ")
    assert 'exec: "rm": executable file not found in $PATH' in text
    assert web_1.files.stat("/app/new.txt") is None


async def test_a_failing_rm_is_its_stderr(tmp_path: Path) -> None:
    engine, web_1 = engine_with_web()
    engine.script("web", exec=lambda argv, stdin, env, workdir: (
        1, b"", b"rm: can't remove '/app/x': Read-only file system\n"))
    with pytest.raises(EngineError, match=(
            rf"^deleting paths in {web_1.id[:12]}: rm: can't remove '/app/x': "
            "Read-only file system$")):
        await sync_to_container(engine, web_1.id, [], ["/app/x"])


# -- a batch, end to end ----------------------------------------------------------------------


class Watch:
    """A project up on the memory engine, and a watcher recording its events."""

    def __init__(self, loaded: LoadedProject, engine: MemoryBackend) -> None:
        self.engine = engine
        self.events: list[WatchEvent] = []
        self.watcher = Watcher(Compose(engine), loaded, on_event=self.events.append)

    @classmethod
    async def up(cls, tmp_path: Path, text: str, engine: MemoryBackend | None = None,
                 **options: Any) -> Watch:
        loaded = load(tmp_path, text)
        (tmp_path / "src").mkdir(exist_ok=True)
        self = cls(loaded, engine or MemoryBackend())
        await self.watcher.compose.up(loaded, UpOptions(**options))
        self.watcher.compile()
        return self

    def container(self, name: str = "p-web-1") -> MemoryContainer:
        return next(c for c in self.engine.containers.values() if c.name == name)

    def messages(self) -> list[tuple[str, str]]:
        return [(e.kind, e.message) for e in self.events if e.message]

    async def handle(self, *paths: Path) -> list[tuple[str, str]]:
        self.events.clear()
        await self.watcher.handle({str(p) for p in paths})
        return self.messages()


def src_file(tmp_path: Path, name: str, text: str = "x") -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


async def test_a_sync_batch_copies_the_files_into_every_container(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync, target: /app}")
                       .replace("image: busybox", "image: busybox\n    scale: 2"))
    a, b = src_file(tmp_path, "a.txt", "A"), src_file(tmp_path, "sub/b.txt", "B")
    assert await w.handle(a, b) == [
        ("syncing", 'Syncing service "web" after 2 changes were detected')]
    for name in ("p-web-1", "p-web-2"):
        files = w.container(name).files
        assert (files.read("/app/a.txt"), files.read("/app/sub/b.txt")) == (b"A", b"B")


async def test_a_new_folder_is_synced_with_what_is_in_it(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync, target: /app, "
                                     "ignore: ['**/*.tmp']}"))
    src_file(tmp_path, "nd/deep/e.txt", "E")
    src_file(tmp_path, "nd/x.tmp")
    # one event for the folder: what is in it goes through the rules one by one (nd,
    # nd/deep, nd/deep/e.txt; not nd/x.tmp)
    assert await w.handle(tmp_path / "src/nd") == [
        ("syncing", 'Syncing service "web" after 3 changes were detected')]
    files = w.container().files
    assert files.read("/app/nd/deep/e.txt") == b"E"
    assert files.stat("/app/nd/x.tmp") is None


async def test_a_deleted_file_is_removed_with_rm(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync, target: /app}"))
    seen: list[list[str]] = []
    w.engine.script("web", exec=lambda argv, stdin, env, workdir: (seen.append(list(argv)),
                                                                   (0, b"", b""))[1])
    assert await w.handle(tmp_path / "src/gone.txt") == [
        ("syncing", 'Syncing service "web" after 1 changes were detected')]
    assert seen == [["rm", "-rf", "/app/gone.txt"]]


async def test_a_failed_sync_is_an_error_and_the_watch_goes_on(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync, target: /app}"))
    messages = await w.handle(tmp_path / "src/gone.txt")  # the memory engine has no rm
    assert messages[0] == ("syncing", 'Syncing service "web" after 1 changes were detected')
    [(kind, text)] = messages[1:]
    assert kind == "error"
    assert text.startswith('Error handling changed files: service "web": deleting paths in ')
    assert await w.handle(src_file(tmp_path, "next.txt")) == [
        ("syncing", 'Syncing service "web" after 1 changes were detected')]


async def test_sync_restart_restarts_the_service(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync+restart, target: /app}"))
    web_1 = w.container()
    mark = len(w.engine.calls)
    assert await w.handle(src_file(tmp_path, "a.txt")) == [
        ("syncing", 'Syncing service "web" after 1 changes were detected'),
        ("restarted", 'service(s) ["web"] restarted')]
    assert [f"{c.op} {c.target}" for c in w.engine.calls[mark:]
            if c.op in ("put_archive", "stop_container", "start_container")] == [
        f"put_archive {web_1.id}:/", f"stop_container {web_1.id}",
        f"start_container {web_1.id}"]
    assert web_1.state == "running" and web_1.files.read("/app/a.txt") == b"x"


async def test_sync_exec_without_exec_is_v2s_error_after_the_sync(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync+exec, target: /app}"))
    assert await w.handle(src_file(tmp_path, "a.txt")) == [
        ("syncing", 'Syncing service "web" after 1 changes were detected'),
        ("error", "Error handling changed files: No exec command specified")]
    assert w.container().files.read("/app/a.txt") == b"x"


async def test_the_exec_hook_runs_once_per_batch_in_each_running_container(
        tmp_path: Path) -> None:
    text = web("{path: ./src, action: sync+exec, target: /app, "
               "exec: {command: [echo, hooked]}}").replace("image: busybox",
                                                           "image: busybox\n    scale: 2")
    w = await Watch.up(tmp_path, text)
    assert await w.handle(src_file(tmp_path, "a.txt"), src_file(tmp_path, "b.txt")) == [
        ("syncing", 'Syncing service "web" after 2 changes were detected'),
        ("output", "hooked\n"), ("output", "hooked\n")]


async def test_a_failing_exec_hook_names_its_command_and_container(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync+exec, target: /app, "
                                     "exec: {command: [sh, -c, 'echo no >&2; exit 3']}}"))
    assert await w.handle(src_file(tmp_path, "a.txt")) == [
        ("syncing", 'Syncing service "web" after 1 changes were detected'),
        ("output", "no\n"),
        ("error", "Error handling changed files: 'sh -c echo no >&2; exit 3' exited with "
                  "code 3 in p-web-1")]


async def test_the_exec_hook_runs_in_a_container_the_batch_restarted(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web(
        "{path: ./src, action: sync+restart, target: /app}",
        "{path: ./src, action: sync+exec, target: /app, exec: {command: [echo, hooked]}}"))
    await w.engine.stop_container(w.container().id, 1)
    messages = await w.handle(src_file(tmp_path, "a.txt"))
    assert ("restarted", 'service(s) ["web"] restarted') in messages
    assert ("output", "hooked\n") in messages


async def test_rebuild_builds_and_recreates_the_service(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: rebuild}", build=True),
                       build=True)
    before = w.container().id
    assert await w.handle(src_file(tmp_path, "a.txt")) == [
        ("rebuilding", 'Rebuilding service(s) ["web"] after changes were detected...'),
        ("built", 'service(s) ["web"] successfully built')]
    assert w.container().id != before
    assert [e.kind for e in w.events][-1] == "recreated"


async def test_a_sync_rule_needs_a_container(tmp_path: Path) -> None:
    loaded = load(tmp_path, web("{path: ./src, action: sync, target: /app}"))
    watcher = Watcher(Compose(MemoryBackend()), loaded)
    watcher.compile()
    with pytest.raises(ConfigError) as caught:
        await watcher.check_containers()
    assert str(caught.value) == (
        f"{tmp_path / 'compose.yaml'}:6:33: services.web.develop.watch[0].action: "
        'service "web" has no container to sync files to (start it first)')


# -- initial_sync -----------------------------------------------------------------------------

IMAGE_MADE = 1_577_836_800  # 2020-01-01T00:00:00Z


class MadeIn2020(MemoryBackend):
    """The memory engine's images have no creation time: these were made in 2020. Every
    archive put is kept (its member names)."""

    def __init__(self) -> None:
        super().__init__()
        self.archives: list[list[str]] = []

    async def inspect_image(self, image: str) -> ImageInfo:
        info = await super().inspect_image(image)
        return dataclasses.replace(info, created="2020-01-01T00:00:00.000000000Z")

    async def put_archive(self, container: str, path: str, data: bytes, *,
                          copy_uid_gid: bool = False) -> None:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            self.archives.append(tar.getnames())
        await super().put_archive(container, path, data, copy_uid_gid=copy_uid_gid)


def dated(path: Path, stamp: float) -> Path:
    os.utime(path, (stamp, stamp))
    return path


async def test_initial_sync_copies_only_files_newer_than_the_image(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync, target: /app, "
                                     "initial_sync: true}"), MadeIn2020())
    dated(src_file(tmp_path, "old.txt"), IMAGE_MADE - 60)
    dated(src_file(tmp_path, "deep/new.txt", "N"), IMAGE_MADE + 60)
    dated(src_file(tmp_path, "new.swp"), IMAGE_MADE + 60)
    await w.watcher.initial_sync()
    files = w.container().files
    assert files.read("/app/deep/new.txt") == b"N"
    assert files.stat("/app/old.txt") is None
    assert files.stat("/app/new.swp") is not None  # ".new.swp" would be an editor's
    assert w.messages() == []  # quietly, as v2


async def test_initial_sync_is_for_sync_rules_only(tmp_path: Path) -> None:
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync+exec, target: /app, "
                                     "initial_sync: true, exec: {command: [make]}}"),
                       MadeIn2020())
    dated(src_file(tmp_path, "new.txt"), IMAGE_MADE + 60)
    await w.watcher.initial_sync()
    assert w.container().files.stat("/app/new.txt") is None


async def test_initial_sync_sends_files_only(tmp_path: Path) -> None:
    engine = MadeIn2020()
    w = await Watch.up(tmp_path, web("{path: ./src, action: sync, target: /app, "
                                     "initial_sync: true}"), engine)
    dated(src_file(tmp_path, "sub/new.txt"), IMAGE_MADE + 60)
    os.chmod(tmp_path / "src", 0o700)
    await w.watcher.initial_sync()
    assert engine.archives == [["app/sub/new.txt"]]
    stat = w.container().files.stat("/app")
    assert stat is not None and stat.mode & 0o777 == 0o755


# -- the folders watched ----------------------------------------------------------------------


def test_a_missing_path_is_watched_through_its_nearest_existing_parent(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    assert watched_roots([str(tmp_path / "src/later/deeper")]) == [str(tmp_path / "src")]
    assert watched_roots([str(tmp_path / "file-to-come.txt")]) == [str(tmp_path)]


def test_nested_roots_are_collapsed(tmp_path: Path) -> None:
    for name in ("a/b", "ab", "c"):
        (tmp_path / name).mkdir(parents=True)
    roots = watched_roots([str(tmp_path / p) for p in ("c", "a/b", "a", "ab", "a/b/missing",
                                                       "c/")])
    assert roots == [str(tmp_path / "a"), str(tmp_path / "ab"), str(tmp_path / "c")]

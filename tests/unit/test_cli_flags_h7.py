"""Flags v2 has that composer gained: ``up --always-recreate-deps -V --quiet-build
--attach-dependencies``, ``run --build --quiet-build --env-from-file``, ``ps --orphans``.
Parsing, the usage errors v2 gives, and what the flags change (no engine needed)."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeBackend

from composer.api import Compose, UpOptions
from composer.cli.goflags import go_bool, parse_go_bool
from composer.cli.logview import LogPrinter, validate_attach_flags
from composer.cli.main import _global_parser
from composer.config.dotenv import env_from_files
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import EnvFileError, UsageError
from composer.graph import build_graph, dependencies_of
from composer.model.project import Project
from composer.plan.run import OneOffOptions as RunOptions
from composer.plan.run import oneoff_service


def parse(*argv: str) -> argparse.Namespace:
    return _global_parser().parse_args(list(argv))


def parse_one(*argv: str) -> argparse.Namespace:
    """As ``composer`` itself parses: only the named command's parser is built."""
    return _global_parser(argv[0]).parse_args(list(argv))


# -- up ----------------------------------------------------------------------------------------


def test_up_recreate_and_build_flags_parse() -> None:
    ns = parse("up", "-V", "--always-recreate-deps", "--quiet-build", "--attach-dependencies",
               "web")
    assert ns.renew_anon_volumes and ns.always_recreate_deps and ns.quiet_build
    assert ns.attach_dependencies and ns.services == ["web"]
    assert parse("up", "--renew-anon-volumes").renew_anon_volumes
    plain = parse("up")
    assert not (plain.renew_anon_volumes or plain.always_recreate_deps or plain.quiet_build
                or plain.attach_dependencies)


@pytest.mark.parametrize(("argv", "message"), [
    (("up", "-V", "--no-recreate"), "--no-recreate and --renew-anon-volumes are incompatible"),
    (("up", "--always-recreate-deps", "--no-recreate"),
     "--always-recreate-deps and --no-recreate are incompatible"),
    # v2 checks --force-recreate first.
    (("up", "--always-recreate-deps", "--no-recreate", "--force-recreate"),
     "--force-recreate and --no-recreate are incompatible"),
])
def test_up_recreate_flag_conflicts_use_v2_wording(argv: tuple[str, ...], message: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from composer.cli import engine_run

    def no_project(*args: object, **kwargs: object) -> None:
        raise AssertionError("the flags are checked before the project is loaded")

    monkeypatch.setattr(engine_run, "resolve_target", no_project)
    with pytest.raises(UsageError) as info:
        engine_run.up(parse(*argv))
    assert str(info.value) == message


@pytest.mark.parametrize(("argv", "message"), [
    (("up", "--attach", "web", "--attach-dependencies"),
     "cannot combine --attach and --attach-dependencies"),
    (("up", "-d", "--attach-dependencies"), "--detach cannot be combined with"),
    (("up", "--wait", "--attach-dependencies"), "--wait cannot be combined with"),
    (("up", "--wait", "--attach", "web"), "--wait cannot be combined with"),
    (("up", "--wait", "--exit-code-from", "web"), "--wait cannot be combined with"),
])
def test_attach_dependencies_conflicts(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        validate_attach_flags(parse(*argv))


def test_attach_dependencies_alone_is_accepted() -> None:
    validate_attach_flags(parse("up", "--attach-dependencies", "web"))


def test_attached_dependencies_come_from_the_graph_transitively() -> None:
    # --attach-dependencies reads the one service graph (implicit dependencies too).
    services: dict[str, Any] = {"web": {"depends_on": {"api": {}}},
                                "api": {"depends_on": {"db": {}}, "links": ["cache"]},
                                "db": {}, "cache": {}, "lone": {}}
    graph = build_graph(Project.from_dict({"name": "p", "services": services}))
    assert dependencies_of(graph, ["web"]) == {"api", "db", "cache"}
    assert dependencies_of(graph, ["web", "api"]) - {"web", "api"} == {"db", "cache"}
    assert dependencies_of(graph, ["lone"]) == set()


def test_printer_keeps_dependency_output_but_not_their_exit_lines() -> None:
    import io

    out = io.StringIO()
    printer = LogPrinter(out)
    printer.silent_services = frozenset({"db"})
    printer.lines("db-1", "stdout", ["db-hello"])
    printer.status("db-1", "exited with code 3")
    printer.status("web-1", "exited with code 0")
    text = out.getvalue()
    assert "db-hello" in text and "db-1 exited" not in text and "web-1 exited with code 0" in text


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


APP = """
services:
  db:
    image: busybox
    volumes: ["/anon"]
  web:
    image: busybox
    depends_on: [db]
"""


def load(tmp_path: Path) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(APP))
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


@pytest.mark.anyio
async def test_renew_anon_volumes_recreates_the_named_services_only(tmp_path: Path) -> None:
    fake = FakeBackend()
    compose = Compose(fake)
    project = load(tmp_path)
    await compose.up(project)
    before = {c.name: c.id for c in fake.containers.values()}
    await compose.up(project, UpOptions(services=("web",), renew_anon_volumes=True))
    after = {c.name: c.id for c in fake.containers.values()}
    assert after["p-web-1"] != before["p-web-1"]
    assert after["p-db-1"] == before["p-db-1"]
    await compose.up(project, UpOptions(renew_anon_volumes=True))
    again = {c.name: c.id for c in fake.containers.values()}
    assert again["p-db-1"] != after["p-db-1"] and again["p-web-1"] != after["p-web-1"]


@pytest.mark.anyio
async def test_always_recreate_deps_recreates_the_dependency_not_the_named(
        tmp_path: Path) -> None:
    fake = FakeBackend()
    compose = Compose(fake)
    project = load(tmp_path)
    await compose.up(project)
    before = {c.name: c.id for c in fake.containers.values()}
    await compose.up(project, UpOptions(services=("web",), always_recreate_deps=True))
    after = {c.name: c.id for c in fake.containers.values()}
    assert after["p-db-1"] != before["p-db-1"]
    assert after["p-web-1"] == before["p-web-1"]


# -- run ---------------------------------------------------------------------------------------


def test_run_build_flags_parse() -> None:
    ns = parse_one("run", "--build", "--quiet-build", "--env-from-file", "a.env",
                   "--env-from-file", "b.env", "web", "env", "--build")
    assert ns.build and ns.quiet_build
    assert ns.env_from_file == ["a.env", "b.env"]
    assert ns.service == "web" and ns.argv == ["env", "--build"]


def test_env_from_files_precedence_and_interpolation(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOSTV", "from-host")
    (tmp_path / "one.env").write_text(
        'A=one-a\nB=one-b\nC=${A}-x\nD=${HOSTV:-default}\nexport E="quoted e"\n')
    (tmp_path / "two.env").write_text("A=two-a\nF=two-f\n")
    # -e wins; the first file setting a key wins; ${A} sees -e's value; never the host's.
    got = env_from_files(["one.env", "two.env"], ["A=cli"])
    assert got == {"B": "one-b", "C": "cli-x", "D": "default", "E": "quoted e", "F": "two-f"}
    got = env_from_files(["two.env", "one.env"], [])
    assert got["A"] == "two-a" and got["C"] == "two-a-x"


def test_env_from_files_missing_file_is_v2_worded(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EnvFileError, match="^open nope.env: no such file or directory$"):
        env_from_files(["nope.env"], [])


def test_file_environment_overrides_the_service_and_cli_overrides_the_file() -> None:
    project = {"name": "p", "services": {"s": {"image": "busybox",
                                               "environment": {"SVC": "svc", "B": "svc-b"}}}}
    service = oneoff_service(
        Project.from_dict(project), RunOptions(
            service="s", environment=("B=cli-b",),
            file_environment={"B": "file-b", "SVC": "file-svc", "N": "n"}),
        environment={}, working_dir="/", slug="ab" * 32)
    assert service.environment == {"SVC": "file-svc", "B": "cli-b", "N": "n"}


# -- ps ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "orphans", "services"), [
    (("ps",), True, []),
    (("ps", "--orphans"), True, []),
    (("ps", "--orphans=false"), False, []),
    (("ps", "--orphans=0"), False, []),
    (("ps", "--orphans=F"), False, []),
    (("ps", "--orphans=True"), True, []),
    # As pflag: a bool flag takes its value only after "=".
    (("ps", "--orphans", "web"), True, ["web"]),
    (("ps", "web", "--orphans=false", "-a"), False, ["web"]),
])
def test_ps_orphans_is_a_go_bool_flag(argv: tuple[str, ...], orphans: bool,
                                      services: list[str]) -> None:
    for parser in (parse, parse_one):
        ns = parser(*argv)
        assert go_bool(ns, "orphans") is orphans
        assert ns.services == services


@pytest.mark.parametrize("value", ["no", "", "yes", "2"])
def test_ps_orphans_bad_value_uses_v2_wording(value: str) -> None:
    with pytest.raises(UsageError) as info:
        go_bool(parse("ps", f"--orphans={value}"), "orphans")
    assert str(info.value) == (f'invalid argument "{value}" for "--orphans" flag: '
                               f'strconv.ParseBool: parsing "{value}": invalid syntax')
    assert parse_go_bool("orphans", "t") is True

"""``composer build`` flags beyond the basics: ``--push``, ``-m/--memory`` and the
BuildKit/Bake flags (``--ssh``, ``--builder``, ``--check``, ``--provenance``,
``--sbom``, ``--print``), as Docker Compose v2 treats them with the classic builder."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeBackend

from composer.api import BuildOptions, Compose
from composer.cli.image_cmds import build, parse_memory, parse_ssh
from composer.cli.main import _global_parser
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import BuildError, EngineError, UnsupportedError, UsageError


def parse(*argv: str) -> argparse.Namespace:
    return _global_parser().parse_args(list(argv))


# -- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("512m", 512 << 20), ("1g", 1 << 30), ("1.5k", 1536), ("512", 512), ("64MiB", 64 << 20),
    (None, None),
])
def test_memory_takes_v2_units(text: str | None, expected: int | None) -> None:
    assert parse_memory(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("12x", "invalid suffix: 'x'"), ("abc", "invalid size: 'abc'"), ("-5", "invalid size: '-5'"),
])
def test_memory_refuses_what_v2_refuses_with_its_words(text: str, why: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_memory(text)
    assert str(caught.value) == f'invalid argument "{text}" for "-m, --memory" flag: {why}'


def test_ssh_values() -> None:
    assert parse_ssh(None) is None
    assert parse_ssh("") == "default"  # --ssh= as v2
    assert parse_ssh("default") == "default"
    assert parse_ssh("key=/home/me/.ssh/id") == "key=/home/me/.ssh/id"
    with pytest.raises(UsageError, match='invalid ssh key "foo"'):
        parse_ssh("foo")


def test_every_v2_build_flag_parses() -> None:
    args = parse("build", "--push", "-m", "64m", "--ssh", "default", "--builder", "b",
                 "--check", "--provenance", "true", "--sbom", "true", "--print", "app")
    assert (args.push, args.memory, args.ssh, args.builder) == (True, "64m", "default", "b")
    assert (args.check, args.provenance, args.sbom, args.print_bake) == (True, "true", "true",
                                                                         True)
    assert args.services == ["app"]
    plain = parse("build")
    assert (plain.push, plain.memory, plain.ssh, plain.print_bake) == (False, None, None, False)
    assert parse("build", "--memory=1g").memory == "1g"


def test_print_is_refused_before_anything_runs() -> None:
    with pytest.raises(UnsupportedError) as caught:
        build(parse("build", "--print"))
    assert "--print is not supported" in str(caught.value)
    assert caught.value.exit_code != 0


def test_bad_flag_values_are_refused_before_anything_runs() -> None:
    with pytest.raises(UsageError):
        build(parse("build", "-m", "lots"))
    with pytest.raises(UsageError):
        build(parse("build", "--ssh", "nokey"))


# -- the facade --------------------------------------------------------------------------------


APP = """
services:
  app:
    image: registry.invalid/app:1
    build: {context: ., tags: ["registry.invalid/app:extra"]}
  local:
    build: .
  plain:
    image: busybox
"""


class RecordingBackend(FakeBackend):
    """The fake engine, keeping every build request it was given."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests: list[Any] = []
        self.fail_builds = False

    async def build_image(self, request: Any, *,
                          on_line: Callable[[str], None] | None = None) -> str:
        self.requests.append(request)
        if self.fail_builds:
            raise BuildError(f'service "{request.service}" failed to build: boom')
        return await super().build_image(request, on_line=on_line)


def load(tmp_path: Path) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(APP))
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


def pushes(fake: FakeBackend) -> list[str]:
    return [c.target for c in fake.calls if c.op == "push_image"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_memory_reaches_every_build_request(tmp_path: Path) -> None:
    fake = RecordingBackend()
    await Compose(fake).build(load(tmp_path), BuildOptions(memory=64 << 20))
    assert sorted(r.service for r in fake.requests) == ["app", "local"]
    assert {r.memory for r in fake.requests} == {64 << 20}


@pytest.mark.anyio
async def test_no_memory_leaves_requests_unlimited(tmp_path: Path) -> None:
    fake = RecordingBackend()
    await Compose(fake).build(load(tmp_path), BuildOptions())
    assert {r.memory for r in fake.requests} == {None}


@pytest.mark.anyio
async def test_push_after_build_pushes_named_images_and_fails_without_registry(
        tmp_path: Path) -> None:
    fake = RecordingBackend()
    with pytest.raises(EngineError) as caught:
        await Compose(fake).build(load(tmp_path), BuildOptions(push=True))
    # Both builds ran first; only the service with build: and image: is pushed (and its tags).
    assert sorted(r.service for r in fake.requests) == ["app", "local"]
    assert sorted(pushes(fake)) == ["registry.invalid/app:1", "registry.invalid/app:extra"]
    assert "registry.invalid/app:1" in str(caught.value)
    assert caught.value.exit_code == 1


@pytest.mark.anyio
async def test_no_push_without_the_flag_nor_after_a_failed_build(tmp_path: Path) -> None:
    fake = RecordingBackend()
    await Compose(fake).build(load(tmp_path), BuildOptions())
    assert pushes(fake) == []
    fake.fail_builds = True
    with pytest.raises(BuildError):
        await Compose(fake).build(load(tmp_path), BuildOptions(push=True))
    assert pushes(fake) == []


@pytest.mark.anyio
async def test_push_follows_the_service_selection(tmp_path: Path) -> None:
    fake = RecordingBackend()
    await Compose(fake).build(load(tmp_path), BuildOptions(services=["local"], push=True))
    assert [r.service for r in fake.requests] == ["local"]
    assert pushes(fake) == []  # local has no image: name, so nothing to push

"""``composer build --push`` and ``build -m`` on a real Docker Engine, ``composer`` run as a
subprocess.

Each test gets its own project (``h8bd<8 hex>``); every image (and intermediate one)
carrying that project's label is removed afterwards, passed or failed. RUN steps use
``network: none`` (an engine without a usable default bridge still runs them). Skips
without an engine or without ``busybox:latest``.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .cleanup import engine_client, remove_images

pytestmark = [pytest.mark.engine, pytest.mark.not_on_lxc(
    "builds from Dockerfiles: LXC makes only x-composer-rootfs images")]

PROJECT_LABEL = "com.docker.compose.project"
IMAGE = "busybox:latest"
SLOW = 120.0  # hang guard only

DOCKERFILE = """\
FROM busybox:latest
RUN cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes
"""


@pytest.fixture(scope="module")
def engine() -> Any:
    return engine_client(IMAGE)


@pytest.fixture
def project(engine: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    name = f"h8bd{uuid.uuid4().hex[:8]}"
    # Port 9 (discard) on the loopback: nothing listens, so a push is refused at once.
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(f"""
        services:
          app:
            image: 127.0.0.1:9/{name}:1
            build: {{context: ., network: none}}
          local:
            build: {{context: ., network: none}}
        """))
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    try:
        yield name, tmp_path
    finally:
        remove_images(engine, name)


def composer(run_composer: Any, name: str, folder: Path, *args: str) -> Any:
    result = run_composer("-p", name, *args, cwd=folder, timeout=SLOW,
                          env={"COMPOSE_PROGRESS": "plain"})
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.mark.docker_only('Podman builds with Buildah and pushes with its own words')
def test_push_without_a_registry_fails_cleanly_after_building(
        engine: Any, project: tuple[str, Path], run_composer: Any) -> None:
    name, folder = project
    result = composer(run_composer, name, folder, "build", "--push")
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    # v2 (classic builder) ends with the daemon's words too: Get "http://127.0.0.1:9/v2/": ...
    assert f"127.0.0.1:9/{name}:1" in last and "127.0.0.1:9/v2/" in last, result.stderr
    # Both images were built before the push was tried.
    tags = {t for i in engine.images.list(filters={"label": f"{PROJECT_LABEL}={name}"})
            for t in i.tags}
    assert {f"127.0.0.1:9/{name}:1", f"{name}-local:latest"} <= tags


@pytest.mark.needs_cgroup("a build step cannot be given a memory limit")
def test_memory_limit_reaches_the_build_container(
        project: tuple[str, Path], run_composer: Any) -> None:
    name, folder = project
    result = composer(run_composer, name, folder, "build", "--no-cache", "-m", "64m", "app")
    assert result.returncode == 0, result.stderr
    assert str(64 << 20) in result.stderr, result.stderr


def test_bake_only_flags_are_accepted_and_print_is_refused(
        project: tuple[str, Path], run_composer: Any) -> None:
    name, folder = project
    ok = composer(run_composer, name, folder, "build", "--builder", "x", "--check",
                  "--provenance", "true", "--sbom", "true", "--ssh", "default", "local")
    assert ok.returncode == 0, ok.stderr
    refused = composer(run_composer, name, folder, "build", "--print")
    assert refused.returncode != 0
    assert "--print is not supported" in refused.stderr

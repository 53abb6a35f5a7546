"""A service with both ``image:`` and ``build:`` whose image is missing, on a real engine
with no registry: as Docker Compose v2 does, ``up`` tries the pull first, takes its
failure as a warning and builds; ``pull`` fails for it, saying it can be built.

Projects are named ``h5pp<hex>``; the image is ``h5pp<hex>-web:1``, removed afterwards.
RUN steps use ``network: none`` (no usable default bridge in some sandboxes).
"""

from __future__ import annotations

import contextlib
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import remove_project

pytestmark = [pytest.mark.engine, pytest.mark.not_on_lxc(
    "builds from Dockerfiles: LXC makes only x-composer-rootfs images")]


@pytest.fixture
def h5pp_project(engine: str, cleanup_project: Callable[[str], str]) -> Iterator[str]:
    name = cleanup_project(f"h5pp{uuid.uuid4().hex[:8]}")
    yield name
    import docker

    remove_project(engine, name)
    client = docker.APIClient(base_url=engine, version="auto", timeout=60)
    try:
        for image in client.images(name=f"{name}-web"):
            with contextlib.suppress(Exception):
                client.remove_image(image["Id"], force=True)
    finally:
        client.close()


def _write(folder: Path, project: str) -> str:
    image = f"{project}-web:1"
    (folder / "compose.yaml").write_text(textwrap.dedent(f"""
        services:
          web:
            image: {image}
            build:
              context: .
              network: none
            command: ["sleep", "300"]
        """))
    (folder / "Dockerfile").write_text("FROM busybox:latest\nRUN echo hi > /hi\n")
    return image


def test_up_tries_the_pull_then_builds_and_runs(run_composer: Any, engine: str,
                                                h5pp_project: str, tmp_path: Path) -> None:
    import docker

    image = _write(tmp_path, h5pp_project)
    result = run_composer("-f", "compose.yaml", "-p", h5pp_project, "--progress", "plain",
                          "up", "-d", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stderr_lines
    pulling = lines.index(f" Image {image}  Pulling")
    warning = next(i for i, line in enumerate(lines)
                   if line.startswith(f" Image {image}  Warning "))
    built = lines.index(" Service web  Built")
    started = lines.index(f" Container {h5pp_project}-web-1  Started")
    # v2 prints ` web Pulling`, ` web Warning <why>`, the build, then the containers.
    assert pulling < warning < built < started
    assert "registry" in lines[warning] or "pull access denied" in lines[warning]
    assert not any(line.startswith("composer:") for line in lines)
    client = docker.APIClient(base_url=engine, version="auto", timeout=60)
    try:
        (container,) = client.containers(filters={
            "label": f"com.docker.compose.project={h5pp_project}"})
        assert container["State"] == "running"
        assert container["ImageID"] == client.inspect_image(image)["Id"]
    finally:
        client.close()

    # Now the image is here: the next `up` neither pulls nor builds.
    again = run_composer("-f", "compose.yaml", "-p", h5pp_project, "--progress", "plain",
                         "up", "-d", cwd=tmp_path, timeout=60)
    assert again.returncode == 0, again.stderr
    assert not any("Pulling" in line or "Building" in line for line in again.stderr_lines)

    # `pull` fails for it, as v2 2.40 does: the warning, the hint, the error last.
    pulled = run_composer("-f", "compose.yaml", "-p", h5pp_project, "--progress", "plain",
                          "pull", cwd=tmp_path, timeout=60)
    assert pulled.returncode == 1
    assert pulled.stderr_lines[-2] == ("composer: Some service image(s) must be built from "
                                       "source by running: composer build web")
    assert pulled.stderr_lines[-1].startswith(
        f'composer: service "web": cannot pull image {image}: ')
    ignored = run_composer("-f", "compose.yaml", "-p", h5pp_project, "pull",
                           "--ignore-buildable", cwd=tmp_path, timeout=60)
    assert ignored.returncode == 0, ignored.stderr
    assert " web  Skipped - Image can be built" in ignored.stderr_lines

    down = run_composer("-f", "compose.yaml", "-p", h5pp_project, "down", "--rmi", "local",
                        cwd=tmp_path, timeout=60)
    assert down.returncode == 0, down.stderr
    assert f" Image {image}  Removed" in down.stderr_lines


@pytest.mark.anyio
async def test_pull_image_hands_each_progress_message_to_the_event_loop(backend: Any) -> None:
    # No registry here: the engine's stream is replayed through the client's pull.
    import threading

    stream = [{"status": "Pulling from library/app", "id": "1.0"},
              {"status": "Downloading", "progressDetail": {"current": 1, "total": 2},
               "id": "aaa111aaa111"},
              {"status": "Pull complete", "progressDetail": {}, "id": "aaa111aaa111"}]
    seen: list[tuple[str, bool]] = []
    await backend.ping()  # the client speaking the negotiated API version is the one to patch
    backend._client.pull = lambda *args, **kwargs: iter(stream)
    loop_thread = threading.current_thread()
    await backend.pull_image("app:1.0", on_progress=lambda m: seen.append(
        (m["status"], threading.current_thread() is loop_thread)))
    assert seen == [("Pulling from library/app", True), ("Downloading", True),
                    ("Pull complete", True)]


def test_down_rmi_local_from_labels_alone_removes_what_was_built(
        run_composer: Any, engine: str, h5pp_project: str, tmp_path: Path) -> None:
    # As v2: `-p NAME down --rmi local` run where no compose file is finds the images
    # the project built by their labels, and leaves the images it only used.
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_text(textwrap.dedent("""
        services:
          web:
            build: {context: ., network: none}
            command: ["sleep", "300"]
          db:
            image: busybox:latest
            command: ["sleep", "300"]
        """))
    (tmp_path / "app" / "Dockerfile").write_text("FROM busybox:latest\n")
    up = run_composer("-p", h5pp_project, "up", "-d", cwd=tmp_path / "app", timeout=120)
    assert up.returncode == 0, up.stderr
    down = run_composer("-p", h5pp_project, "down", "--rmi", "local", cwd=tmp_path,
                        timeout=60)
    assert down.returncode == 0, down.stderr
    assert f" Image {h5pp_project}-web:latest  Removed" in down.stderr_lines
    assert not any("busybox" in line for line in down.stderr_lines), down.stderr

"""Fixtures for tests against a real container engine.

- ``engine``: the address of a reachable engine (``DOCKER_HOST`` or the default
  socket) that has the test images; without one every test using it is skipped,
  with the reason (``scripts/engine/ensure-engine.sh`` and ``ensure-images.sh``
  prepare a machine).
- ``backend``: a fresh :class:`~composer.backends.docker.DockerBackend` for the test
  (its limiter and locks belong to the test's event loop).
- ``project_name``: a name no other test uses (``ct1a2b3c4d``); ``cleanup_project``
  registers more. Everything labelled with those project names (containers,
  networks, volumes) is removed when the test ends, passed or failed.
- ``anyio_backend``: asyncio, for ``@pytest.mark.anyio`` tests.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGES_FILE = REPO_ROOT / "scripts" / "engine" / "images.txt"
PROJECT_LABEL = "com.docker.compose.project"

from engines import ON_LXC  # noqa: E402  (tests/engines.py)


def required_images() -> list[str]:
    """The images the engine tests need (``scripts/engine/images.txt``)."""
    if not IMAGES_FILE.is_file():
        return ["busybox:latest"]
    lines = IMAGES_FILE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _engine_problem() -> tuple[str | None, str]:
    """(None, address) when an engine answers and has the images, else (reason, address)."""
    import anyio

    from composer.backends import connect
    from composer.errors import ComposerError

    if ON_LXC:
        import os

        if os.geteuid() != 0:
            return "LXC containers need root", "lxc://"
    backend = connect("lxc://" if ON_LXC else None)

    async def check() -> str | None:
        try:
            await backend.ping()
            missing = [image for image in required_images()
                       if not await backend.image_exists(image)]
        except ComposerError as exc:
            return str(exc)
        finally:
            await backend.aclose()
        if missing:
            return (f"image(s) {', '.join(missing)} missing on {backend.address}: "
                    "run scripts/engine/ensure-images.sh")
        return None

    return anyio.run(check), backend.address


@pytest.fixture(scope="session")
def engine() -> str:
    """Address of a reachable engine with the test images; skips the test otherwise."""
    problem, address = _engine_problem()
    if problem is not None:
        pytest.skip(f"no usable container engine: {problem}")
    return address


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def backend(engine: str) -> Iterator[object]:
    """A backend on ``engine`` for this test (a DockerBackend, or an LxcBackend under
    ``make test-lxc``)."""
    from composer.backends import connect

    instance = connect(engine)
    yield instance
    with contextlib.suppress(Exception):
        instance._client.close()  # type: ignore[attr-defined]


def remove_project(address: str, name: str) -> None:
    """Remove every container, network and volume labelled with project ``name``."""
    if address.startswith("lxc://"):
        from lxc_client import remove_project as remove_lxc_project

        remove_lxc_project(name)
        return
    import docker

    client = docker.APIClient(base_url=address, version="auto", timeout=60)
    label = {"label": [f"{PROJECT_LABEL}={name}"]}
    try:
        # Podman refuses to remove a container others share a namespace with
        # (network_mode: service:x) while they exist: a second pass gets it.
        for _ in range(3):
            left = client.containers(all=True, filters=label)
            for container in left:
                with contextlib.suppress(Exception):
                    client.remove_container(container["Id"], force=True, v=True)
            if not left:
                break
        for network in client.networks(filters=label):
            with contextlib.suppress(Exception):
                client.remove_network(network["Id"])
        for volume in (client.volumes(filters=label) or {}).get("Volumes") or []:
            with contextlib.suppress(Exception):
                client.remove_volume(volume["Name"], force=True)
    finally:
        client.close()


@pytest.fixture
def cleanup_project(engine: str) -> Iterator[Callable[[str], str]]:
    """Register a project name whose resources are removed after the test; returns it."""
    names: list[str] = []

    def register(name: str) -> str:
        names.append(name)
        return name

    yield register
    for name in names:
        remove_project(engine, name)


@pytest.fixture
def project_name(cleanup_project: Callable[[str], str]) -> str:
    """A project name unique to this test, cleaned up afterwards."""
    return cleanup_project(f"ct{uuid.uuid4().hex[:8]}")

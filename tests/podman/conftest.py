"""Fixtures for the tests that need Podman itself (not its socket): composer is
run with no engine answering (``DOCKER_HOST`` empty, Docker's and Podman's
sockets pointed at paths that do not exist, a private ``XDG_RUNTIME_DIR``), so it
starts its own private ``podman system service`` for each command.

Without ``podman`` the tests are skipped, except under ``CI=true`` with
``COMPOSER_TEST_ENGINE=podman`` (``make test-podman``), where that is an error.
Everything a test's project made is removed afterwards with the podman CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from composer.backends.podman_service import PREFIX

LABEL = "com.docker.compose.project"


@pytest.fixture(scope="session")
def podman() -> str:
    found = shutil.which("podman")
    if found is None:
        if os.environ.get("CI") and os.environ.get("COMPOSER_TEST_ENGINE") == "podman":
            pytest.fail("podman is not installed (make test-podman installs it)")
        pytest.skip("podman is not installed (Debian: apt-get install podman catatonit)")
    return found


def podman_services(runtime: Path) -> list[str]:
    """Command lines of composer's private ``podman system service`` processes under
    ``runtime`` (sockets in its ``composer-podman-*`` folders there; a rootless user's
    own service on ``runtime/podman/podman.sock``, as ``make test-podman-rootless``
    runs one, is not composer's)."""
    mine = str(runtime / PREFIX)
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = " ".join(part.decode(errors="replace") for part in argv if part)
        if "system service" in line and mine in line:
            out.append(line)
    return out


@pytest.fixture
def alone(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine where no engine answers (see the module)."""
    env = {"DOCKER_HOST": "", "CONTAINER_HOST": "", "COMPOSER_ENGINE": "",
           "COMPOSER_DOCKER_SOCKET": str(tmp_path / "no-docker.sock"),
           "COMPOSER_PODMAN_SOCKET": str(tmp_path / "no-podman.sock")}
    if os.getuid() == 0 or not os.environ.get("XDG_RUNTIME_DIR"):
        # A fresh runtime folder of our own. Not for a rootless user who has one:
        # rootless Podman keeps its run root (and netavark its IPAM database) there,
        # and a service started under another one cannot reach them.
        runtime = tmp_path / "xdg"
        runtime.mkdir(mode=0o700)
        env["XDG_RUNTIME_DIR"] = str(runtime)
    else:
        env["XDG_RUNTIME_DIR"] = os.environ["XDG_RUNTIME_DIR"]
    return env


@pytest.fixture
def podman_project(podman: str) -> Iterator[str]:
    """A unique project name; its containers, networks and volumes go afterwards."""
    name = f"pm{uuid.uuid4().hex[:8]}"
    yield name
    label = f"label={LABEL}={name}"
    for kind, listing in (("container", ["ps", "-aq"]), ("network", ["network", "ls", "-q"]),
                          ("volume", ["volume", "ls", "-q"])):
        ids = subprocess.run([podman, *listing, "--filter", label], capture_output=True,
                             text=True, check=False).stdout.split()
        if ids:
            remove = [podman, kind, "rm", "-f", *ids]
            if kind == "container":
                remove = [podman, "rm", "-f", "-t", "0", *ids]
            subprocess.run(remove, capture_output=True, check=False)

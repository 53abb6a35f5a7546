"""``x-composer-rootfs`` ("boot from a directory") on a real engine (Docker, Podman,
and LXC under ``make test-lxc``): a service whose root filesystem is a folder of the
project runs from it, ``up --build`` makes the image again from the folder as it
is now, and ``down --rmi local`` removes the image.

Projects are named ``rfs<8 hex>``; their containers, networks and images are removed
afterwards. Skips without an engine, ``busybox:latest`` or a static busybox.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from commands import RunCli
from waiting import wait_until

from .cleanup import engine_client, remove_images, remove_project

pytestmark = pytest.mark.engine

COMPOSE = """\
services:
  app:
    x-composer-rootfs: ./rootfs
    command: ["/bin/sh", "-c", "cat /etc/motd"]
"""


@pytest.fixture(scope="module")
def client() -> Any:
    return engine_client("busybox:latest")


def make_rootfs(folder: Path, motd: str) -> None:
    """A minimal root filesystem: the machine's static busybox, /etc and /tmp."""
    busybox = shutil.which("busybox")
    if busybox is None or b"ld-linux" in Path(busybox).read_bytes()[:4096]:
        pytest.skip("needs a static busybox (apt-get install busybox-static)")
    (folder / "bin").mkdir(parents=True)
    shutil.copy2(busybox, folder / "bin" / "busybox")
    for tool in ("sh", "cat"):
        (folder / "bin" / tool).symlink_to("busybox")
    (folder / "etc").mkdir()
    (folder / "tmp").mkdir()
    (folder / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (folder / "etc" / "group").write_text("root:x:0:\n")
    (folder / "etc" / "motd").write_text(motd + "\n")


@pytest.fixture
def project(client: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    name = f"rfs{uuid.uuid4().hex[:8]}"
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    make_rootfs(tmp_path / "rootfs", "first boot")
    try:
        yield name, tmp_path
    finally:
        remove_project(client, name)
        remove_images(client, name)


def test_a_service_boots_from_a_folder(project: tuple[str, Path], run_composer: RunCli,
                                       client: Any) -> None:
    name, folder = project

    def up_and_read(expected: str, *flags: str, times: int = 1) -> str:
        """``up -d``, then the container's log once it holds ``expected`` ``times``
        times (read from the log: this is not about the attached up)."""
        up = run_composer("-p", name, "up", "-d", *flags, cwd=folder)
        assert up.returncode == 0, up.stderr
        assert "Traceback" not in up.stderr

        def logs() -> str:
            out = run_composer("-p", name, "logs", "app", cwd=folder)
            assert out.returncode == 0, out.stderr
            return out.stdout if out.stdout.count(expected) >= times else ""
        return wait_until(logs, what=f"{expected!r} in the log")

    def tagged() -> list[str]:
        """The project's tagged images (Podman qualifies them: docker.io/library/)."""
        found = client.images.list(filters={"label": f"com.docker.compose.project={name}"})
        return [t.removeprefix("docker.io/library/") for i in found for t in i.tags]

    up_and_read("app-1  | first boot")
    assert tagged() == [f"{name}-app:latest"]

    (folder / "rootfs" / "etc" / "motd").write_text("second boot\n")
    # Made once: the image is kept; the container, run again, shows the same file.
    assert "second boot" not in up_and_read("app-1  | first boot", times=2)
    rebuilt = up_and_read("app-1  | second boot", "--build")  # a new container
    assert "first boot" not in rebuilt

    down = run_composer("-p", name, "down", "--rmi", "local", cwd=folder)
    assert down.returncode == 0, down.stderr
    assert f"Image {name}-app:latest  Removed" in down.stderr
    # (the first image, replaced by --build, is left untagged, as by any rebuild)
    assert tagged() == []

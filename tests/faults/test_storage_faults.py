"""A full disk and a refused write for ``cp`` (both ways) and for a bind mount's
source: small tmpfs mounts (``size=1m``; ``nr_inodes=1`` leaves no room for a
folder), read-only mounts, and composer run without root's permission bypass
(``setpriv`` drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: root then meets
file modes as anyone does, and still reaches the engine's socket, which it
owns). Each case: one line, exit 1, no traceback; then the same command, once
there is room or permission, succeeds."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Proj, clean_env, one_line_error

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root"),
]

BIG = 2_000_000  # bytes: twice what a size=1m tmpfs holds

PROJECT = f"""services:
  web:
    image: busybox:latest
    command: ["sh", "-c", "head -c {BIG} /dev/zero > /big; touch /ready; exec sleep 3600"]
    init: true
    volumes: ["small:/small"]
  locked:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    read_only: true
volumes:
  small:
    driver_opts: {{type: tmpfs, device: tmpfs, o: "size=1m"}}
"""


class Mounts:
    """tmpfs mounts made for one test, all unmounted afterwards."""

    def __init__(self) -> None:
        self.points: list[Path] = []

    def tmpfs(self, path: Path, options: str) -> Path:
        path.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                       check=True)
        self.points.append(path)
        return path

    def remount(self, path: Path, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


@pytest.fixture
def mounts() -> Iterator[Mounts]:
    made = Mounts()
    try:
        yield made
    finally:
        for point in reversed(made.points):
            subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture
def running(proj: Proj) -> Proj:
    proj.write(PROJECT)
    assert proj.run("up", "-d").returncode == 0
    web = f"{proj.name}-web-1"
    proj.wait_for(lambda: _exists(proj, web, "/ready"), "web's big file written")
    return proj


def _exists(proj: Proj, container: str, path: str) -> bool:
    result = proj.client.api.exec_create(container, ["test", "-e", path])
    proj.client.api.exec_start(result["Id"])
    return bool(proj.client.api.exec_inspect(result["Id"])["ExitCode"] == 0)


def _unprivileged(proj: Proj, *args: str) -> subprocess.CompletedProcess[str]:
    """composer as root without the permission bypass (file modes apply)."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) not found")
    result = subprocess.run(
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--",
         *proj.argv(*args)], cwd=proj.folder, env=clean_env(), capture_output=True,
        text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _failed(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    line = one_line_error(result.stderr)
    for word in words:
        assert word in line, line


def test_cp_out_of_a_container_onto_a_full_disk(running: Proj, mounts: Mounts) -> None:
    full = mounts.tmpfs(running.folder / "full", "size=1m")
    _failed(running.run("cp", "web:/big", "full/"), "cannot write", "No space left on device")
    again = running.run("cp", "web:/big", "roomy")
    assert again.returncode == 0, again.stderr
    assert (running.folder / "roomy").stat().st_size == BIG
    assert full.exists()


def test_cp_into_a_container_onto_a_full_volume(running: Proj) -> None:
    (running.folder / "big").write_bytes(b"\0" * BIG)
    _failed(running.run("cp", "big", "web:/small/"), "no space left on device")
    running.exec(f"{running.name}-web-1", "rm", "-f", "/small/big")  # the partial file
    (running.folder / "small").write_bytes(b"fits")
    again = running.run("cp", "small", "web:/small/")
    assert again.returncode == 0, again.stderr
    assert running.exec(f"{running.name}-web-1", "cat", "/small/small") == "fits"


def test_cp_out_of_a_container_into_a_read_only_folder(running: Proj, mounts: Mounts) -> None:
    mounts.tmpfs(running.folder / "ro", "ro,size=1m")
    _failed(running.run("cp", "web:/etc/hostname", "ro/"), "cannot write",
            "Read-only file system")
    mounts.remount(running.folder / "ro", "rw")
    again = running.run("cp", "web:/etc/hostname", "ro/")
    assert again.returncode == 0, again.stderr


def test_cp_out_of_a_container_into_a_folder_it_may_not_write(running: Proj) -> None:
    theirs = running.folder / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, 65534, 65534)
    _failed(_unprivileged(running, "cp", "web:/etc/hostname", "theirs/"), "cannot write",
            "Permission denied")
    os.chmod(theirs, 0o777)
    again = _unprivileged(running, "cp", "web:/etc/hostname", "theirs/")
    assert again.returncode == 0, again.stderr


def test_cp_of_a_file_it_may_not_read_into_a_container(running: Proj) -> None:
    secret = running.folder / "secret"
    secret.write_text("s3cret\n")
    os.chown(secret, 65534, 65534)
    os.chmod(secret, 0o600)
    _failed(_unprivileged(running, "cp", "secret", "web:/tmp/"), "cannot read secret",
            "Permission denied")
    os.chmod(secret, 0o644)
    again = _unprivileged(running, "cp", "secret", "web:/tmp/")
    assert again.returncode == 0, again.stderr


def test_cp_into_a_read_only_container(running: Proj) -> None:
    (running.folder / "f").write_text("x")
    _failed(running.run("cp", "f", "locked:/f"), "read-only")


BIND = """services:
  a:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    volumes: ["./ro/sub:/data"]
  b:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    volumes: ["./full/sub:/data"]
"""


def test_bind_mount_sources_that_cannot_be_made(proj: Proj, mounts: Mounts) -> None:
    """The engine makes a missing bind source: on a read-only mount it cannot, and
    on a full one (no inode left) neither. Each service's line says why; once
    there is room, a rerun converges."""
    mounts.tmpfs(proj.folder / "ro", "ro,size=1m")
    mounts.tmpfs(proj.folder / "full", "size=1m,nr_inodes=1")
    proj.write(BIND)
    failed = proj.run("up", "-d")
    assert failed.returncode == 1, failed.stderr
    lines = sorted(line for line in failed.stderr.splitlines() if line.startswith("composer:"))
    assert len(lines) == 2, failed.stderr
    assert lines[0].startswith('composer: service "a": ') and "read-only file system" in lines[0]
    assert lines[1].startswith('composer: service "b": ') and "no space left" in lines[1]
    mounts.remount(proj.folder / "ro", "rw")
    mounts.remount(proj.folder / "full", "nr_inodes=100")
    rerun = proj.run("up", "-d")
    assert rerun.returncode == 0, rerun.stderr
    proj.assert_converged(["a", "b"])

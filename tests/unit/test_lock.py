"""The project lock (composer.runtime.lock): a private state directory, one holder
per (engine, project) across processes, a waiter told who holds it, nothing left
behind. Another process holds the lock here; no engine is needed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from composer.errors import LockError
from composer.runtime.lock import lock_path, project_lock, state_dir

ENGINE = "unix:///var/run/docker.sock"

HOLDER = textwrap.dedent("""
    import sys, anyio
    from composer.runtime.lock import project_lock

    async def main():
        async with project_lock(sys.argv[1], sys.argv[2], command="up"):
            print("held", flush=True)
            await anyio.to_thread.run_sync(sys.stdin.read)

    anyio.run(main)
""")


class Holder:
    """Another composer process holding the lock until :meth:`release`."""

    def __init__(self, runtime: Path, project: str) -> None:
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, ENGINE, project], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline() == "held\n"

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0


@pytest.fixture
def holder(runtime: Path) -> Iterator[Holder]:
    h = Holder(runtime, "proj")
    yield h
    if h.proc.poll() is None:
        h.proc.kill()
        h.proc.wait()


def test_the_state_directory_is_private_and_empty_after_a_command(runtime: Path) -> None:
    async def main() -> None:
        async with project_lock(ENGINE, "proj", command="up"):
            path = lock_path(ENGINE, "proj")
            assert path.read_text() == f"{os.getpid()} up\n"

    anyio.run(main)
    folder = runtime / "composer"
    info = folder.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.getuid()
    assert list(folder.iterdir()) == []


def test_a_loose_state_directory_is_made_private_again(runtime: Path) -> None:
    (runtime / "composer").mkdir(mode=0o755)
    os.chmod(runtime / "composer", 0o755)
    assert stat.S_IMODE(state_dir().stat().st_mode) == 0o700


@pytest.mark.skipif(os.getuid() != 0, reason="giving a directory away needs root")
def test_a_state_directory_of_another_user_is_refused(runtime: Path) -> None:
    (runtime / "composer").mkdir(mode=0o700)
    os.chown(runtime / "composer", 65534, 65534)
    with pytest.raises(LockError, match="not a directory owned by this user"):
        state_dir()


def test_a_symlink_in_place_of_the_state_directory_is_refused(runtime: Path,
                                                              tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (runtime / "composer").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(LockError, match="not a directory owned by this user"):
        state_dir()


def test_without_a_runtime_directory_it_is_private_under_the_temp_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    found = state_dir({})
    if found.parent == Path(f"/run/user/{os.getuid()}"):
        pytest.skip("this machine has a /run/user directory: it is used first")
    assert found == tmp_path / f"composer-{os.getuid()}"
    assert stat.S_IMODE(found.stat().st_mode) == 0o700


def test_a_second_command_waits_for_the_first_and_is_told_who(holder: Holder,
                                                              runtime: Path) -> None:
    told: list[str] = []
    asked = anyio.Event()
    got = []

    def on_wait(text: str) -> None:
        told.append(text)
        asked.set()

    async def main() -> None:
        async def take() -> None:
            async with project_lock(ENGINE, "proj", command="down", on_wait=on_wait):
                got.append(lock_path(ENGINE, "proj").read_text())

        async with anyio.create_task_group() as tg:
            tg.start_soon(take)
            await asked.wait()
            assert not got  # still waiting while the other holds it
            await anyio.to_thread.run_sync(holder.release)

    anyio.run(main)
    assert told == [f"Waiting for another composer command (up, pid {holder.proc.pid}) "
                    "to finish"]
    assert got == [f"{os.getpid()} down\n"]
    assert list((runtime / "composer").iterdir()) == []


def test_a_bounded_wait_fails_clearly(holder: Holder) -> None:
    async def main() -> None:
        async with project_lock(ENGINE, "proj", command="up", timeout=0.3):
            raise AssertionError("the lock was taken while another process held it")

    with pytest.raises(LockError) as caught:
        anyio.run(main)
    assert str(caught.value) == (
        f'project "proj" is being changed by another composer command '
        f"(up, pid {holder.proc.pid}): gave up waiting after 0.3s")


def test_other_projects_and_engines_are_not_held_up(holder: Holder) -> None:
    async def main() -> None:
        async with project_lock(ENGINE, "other", command="up", timeout=5):
            pass
        async with project_lock("tcp://10.0.0.1:2375", "proj", command="up", timeout=5):
            pass

    anyio.run(main)


def test_one_process_shares_its_lock(runtime: Path) -> None:
    """A verb run while another verb of the same process holds the lock (the
    attached up's kill during its stop) goes ahead."""
    async def main() -> None:
        async with project_lock(ENGINE, "proj", command="stop"):
            async with project_lock(ENGINE, "proj", command="kill", timeout=5):
                pass
            assert lock_path(ENGINE, "proj").exists()
        assert not lock_path(ENGINE, "proj").exists()

    anyio.run(main)


def test_the_in_memory_engine_takes_no_lock(runtime: Path) -> None:
    async def main() -> None:
        async with project_lock("memory://", "proj", command="up"):
            pass

    anyio.run(main)
    assert not (runtime / "composer").exists()


def test_one_socket_one_lock_however_it_is_spelled(runtime: Path) -> None:
    assert lock_path("unix:///var/run/docker.sock", "p") == \
        lock_path("http+unix://var/run/docker.sock", "p")

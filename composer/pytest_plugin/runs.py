"""Test runs and their stacks: names, the live-run lock, stale stacks.

Each pytest run (each xdist worker too) takes a run id and holds an ``flock`` on
``<state dir>/pytest-runs/<run id>.lock`` for as long as it lives (composer's
private 0700 state directory). Before it creates a stack, a run writes the
stack's project name into ``<run id>.<worker>.projects`` beside its lock; the
stacks are named after the run: ``pt<run id>-<worker>-<n>``
(``pt<run id>-shared-<hash>`` for the stack xdist workers share).

The kernel drops the lock when the process dies, however it dies. At the start
of a run, every other run's record whose lock can be taken belongs to a dead
run: the projects it names that are still on the engine (found by their
``com.docker.compose.project`` label) are taken down (``down -v``), then its
record and lock are deleted. A live run's lock cannot be taken: its stacks are
left alone. Only recorded names are ever removed, so projects the plugin did not
create (whatever their names, and the stacks of runs on another machine sharing
the engine) are never touched. Kept stacks (``--compose-keep``) are not recorded.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = ["RUN_NAME", "DeadRun", "Run", "dead_runs", "runs_dir", "sweep"]

#: A project started by a run of the plugin: its run id is the first group.
RUN_NAME = re.compile(r"^pt([0-9a-f]{8})-")
_RUN_ID = re.compile(r"^[0-9a-f]{8}$")


def runs_dir() -> Path:
    """``<state dir>/pytest-runs``, created private (0700) if missing."""
    from composer.runtime.lock import state_dir

    path = state_dir() / "pytest-runs"
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    return path


class Run:
    """This process's run: its id, the lock that says it is alive and the record
    of the stacks it creates (one record per xdist worker)."""

    def __init__(self, run_id: str | None = None, worker: str = "main") -> None:
        self.id = run_id if run_id and _RUN_ID.match(run_id) else secrets.token_hex(4)
        self.worker = worker
        self._handle: int | None = None
        self._count = 0

    @property
    def lock_path(self) -> Path:
        return runs_dir() / f"{self.id}.lock"

    @property
    def record_path(self) -> Path:
        return runs_dir() / f"{self.id}.{self.worker}.projects"

    def start(self) -> None:
        if self._handle is not None:
            return
        while self._handle is None:  # shared: xdist workers of one run
            self._handle = _lock(self.lock_path, fcntl.LOCK_SH)

    def record(self, name: str) -> None:
        """Note ``name`` as this run's, before the project is created."""
        fd = os.open(self.record_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, f"{name}\n".encode())
        finally:
            os.close(fd)

    def stop(self, *, clean: bool) -> None:
        """Drop the lock. With ``clean`` (none of this process's stacks is left on
        the engine) its record is deleted, and the run's lock too when it was the
        run's last process and no other worker left a record."""
        if self._handle is None:
            return
        try:
            if clean:
                with contextlib.suppress(OSError):
                    self.record_path.unlink()
                with contextlib.suppress(BlockingIOError):  # another worker is alive
                    fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    if not list(runs_dir().glob(f"{self.id}.*.projects")):
                        with contextlib.suppress(OSError):
                            self.lock_path.unlink()
        finally:
            os.close(self._handle)
            self._handle = None

    def project_name(self) -> str:
        self._count += 1
        return f"pt{self.id}-{self.worker}-{self._count}"


def _lock(path: Path, how: int) -> int | None:
    """``path`` opened (created) and ``flock``-ed ``how``; None when the lock is
    held elsewhere (``LOCK_NB``) or the file was deleted meanwhile (a sweeper
    or the run's last process removes it while holding it exclusively)."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, how)
        if os.fstat(handle).st_ino == os.stat(path).st_ino:
            return handle
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(handle)
    return None


class DeadRun:
    """A run whose lock could be taken: held (exclusively) by this process until
    :meth:`forget` or :meth:`release`, so two runs never sweep it together."""

    def __init__(self, run_id: str, handle: int) -> None:
        self.id = run_id
        self._handle = handle
        self.lock_path = runs_dir() / f"{run_id}.lock"

    @property
    def records(self) -> list[Path]:
        return sorted(runs_dir().glob(f"{self.id}.*.projects"))

    @property
    def projects(self) -> list[str]:
        """The names it recorded (only ``pt<its id>-`` ones: a record is never
        trusted to name anything else)."""
        names: set[str] = set()
        for path in self.records:
            with contextlib.suppress(OSError):
                names.update(line.strip() for line in path.read_text().splitlines())
        return sorted(n for n in names if (m := RUN_NAME.match(n)) and m.group(1) == self.id)

    def forget(self) -> None:
        """Its stacks are gone: delete its records, the folder its xdist workers
        shared, and its lock."""
        import shutil

        shutil.rmtree(runs_dir() / f"shared-{self.id}", ignore_errors=True)
        for path in [*self.records, self.lock_path]:
            with contextlib.suppress(OSError):
                path.unlink()
        self.release()

    def release(self) -> None:
        if self._handle >= 0:
            os.close(self._handle)
            self._handle = -1


def dead_runs(own: str) -> Iterator[DeadRun]:
    """The runs of this state directory that are not alive (never ``own``), one
    at a time, each locked by this process until released."""
    folder = runs_dir()
    ids = {p.name.split(".")[0] for p in folder.iterdir()
           if p.suffix in (".lock", ".projects")}
    ids |= {p.name[len("shared-"):] for p in folder.glob("shared-*")}
    for run_id in sorted(i for i in ids if _RUN_ID.match(i) and i != own):
        try:
            handle = _lock(folder / f"{run_id}.lock", fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue
        if handle is not None:  # else alive, or being swept by another run
            yield DeadRun(run_id, handle)


def sweep(own: str, on_engine: Callable[[], Iterable[str]],
          down: Callable[[str], None]) -> tuple[list[str], list[str]]:
    """Take down (``down``) the stacks of dead runs still on the engine (the
    project names ``on_engine()`` gives, asked only when a dead run recorded
    some): the names removed, and a line for each that could not be (kept for
    the next run)."""
    present: set[str] | None = None
    removed: list[str] = []
    problems: list[str] = []
    for run in dead_runs(own):
        failed, done = False, False
        try:
            recorded = run.projects
            if recorded and present is None:
                present = set(on_engine())
            for name in recorded:
                if name not in (present or ()):
                    continue
                try:
                    down(name)
                except Exception as exc:  # noqa: BLE001 - reported, retried next run
                    failed = True
                    problems.append(f"{name}: {exc}")
                else:
                    removed.append(name)
            done = True
        finally:
            if failed or not done:
                run.release()
            else:
                run.forget()
    return removed, problems

"""Test runs and their stacks: names, the live-run lock, stale stacks.

Each pytest run (each xdist worker too) takes a run id and holds an ``flock`` on
``<state dir>/pytest-runs/<run id>.lock`` for as long as it lives (composer's
private 0700 state directory). The stacks a run starts are named after it:
``pt<run id>-<worker>-<n>`` (``pt<run id>-shared-<hash>`` for the stack xdist
workers share). The kernel drops the lock when the process dies, however it
dies, so at the start of a run a ``pt<id>-...`` project whose run's lock can be
taken belongs to a dead run: it is taken down (``down -v``). A live run's lock
cannot be taken, and its stacks are left alone. Kept stacks
(``--compose-keep``) are named ``ptk<hash>-<worker>`` and never removed as stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["RUN_NAME", "Run", "dead_run_projects"]

#: A project started by a run of the plugin: its run id is the first group.
RUN_NAME = re.compile(r"^pt([0-9a-f]{8})-")


def _runs_dir() -> Path:
    from composer.runtime.lock import state_dir

    path = state_dir() / "pytest-runs"
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    return path


class Run:
    """This process's run: its id and the lock that says it is alive."""

    def __init__(self, run_id: str | None = None) -> None:
        self.id = run_id or secrets.token_hex(4)
        self._handle: int | None = None
        self._count = 0

    def start(self) -> None:
        if self._handle is not None:
            return
        path = _runs_dir() / f"{self.id}.lock"
        self._handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._handle, fcntl.LOCK_SH)  # shared: xdist workers of one run

    def stop(self) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None

    def project_name(self, worker: str) -> str:
        self._count += 1
        return f"pt{self.id}-{worker}-{self._count}"


def _alive(run_id: str) -> bool:
    path = _runs_dir() / f"{run_id}.lock"
    try:
        handle = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)
    with contextlib.suppress(OSError):
        path.unlink()  # a dead run's lock file
    return False


def dead_run_projects(projects: Iterator[str] | list[str], own: str) -> list[str]:
    """The plugin's projects among ``projects`` whose run is not alive (never this
    run's own, ``own``)."""
    out = []
    verdicts: dict[str, bool] = {}
    for name in projects:
        match = RUN_NAME.match(name)
        if match is None or match.group(1) == own:
            continue
        run_id = match.group(1)
        if run_id not in verdicts:
            verdicts[run_id] = _alive(run_id)
        if not verdicts[run_id]:
            out.append(name)
    return sorted(out)

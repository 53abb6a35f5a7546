"""Waiting on conditions, never on the clock: a deadline is only a hang guard.

``wait_until`` polls a real condition (a container's state, a file, a line of
output) until it holds; :class:`Streaming` runs a command whose output is read as
it comes, so a test waits for the line that proves a state ("a-1  | started")
instead of sleeping for it. Importable as ``waiting`` from every test folder
(``tests/`` is on ``sys.path`` beside its ``conftest.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: Generous: the machine may be running four test suites on two cores.
DEADLINE = 60.0


def wait_until(check: Callable[[], T], *, timeout: float = DEADLINE, what: str = "",
               interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy, and return that; after
    ``timeout`` seconds fail with ``what`` (and the last value) in the message."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for "
                                 f"{what or check!r} (last: {value!r})")
        time.sleep(interval)


class Streaming:
    """A command with stdout and stderr on pipes (not a terminal), both read as they
    come by a thread each; ``out``/``err`` are what arrived so far."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.argv = list(argv)
        self.proc = subprocess.Popen(self.argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._chunks: dict[str, list[bytes]] = {"out": [], "err": []}
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(name, pipe), daemon=True)
                         for name, pipe in (("out", self.proc.stdout), ("err", self.proc.stderr))]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, pipe: object) -> None:
        fd = pipe.fileno()  # type: ignore[attr-defined]
        while data := os.read(fd, 65536):
            with self._changed:
                self._chunks[name].append(data)
                self._changed.notify_all()

    @property
    def out_bytes(self) -> bytes:
        with self._changed:
            return b"".join(self._chunks["out"])

    @property
    def err_bytes(self) -> bytes:
        with self._changed:
            return b"".join(self._chunks["err"])

    @property
    def out(self) -> str:
        return self.out_bytes.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.err_bytes.decode("utf-8", "replace")

    def wait_for(self, check: Callable[[str, str], object], *, what: str,
                 timeout: float = DEADLINE) -> None:
        """Until ``check(out, err)`` holds; fails (with both outputs) if the command
        ends first or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                out = b"".join(self._chunks["out"]).decode("utf-8", "replace")
                err = b"".join(self._chunks["err"]).decode("utf-8", "replace")
                if check(out, err):
                    return
                ended = self.proc.poll() is not None and not any(
                    r.is_alive() for r in self._readers)
                left = deadline - time.monotonic()
                if ended or left <= 0:
                    raise AssertionError(
                        f"{what}: {'the command ended' if ended else 'gave up'} "
                        f"(exit {self.proc.poll()}); stdout: {out!r}; stderr: {err!r}")
                self._changed.wait(min(left, 0.5))

    def wait_for_text(self, text: str, *, stream: str = "out", timeout: float = DEADLINE
                      ) -> None:
        """Until ``text`` has appeared on stdout (``stream="out"``) or stderr."""
        self.wait_for(lambda out, err: text in (out if stream == "out" else err),
                      what=f"{text!r} on std{stream}", timeout=timeout)

    def finish(self, timeout: float = 120) -> int:
        """Wait for the command to end (a hang guard, not a measure) and for its
        output to be read; its exit code."""
        try:
            rc = self.proc.wait(timeout=timeout)
        finally:
            self.kill()
        for reader in self._readers:
            reader.join(timeout=timeout)
        return rc

    def interrupt(self, timeout: float = 120) -> int:
        """Ctrl-C (SIGINT), then :meth:`finish`."""
        self.proc.send_signal(signal.SIGINT)
        return self.finish(timeout)

    def kill(self) -> None:
        """Kill the command if it still runs (for a finaliser)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

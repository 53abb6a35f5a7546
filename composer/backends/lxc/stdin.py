"""The input of an attached session on LXC: the caller's bytes to the container's
command (worker threads; the session's output is read from the console log).

- A container with a terminal (``Tty``) reads the console: the bytes go to it
  through LXC's proxy of the console (``console_getfd(0)``, one peer at a time),
  whose copy of the console's output is read and dropped (the log has it).
- One without (``OpenStdin``) reads a FIFO (``run/stdin``, ``/.composer-run/stdin``
  inside), which composer's shell in the container holds open until a
  ``StdinOnce`` session's input has ended (then it is sent ``SIGPWR`` and lets
  go: the command reads the end of its input, as on Docker).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import select
import struct
import termios
import threading
from collections.abc import Callable
from typing import Any

from composer.errors import EngineError

__all__ = ["Chunks", "feed_console", "feed_fifo", "resize_console"]

#: The caller's input, chunk by chunk; None at its end.
Chunks = queue.SimpleQueue[bytes | None]

_LOOK = 0.25  # seconds between looks at whether the session has ended


def feed_fifo(path: str, chunks: Chunks, ended: threading.Event,
              on_end: Callable[[], None] | None = None) -> None:
    """The chunks into the FIFO at ``path`` until their end or the session's;
    ``on_end`` then (the ``StdinOnce`` close)."""
    try:
        # Read-write: the open neither waits for the command's shell nor fails
        # before it has opened its end; the bytes wait in the FIFO meanwhile.
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return
    try:
        _pump(chunks, ended, lambda data: _write(fd, data, ended))
    finally:
        os.close(fd)
    if on_end is not None and not ended.is_set():
        on_end()


def feed_console(container: Any, chunks: Chunks, ended: threading.Event) -> None:
    """The chunks to the console of the running LXC ``container``."""
    try:
        fd = int(container.console_getfd(0))
    except Exception as exc:  # the binding raises a bare error ("Unable to allocate tty")
        raise EngineError(f"the container's terminal already has an attached input "
                          f"({exc})") from None
    os.set_blocking(fd, False)
    lock = threading.Lock()
    state = {"open": True}

    def drain() -> None:
        """LXC copies the console's output to its proxy too: read, dropped."""
        while True:
            with lock:
                if not state["open"]:
                    return
                try:
                    if select.select([fd], [], [], 0)[0]:
                        os.read(fd, 65536)
                except OSError:
                    return
            with contextlib.suppress(OSError, ValueError):
                select.select([fd], [], [], _LOOK)

    def give(data: bytes) -> bool:
        with lock:
            return state["open"] and _write(fd, data, ended)

    reader = threading.Thread(target=drain, name="composer-lxc-console-out", daemon=True)
    reader.start()
    try:
        _pump(chunks, ended, give)
    finally:
        with lock:
            state["open"] = False
            os.close(fd)


def resize_console(init_pid: int, height: int, width: int) -> None:
    """The console's size (the command gets ``SIGWINCH``): set on the terminal
    LXC's init holds as its input, opened through ``/proc``."""
    try:
        fd = os.open(f"/proc/{init_pid}/fd/0", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return  # stopped meanwhile
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    except OSError:
        pass
    finally:
        os.close(fd)


def _pump(chunks: Chunks, ended: threading.Event, give: Callable[[bytes], bool]) -> None:
    while not ended.is_set():
        try:
            data = chunks.get(timeout=_LOOK)
        except queue.Empty:
            continue
        if data is None or not give(data):
            return


def _write(fd: int, data: bytes, ended: threading.Event) -> bool:
    """All of ``data`` to the non-blocking ``fd`` (waiting while it is full, until
    the session ends); False when it cannot take more."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            if ended.is_set():
                return False
            select.select([], [fd], [], _LOOK)
            continue
        except OSError:
            return False
        view = view[written:]
    return True

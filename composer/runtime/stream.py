"""Moving bytes through an interactive session (``exec``, ``run``, ``attach``).

:func:`pump` copies an input file descriptor into the session's
:class:`~composer.backends.base.RawStream` and the session's output to two
writers (stdout, stderr), until the engine ends the output. It is blocking code
meant for a worker thread: the stream is a plain socket, and a person's
keystrokes arrive on a file descriptor.

The terminal itself (raw mode, window size) is the CLI's business; this module
only sees file descriptors and callables.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable

from composer.backends.base import RawStream

__all__ = ["pump"]

Writer = Callable[[bytes], None]


def _feed_input(fd: int, stream: RawStream, done: threading.Event) -> None:
    """Copy ``fd`` into ``stream``; at end of input, close the stream's input so the
    process in the container sees end of file too."""
    try:
        while not done.is_set():
            # A timeout lets the thread notice the session ended while input is idle.
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            data = os.read(fd, 65536)
            if not data:
                stream.close_input()
                return
            stream.write(data)
    except OSError:
        return


def pump(stream: RawStream, *, stdin_fd: int | None, out: Writer, err: Writer) -> None:
    """Run a session: ``stdin_fd`` (None: no input) into the stream, its output to
    ``out``/``err`` (a TTY's output is all ``out``), until the engine ends it."""
    done = threading.Event()
    if stdin_fd is not None:
        threading.Thread(target=_feed_input, args=(stdin_fd, stream, done),
                         name="composer-stdin", daemon=True).start()
    try:
        while frames := stream.read():
            for name, data in frames:
                (err if name == "stderr" else out)(data)
    finally:
        done.set()
        stream.close()

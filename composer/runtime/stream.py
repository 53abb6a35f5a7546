"""Moving bytes through a hijacked engine connection (``exec``, ``run``, ``attach``).

:func:`pump` copies an input file descriptor into the connection and the
connection's output to two writers (stdout, stderr), until the engine closes
the connection. It is blocking code meant for a worker thread: the connection is
a plain socket, and a person's keystrokes arrive on a file descriptor.

The terminal itself (raw mode, window size) is the CLI's business; this module
only sees file descriptors and callables.
"""

from __future__ import annotations

import os
import select
import socket
import threading
from collections.abc import Callable

from composer.backends.docker_io import RawStream

__all__ = ["Demultiplexer", "pump"]

Writer = Callable[[bytes], None]


class Demultiplexer:
    """Splits the engine's multiplexed frames (stream byte, 3 zeros, big-endian size)
    fed in arbitrary chunks; frames of stream 2 go to ``err``, others to ``out``."""

    def __init__(self, out: Writer, err: Writer) -> None:
        self._out = out
        self._err = err
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        buffer = self._buffer + data
        pos = 0
        while len(buffer) - pos >= 8:
            size = int.from_bytes(buffer[pos + 4:pos + 8], "big")
            if len(buffer) - pos - 8 < size:
                break
            payload = buffer[pos + 8:pos + 8 + size]
            (self._err if buffer[pos] == 2 else self._out)(payload)
            pos += 8 + size
        self._buffer = buffer[pos:]


def _feed_input(fd: int, sock: socket.socket, done: threading.Event) -> None:
    """Copy ``fd`` into ``sock``; at end of input, close the socket's write half so
    the process in the container sees end of file too."""
    try:
        while not done.is_set():
            # A timeout lets the thread notice the session ended while input is idle.
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            data = os.read(fd, 65536)
            if not data:
                sock.shutdown(socket.SHUT_WR)
                return
            sock.sendall(data)
    except OSError:
        return


def pump(stream: RawStream, *, stdin_fd: int | None, out: Writer, err: Writer) -> None:
    """Run a session: ``stdin_fd`` (None: no input) into the connection, its output
    to ``out``/``err`` (a TTY's output is all ``out``), until the engine closes it."""
    sock = stream.sock
    sock.settimeout(None)
    done = threading.Event()
    feeder: threading.Thread | None = None
    if stdin_fd is not None:
        feeder = threading.Thread(target=_feed_input, args=(stdin_fd, sock, done),
                                  name="composer-stdin", daemon=True)
        feeder.start()
    sink: Writer = Demultiplexer(out, err).feed if stream.multiplexed else out
    try:
        while True:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, OSError):
                break
            if not data:
                break
            sink(data)
    finally:
        done.set()
        stream.close()

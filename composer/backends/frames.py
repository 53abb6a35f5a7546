"""The engine's output streams: the multiplexed frame format and the raw two-way stream.

A container without a TTY sends stdout and stderr over one connection as
*frames*: an 8-byte header (the stream: 0 stdin, 1 stdout, 2 stderr; three zero
bytes; the payload's size, big-endian) then the payload. A TTY's output is one
raw byte stream. :class:`FrameDecoder` is the one parser of that format in
composer: the Docker backend's logs and attach streams, the hijacked ``exec`` and
``attach`` connections (:class:`RawStream`) and the in-memory backend all use it.

:class:`RawStream` is an interactive session's connection (``exec``, ``run``,
``attach``): a plain blocking socket carrying the process's stdin one way and its
output the other. It is meant for a worker thread (:mod:`composer.runtime.stream`
pumps it).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from composer.backends.types import Frame

__all__ = ["FrameDecoder", "RawStream", "encode_frame", "split_frames"]

_STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}
_NUMBERS = {"stdin": 0, "stdout": 1, "stderr": 2}


def encode_frame(stream: str, data: bytes) -> bytes:
    """One frame of ``data`` on ``stream`` (``stdout``/``stderr``), as the engine sends it."""
    return bytes((_NUMBERS.get(stream, 1), 0, 0, 0)) + len(data).to_bytes(4, "big") + data


class FrameDecoder:
    """Incremental parser: bytes in, whole frames out, partial frames kept for later.

    With ``multiplexed`` false (a TTY) every chunk is one ``stdout`` frame as it came.
    """

    __slots__ = ("_buf", "multiplexed")

    def __init__(self, multiplexed: bool = True) -> None:
        self.multiplexed = multiplexed
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        if not self.multiplexed:
            return [Frame("stdout", bytes(data))] if data else []
        buf = self._buf
        buf += data
        out: list[Frame] = []
        # The hot loop of every log stream (a frame per line): tuple.__new__ builds a
        # Frame at a plain tuple's cost, without NamedTuple's argument handling.
        new, stream_of = tuple.__new__, _STREAMS.get
        pos, end = 0, len(buf)
        while end - pos >= 8:
            size = int.from_bytes(buf[pos + 4:pos + 8], "big")
            if end - pos - 8 < size:
                break
            payload = bytes(buf[pos + 8:pos + 8 + size])
            out.append(new(Frame, (stream_of(buf[pos], "stdout"), payload)))
            pos += 8 + size
        del buf[:pos]
        return out


def split_frames(data: bytes, multiplexed: bool = True) -> Iterator[Frame]:
    """The frames of a complete buffer (an incomplete last frame is dropped)."""
    yield from FrameDecoder(multiplexed).feed(data)


class RawStream:
    """A two-way connection to a process: its stdin one way, its output the other.

    ``multiplexed`` output comes in frames (no TTY); a TTY's output is raw.
    Blocking: use it from a worker thread. :meth:`read` returns the next output
    frames (``[]`` at the end); :meth:`write` sends input; :meth:`close_input`
    tells the process its input ended (a half close); :meth:`close` ends the
    session and frees whatever the backend kept for it.
    """

    def __init__(self, sock: socket.socket, *, multiplexed: bool, keep: Any = None) -> None:
        sock.settimeout(None)  # a session may be silent for long: never a read timeout
        self.sock = sock
        self.multiplexed = multiplexed
        self._keep = keep  # what owns the socket on the backend's side (kept alive)
        self._decoder = FrameDecoder(multiplexed)

    def read(self, size: int = 65536) -> list[Frame]:
        """The next output frames, blocking until some arrive; ``[]`` once the
        process's output ended (or the connection broke)."""
        while True:
            try:
                data = self.sock.recv(size)
            except OSError:
                return []
            if not data:
                return []
            frames = self._decoder.feed(data)
            if frames:
                return frames

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_input(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        # shutdown first: a read blocked in another thread (one whose wait was
        # abandoned on cancel) wakes up with the end of the stream; close alone
        # would leave it blocked, and the interpreter waiting for it at exit.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        try:
            self.sock.close()
        except OSError:
            pass
        close = getattr(self._keep, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing what the backend kept is best effort
                pass

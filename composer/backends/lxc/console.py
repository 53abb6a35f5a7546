"""A container's console log read back as the command's two streams.

The console is one terminal, so the log is one stream. Without ``tty: true``,
composer's shell in the container passes the command's stderr through a FIFO to
a relay that writes each of its lines to the console behind :data:`MARK`: a
marked line (from the mark to its end) is stderr, the rest stdout. The relay
keeps the order of stderr's lines; against stdout's, the order is as the relay
wrote them (Docker keeps none between its two pipes either). With a terminal
there is one stream, stdout, as on Docker.
"""

from __future__ import annotations

from composer.backends.types import Frame

__all__ = ["MARK", "Splitter", "split_lines"]

#: What the relay writes before each line of stderr (ASCII RS, US).
MARK = b"\x1e\x1f"


class Splitter:
    """Console bytes, as they come, into frames: :meth:`feed` each chunk (a mark cut
    in two by a chunk's end is held until the next), :meth:`flush` at the end."""

    def __init__(self) -> None:
        self._stream = "stdout"  # which stream the bytes now coming belong to
        self._held = b""

    def feed(self, data: bytes) -> list[Frame]:
        buf, self._held = self._held + data, b""
        out: list[Frame] = []
        at = 0
        while at < len(buf):
            if self._stream == "stdout":
                mark = buf.find(MARK, at)
                if mark < 0:
                    end = len(buf) - 1 if buf.endswith(MARK[:1]) else len(buf)
                    self._held = buf[end:]
                    _add(out, "stdout", buf[at:end])
                    break
                _add(out, "stdout", buf[at:mark])
                self._stream, at = "stderr", mark + len(MARK)
            else:
                end = buf.find(b"\n", at)
                if end < 0:
                    _add(out, "stderr", buf[at:])
                    break
                _add(out, "stderr", buf[at:end + 1])
                self._stream, at = "stdout", end + 1
        return out

    def flush(self) -> list[Frame]:
        held, self._held = self._held, b""
        return [Frame(self._stream, held)] if held else []


def split_lines(lines: list[bytes]) -> list[Frame]:
    """Whole lines of the log (each without its new line) as frames, one or two a
    line."""
    out: list[Frame] = []
    for line in lines:
        mark = line.find(MARK)
        if mark < 0:
            out.append(Frame("stdout", line + b"\n"))
            continue
        if mark:
            out.append(Frame("stdout", line[:mark]))
        out.append(Frame("stderr", line[mark + len(MARK):].replace(MARK, b"") + b"\n"))
    return out


def _add(out: list[Frame], stream: str, data: bytes) -> None:
    if not data:
        return
    if out and out[-1].stream == stream:
        out[-1] = Frame(stream, out[-1].data + data)
    else:
        out.append(Frame(stream, data))

"""The person's terminal: whether output gets escapes, raw mode for interactive
sessions, its window size.

Output that is not a terminal (a pipe, a file) gets no escape sequence at all, in
every command: no colour, no cursor movement, no line erase, unless ``--ansi
always`` asks for them. :func:`ansi_enabled` is that one decision.

Raw mode hands every keystroke (Ctrl-C included) to the process in the
container, as ``docker exec -it`` does; the previous settings come back on exit,
whatever happens (exception, signal turned into one, normal end).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO

__all__ = ["ansi_enabled", "is_terminal", "raw_mode", "window_size"]


def ansi_enabled(ansi: str, stream: TextIO) -> bool:
    """Whether ``stream`` may get escape sequences (colours, cursor moves, line
    erases): always with ``--ansi always``, never with ``--ansi never``, and with
    ``auto`` only when ``stream`` is a terminal."""
    if ansi == "always":
        return True
    if ansi == "never":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def is_terminal(fd: int) -> bool:
    """True when ``fd`` is a terminal (the decision behind ``exec``'s and ``run``'s TTY)."""
    try:
        return os.isatty(fd)
    except OSError:
        return False


@contextlib.contextmanager
def raw_mode(fd: int, enabled: bool = True) -> Iterator[None]:
    """Put the terminal ``fd`` in raw mode for the block; restore it afterwards."""
    if not enabled or not is_terminal(fd):
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def window_size(fd: int | None = None) -> tuple[int, int] | None:
    """``(rows, columns)`` of the terminal on ``fd`` (stdout, then stdin), None if none."""
    for candidate in (fd,) if fd is not None else (sys.stdout.fileno(), sys.stdin.fileno()):
        try:
            size = os.get_terminal_size(candidate)
        except (OSError, ValueError):
            continue
        if size.lines and size.columns:
            return size.lines, size.columns
    return None

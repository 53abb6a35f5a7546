"""The person's terminal: raw mode for interactive sessions, its window size.

Raw mode hands every keystroke (Ctrl-C included) to the process in the
container, as ``docker exec -it`` does; the previous settings come back on exit,
whatever happens (exception, signal turned into one, normal end).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["is_terminal", "raw_mode", "window_size"]


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

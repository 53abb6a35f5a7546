"""Processes for :class:`~composer.backends.memory.MemoryBackend`: a small command
interpreter and the engine's side of an interactive session.

:func:`run_command` plays the few commands tests and examples use (``echo``,
``cat``, ``env``, ``pwd``, ``true``, ``false``, ``exit N``, ``sleep``, and
``sh -c`` scripts of those joined by ``;``/``&&``, with ``>&2``); anything
else exits 127 with the engine's "executable file not found" message. A
service's :class:`~composer.backends.memory.Script` can replace it with any
function of the same shape (:data:`CommandHandler`).

:class:`SessionPipe` is the engine's end of a
:class:`~composer.backends.frames.RawStream`: a socket pair whose far end the
caller gets, with two threads on this end, one collecting what the caller
writes (the process's stdin) and one sending the output queued for it.
"""

from __future__ import annotations

import contextlib
import posixpath
import queue
import shlex
import socket
import threading
from collections.abc import Callable, Mapping, Sequence

from composer.backends.frames import RawStream, encode_frame

__all__ = ["CommandHandler", "SessionPipe", "run_command"]

#: ``(argv, stdin, environment, workdir) -> (exit code, stdout, stderr)``; called in a
#: worker thread, so it must not touch the backend.
CommandHandler = Callable[[Sequence[str], bytes, Mapping[str, str], str],
                          tuple[int, bytes, bytes]]


def _one(argv: Sequence[str], stdin: bytes, env: Mapping[str, str],
         workdir: str) -> tuple[int, bytes, bytes]:
    name, args = argv[0], list(argv[1:])
    base = posixpath.basename(name)
    if base in ("sh", "ash", "bash") and args[:1] == ["-c"]:
        return _script(args[1] if len(args) > 1 else "", stdin, env, workdir)
    if base == "echo":
        newline = not (args[:1] == ["-n"])
        words = args[1:] if not newline else args
        return 0, (" ".join(words) + ("\n" if newline else "")).encode(), b""
    if base in ("true", "sleep", ":"):
        return 0, b"", b""
    if base == "false":
        return 1, b"", b""
    if base == "exit":
        return (int(args[0]) if args and args[0].lstrip("-").isdigit() else 0), b"", b""
    if base == "cat" and not args:
        return 0, stdin, b""
    if base == "env":
        return 0, "".join(f"{k}={v}\n" for k, v in env.items()).encode(), b""
    if base == "pwd":
        return 0, (workdir or "/").encode() + b"\n", b""
    return 127, b"", (f'OCI runtime exec failed: exec failed: unable to start container '
                      f'process: exec: "{name}": executable file not found in $PATH: '
                      "unknown\n").encode()


def _script(script: str, stdin: bytes, env: Mapping[str, str],
            workdir: str) -> tuple[int, bytes, bytes]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&>")
    lexer.whitespace_split = True
    tokens = list(lexer)
    out, err = bytearray(), bytearray()
    code = 0
    statement: list[str] = []
    joiner = ";"
    for token in [*tokens, ";"]:
        if token not in (";", "&&", "\n"):
            statement.append(token)
            continue
        if statement and (joiner == ";" or code == 0):
            to_err = statement[-2:] == [">&", "2"]
            words = statement[:-2] if to_err else statement
            code, o, e = _one(words, stdin, env, workdir) if words else (0, b"", b"")
            (err if to_err else out).extend(o)
            err.extend(e)
            if words[:1] == ["exit"]:
                return code, bytes(out), bytes(err)
        statement, joiner = [], token
    return code, bytes(out), bytes(err)


def run_command(argv: Sequence[str], stdin: bytes = b"", env: Mapping[str, str] | None = None,
                workdir: str = "/") -> tuple[int, bytes, bytes]:
    """Play ``argv`` (see the module docstring); ``(exit code, stdout, stderr)``."""
    if not argv:
        return 0, b"", b""
    return _one(list(argv), stdin, env or {}, workdir)


class SessionPipe:
    """The engine's end of an interactive session (see the module docstring).

    ``stream`` is the caller's :class:`RawStream`. :meth:`send` queues output (framed
    unless ``tty``); :meth:`finish` ends the output once what is queued has gone.
    ``input`` collects the caller's bytes (or ``deliver`` is given each chunk as it
    comes, and None at their end); ``input_done`` is set at their end.
    """

    def __init__(self, *, tty: bool, read_input: bool = True,
                 deliver: Callable[[bytes | None], None] | None = None) -> None:
        ours, theirs = socket.socketpair()
        self.tty = tty
        self.stream = RawStream(theirs, multiplexed=not tty)
        self.input = bytearray()
        self.input_done = threading.Event()
        self._deliver = deliver
        self._sock = ours
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._open = 2 if read_input else 1
        if read_input:
            threading.Thread(target=self._read, name="composer-memory-in", daemon=True).start()
        else:
            self.input_done.set()
        threading.Thread(target=self._write, name="composer-memory-out", daemon=True).start()

    def send(self, stream: str, data: bytes) -> None:
        if data:
            self._queue.put(data if self.tty else encode_frame(stream, data))

    def finish(self) -> None:
        self._queue.put(None)

    def _done(self) -> None:
        with self._lock:
            self._open -= 1
            last = self._open == 0
        if last:
            with contextlib.suppress(OSError):
                self._sock.close()

    def _read(self) -> None:
        try:
            while True:
                data = self._sock.recv(65536)
                if not data:
                    break
                if self._deliver is not None:
                    self._deliver(data)
                else:
                    self.input.extend(data)
        except OSError:
            pass
        finally:
            if self._deliver is not None:
                self._deliver(None)
            self.input_done.set()
            self._done()

    def _write(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                self._sock.sendall(item)
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            self._done()

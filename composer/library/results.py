"""What the library's calls return: small frozen records, stable across releases.

* :class:`ExecResult` — a command's exit code and its output, stdout and stderr
  apart (``exec``, ``run``);
* :class:`LogLine` — one line of a container's output (``logs``);
* :class:`Endpoint` — where to connect to a published port from this machine;
* :class:`Event` — one container event of the project (``events``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from datetime import datetime

from composer.errors import ExecFailedError
from composer.frozen import frozen

__all__ = ["Endpoint", "Event", "ExecResult", "LogLine"]


@frozen(slots=True)
class ExecResult:
    """A finished command: ``exit_code``, and ``stdout`` and ``stderr`` kept apart,
    decoded as UTF-8 (undecodable bytes replaced). With a TTY, all output is
    ``stdout``. ``service`` and ``cmd`` say what ran."""

    exit_code: int
    stdout: str
    stderr: str
    service: str = ""
    cmd: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.exit_code == 0

    def check(self) -> ExecResult:
        """This result when the command exited 0; else raise
        :class:`~composer.errors.ExecFailedError` with its output."""
        if self.exit_code != 0:
            raise ExecFailedError(service=self.service, cmd=self.cmd, exit_code=self.exit_code,
                                  stdout=self.stdout, stderr=self.stderr)
        return self


@frozen(slots=True)
class LogLine:
    """One line a container wrote: its ``service``, its ``container`` (name),
    ``stream`` (``stdout`` or ``stderr``), ``time`` (the engine's timestamp, UTC)
    and ``text`` (without the newline)."""

    service: str
    container: str
    stream: str
    time: datetime | None
    text: str

    def __str__(self) -> str:
        return f"{self.container} | {self.text}"


@frozen(slots=True)
class Endpoint:
    """Where a published port answers: ``host`` and ``port`` to connect to from this
    machine (``127.0.0.1`` for a port published on every address of a local
    engine). ``url(path, scheme)`` writes it as a URL."""

    host: str
    port: int

    def url(self, path: str = "/", scheme: str = "http") -> str:
        """``scheme://host:port/path`` (an IPv6 host in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{path}"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@frozen(slots=True)
class Event:
    """A container event of the project: ``action`` in the engine's words
    (``create``, ``start``, ``die``, ``health_status: healthy``...), the ``service``,
    the ``container`` ID, the ``time`` and the engine's ``attributes``."""

    action: str
    service: str
    container: str
    time: datetime | None
    attributes: Mapping[str, str] = field(default_factory=dict)

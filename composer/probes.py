"""Readiness probes, for code: ``await project.service("db").ready(probes.tcp(5432))``.

Each probe is checked against the container's own address (never a published
port, which the engine's proxy accepts whether anything listens or not), or from
a helper container in the container's network namespace where composer cannot
route to it; the same probes as a compose file's ``x-composer-ready`` key
(:mod:`composer.runtime.readiness` runs them).

* :func:`tcp` — the port accepts a TCP connection;
* :func:`http` — a ``GET path`` answers ``status``;
* :func:`log` — ``count`` lines of the container's output since its last start
  match a regular expression;
* :func:`exec` — a command run inside the container exits 0;
* :func:`all_of` — every probe given passes (a list or tuple of probes means the same);
* :func:`any_of` — one of the probes given passes.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence

from composer.plan.steps import (
    AnyProbe,
    ExecProbe,
    HttpProbe,
    LogProbe,
    ReadinessProbe,
    TcpProbe,
)

__all__ = ["Probe", "all_of", "any_of", "exec", "http", "log", "tcp"]

#: One probe (a frozen, hashable value whose ``str()`` says what it checks).
Probe = ReadinessProbe


def tcp(port: int) -> Probe:
    """Ready once ``port`` of the container accepts a TCP connection."""
    return TcpProbe(int(port))


def http(port: int, path: str = "/", status: int = 200) -> Probe:
    """Ready once ``GET path`` on ``port`` answers ``status`` (redirects not followed)."""
    return HttpProbe(int(port), path, int(status))


def log(pattern: str, count: int = 1) -> Probe:
    """Ready once ``count`` lines written since the container's last start match
    ``pattern`` (a Python regular expression, searched in each line)."""
    return LogProbe(pattern, int(count))


def exec(cmd: str | Sequence[str]) -> Probe:  # noqa: A001 - the probe's name
    """Ready once ``cmd`` run in the container exits 0 (a string runs through
    ``/bin/sh -c``)."""
    if isinstance(cmd, str):
        return ExecProbe(("/bin/sh", "-c", cmd))
    return ExecProbe(tuple(cmd))


def all_of(*probes: Probe | Iterable[Probe]) -> tuple[Probe, ...]:
    """Every probe given must pass (nested lists are flattened)."""
    return flatten(probes)


def any_of(*probes: Probe | Iterable[Probe]) -> Probe:
    """Ready once any one of the probes given passes (``any_of(tcp(5432), log("ready"))``);
    it nests in :func:`all_of` and lists like any probe."""
    flat = flatten(probes)
    if not flat:
        raise TypeError("any_of() needs at least one probe")
    simple = tuple(p for p in flat if not isinstance(p, AnyProbe))
    nested = tuple(q for p in flat if isinstance(p, AnyProbe) for q in p.probes)
    return AnyProbe(tuple(dict.fromkeys(simple + nested)))


def flatten(probes: object) -> tuple[Probe, ...]:
    """One probe or any nesting of lists of them, as a flat tuple without repeats."""
    out: builtins.list[Probe] = []
    stack: builtins.list[object] = [probes]
    while stack:
        item = stack.pop(0)
        if isinstance(item, TcpProbe | HttpProbe | LogProbe | ExecProbe | AnyProbe):
            out.append(item)
        elif isinstance(item, Iterable) and not isinstance(item, str | bytes):
            stack[:0] = list(item)
        else:
            raise TypeError(f"not a readiness probe: {item!r}")
    return tuple(dict.fromkeys(out))

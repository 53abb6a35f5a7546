"""Durations and byte sizes, parsed and printed the way Docker Compose v2 does.

The one parser of both for the whole package (the loader, the model, the engine
spec, the command line):

* durations follow compose-go, which parses them with ``str2duration`` (Go's
  ``time.ParseDuration`` plus the units ``d`` and ``w``) and prints them with
  Go's ``time.Duration.String()``;
* byte sizes follow ``go-units.RAMInBytes``: binary multiples (``k`` = 1024), any
  case, an optional ``i`` and ``b``.

Errors are ``ValueError`` with Go's own wording (``time: unknown unit "x" in
duration "1x"``, ``invalid suffix: 'xb'``), which compose prints as is.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "HOUR",
    "MICROSECOND",
    "MILLISECOND",
    "MINUTE",
    "NANOSECOND",
    "SECOND",
    "format_duration",
    "parse_bytes",
    "parse_duration",
]

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS: dict[str, int] = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,  # micro sign
    "\u03bcs": MICROSECOND,  # Greek mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
    "d": 24 * HOUR,
    "w": 168 * HOUR,
}
_INT64_MAX = (1 << 63) - 1
# One <digits>[.<digits>]<unit> part; every group may be empty, so it always matches.
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def parse_duration(text: str) -> int:
    """Nanoseconds in a Go duration string: ``"1m30s"`` -> 90_000_000_000.

    Accepts what compose accepts: an optional sign, then one or more
    ``<number>[.<fraction>]<unit>`` parts with the units ns, us (µs), ms, s, m, h,
    d and w; ``"0"`` alone is zero. A bare number such as ``"90"`` is refused
    ("missing unit"), as compose does. Raises ``ValueError`` with Go's wording.
    """
    orig = text
    neg = False
    if text and text[0] in "+-":
        neg = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise ValueError(f"time: invalid duration {_quote(orig)}")
    total = 0
    pos = 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        assert m is not None
        whole, frac, unit_name = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {_quote(orig)}")
        if not unit_name:
            raise ValueError(f"time: missing unit in duration {_quote(orig)}")
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise ValueError(
                f"time: unknown unit {_quote(unit_name)} in duration {_quote(orig)}")
        number = int(whole or "0")
        if number > _INT64_MAX // unit:
            raise ValueError(f"time: invalid duration {_quote(orig)}")
        value = number * unit
        if frac:
            # Go scales the fraction in float64 and truncates; keep that rounding.
            digits = frac[:18]
            value += int(float(int(digits)) * (unit / 10 ** len(digits)))
        total += value
        if total > _INT64_MAX:
            raise ValueError(f"time: invalid duration {_quote(orig)}")
        pos = m.end()
    return -total if neg else total


def _quote(text: str) -> str:
    """Go's ``strconv.Quote`` for the printable text durations are made of."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_fraction(value: int, precision: int) -> tuple[str, int]:
    """Go's fmtFrac: ``value / 10**precision`` as ``.ddd`` without trailing zeros."""
    digits = []
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        value //= 10
    frac = ("." + "".join(reversed(digits))) if printed else ""
    return frac, value


def format_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``: ``90s`` -> ``"1m30s"``, ``0.5s`` -> ``"500ms"``.

    Zero prints as ``"0s"``; under a second the largest unit that keeps the value
    at least 1 is used (``ns``, ``µs``, ``ms``) with a trimmed fraction; from a
    second up the form is ``[<h>h][<m>m]<s>[.<frac>]s`` (``"1h0m0s"``).
    """
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < SECOND:
        if u < MICROSECOND:
            body = f"{u}ns"
        elif u < MILLISECOND:
            frac, whole = _format_fraction(u, 3)
            body = f"{whole}{frac}\u00b5s"
        else:
            frac, whole = _format_fraction(u, 6)
            body = f"{whole}{frac}ms"
    else:
        frac, secs = _format_fraction(u, 9)
        body = f"{secs % 60}{frac}s"
        mins = secs // 60
        if mins > 0:
            body = f"{mins % 60}m{body}"
            hours = mins // 60
            if hours > 0:
                body = f"{hours}h{body}"
    return f"-{body}" if neg else body


_BINARY = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
# What Go's strconv.ParseFloat reads in base 10 (no "_" without a base prefix).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


def parse_bytes(value: str | int) -> int:
    """Bytes in a size such as ``"512m"`` (536_870_912); an int is returned as is.

    go-units' ``RAMInBytes``, step for step: the number is what precedes the last
    digit, dot or space (a space before the unit is dropped); the unit is one of
    b, k, m, g, t, p (binary multiples, any case), optionally followed by ``b`` or
    ``ib`` (``"1GiB"``, ``"1kb"``, ``"2b"``). The product is truncated to an integer
    (``"1.5"`` -> 1). Raises ``ValueError`` with go-units' wording: ``invalid size:
    '...'``, ``invalid suffix: '...'`` or strconv's for a malformed number.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid size: '{value}'")
    if isinstance(value, int):
        return value
    text = value
    sep = max(text.rfind(c) for c in "0123456789. ")
    if sep < 0:
        raise ValueError(f"invalid size: '{text}'")
    if text[sep] == " ":
        number, suffix = text[:sep], text[sep + 1:]
    else:
        number, suffix = text[:sep + 1], text[sep + 1:]
    if not _DECIMAL.match(number):
        raise ValueError(f'strconv.ParseFloat: parsing {_quote(number)}: invalid syntax')
    size = float(number)
    if math.isinf(size):
        raise ValueError(f'strconv.ParseFloat: parsing {_quote(number)}: value out of range')
    if size < 0:
        raise ValueError(f"invalid size: '{text}'")
    if not suffix:
        return int(size)
    if len(suffix) > 3:
        raise ValueError(f"invalid suffix: '{suffix}'")
    low = suffix.lower()
    if low[0] == "b":
        if len(low) > 1:
            raise ValueError(f"invalid suffix: '{low}'")
        return int(size)
    multiple = _BINARY.get(low[0])
    if multiple is None or (len(low) == 2 and low[1] != "b") or (
            len(low) == 3 and low[1:] != "ib"):
        raise ValueError(f"invalid suffix: '{low}'")
    return int(size * multiple)

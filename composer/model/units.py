"""Durations and byte sizes, parsed and printed the way Docker Compose v2 does.

Durations follow compose-go: the loader parses them with ``str2duration`` (Go's
``time.ParseDuration`` plus the units ``d`` and ``w``) and prints them with Go's
``time.Duration.String()``. Byte sizes follow ``go-units.RAMInBytes``: binary
multiples (``k`` = 1024), case-insensitive, an optional ``i`` and ``b``.
"""

from __future__ import annotations

import re

__all__ = [
    "NANOSECOND",
    "MICROSECOND",
    "MILLISECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
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
        raise ValueError(f'time: invalid duration "{orig}"')
    total = 0
    pos = 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        assert m is not None  # every group may be empty, so it always matches
        whole, frac, unit_name = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            raise ValueError(f'time: invalid duration "{orig}"')
        if not unit_name:
            raise ValueError(f'time: missing unit in duration "{orig}"')
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise ValueError(f'time: unknown unit "{unit_name}" in duration "{orig}"')
        value = int(whole or "0") * unit
        if value > _INT64_MAX:
            raise ValueError(f'time: invalid duration "{orig}"')
        if frac:
            # Go scales the fraction in float64 and truncates; keep that rounding.
            digits = frac[:18]
            value += int(float(int(digits)) * (unit / 10 ** len(digits)))
        total += value
        if total > _INT64_MAX:
            raise ValueError(f'time: invalid duration "{orig}"')
        pos = m.end()
    return -total if neg else total


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


_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$", re.IGNORECASE)
_BINARY = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(value: str | int) -> int:
    """Bytes in a size such as ``"512m"`` (536_870_912); an int is returned as is.

    Like compose (go-units ``RAMInBytes``): a decimal number, an optional space,
    an optional unit among b, k, m, g, t, p (binary multiples, any case) with an
    optional ``i`` and ``b`` (``"1GiB"``, ``"1kb"``, ``"2b"``). The product is
    truncated to an integer (``"1.5"`` -> 1). Raises ``ValueError`` otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid size: '{value}'")
    if isinstance(value, int):
        return value
    m = _SIZE.match(value)
    if m is None:
        raise ValueError(f"invalid size: '{value}'")
    try:
        number = float(m.group(1))
    except ValueError:  # "1.2.3" passes the pattern but is no number
        raise ValueError(f'strconv.ParseFloat: parsing "{m.group(1)}": invalid syntax') from None
    unit = m.group(2)
    if unit:
        number *= _BINARY[unit.lower()]
    return int(number)

"""Plain YAML scalars, resolved as Docker Compose v2 (Go ``yaml.v3``) resolves them.

Scalars resolve as Docker Compose v2 resolves them (Go ``yaml.v3``, the YAML 1.2 core
schema with yaml.v3's extensions), not as PyYAML's YAML 1.1 resolver does. Checked
against the v2.40.3 binary by putting values under ``x-foo:`` and reading
``config --format json``:

=================================  ==============================================
plain scalar                       value
=================================  ==============================================
``yes no on off y n Y``            strings (YAML 1.1 booleans are *not* booleans)
``true True TRUE false ...``       booleans; ``tRue`` is a string
``null Null NULL ~`` and empty     ``None``; ``nULL`` is a string
``0777`` ``0o17`` ``0O17``         511, 15, 15 (a leading zero is still octal)
``0x1F`` ``0b101`` ``-0x10``       31, 5, -16
``1_000`` ``0_7_7`` ``0x_1F``      1000, 63, 31 (underscores are dropped first)
``+1`` ``-0``                      1, 0
``08`` ``09.5`` ``1.`` ``1e3``     8.0, 9.5, 1.0, 1000.0 (not octal -> float)
``.5`` ``+.5`` ``.5_0``            0.5
``.inf -.Inf +.INF .nan``          floats (v2 then cannot print them as JSON)
``18446744073709551615``           int (fits uint64); past uint64 or int64: float
``1e400`` ``0x`` ``0b`` ``1e``     strings (overflow or incomplete)
``0b-1`` ``0o-7``                  -1, -7 (a quirk of yaml.v3, kept)
``2001-12-14``                     :class:`Timestamp` (see below), ``2001-13-45``
                                   and ``2001-02-29`` stay strings
=================================  ==============================================

Timestamps: v2 turns a plain scalar shaped like a YAML timestamp (``2001-12-14``,
``2001-12-14T21:59:43.10-05:00``, ``2001-12-14 21:59:43``) into a Go ``time.Time``,
prints it in ``x-`` fields as RFC 3339 (``2001-12-14T00:00:00Z``) and refuses it where a
string is required (``services.web.labels.t1 invalid jsonType time.Time``).
:class:`Timestamp` is a ``str`` holding that RFC 3339 text, so output matches v2 and
later phases can tell it apart from a quoted string.

Also here: :func:`go_text`, a scalar as Go's ``%v`` prints it in v2's messages.
"""

from __future__ import annotations

import re
from typing import Any

from composer.model.gofloat import sprint

__all__ = ["SPECIAL_START", "Timestamp", "go_repr", "go_text", "kind_of", "resolve_scalar"]


class Timestamp(str):
    """A plain scalar that YAML (as v2 reads it) resolves to a timestamp.

    The string value is the RFC 3339 text v2 prints for it (``2001-12-14T00:00:00Z``);
    :attr:`source` is the text as written. v2 refuses a timestamp where the compose
    schema wants a string; a later phase can do the same with ``isinstance``.
    """

    source: str

    def __new__(cls, rendered: str, source: str) -> Timestamp:
        self = super().__new__(cls, rendered)
        self.source = source
        return self

    def __repr__(self) -> str:
        return f"Timestamp({str(self)!r}, source={self.source!r})"




_RESOLVE_MAP: dict[str, Any] = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
}
_NUMERIC_START = frozenset("0123456789+-")
_MAP_START = frozenset("yYnNtTfFoO~")
#: First characters of plain scalars that may be something other than a string.
SPECIAL_START = _NUMERIC_START | _MAP_START | {"."}
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

# Go's strconv.ParseInt(s, 0, 64) syntax; a bare leading zero means octal.
_GO_INT = re.compile(
    r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))\Z"
)
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
# strconv.ParseFloat of a scalar starting with ".": underscores only between digits.
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?\Z")
_SIGNED_BIN = re.compile(r"[-+]?[01]+\Z")
_SIGNED_OCT = re.compile(r"[-+]?[0-7]+\Z")

# The four layouts yaml.v3 tries (time.Parse; one space in a layout matches many).
_TS_DATE = r"([0-9]{4})-([0-9][0-9]?)-([0-9][0-9]?)"
_TS_TIME = r"([0-9][0-9]?):([0-9][0-9]?):([0-9][0-9]?)(?:[.,]([0-9]+))?"
_TS_LAYOUTS = (
    re.compile(_TS_DATE + "[Tt]" + _TS_TIME + r"(Z|[-+][0-9]{2}:[0-9]{2})\Z"),
    re.compile(_TS_DATE + " +" + _TS_TIME + r"()\Z"),
    re.compile(_TS_DATE + r"()()()()()\Z"),
)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _parse_timestamp(s: str) -> Timestamp | None:
    """Go's time.Parse over yaml.v3's timestamp layouts, rendered as RFC 3339 (nano)."""
    if len(s) < 5 or s[4] != "-" or not s[:4].isdigit():
        return None
    for layout in _TS_LAYOUTS:
        m = layout.match(s)
        if m is not None:
            break
    else:
        return None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if not 1 <= month <= 12:
        return None
    days = _DAYS_IN_MONTH[month]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        days = 29
    if not 1 <= day <= days:
        return None
    text = f"{year:04d}-{month:02d}-{day:02d}T"
    if not m[4]:
        return Timestamp(text + "00:00:00Z", s)
    hour, minute, second = int(m[4]), int(m[5]), int(m[6])
    if hour >= 24 or minute >= 60 or second >= 60:
        return None
    text += f"{hour:02d}:{minute:02d}:{second:02d}"
    # Go keeps nine digits of the fraction (truncating) and prints them without
    # trailing zeros.
    frac = (m[7] or "")[:9].rstrip("0")
    if frac:
        text += "." + frac
    zone = m[8]
    offset = 0
    if zone and zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 24 or zm > 60:
            return None
        offset = zh * 60 + zm
        if zone[0] == "-":
            offset = -offset
    if offset == 0:
        return Timestamp(text + "Z", s)
    sign = "+" if offset > 0 else "-"
    return Timestamp(text + f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}", s)


def _go_int(s: str) -> int | None:
    """strconv.ParseInt(s, 0, 64), falling back to ParseUint(s, 0, 64); else None."""
    m = _GO_INT.match(s)
    if m is None:
        return None
    sign, hexa, octo, bina, octal0, dec = m.groups()
    if hexa is not None:
        v = int(hexa, 16)
    elif octo is not None:
        v = int(octo, 8)
    elif bina is not None:
        v = int(bina, 2)
    elif octal0 is not None:
        v = int(octal0, 8) if octal0 else 0
    else:
        v = int(dec)
    if sign == "-":
        v = -v
    if _INT64_MIN <= v <= _INT64_MAX or (not sign and v <= _UINT64_MAX):
        return v
    return None


def _go_prefixed_int(digits: str, pattern: re.Pattern[str], base: int) -> int | None:
    # yaml.v3 retries "0b..."/"0o..." with an explicit base, where Go lets a sign
    # follow the prefix ("0b-1" is -1).
    if pattern.match(digits) is None:
        return None
    v = int(digits, base)
    if _INT64_MIN <= v <= _INT64_MAX or (digits[0] not in "+-" and v <= _UINT64_MAX):
        return v
    return None


def _resolve_number(s: str, try_timestamp: bool) -> Any:
    """A plain scalar starting with a digit or a sign."""
    if s in _RESOLVE_MAP:
        return _RESOLVE_MAP[s]
    if try_timestamp:
        ts = _parse_timestamp(s)
        if ts is not None:
            return ts
    plain = s.replace("_", "") if "_" in s else s
    v = _go_int(plain)
    if v is not None:
        return v
    if _YAML_FLOAT.match(plain):
        f = float(plain)
        if f not in (float("inf"), float("-inf")):  # Go reports overflow as an error
            return f
    if plain.startswith("0b"):
        r = _go_prefixed_int(plain[2:], _SIGNED_BIN, 2)
        if r is not None:
            return r
    elif plain.startswith("-0b"):
        r = _go_prefixed_int("-" + plain[3:], _SIGNED_BIN, 2)
        if r is not None:
            return r
    if plain.startswith("0o"):
        r = _go_prefixed_int(plain[2:], _SIGNED_OCT, 8)
        if r is not None:
            return r
    elif plain.startswith("-0o"):
        r = _go_prefixed_int("-" + plain[3:], _SIGNED_OCT, 8)
        if r is not None:
            return r
    return s


def _resolve_dot(s: str) -> Any:
    if s in _RESOLVE_MAP:
        return _RESOLVE_MAP[s]
    if _DOT_FLOAT.match(s):
        f = float(s.replace("_", ""))
        if f != float("inf"):
            return f
    return s


def resolve_scalar(text: str, *, try_timestamp: bool = True) -> Any:
    """The value of an untagged plain scalar, as Docker Compose v2 reads it."""
    if not text:
        return None
    c = text[0]
    if c in _NUMERIC_START:
        return _resolve_number(text, try_timestamp)
    if c in _MAP_START:
        return _RESOLVE_MAP.get(text, text)
    if c == ".":
        return _resolve_dot(text)
    return text


def kind_of(value: Any) -> str:
    """What a resolved scalar is, in words (``an integer``), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, Timestamp):
        return "a timestamp"
    return "a string"


def go_text(value: Any) -> str:
    """A scalar as Go's ``%v`` writes it: ``true``, ``1e+06``, ``<nil>``."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return sprint(value)
    return str(value)


def go_repr(value: Any) -> str:
    """A resolved key as v2 prints it in "non-string key" errors (Go's %#v)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value <= _INT64_MAX else hex(value)
    if isinstance(value, float):
        return sprint(value)
    if isinstance(value, Timestamp):
        return value.source
    return str(value)

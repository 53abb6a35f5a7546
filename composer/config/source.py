"""YAML source: parse text into plain values and a map of where each value came from.

The first loading phase. :func:`parse_yaml` turns YAML text into one :class:`Document`
per YAML document: plain Python values (``dict``/``list``/``str``/``int``/``float``/
``bool``/``None``, plus the markers :class:`Reset`, :class:`Override` and
:class:`Timestamp`) and a :class:`SourceMap` giving the file, line and column of every
value and every mapping key. :func:`load_yaml_file` reads a file and parses it.

How it works: libyaml (PyYAML's C ``CParser``, or PyYAML's pure-Python parser when
libyaml is missing) produces the event stream; one iterative pass over the events builds
the values and the marks together. Nothing is composed recursively and nothing is
constructed from tags, so loading is safe and a deep file cannot overflow the stack. A
1,000-service file (430 kB) takes about 80 ms, faster than PyYAML's own C safe_load.

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

Quoted and block scalars are strings. ``!`` alone is no tag (``! 12`` is 12).
``!!str``/``!!int``/``!!float``/``!!bool``/``!!null``/``!!timestamp`` force a type and
refuse a value that does not fit; ``!!binary`` decodes base64; other ``!!`` and ``!<...>``
tags leave a scalar as its raw text, like v2. ``!reset`` gives :class:`Reset` and
``!override`` gives :class:`Override` (on a scalar wrapping its *raw text*, as v2 does:
``!override 1`` is ``Override("1")``). Any other local tag (``!foo``) is refused, and so
is a tag on a mapping key: v2 silently ignores both, which hides typos such as ``!rest``.

Timestamps: v2 turns a plain scalar shaped like a YAML timestamp (``2001-12-14``,
``2001-12-14T21:59:43.10-05:00``, ``2001-12-14 21:59:43``) into a Go ``time.Time``,
prints it in ``x-`` fields as RFC 3339 (``2001-12-14T00:00:00Z``) and refuses it where a
string is required (``services.web.labels.t1 invalid jsonType time.Time``).
:class:`Timestamp` is a ``str`` holding that RFC 3339 text, so output matches v2 and
later phases can tell it apart from a quoted string.

Mappings: keys must be strings (``non-string key in services.web.environment: 1``, as v2
says); a key written twice is refused, naming both lines; ``<<`` merge keys take a
mapping or a list of mappings, keys written in the mapping win over merged ones and
earlier merged mappings win over later ones. Anchors and aliases work; an alias copies
the anchored value, and the marks below it point where the values were written (the
alias itself is marked where it stands). The number of nodes aliases may add is bounded,
so an alias bomb ("billion laughs") is refused at once.

Limits and hostile input: nesting deeper than :data:`MAX_DEPTH` is refused while reading
the event stream (v2's own limit is 10,000; ours is lower so that the later, recursive
phases stay far from Python's recursion limit); text must be UTF-8 (or UTF-16 with a
byte-order mark, which v2 also reads) without control characters; files larger than
:data:`MAX_FILE_BYTES` and device files are refused. Every error is a one-line
:class:`~composer.errors.YamlError` with a mark.

Documents: every YAML document of a file becomes one :class:`Document`. A file without
any document (empty, blank, comments only, or a lone ``---``) gives ``[Document({})]``;
in a file of several documents an empty document is an error, as in v2.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import gc
import itertools
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from composer.errors import Mark, YamlError, format_path
from composer.model.gofloat import sprint

KeyPath = tuple[str | int, ...]

#: Deepest nesting of mappings and sequences accepted.
MAX_DEPTH = 256
#: Nodes that alias expansion may add to a document, on top of one per character read.
MAX_ALIAS_NODES = 100_000
#: Largest file :func:`load_yaml_file` reads.
MAX_FILE_BYTES = 64 * 1024 * 1024


class Reset:
    """A value tagged ``!reset``: the key is removed from the merged result."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Reset()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reset)

    def __hash__(self) -> int:
        return hash(Reset)


@dataclass(frozen=True, slots=True)
class Override:
    """A value tagged ``!override``: replaces, rather than merges with, earlier files."""

    value: Any


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


@dataclass(slots=True)
class SourceMap:
    """Where each value of one parsed document sits in its file.

    ``marks`` maps a key path (``("services", "web", "ports", 0)``) to the mark of
    the value at that path; ``key_marks`` to the mark of the mapping key itself.
    """

    file: str
    marks: dict[KeyPath, Mark] = field(default_factory=dict)
    key_marks: dict[KeyPath, Mark] = field(default_factory=dict)

    def mark(self, path: KeyPath) -> Mark | None:
        """The mark of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while True:
            m = self.marks.get(p)
            if m is not None:
                return m
            if not p:
                return None
            p = p[:-1]


@dataclass(slots=True)
class Document:
    """One parsed YAML document: its data (a mapping) and its source map."""

    data: dict[str, Any]
    source: SourceMap


# ---------------------------------------------------------------------------------------
# Scalar resolution (Go yaml.v3's resolve(), which Docker Compose v2 uses)

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
# First characters of plain scalars that may be something other than a string.
_SPECIAL_START = _NUMERIC_START | _MAP_START | {"."}
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


_TAG_PREFIX = "tag:yaml.org,2002:"
_STR_TAG = _TAG_PREFIX + "str"
_MERGE_TAG = _TAG_PREFIX + "merge"
_BINARY_TAG = _TAG_PREFIX + "binary"
_TYPED_TAGS = {
    _TAG_PREFIX + "int": "an integer",
    _TAG_PREFIX + "float": "a number",
    _TAG_PREFIX + "bool": "a boolean",
    _TAG_PREFIX + "null": "null",
    _TAG_PREFIX + "timestamp": "a timestamp",
}


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG_PREFIX) :] if tag.startswith(_TAG_PREFIX) else tag


def _kind_of(value: Any) -> str:
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


def _go_repr(value: Any) -> str:
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


# ---------------------------------------------------------------------------------------
# Text checks

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# YAML 1.2's printable set (c-printable) plus the BOM; everything else is refused.
_NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, pos) + 1
    return text.count("\n", 0, pos) + 1, pos - line_start + 1


def _decode(data: bytes, file: str) -> tuple[str, str]:
    """Bytes to text: UTF-8, or UTF-16 when a byte-order mark says so."""
    encoding, skip = "utf-8", 0
    for bom, enc in _BOMS:
        if data.startswith(bom):
            encoding, skip = enc, len(bom)
            break
    try:
        return data[skip:].decode(encoding), encoding
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        if encoding != "utf-8":
            raise YamlError(
                f"not valid {encoding.upper()} text: cannot decode the bytes at byte offset "
                f"{offset} (the file starts with a {encoding.upper()} byte-order mark)",
                file=file,
            ) from None
        line_start = data.rfind(b"\n", 0, offset) + 1
        line = data.count(b"\n", 0, offset) + 1
        column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
        raise YamlError(
            f"not valid UTF-8 text: byte 0x{data[offset]:02x} at byte offset {offset} "
            "cannot be decoded (a compose file must be UTF-8 text; is this a binary file "
            "or another encoding such as Latin-1?)",
            mark=Mark(file, line, column),
        ) from None


def _check_printable(text: str, file: str, encoding: str) -> None:
    bad = _NON_PRINTABLE.search(text)
    if bad is None:
        return
    pos = bad.start()
    char = text[pos]
    line, column = _line_col(text, pos)
    where = ""
    if encoding == "utf-8":
        where = f" at byte offset {len(text[:pos].encode('utf-8', 'surrogatepass'))}"
    if char == "\0":
        hint = (
            "; is this a binary file, or UTF-16 without a byte-order mark?"
            if text.count("\0") > 1
            else ""
        )
        message = f"contains a NUL byte{where}: YAML text cannot contain NUL{hint}"
    else:
        what = "control character" if ord(char) < 0xA0 else "character"
        message = (
            f"contains the {what} U+{ord(char):04X}{where}: YAML allows only printable "
            "characters, tab, carriage return and newline"
        )
    raise YamlError(message, mark=Mark(file, line, column))


# ---------------------------------------------------------------------------------------
# Event stream -> values + marks


def _libyaml_parser() -> Any:
    try:
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        return None
    return CParser


# libyaml's event parser, when PyYAML was built with it.
_CParser: Any = _libyaml_parser()


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python event parser, for when libyaml is not available."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


def _make_parser(text: str) -> Any:
    """An event parser over ``text``: libyaml's when PyYAML was built with it."""
    if _CParser is not None:
        return _CParser(text)
    return _PyParser(text)  # pragma: no cover - PyYAML without libyaml


_ScalarEvent = yaml.ScalarEvent
_MappingStartEvent = yaml.MappingStartEvent
_MappingEndEvent = yaml.MappingEndEvent
_SequenceStartEvent = yaml.SequenceStartEvent
_SequenceEndEvent = yaml.SequenceEndEvent
_AliasEvent = yaml.AliasEvent
_DocumentStartEvent = yaml.DocumentStartEvent
_DocumentEndEvent = yaml.DocumentEndEvent
_StreamEndEvent = yaml.StreamEndEvent

_NO_KEY: Any = object()  # a mapping waiting for its next key
_MERGE_KEY: Any = object()  # a mapping whose pending key is "<<"
_OPEN: Any = object()  # an anchor whose node is still being read
_NO_MARK = Mark("", 0, 0)
_SCRATCH = -1  # path step of a merge source (never a real path; removed when merged)

# How a collection attaches to its parent.
_NORMAL, _MERGE_SOURCE, _MERGE_LIST, _MERGE_ITEM = range(4)
_MERGE_NEEDS_MAP = 'a "<<" merge key needs a mapping or a list of mappings as its value'

_Entry = tuple[KeyPath, Mark, Mark | None]


class _Anchor:
    """A completed anchored node: its value and the marks below it (relative paths)."""

    __slots__ = ("value", "rel", "height")

    def __init__(self, value: Any, rel: list[_Entry]) -> None:
        self.value = value
        self.rel = rel
        self.height = max((len(r[0]) for r in rel), default=0)


class _Frame:
    """An open mapping or sequence."""

    __slots__ = (
        "is_map",
        "value",
        "wrapped",
        "path",
        "key",
        "key_mark",
        "anchor",
        "start",
        "merges",
        "merge_line",
        "role",
        "mark",
    )

    def __init__(
        self, is_map: bool, value: Any, wrapped: Any, path: KeyPath, role: int, mark: Mark
    ) -> None:
        self.is_map = is_map
        self.value = value
        # What the parent holds: the container itself, Override(container) or Reset().
        self.wrapped = wrapped
        self.path = path
        self.key: Any = _NO_KEY
        self.key_mark = _NO_MARK
        self.anchor: str | None = None
        self.start = 0
        self.merges: list[tuple[dict[str, Any], list[_Entry], bool]] | None = None
        self.merge_line = 0
        self.role = role
        self.mark = mark


def _copy(value: Any) -> Any:
    """A deep copy of plain data (depth is bounded by MAX_DEPTH)."""
    t = type(value)
    if t is dict:
        return {k: _copy(v) for k, v in value.items()}
    if t is list:
        return [_copy(v) for v in value]
    if t is Override:
        return Override(_copy(value.value))
    return value


def _graft(
    marks: dict[KeyPath, Mark], key_marks: dict[KeyPath, Mark], base: KeyPath, rel: list[_Entry]
) -> None:
    """Record copied marks (relative to an anchor or merge source) below ``base``."""
    for r, m, k in rel:
        p = base + r
        marks[p] = m
        if k is not None:
            key_marks[p] = k


def _tail(
    marks: dict[KeyPath, Mark], key_marks: dict[KeyPath, Mark], count: int, base: int
) -> list[_Entry]:
    """The last ``count`` marks (one subtree: paths are unique, so insertion order holds),
    with paths made relative by dropping ``base`` leading steps."""
    paths = list(itertools.islice(reversed(marks), count))
    paths.reverse()
    return [(p[base:], marks[p], key_marks.get(p)) for p in paths]


def _cut(marks: dict[KeyPath, Mark], key_marks: dict[KeyPath, Mark], count: int) -> None:
    """Forget the last ``count`` marks."""
    for p in list(itertools.islice(reversed(marks), count)):
        del marks[p]
        key_marks.pop(p, None)


def _fail(message: str, mark: Mark) -> NoReturn:
    raise YamlError(message, mark=mark)


class _Builder:
    """One pass over the event stream, building values and marks together."""

    def __init__(self, file: str, max_depth: int, max_alias_nodes: int) -> None:
        self.file = file
        self.max_depth = max_depth
        self.max_alias_nodes = max_alias_nodes
        self.anchors: dict[str, Any] = {}
        self.expanded = 0

    def scalar(self, ev: Any, mark: Mark) -> Any:
        """The value of a scalar event, honouring its tag and style."""
        tag, text, style = ev.tag, ev.value, ev.style
        if tag is None or tag == "!":
            if style:  # quoted or block: always a string
                return text
            return resolve_scalar(text)
        if tag == _STR_TAG:
            return text
        if tag == "!reset":
            return Reset()
        if tag == "!override":
            return Override(text)
        expected = _TYPED_TAGS.get(tag)
        if expected is not None:
            value = resolve_scalar(text, try_timestamp=expected == "a timestamp")
            got = _kind_of(value)
            if got == expected:
                return value
            if expected == "a number" and got == "an integer":
                return float(value)
            _fail(f"{text!r} is tagged {_short_tag(tag)} but reads as {got}, not {expected}", mark)
        if tag == _BINARY_TAG:
            try:
                raw = base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
            except (binascii.Error, ValueError):
                _fail("!!binary value is not valid base64 data", mark)
            return raw.decode("utf-8", "replace")
        self.check_tag(tag, mark)
        return text  # other global tags: raw text, as v2

    def check_tag(self, tag: str | None, mark: Mark) -> None:
        if tag and tag.startswith("!") and tag not in ("!", "!reset", "!override"):
            _fail(
                f"unknown tag {tag}: compose files know only !reset and !override "
                "(and YAML's own !! tags)",
                mark,
            )

    def alias(self, ev: Any, mark: Mark, depth: int) -> _Anchor:
        """The anchor an alias event names, once the alias passes every limit."""
        name = ev.anchor
        anchor = self.anchors.get(name)
        if anchor is None:
            _fail(f"alias *{name} refers to an anchor &{name} that is not defined before it", mark)
        if anchor is _OPEN:
            _fail(
                f"alias *{name} refers to the node that contains it (&{name}), which would "
                "make an endless value",
                mark,
            )
        size = len(anchor.rel) + 1
        self.expanded += size
        # The budget grows with the text read so far, so a big honest file that reuses
        # anchors a lot still loads, while a small file cannot expand without bound.
        limit = self.max_alias_nodes + ev.start_mark.index
        if self.expanded > limit:
            _fail(
                f"alias *{name} would add {size:,} more nodes, and aliases in this document "
                f"may add at most {limit:,}: refusing what looks like an alias bomb "
                '("billion laughs")',
                mark,
            )
        if depth + anchor.height > self.max_depth:
            _fail(f"alias *{name} nests values deeper than {self.max_depth} levels", mark)
        assert isinstance(anchor, _Anchor)
        return anchor

    def run(self, parser: Any) -> list[Document]:  # noqa: C901 - one loop on purpose
        file = self.file
        get_event = parser.get_event
        docs: list[Document] = []
        empty_docs: list[Mark] = []
        stack: list[_Frame] = []
        marks: dict[KeyPath, Mark] = {}
        key_marks: dict[KeyPath, Mark] = {}
        anchors: dict[str, Any] = {}
        root: Any = None
        root_mark: Mark | None = None
        root_empty = False
        max_depth = self.max_depth
        special = _SPECIAL_START
        path: KeyPath

        while True:
            ev = get_event()
            cls = ev.__class__

            if cls is _ScalarEvent or cls is _AliasEvent:
                m = ev.start_mark
                mark = Mark(file, m.line + 1, m.column + 1)
                rel: list[_Entry] | None = None
                if cls is _ScalarEvent:
                    text = ev.value
                    if ev.tag is None and not ev.style:
                        value = resolve_scalar(text) if not text or text[0] in special else text
                    else:
                        value = self.scalar(ev, mark)
                    if ev.anchor is not None:
                        anchors[ev.anchor] = _Anchor(value, [])
                else:
                    anchor = self.alias(ev, mark, len(stack))
                    value, rel = anchor.value, anchor.rel
                if not stack:
                    root, root_mark = value, mark
                    root_empty = (
                        value is None and ev.value == "" and ev.tag is None and not ev.style
                    )
                    continue
                parent = stack[-1]
                if parent.is_map:
                    key = parent.key
                    if key is _NO_KEY:
                        if (
                            type(value) is str
                            and value != "<<"
                            and value not in parent.value
                            and rel is None
                            and ev.tag is None
                        ):
                            parent.key = value
                            parent.key_mark = mark
                        else:
                            self.key(parent, ev, value, mark, key_marks)
                        continue
                    parent.key = _NO_KEY
                    if key is _MERGE_KEY:
                        self.merge_source(parent, value, rel, mark)
                        continue
                    path = parent.path + (key,)
                    marks[path] = mark
                    key_marks[path] = parent.key_mark
                    if rel is None:
                        parent.value[key] = value
                        continue
                    parent.value[key] = _copy(value)
                else:
                    if parent.role == _MERGE_LIST:
                        self.merge_source(parent, value, rel, mark)
                        continue
                    path = parent.path + (len(parent.value),)
                    marks[path] = mark
                    if rel is None:
                        parent.value.append(value)
                        continue
                    parent.value.append(_copy(value))
                _graft(marks, key_marks, path, rel)

            elif cls is _MappingStartEvent or cls is _SequenceStartEvent:
                m = ev.start_mark
                mark = Mark(file, m.line + 1, m.column + 1)
                is_map = cls is _MappingStartEvent
                if len(stack) >= max_depth:
                    _fail(f"values are nested deeper than {max_depth} levels", mark)
                container: Any = {} if is_map else []
                tag = ev.tag
                wrapped: Any = container
                if tag is not None:
                    if tag == "!reset":
                        wrapped = Reset()
                    elif tag == "!override":
                        wrapped = Override(container)
                    else:
                        self.check_tag(tag, mark)
                role = _NORMAL
                key_mark = None
                if not stack:
                    path = ()
                    root, root_mark, root_empty = wrapped, mark, False
                else:
                    parent = stack[-1]
                    if parent.is_map:
                        key = parent.key
                        if key is _NO_KEY:
                            kind = "mapping" if is_map else "sequence"
                            _fail(f"a mapping key must be a string, not a {kind}", mark)
                        parent.key = _NO_KEY
                        if key is _MERGE_KEY:
                            role = _MERGE_SOURCE if is_map else _MERGE_LIST
                            path = parent.path + (_SCRATCH,)
                        else:
                            path = parent.path + (key,)
                            parent.value[key] = wrapped
                        key_mark = parent.key_mark
                    else:
                        path = parent.path + (len(parent.value),)
                        if parent.role == _MERGE_LIST:
                            if not is_map:
                                _fail(_MERGE_NEEDS_MAP, mark)
                            role = _MERGE_ITEM
                        parent.value.append(wrapped)
                frame = _Frame(is_map, container, wrapped, path, role, mark)
                marks[path] = mark
                if key_mark is not None:
                    key_marks[path] = key_mark
                frame.start = len(marks)
                if ev.anchor is not None:
                    frame.anchor = ev.anchor
                    anchors[ev.anchor] = _OPEN
                stack.append(frame)

            elif cls is _MappingEndEvent or cls is _SequenceEndEvent:
                frame = stack.pop()
                if frame.merges:
                    self.apply_merges(frame, marks, key_marks)
                reset = frame.wrapped.__class__ is Reset
                if reset:  # its content is gone; so are its marks
                    _cut(marks, key_marks, len(marks) - frame.start)
                role = frame.role
                if frame.anchor is None and role == _NORMAL:
                    continue
                base = len(frame.path)
                frame_rel = _tail(marks, key_marks, len(marks) - frame.start, base)
                if frame.anchor is not None:
                    if role == _MERGE_LIST:  # its items are merge sources by now
                        items = frame.value
                        list_rel = [
                            ((i, *r), m2, k2) for i, t in enumerate(items) for r, m2, k2 in t[1]
                        ]
                        anchors[frame.anchor] = _Anchor([_copy(t[0]) for t in items], list_rel)
                    else:
                        anchors[frame.anchor] = _Anchor(frame.wrapped, frame_rel)
                if role == _NORMAL:
                    continue
                # A merge source lives only until its mapping takes it in.
                _cut(marks, key_marks, len(marks) - frame.start + 1)
                owner = stack[-1]
                if role == _MERGE_LIST:
                    owner.merges = (owner.merges or []) + frame.value
                    continue
                if reset:
                    _fail(_MERGE_NEEDS_MAP, frame.mark)
                merge_source = (frame.value, frame_rel, False)
                if role == _MERGE_SOURCE:
                    owner.merges = (owner.merges or []) + [merge_source]
                else:  # _MERGE_ITEM: replace the placeholder in the list of sources
                    owner.value[-1] = merge_source

            elif cls is _DocumentStartEvent:
                anchors = self.anchors = {}
                marks, key_marks = {}, {}
                root, root_mark, root_empty = None, None, True
                self.expanded = 0

            elif cls is _DocumentEndEvent:
                assert root_mark is not None
                if root_empty and not isinstance(root, dict):
                    empty_docs.append(root_mark)
                    docs.append(Document({}, SourceMap(file)))
                    continue
                if not isinstance(root, dict):
                    _fail(
                        f"top-level object must be a mapping, not {self.describe(root)}",
                        root_mark,
                    )
                docs.append(Document(root, SourceMap(file, marks, key_marks)))

            elif cls is _StreamEndEvent:
                break

        if len(docs) > 1 and empty_docs:
            _fail(
                "this YAML document is empty: in a file of several documents each must be "
                'a mapping (remove the extra "---")',
                empty_docs[0],
            )
        return docs or [Document({}, SourceMap(file))]

    @staticmethod
    def describe(value: Any) -> str:
        if value is None:
            return "null (an empty document?)"
        if isinstance(value, list):
            return "a sequence"
        if isinstance(value, (Reset, Override)):
            return "a !reset or !override value"
        return f"{_kind_of(value)} ({_go_repr(value)!s:.40})"

    def key(
        self, frame: _Frame, ev: Any, value: Any, mark: Mark, key_marks: dict[KeyPath, Mark]
    ) -> None:
        """A scalar or alias in key position of ``frame``."""
        if ev.__class__ is _ScalarEvent:
            tag = ev.tag
            if ev.value == "<<" and (tag == _MERGE_TAG or (tag in (None, "!") and not ev.style)):
                if frame.merge_line:
                    _fail(f'mapping key "<<" already defined at line {frame.merge_line}', mark)
                frame.merge_line = mark.line
                frame.key = _MERGE_KEY
                frame.key_mark = mark
                return
            if tag in ("!reset", "!override"):
                _fail(f"{tag} belongs on a value, not on the mapping key {ev.value!r}", mark)
        if type(value) is not str:
            where = f"in {format_path(frame.path)}" if frame.path else "at top level"
            if isinstance(value, (dict, list)):
                kind = "mapping" if isinstance(value, dict) else "sequence"
                _fail(f"a mapping key must be a string, not a {kind}", mark)
            _fail(f"non-string key {where}: {_go_repr(value)} (quote it to make it a string)", mark)
        if value in frame.value:
            first = frame.path + (value,)
            line = key_marks[first].line if first in key_marks else 0
            _fail(f"mapping key {_quote(value)} already defined at line {line}", mark)
        frame.key = value
        frame.key_mark = mark

    def merge_source(self, frame: _Frame, value: Any, rel: list[_Entry] | None, mark: Mark) -> None:
        """A scalar or alias given to ``<<`` (directly, or as an item of its list)."""
        if isinstance(value, Override):
            value = value.value
        if rel is None:
            _fail(_MERGE_NEEDS_MAP, mark)
        if isinstance(value, list) and frame.is_map:
            # "<<: *list" where the anchored list holds mappings: v2 accepts it.
            by_item: list[list[_Entry]] = [[] for _ in value]
            for r, m, k in rel:
                if len(r) > 1:
                    by_item[int(r[0])].append((r[1:], m, k))
            for item, item_rel in zip(value, by_item, strict=True):
                item = item.value if isinstance(item, Override) else item
                if not isinstance(item, dict):
                    _fail(_MERGE_NEEDS_MAP, mark)
                frame.merges = (frame.merges or []) + [(item, item_rel, True)]
            return
        if not isinstance(value, dict):
            _fail(_MERGE_NEEDS_MAP, mark)
        source = (value, rel, True)
        if frame.is_map:
            frame.merges = (frame.merges or []) + [source]
        else:
            frame.value.append(source)

    @staticmethod
    def apply_merges(
        frame: _Frame, marks: dict[KeyPath, Mark], key_marks: dict[KeyPath, Mark]
    ) -> None:
        """Fold ``<<`` sources into ``frame``: written keys win, then earlier sources."""
        target: dict[str, Any] = frame.value
        assert frame.merges is not None
        for value, rel, must_copy in frame.merges:
            taken = set()
            for k, v in value.items():
                if k in target:
                    continue
                target[k] = _copy(v) if must_copy else v
                taken.add(k)
            if taken:
                base = frame.path
                _graft(marks, key_marks, base, [e for e in rel if e[0][0] in taken])
        frame.merges = None


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _hint(problem: str, text: str, line: int, column: int) -> str:
    """A word of advice for libyaml's most puzzling messages."""
    if "mapping values are not allowed" in problem:
        return "a missing space after a colon, or a value that needs quotes?"
    if "cannot start any token" in problem:
        lines = text.splitlines()
        char = lines[line][column : column + 1] if line < len(lines) else ""
        if char == "\t" or "'\\t'" in problem:
            return "YAML indentation must use spaces, not tabs"
        if char in ("@", "`"):
            return f"{char!r} cannot start a plain value: quote the value"
    return ""


def _yaml_error(exc: yaml.YAMLError, file: str, text: str) -> YamlError:
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or "cannot parse"
        message = f"invalid YAML: {problem}"
        cm, pm = exc.context_mark, exc.problem_mark
        if exc.context:
            message += f" ({exc.context}"
            if cm is not None and (pm is None or (cm.line, cm.column) != (pm.line, pm.column)):
                message += f" at line {cm.line + 1}, column {cm.column + 1}"
            message += ")"
        mark = pm or cm
        if mark is not None:
            hint = _hint(problem, text, mark.line, mark.column)
            if hint:
                message += f"; {hint}"
            return YamlError(message, mark=Mark(file, mark.line + 1, mark.column + 1))
        return YamlError(message, file=file)
    return YamlError(f"invalid YAML: {exc}", file=file)


def parse_yaml(
    text: str | bytes,
    file: str,
    *,
    max_depth: int = MAX_DEPTH,
    max_alias_nodes: int = MAX_ALIAS_NODES,
) -> list[Document]:
    """Parse YAML text into documents, one per YAML document; each must be a mapping.

    ``text`` as bytes must be UTF-8 (or UTF-16 with a byte-order mark). ``file`` names
    the source in marks and errors. A text with no document gives ``[Document({})]``.
    Raises :class:`~composer.errors.YamlError` (with a mark) for anything refused: bad
    encoding or characters, YAML syntax, duplicate or non-string keys, bad merge keys,
    unknown local tags, undefined or cyclic aliases, nesting deeper than ``max_depth``,
    aliases adding more than ``max_alias_nodes`` nodes (plus one per character of text
    read so far) to a document, and a top level that is not a mapping.
    """
    encoding = "utf-8"
    if isinstance(text, bytes):
        text, encoding = _decode(text, file)
    elif text.startswith("\ufeff"):
        text = text[1:]
    _check_printable(text, file, encoding)
    parser = _make_parser(text)
    # Building many small containers triggers collections that find nothing to free.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Builder(file, max_depth, max_alias_nodes).run(parser)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file, text) from None
    except RecursionError:  # pragma: no cover - the depth limit should make this unreachable
        raise YamlError(f"values are nested too deeply (limit {max_depth})", file=file) from None
    finally:
        if gc_was_enabled:
            gc.enable()


def load_yaml_file(path: str, *, max_bytes: int = MAX_FILE_BYTES) -> list[Document]:
    """Read and parse a YAML file (see :func:`parse_yaml`).

    Refuses, with a :class:`~composer.errors.YamlError` naming the file: a missing or
    unreadable file, a directory, a device, and a file larger than ``max_bytes``.
    """
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise YamlError("is a directory, not a compose file", file=path)
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            raise YamlError("is a device, not a compose file", file=path)
        if stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
            raise YamlError(
                f"is too large for a compose file ({st.st_size:,} bytes; the limit is "
                f"{max_bytes:,})",
                file=path,
            )
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise YamlError("cannot read: no such file", file=path) from None
    except IsADirectoryError:
        raise YamlError("is a directory, not a compose file", file=path) from None
    except PermissionError:
        raise YamlError("cannot read: permission denied", file=path) from None
    except OSError as exc:
        raise YamlError(f"cannot read: {exc.strerror or exc}", file=path) from None
    if len(data) > max_bytes:
        raise YamlError(f"is too large for a compose file (limit {max_bytes:,} bytes)", file=path)
    return parse_yaml(data, path)

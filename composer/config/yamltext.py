"""Reading YAML text: file checks, encodings, the event parser, and its error messages.

What :mod:`composer.config.source` needs before and around building values: a file
that is no directory, device or giant (:func:`read_file`); bytes that are UTF-8 or
UTF-16 with a byte-order mark and hold only YAML's printable characters
(:func:`decode`, :func:`check_printable`); libyaml's event parser, or PyYAML's pure
Python one without libyaml (:func:`make_parser`); and a parse error as one line
with a mark and, for libyaml's most puzzling messages, a hint (:func:`yaml_error`).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from typing import Any

import yaml

from composer.errors import Mark, YamlError

__all__ = ["check_printable", "decode", "make_parser", "read_file", "yaml_error"]

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


def decode(data: bytes, file: str) -> tuple[str, str]:
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


def check_printable(text: str, file: str, encoding: str) -> None:
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


def make_parser(text: str) -> Any:
    """An event parser over ``text``: libyaml's when PyYAML was built with it."""
    if _CParser is not None:
        return _CParser(text)
    return _PyParser(text)  # pragma: no cover - PyYAML without libyaml



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


def yaml_error(exc: yaml.YAMLError, file: str, text: str) -> YamlError:
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



def read_file(path: str, max_bytes: int) -> bytes:
    """The bytes of a compose file.

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
    return data

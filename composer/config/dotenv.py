"""Parse ``.env`` files in the compose syntax.

The syntax is Docker Compose v2's (compose-go ``dotenv``), checked against the v2 binary:

* ``KEY=VALUE``, ``KEY: VALUE``, optional ``export`` prefix, blanks around the separator;
  a key is letters, digits and ``_ . - [ ]``; ``#`` lines and blank lines are skipped.
* Unquoted values run to the end of the line, lose a `` #...`` comment (a ``#`` with
  no blank before it is kept) and trailing blanks, and are interpolated.
* ``'single'`` quotes are literal (only ``\\'`` is unescaped); ``"double"`` quotes
  expand ``\\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\$`` and ``\\0ooo``, then interpolate.
  Quoted values may span lines; what follows the closing quote on the line is read as
  the next statement (a ``# comment`` there is skipped).
* ``${VAR}`` forms are those of :mod:`composer.config.interpolation`; a variable is
  looked up through ``lookup`` first, then among the keys defined earlier in the file.
* A bare ``NAME`` line takes ``lookup(NAME)``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence

from composer.config.interpolation import TemplateError, expand
from composer.errors import EnvFileError, Mark

Lookup = Callable[[str], str | None]
Warn = Callable[[str], None]

# Go's unicode.IsSpace (with newline) and the parser's isSpace (without newline).
_GO_SPACE_CHARS = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE = frozenset(_GO_SPACE_CHARS)
_LINE_SPACE = frozenset("\t\v\f\r \x85\xa0")
_EXPORT = re.compile(r"export[\t\n\f\r ]+")
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    '"': '"', "\\": "\\",
}


def _unescape(match: re.Match[str]) -> str:
    seq = match.group(0)
    c = seq[1]
    if c == "$":
        return "$$"  # kept literal through the interpolation that follows
    if c == "0":
        digits = seq[2:]
        # Only "\0" + three octal digits <= 0o377 is a character; anything else loses
        # its "0" and stays (v2 rewrites "\0" to "\" before trying to decode).
        if len(digits) == 3 and all(d in "01234567" for d in digits):
            code = int(digits, 8)
            if code <= 0o377:
                return chr(code)
        return "\\" + digits
    return _SIMPLE_ESCAPES.get(c, seq)


def _is_key_char(c: str) -> bool:
    if c.isascii():
        return c.isalnum() or c in "_.-[]"
    return unicodedata.category(c)[0] in "LN"


def _go_quote(s: str) -> str:
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif not c.isprintable():
            out.append(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


class _Parser:
    def __init__(self, text: str, file: str, lookup: Lookup, warn: Warn | None) -> None:
        self.src = text
        self.file = file
        self.lookup = lookup
        self.warn = warn
        self.out: dict[str, str | None] = {}

    def error(self, message: str, pos: int) -> EnvFileError:
        line = self.src.count("\n", 0, pos) + 1
        column = pos - (self.src.rfind("\n", 0, pos) + 1) + 1
        return EnvFileError(message, mark=Mark(self.file, line, column))

    def resolve(self, name: str) -> str | None:
        value = self.lookup(name)
        return value if value is not None else self.out.get(name)

    def interpolate(self, value: str, pos: int) -> str:
        if "$" not in value:
            return value
        try:
            return expand(value, self.resolve, self.warn)
        except TemplateError as exc:
            raise self.error(str(exc), pos) from None

    def statement_start(self, pos: int) -> int:
        """Position of the next statement, past blanks and comment lines; -1 at the end."""
        src = self.src
        n = len(src)
        while True:
            while pos < n and src[pos] in _GO_SPACE:
                pos += 1
            if pos >= n:
                return -1
            if src[pos] != "#":
                return pos
            pos = src.find("\n", pos)
            if pos < 0:
                return -1

    def parse(self) -> dict[str, str | None]:
        pos = 0
        while True:
            pos = self.statement_start(pos)
            if pos < 0:
                return self.out
            pos = self.statement(pos)

    def statement(self, start: int) -> int:
        src = self.src
        n = len(src)
        m = _EXPORT.match(src, start)
        if m is not None:
            start += len("export")
            while start < n and src[start] in _LINE_SPACE:
                start += 1
            if start >= n:
                raise self.error("zero length string", start)
        # The key runs to "=", ":" or the end of the line; blanks inside are kept
        # (and then refused), other characters must be key characters.
        i = start
        sep = ""
        while i < n:
            c = src[i]
            if c in "=:\n":
                sep = c
                break
            if c not in _LINE_SPACE and not _is_key_char(c):
                line_end = src.find("\n", start)
                first_line = src[start:] if line_end < 0 else src[start:line_end]
                raise self.error(
                    f"unexpected character {_go_quote(c)} in variable name "
                    f"{_go_quote(first_line)}", i)
            i += 1
        if not sep:
            # v2 quirk: a last line without separator nor newline is the value of "".
            key = ""
            value_pos = start
        else:
            key = src[start:i].rstrip(_GO_SPACE_CHARS)
            value_pos = i + 1
        if " " in key:
            raise self.error("key cannot contain a space", start)
        if sep == "\n":
            found = self.lookup(key)
            if found is not None or key not in self.out:
                self.out[key] = found
            return value_pos
        while value_pos < n and src[value_pos] in _LINE_SPACE:
            value_pos += 1
        value, end = self.value(value_pos)
        self.out[key] = value
        return end

    def value(self, pos: int) -> tuple[str, int]:
        src = self.src
        n = len(src)
        quote = src[pos] if pos < n else ""
        if quote not in ("'", '"'):
            end = src.find("\n", pos)
            raw = src[pos:] if end < 0 else src[pos:end]
            raw = raw.split(" #", 1)[0].rstrip(_GO_SPACE_CHARS)
            return self.interpolate(raw, pos), (n if end < 0 else end + 1)
        chars: list[str] = []
        escaped = False
        i = pos + 1
        while i < n:
            c = src[i]
            i += 1
            if c != quote:
                if c == "\\" and not escaped:
                    escaped = True
                    continue
                if escaped:
                    escaped = False
                    chars.append("\\")
                chars.append(c)
                continue
            if escaped:
                # \' or \" : the quote itself, without its backslash
                escaped = False
                chars.append(c)
                continue
            value = "".join(chars)
            if quote == '"':
                value = self.interpolate(_ESCAPE.sub(_unescape, value), pos)
            return value, i
        end = src.find("\n", pos)
        shown = src[pos:] if end < 0 else src[pos:end]
        raise self.error(f"unterminated quoted value {shown}", pos)


def _no_lookup(name: str) -> str | None:
    return None


def parse_dotenv(
    text: str,
    file: str,
    lookup: Lookup | None = None,
    *,
    warn: Warn | None = None,
) -> dict[str, str | None]:
    """Parse dotenv text; ``lookup`` resolves ``${VAR}`` inside values and bare names.

    Values may refer to variables defined earlier in the same file; as in v2, ``lookup``
    is asked first and the file's earlier keys second. A bare ``NAME`` line takes its
    value from ``lookup`` (``None`` when unset: v2 then leaves the name out, so callers
    should skip ``None``). ``warn`` receives the unset-variable warnings of interpolation.
    Keys may start with a digit (v2 keeps ``1A=x``, in ``.env`` and ``env_file`` alike).
    Malformed input raises :class:`EnvFileError` with ``file:line:column``.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    return _Parser(text, file, lookup or _no_lookup, warn).parse()


def parse_raw_env(text: str, file: str, lookup: Lookup | None = None) -> dict[str, str]:
    """Parse an ``env_file`` with ``format: raw`` (``docker run --env-file`` rules).

    Each line is ``KEY=VALUE`` taken verbatim (no quotes, comments or interpolation;
    only leading blanks are dropped); ``#`` lines and blank lines are skipped; a bare
    ``KEY`` takes ``lookup(KEY)`` and is left out when unset.
    """
    out: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if line.endswith("\r"):
            line = line[:-1]
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        line = line.lstrip(_GO_SPACE_CHARS)
        if not line or line[0] == "#":
            continue
        key, sep, value = line.partition("=")
        mark = Mark(file, number, 1)
        if not key:
            raise EnvFileError(f"no variable name on line '{line}'", mark=mark)
        if " " in key or "\t" in key:
            raise EnvFileError(f"variable '{key}' contains whitespaces", mark=mark)
        if sep:
            out[key] = value
        elif lookup is not None:
            found = lookup(key)
            if found is not None:
                out[key] = found
    return out


def load_dotenv_file(
    path: str,
    lookup: Lookup | None = None,
    *,
    warn: Warn | None = None,
    format: str = "env",
) -> dict[str, str | None]:
    """Read and parse one env file (see :func:`parse_dotenv`).

    ``format`` is an ``env_file`` entry's ``format``: ``"env"`` (the default, also
    accepted as ``""``) or ``"raw"`` (:func:`parse_raw_env`).
    A missing file is an :class:`EnvFileError` worded as v2's
    (``env file /x/.env not found: stat /x/.env: no such file or directory``).
    In the default format, bytes that are not UTF-8 become U+FFFD, as in v2's output.
    """
    if format not in ("", "env", "raw"):
        raise EnvFileError(f'unsupported env_file format "{format}"', file=path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError as exc:
        raise EnvFileError(
            f"env file {path} not found: stat {path}: no such file or directory"
        ) from exc
    except IsADirectoryError as exc:
        raise EnvFileError(f"failed to read {path}: read {path}: is a directory") from exc
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise EnvFileError(f"failed to read {path}: {reason}") from exc
    if format == "raw":
        try:
            raw_text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise EnvFileError("invalid utf8 bytes", mark=Mark(path, line, 1)) from None
        return dict(parse_raw_env(raw_text, path, lookup))
    text = data.decode("utf-8", errors="replace")
    return parse_dotenv(text, path, lookup, warn=warn)


def env_from_files(paths: Sequence[str], cli_environment: Sequence[str]) -> dict[str, str]:
    """The variables of ``run --env-from-file`` files (dotenv syntax), as v2 reads them.

    ``cli_environment`` are the ``-e`` entries as ``KEY=VAL``: they win, and so does the
    first file that sets a key. ``${VAR}`` in a file resolves against those and the keys
    read so far (never the host's environment). Paths are relative to the current
    directory; a missing file is an :class:`~composer.errors.EnvFileError` worded as v2's.
    """
    known: dict[str, str] = {}
    for entry in cli_environment:
        key, _, val = entry.partition("=")
        known[key] = val
    cli_keys = set(known)
    for path in paths:
        if not os.path.exists(path):
            raise EnvFileError(f"open {path}: no such file or directory")
        for key, value in load_dotenv_file(path, known.get).items():
            if value is not None and key not in known:
                known[key] = value
    return {k: v for k, v in known.items() if k not in cli_keys}

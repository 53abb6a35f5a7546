"""``.dockerignore`` patterns, matched as Docker Compose v2 matches them. Pure.

The rules are those of moby's ``patternmatcher`` (what ``docker build`` and
Compose v2's watch use), written here from their documented behaviour:

- each pattern is trimmed and cleaned (Go's ``filepath.Clean``); a leading
  ``!`` makes it an exclusion (``!`` alone is refused);
- ``*`` matches any run of characters but ``/``, ``?`` one character but
  ``/``, ``[...]`` a class (``[^...]`` negated), ``\\x`` the character ``x``;
- ``**`` matches any number of folders (``**/x`` also matches ``x``), and a
  pattern ending in ``**`` everything under its prefix;
- a path matches a pattern when it, or one of its parent folders, does;
- patterns apply in order: an exclusion given later puts back what an earlier
  pattern matched.

:class:`PatternMatcher` takes paths relative to nothing in particular: the
watch makes every pattern absolute (:func:`absolute_patterns`) and matches
absolute paths, as v2 does.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence

from composer.errors import ConfigError
from composer.frozen import frozen

__all__ = ["PatternMatcher", "absolute_patterns", "go_clean", "read_ignore_text"]

_ESCAPED = frozenset(".+()|{}$")

_EXACT, _PREFIX, _SUFFIX, _REGEXP = "exact", "prefix", "suffix", "regexp"

#: Go's regexp classes ``[[:name:]]``, which Python's re does not know.
_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}


def _go_syntax_ok(pattern: str) -> bool:
    """Whether Go's ``filepath.Match`` takes ``pattern``: moby's ``New`` refuses what it
    does not (a trailing ``\\``, a class starting with ``]`` or ``-``, an open class or
    range)."""
    n = len(pattern)

    def one(i: int) -> int:  # Go's getEsc: the index after one class character, or -1
        if i >= n or pattern[i] in "-]":
            return -1
        if pattern[i] == "\\":
            i += 1
            if i >= n:
                return -1
        i += 1
        return i if i < n else -1

    i = 0
    while i < n:
        if pattern[i] == "\\":
            if i + 1 >= n:
                return False
            i += 2
        elif pattern[i] == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            ranges = 0
            while not (i < n and pattern[i] == "]" and ranges):
                i = one(i)
                if i >= 0 and pattern[i] == "-":
                    i = one(i + 1)
                if i < 0:
                    return False
                ranges += 1
            i += 1
        else:
            i += 1
    return True


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` on a slash path: ``//a/./b/../c/`` -> ``/a/c``."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def read_ignore_text(text: str) -> list[str]:
    """The patterns of a ``.dockerignore`` file's text: comments (``#`` first) and
    blank lines dropped, each line trimmed, a leading ``/`` removed (as moby's
    ``ignorefile`` reads them)."""
    patterns: list[str] = []
    for raw in text.removeprefix("\ufeff").splitlines():
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if line:
            line = go_clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        if exclusion:
            line = "!" + line
        patterns.append(line)
    return patterns


@frozen(slots=True)
class _Pattern:
    text: str  # cleaned, without its "!"
    exclusion: bool
    kind: str
    regexp: re.Pattern[str] | None

    def match(self, path: str) -> bool:
        if self.kind == _EXACT:
            return path == self.text
        if self.kind == _PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind == _SUFFIX:
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        assert self.regexp is not None
        return self.regexp.match(path) is not None


def _compile(text: str, exclusion: bool, original: str) -> _Pattern:
    out = ["^"]
    kind = _EXACT
    i = 0
    n = len(text)
    index = 0
    in_class = False
    while i < n:
        ch = text[i]
        i += 1
        if in_class:
            # Go's regexp inside [...]: [:name:] classes; Python's re needs [ & ~ | escaped.
            posix = re.match(r"\[:(\w+):\]", text[i - 1:])
            if posix and posix.group(1) in _POSIX:
                out.append(_POSIX[posix.group(1)])
                i += len(posix.group(0)) - 1
            elif ch == "\\" and i < n:
                out.append(re.escape(text[i]))
                i += 1
            elif ch in "[&~|":
                out.append("\\" + ch)
            else:
                out.append(ch)
                in_class = ch != "]" or out[-2] in ("[", "[^")
            index += 1
            continue
        if ch == "*":
            if i < n and text[i] == "*":
                i += 1
                if i < n and text[i] == "/":
                    i += 1
                if i >= n:
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        out.append(".*")
                        kind = _REGEXP
                else:
                    out.append("(.*/)?")
                    kind = _REGEXP
                if index == 0:
                    kind = _SUFFIX
            else:
                out.append("[^/]*")
                kind = _REGEXP
        elif ch == "?":
            out.append("[^/]")
            kind = _REGEXP
        elif ch in _ESCAPED:
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append(re.escape(text[i]))
                i += 1
                kind = _REGEXP
            else:
                out.append("\\\\")
        elif ch == "[":
            out.append("[^" if text[i:i + 1] == "^" else "[")
            i += 1 if text[i:i + 1] == "^" else 0
            in_class = True
            kind = _REGEXP
        elif ch == "]":
            out.append(ch)
            kind = _REGEXP
        else:
            out.append(ch)
        index += 1
    regexp = None
    if kind == _REGEXP:
        try:
            regexp = re.compile("".join(out) + r"\Z")
        except re.error:
            raise ConfigError(f"invalid ignore pattern {original!r}: syntax error in "
                              "pattern") from None
    return _Pattern(text, exclusion, kind, regexp)


class PatternMatcher:
    """An ordered list of ``.dockerignore`` patterns (see the module's rules)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        compiled: list[_Pattern] = []
        for raw in patterns:
            text = raw.strip()
            if not text:
                continue
            text = go_clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                if len(text) == 1:
                    raise ConfigError('illegal exclusion pattern: "!"')
                text = text[1:]
            if not _go_syntax_ok(text):
                raise ConfigError(f"invalid ignore pattern {raw!r}: syntax error in pattern")
            compiled.append(_compile(text, exclusion, raw))
        self._patterns = tuple(compiled)
        self.exclusions = any(p.exclusion for p in compiled)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    @property
    def patterns(self) -> tuple[str, ...]:
        """The cleaned patterns, exclusions with their ``!``."""
        return tuple(("!" if p.exclusion else "") + p.text for p in self._patterns)

    def matches(self, path: str) -> bool:
        """Whether ``path`` (a slash path), or one of its parent folders, is matched
        by the patterns (and not put back by a later exclusion)."""
        matched = False
        parent = posixpath.dirname(path) or "."
        parents = parent.split("/") if parent != "." else []
        for pattern in self._patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
            if not hit:
                for i in range(len(parents)):
                    if pattern.match("/".join(parents[:i + 1])):
                        hit = True
                        break
            if hit:
                matched = not pattern.exclusion
        return matched

    def matches_entire_dir(self, path: str) -> bool:
        """Whether ``path`` is matched and no exclusion puts back something under it
        (a folder the watch need not look into)."""
        if not self.matches(path):
            return False
        prefix = path.rstrip("/") + "/"
        return not any(p.exclusion and (p.text == path or p.text.startswith(prefix))
                       for p in self._patterns)


def absolute_patterns(root: str, patterns: Sequence[str]) -> list[str]:
    """``patterns`` made absolute under ``root`` (an exclusion keeps its ``!``); a
    lone ``*`` among them drops every pattern that is not an exclusion, as v2 does."""
    if "*" in patterns:
        patterns = [p for p in patterns if p and p.startswith("!")]
    out: list[str] = []
    for raw in patterns:
        text = raw.strip()
        if not text:
            continue
        text = go_clean(text)
        exclusion = text.startswith("!")
        body = text[1:] if exclusion else text
        if not body.startswith("/"):
            body = go_clean(posixpath.join(root, body))
        out.append(("!" if exclusion else "") + body)
    return out

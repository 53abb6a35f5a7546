"""``${VAR}`` interpolation of values (never keys), then typed casts.

The template language is Docker Compose v2's (compose-go ``template`` package), quirks
included, because a file must resolve to the same values under both tools:

* ``$$`` is a literal ``$``; a ``$`` that starts no expression (``$1``, ``a $ b``) stays.
* ``$NAME`` / ``${NAME}``; ``${NAME:-d}`` / ``${NAME-d}`` defaults; ``${NAME:+a}`` /
  ``${NAME+a}`` alternatives; ``${NAME:?msg}`` / ``${NAME?msg}`` required variables.
* The argument of an operator is itself a template and is expanded *eagerly*, whether
  it is used or not: ``${SET:-${UNSET:?x}}`` fails, as in v2.
* An operator's argument runs to the last ``}`` of the line and is then cut at the
  first ``}`` that balances the braces (v2 counts every ``{``, and skips the character
  after one); what follows the cut is expanded as a template of its own.
* ``${`` that does not open a valid expression is an error.

After substitution, strings at the paths of :data:`CAST_PATHS` become ints, floats
or booleans, exactly where compose-go 2.9 (Compose v2.40) casts them; the cast applies
to every string there, interpolated or not.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, TypedDict

from composer.config.source import KeyPath, Override, SourceMap
from composer.errors import InterpolationError, Mark
from composer.model.gofloat import FLOAT32_MAX

Lookup = Callable[[str], str | None]
Warn = Callable[[str], None]

__all__ = [
    "CAST_PATHS",
    "InvalidTemplateError",
    "Lookup",
    "MAX_NESTING",
    "MissingRequiredError",
    "NestingError",
    "TemplateError",
    "expand",
    "interpolate",
    "substitute",
]


# --------------------------------------------------------------------------- templates

class TemplateError(Exception):
    """A template that cannot be expanded; callers wrap it into a ``ConfigError``."""


class InvalidTemplateError(TemplateError):
    """Malformed ``${...}``; ``template`` is the (sub)template v2 would name."""

    def __init__(self, template: str) -> None:
        super().__init__(f"Invalid template: {_go_quote(template)}")
        self.template = template


class MissingRequiredError(TemplateError):
    """``${NAME:?reason}`` / ``${NAME?reason}`` with ``NAME`` missing."""

    def __init__(self, variable: str, reason: str) -> None:
        text = f"required variable {variable} is missing a value"
        super().__init__(f"{text}: {reason}" if reason else text)
        self.variable = variable
        self.reason = reason


# Go's (?i)[_a-z] also matches the two non-ASCII letters whose case folding reaches
# ASCII: U+017F (long s) and U+212A (Kelvin sign). Python's re.I would add two more.
_NAME_CHARS = "_A-Za-z\u017f\u212a"
_NAMED = re.compile(f"[{_NAME_CHARS}][{_NAME_CHARS}0-9]*")
_BRACED = re.compile(f"\\$\\{{([{_NAME_CHARS}][{_NAME_CHARS}0-9]*)(?:(:?[-+?])(.*))?\\}}")


def _unset_warning(name: str) -> str:
    return f'The "{name}" variable is not set. Defaulting to a blank string.'


def _first_closing_brace(s: str) -> int:
    """Index of the ``}`` that closes the expression, as compose-go counts it, or -1."""
    depth = 0
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "}":
            depth -= 1
            if depth == 0:
                return i
        elif c == "{":
            depth += 1
            i += 1  # v2 skips the character after every "{"
        i += 1
    return -1


#: How deeply operator arguments may nest (``${A:-${B:-${C:-...}}}``): each level is
#: a level of Python recursion, so a limit far above any real file answers an absurd
#: one with a clear error rather than a ``RecursionError``. v2 has none (Go's stacks
#: grow); no real file comes near it.
MAX_NESTING = 100


class NestingError(TemplateError):
    """Operator arguments nested deeper than :data:`MAX_NESTING`."""

    def __init__(self) -> None:
        super().__init__(f"a template nests ${{...}} in ${{...}} more than {MAX_NESTING} "
                         "levels deep")


def expand(template: str, lookup: Lookup, warn: Warn | None = None) -> str:
    """Expand one template; raises :class:`TemplateError` (no path, no mark).

    ``lookup`` returns ``None`` for an unset variable. ``warn`` receives the v2 warning
    for each unset variable used bare (``$X`` / ``${X}``).
    """
    if "$" not in template:
        return template
    return _expand(template, lookup, warn)


def _expand(t: str, lookup: Lookup, warn: Warn | None, depth: int = 0) -> str:
    if depth > MAX_NESTING:
        raise NestingError
    out: list[str] = []
    pos = 0
    n = len(t)
    find = t.find
    # The templates to resume once a cut-off tail (below) is expanded: a loop, not a
    # recursion, however many ``${X:-y}`` a line holds.
    resume: list[tuple[str, int]] = []
    while True:
        j = find("$", pos)
        if j < 0:
            out.append(t[pos:])
            if not resume:
                break
            t, pos = resume.pop()
            n = len(t)
            find = t.find
            continue
        if j > pos:
            out.append(t[pos:j])
        nxt = t[j + 1] if j + 1 < n else ""
        if nxt == "$":
            out.append("$")
            pos = j + 2
        elif nxt == "{":
            m = _BRACED.match(t, j)
            if m is None:
                raise InvalidTemplateError(t)
            name, op, arg = m.group(1, 2, 3)
            pos = m.end()
            if op is None:
                out.append(_bare(name, lookup, warn))
                continue
            whole = m.group(0)
            close = _first_closing_brace(whole)
            rest = ""
            if 0 <= close < len(whole) - 1:
                rest = whole[close + 1:]
                arg = whole[len(name) + len(op) + 2:close]
            out.append(_operator(name, op, arg, lookup, warn, depth))
            if rest and "$" not in rest:
                out.append(rest)
            elif rest:
                # The tail is a template of its own (its errors name it), then this
                # one goes on after the expression.
                resume.append((t, pos))
                t, pos, n, find = rest, 0, len(rest), rest.find
        else:
            m = _NAMED.match(t, j + 1)
            if m is None:
                out.append("$")
                pos = j + 1
            else:
                out.append(_bare(m.group(0), lookup, warn))
                pos = m.end()
    return "".join(out)


def _bare(name: str, lookup: Lookup, warn: Warn | None) -> str:
    value = lookup(name)
    if value is None:
        if warn is not None:
            warn(_unset_warning(name))
        return ""
    return value


def _operator(name: str, op: str, arg: str, lookup: Lookup, warn: Warn | None,
              depth: int = 0) -> str:
    # v2 expands the argument before looking at the variable, so its warnings and
    # errors happen even when the argument ends up unused.
    arg_value = _expand(arg, lookup, warn, depth + 1) if "$" in arg else arg
    value = lookup(name)
    if op == ":-":
        return arg_value if not value else value
    if op == "-":
        return arg_value if value is None else value
    if op == ":+":
        return arg_value if value else (value or "")
    if op == "+":
        return arg_value if value is not None else ""
    if op == ":?":
        if not value:
            raise MissingRequiredError(name, arg_value)
        return value
    # op == "?"
    if value is None:
        raise MissingRequiredError(name, arg_value)
    return value


def _go_quote(s: str) -> str:
    """Render a string as Go's %q does (close enough for messages: JSON escapes)."""
    return json.dumps(s, ensure_ascii=False)


# --------------------------------------------------------------------------- casts

class _CastError(Exception):
    pass


_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
# Go accepts "_" between digits (as in its literals), "inf", "infinity" and "nan".
_DIGITS = r"[0-9](?:_?[0-9])*"
_FLOAT_RE = re.compile(
    rf"[+-]?(?:(?:{_DIGITS}\.?(?:{_DIGITS})?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
    r"|inf|infinity)\Z|nan\Z",
    re.IGNORECASE,
)
_HEX_FLOAT_RE = re.compile(r"[+-]?0[xX][0-9a-fA-F_.]+[pP][+-]?[0-9]+\Z")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _parse_int(value: str, func: str) -> int:
    if not _INT_RE.match(value):
        raise _CastError(f"strconv.{func}: parsing {_go_quote(value)}: invalid syntax")
    n = int(value)
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise _CastError(f"strconv.{func}: parsing {_go_quote(value)}: value out of range")
    return n


def _parse_float(value: str, bits: int) -> float:
    bad = f"strconv.ParseFloat: parsing {_go_quote(value)}: "
    try:
        if _FLOAT_RE.match(value):
            f = float(value.replace("_", ""))
        elif _HEX_FLOAT_RE.match(value):
            f = float.fromhex(value.replace("_", ""))
        else:
            raise ValueError
    except (ValueError, OverflowError):
        raise _CastError(bad + "invalid syntax") from None
    if math.isinf(f) and "inf" not in value.lower():
        raise _CastError(bad + "value out of range")
    if bits == 32 and math.isfinite(f) and abs(f) > FLOAT32_MAX:
        raise _CastError(bad + "value out of range")
    return f


def _to_int(value: str, warn: Warn | None) -> object:
    return _parse_int(value, "Atoi")


def _to_int64(value: str, warn: Warn | None) -> object:
    return _parse_int(value, "ParseInt")


def _to_float(value: str, warn: Warn | None) -> object:
    return _parse_float(value, 64)


def _to_float32(value: str, warn: Warn | None) -> object:
    return _parse_float(value, 32)


def _to_bool(value: str, warn: Warn | None) -> object:
    low = value.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low in ("y", "yes", "on", "n", "no", "off"):
        result = low in ("y", "yes", "on")
        if warn is not None:
            warn(f'"{value}" for boolean is not supported by YAML 1.2, '
                 f"please use `{'true' if result else 'false'}`")
        return result
    raise _CastError(f"invalid boolean: {value}")


_Cast = Callable[[str, Warn | None], object]

#: Where compose-go 2.9.1 casts strings after interpolation. ``*`` is any mapping key
#: or list item, ``[]`` any list item. Checked against the v2.40.3 binary: ports'
#: ``published``, secrets/configs ``mode``, sizes and durations are *not* cast here.
CAST_PATHS: dict[str, _Cast] = {
    "services.*.cpu_count": _to_int64,
    "services.*.cpu_percent": _to_float,
    "services.*.cpu_period": _to_int64,
    "services.*.cpu_quota": _to_int64,
    "services.*.cpu_rt_period": _to_int64,
    "services.*.cpu_rt_runtime": _to_int64,
    "services.*.cpus": _to_float32,
    "services.*.cpu_shares": _to_int64,
    "services.*.init": _to_bool,
    "services.*.deploy.replicas": _to_int,
    "services.*.deploy.update_config.parallelism": _to_int,
    "services.*.deploy.update_config.max_failure_ratio": _to_float,
    "services.*.deploy.rollback_config.parallelism": _to_int,
    "services.*.deploy.rollback_config.max_failure_ratio": _to_float,
    "services.*.deploy.restart_policy.max_attempts": _to_int,
    "services.*.deploy.placement.max_replicas_per_node": _to_int,
    "services.*.healthcheck.retries": _to_int,
    "services.*.healthcheck.disable": _to_bool,
    "services.*.oom_kill_disable": _to_bool,
    "services.*.oom_score_adj": _to_int64,
    "services.*.pids_limit": _to_int64,
    "services.*.ports.[].target": _to_int,
    "services.*.privileged": _to_bool,
    "services.*.read_only": _to_bool,
    "services.*.scale": _to_int,
    "services.*.stdin_open": _to_bool,
    "services.*.tty": _to_bool,
    "services.*.ulimits.*": _to_int,
    "services.*.ulimits.*.hard": _to_int,
    "services.*.ulimits.*.soft": _to_int,
    "services.*.volumes.[].read_only": _to_bool,
    "services.*.volumes.[].volume.nocopy": _to_bool,
    "networks.*.external": _to_bool,
    "networks.*.internal": _to_bool,
    "networks.*.attachable": _to_bool,
    "networks.*.enable_ipv4": _to_bool,
    "networks.*.enable_ipv6": _to_bool,
    "volumes.*.external": _to_bool,
    "secrets.*.external": _to_bool,
    "configs.*.external": _to_bool,
}


class _Node:
    """One level of the cast trie: children by key, ``*`` and ``[]``; a cast if a leaf."""

    __slots__ = ("cast", "children", "item", "star")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.star: _Node | None = None
        self.item: _Node | None = None
        self.cast: _Cast | None = None

    def key(self, key: str) -> _Node | None:
        return self.children.get(key, self.star)

    def list_item(self) -> _Node | None:
        return self.item if self.item is not None else self.star


def _build_trie(table: dict[str, _Cast]) -> _Node:
    root = _Node()
    for pattern, cast in table.items():
        node = root
        for part in pattern.split("."):
            if part == "*":
                node.star = node.star or _Node()
                node = node.star
            elif part == "[]":
                node.item = node.item or _Node()
                node = node.item
            else:
                node = node.children.setdefault(part, _Node())
        node.cast = cast
    # No pattern puts a named key beside "*" at the same level; if one ever does,
    # descent would have to try both, so refuse rather than silently miss casts.
    stack = [root]
    while stack:
        node = stack.pop()
        if node.star is not None and node.children:
            raise AssertionError("cast table mixes '*' and named keys at one level")
        stack.extend(node.children.values())
        stack.extend(n for n in (node.star, node.item) if n is not None)
    return root


_TRIE = _build_trie(CAST_PATHS)


def _trie_at(path: KeyPath) -> _Node | None:
    node: _Node | None = _TRIE
    for part in path:
        if node is None:
            return None
        node = node.list_item() if isinstance(part, int) else node.key(part)
    return node


# --------------------------------------------------------------------------- tree walk

class _Where(TypedDict):
    mark: Mark | None
    file: str | None


def _where(path: KeyPath, source: SourceMap | None) -> _Where:
    """The mark of ``path`` (or of its nearest ancestor), and the file in any case."""
    if source is None:
        return {"mark": None, "file": None}
    return {"mark": source.mark(path), "file": source.file}


def _error_for(exc: TemplateError, path: KeyPath, source: SourceMap | None) -> InterpolationError:
    # The path and mark go in the error's own fields, so the text reads
    # "compose.yaml:3:12: services.web.image: <v2's reason>" on one line.
    if isinstance(exc, InvalidTemplateError):
        message = (f"invalid interpolation format {_go_quote(exc.template)}: "
                   "you may need to escape any $ with another $")
    else:
        message = str(exc)
    return InterpolationError(message, path=path, **_where(path, source))


def substitute(template: str, lookup: Lookup, *, path: KeyPath = (),
               source: SourceMap | None = None, warn: Warn | None = None) -> str:
    """Substitute every ``$VAR`` / ``${...}`` form in ``template``; ``$$`` is a literal ``$``.

    Raises :class:`InterpolationError` naming ``path`` (and its mark from ``source``)
    for a malformed template or a missing required variable.
    """
    if "$" not in template:
        return template
    try:
        return _expand(template, lookup, warn)
    except TemplateError as exc:
        raise _error_for(exc, path, source) from None


_CONTAINERS = (dict, list, Override)

# A key path as nested pairs ``((((), "services"), "web"), "image")``: extending it
# costs one small tuple, and it is flattened only when a message needs it.
_LinkedPath = tuple[Any, ...]


def _linked(path: KeyPath) -> _LinkedPath:
    linked: _LinkedPath = ()
    for part in path:
        linked = (linked, part)
    return linked


def _flatten(linked: _LinkedPath) -> KeyPath:
    parts: list[str | int] = []
    while linked:
        linked, part = linked
        parts.append(part)
    return tuple(reversed(parts))


class _Walker:
    """One interpolation pass: lookup, warnings, marks and a cache of expansions.

    Copy-on-write: a container comes back as the same object when nothing in it
    changes, so a document without ``$`` costs one traversal and no allocation.
    """

    __slots__ = ("cache", "lookup", "source", "warn")

    def __init__(self, lookup: Lookup, warn: Warn | None, source: SourceMap | None) -> None:
        self.lookup = lookup
        self.warn = warn
        self.source = source
        # Many values repeat (${TAG} in every service); expanding once is enough since
        # the loader reports each warning only once anyway.
        self.cache: dict[str, str] = {}

    def sub(self, s: str, path: _LinkedPath) -> str:
        hit = self.cache.get(s)
        if hit is not None:
            return hit
        try:
            out = _expand(s, self.lookup, self.warn)
        except TemplateError as exc:
            full = _flatten(path)
            raise _error_for(exc, full, self.source) from None
        self.cache[s] = out
        return out

    def cast(self, s: str, path: _LinkedPath, cast: _Cast) -> object:
        try:
            return cast(s, self.warn)
        except _CastError as exc:
            full = _flatten(path)
            raise InterpolationError(
                f"failed to cast to expected type: {exc}", path=full, **_where(full, self.source)
            ) from None

    def plain(self, value: Any, path: _LinkedPath) -> Any:
        """Walk a subtree that holds no cast paths."""
        t = type(value)
        if t is dict or (t is not list and isinstance(value, dict)):
            copy: dict[Any, Any] | None = None
            for k, v in value.items():
                tv = type(v)
                if tv is str:
                    if "$" not in v:
                        continue
                    nv = self.sub(v, (path, k))
                elif tv is dict or tv is list or isinstance(v, (str, *_CONTAINERS)):
                    nv = self.plain(v, (path, k))
                else:
                    continue
                if nv is not v:
                    if copy is None:
                        copy = dict(value)
                    copy[k] = nv
            return value if copy is None else copy
        if t is list or isinstance(value, list):
            items: list[Any] | None = None
            for i, v in enumerate(value):
                tv = type(v)
                if tv is str:
                    if "$" not in v:
                        continue
                    nv = self.sub(v, (path, i))
                elif tv is dict or tv is list or isinstance(v, (str, *_CONTAINERS)):
                    nv = self.plain(v, (path, i))
                else:
                    continue
                if nv is not v:
                    if items is None:
                        items = list(value)
                    items[i] = nv
            return value if items is None else items
        if isinstance(value, str):
            return self.sub(value, path) if "$" in value else value
        if isinstance(value, Override):
            inner = self.plain(value.value, path)
            return value if inner is value.value else Override(inner)
        return value

    def typed(self, value: Any, path: _LinkedPath, node: _Node) -> Any:
        """Walk a subtree whose trie node may cast values below it."""
        t = type(value)
        if t is dict or (t is not list and isinstance(value, dict)):
            copy: dict[Any, Any] | None = None
            children, star = node.children, node.star
            for k, v in value.items():
                child = children.get(k, star)
                tv = type(v)
                if tv is str:
                    nv = v if "$" not in v else self.sub(v, (path, k))
                    if child is not None and child.cast is not None:
                        nv = self.cast(nv, (path, k), child.cast)
                elif tv is dict or tv is list or isinstance(v, (str, *_CONTAINERS)):
                    if child is None:
                        nv = self.plain(v, (path, k))
                    else:
                        nv = self.typed(v, (path, k), child)
                else:
                    continue
                if nv is not v:
                    if copy is None:
                        copy = dict(value)
                    copy[k] = nv
            return value if copy is None else copy
        if t is list or isinstance(value, list):
            item = node.list_item()
            if item is None:
                return self.plain(value, path)
            items: list[Any] | None = None
            for i, v in enumerate(value):
                nv = self.typed(v, (path, i), item)
                if nv is not v:
                    if items is None:
                        items = list(value)
                    items[i] = nv
            return value if items is None else items
        if isinstance(value, str):
            if "$" in value:
                value = self.sub(value, path)
            return value if node.cast is None else self.cast(value, path, node.cast)
        if isinstance(value, Override):
            inner = self.typed(value.value, path, node)
            return value if inner is value.value else Override(inner)
        return value


def interpolate(data: Any, lookup: Lookup, *, source: SourceMap | None = None,
                warn: Warn | None = None, path: KeyPath = ()) -> Any:
    """Interpolate every string value of a parsed document and cast typed fields.

    The input is not changed: a mapping or list with something to change is copied,
    while one with nothing to change is returned as is (shared with the input).
    Keys are never interpolated. ``path`` is where ``data`` sits in its document (for
    casts, messages and marks). ``Override`` values are interpolated inside; ``Reset``
    markers are kept as they are. Unset variables are reported through ``warn``.
    Errors are :class:`InterpolationError` with the mark of the offending value.
    """
    walker = _Walker(lookup, warn, source)
    node = _trie_at(path)
    if node is None:
        return walker.plain(data, _linked(path))
    return walker.typed(data, _linked(path), node)

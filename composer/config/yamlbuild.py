"""The source phase's builder: one pass over YAML events to values and their marks.

libyaml's event stream (see :mod:`composer.config.yamltext`) becomes plain values
and a :class:`~composer.config.sourcemap.SourceMap` in one iterative loop: scalars
resolved as v2 resolves them (:mod:`composer.config.scalar`), tags checked, keys
checked (strings, no duplicates), ``<<`` merge keys and aliases applied with their
marks, nesting and alias expansion bounded. :func:`composer.config.source.parse_yaml`
is the way in; the rules are told in :mod:`composer.config.source`.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from typing import Any, NoReturn

import yaml

from composer.config.scalar import SPECIAL_START, go_repr, kind_of, resolve_scalar
from composer.config.sourcemap import Document, KeyPath, Override, Reset, SourceMap
from composer.errors import Mark, YamlError, format_path

__all__ = ["Builder"]


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


class Builder:
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
            got = kind_of(value)
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
        special = SPECIAL_START
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
        return f"{kind_of(value)} ({go_repr(value)!s:.40})"

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
            _fail(f"non-string key {where}: {go_repr(value)} (quote it to make it a string)", mark)
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



"""The values and marks the source phase produces: what later phases hold on to.

:class:`SourceMap` (where each value of a document was written), :class:`Document`
(a parsed document and its map), and the merge markers :class:`Reset` (``!reset``)
and :class:`Override` (``!override``). :mod:`composer.config.source` builds them;
every later phase reads them (import them from there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from composer.errors import Mark
from composer.frozen import frozen

__all__ = ["Document", "KeyPath", "Override", "Reset", "SourceMap"]

KeyPath = tuple[str | int, ...]


class Reset:
    """A value tagged ``!reset``: the key is removed from the merged result."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Reset()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reset)

    def __hash__(self) -> int:
        return hash(Reset)


@frozen(slots=True)
class Override:
    """A value tagged ``!override``: replaces, rather than merges with, earlier files."""

    value: Any



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

"""YAML source: parse text into plain values and a map of where each value came from.

STUB: to be replaced by the real implementation (marks, duplicate keys,
!reset / !override, bounded hostile input). The public names below are the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from composer.errors import Mark, YamlError

KeyPath = tuple[str | int, ...]


class Reset:
    """A value tagged ``!reset``: the key is removed from the merged result."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Reset()"


@dataclass(frozen=True, slots=True)
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


def parse_yaml(text: str | bytes, file: str) -> list[Document]:
    """Parse YAML text into documents; each must be a mapping (empty -> ``{}``)."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}", file=file) from exc
    out = []
    for d in docs:
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise YamlError("top-level object must be a mapping", file=file)
        out.append(Document(d, SourceMap(file)))
    return out or [Document({}, SourceMap(file))]


def load_yaml_file(path: str) -> list[Document]:
    """Read and parse a YAML file (see :func:`parse_yaml`)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except IsADirectoryError as exc:
        raise YamlError("is a directory, not a compose file", file=path) from exc
    except OSError as exc:
        raise YamlError(f"cannot read: {exc.strerror}", file=path) from exc
    return parse_yaml(data, path)

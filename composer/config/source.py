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

Plain scalars resolve as Docker Compose v2 (Go ``yaml.v3``) resolves them, not as
PyYAML's YAML 1.1 resolver does (:mod:`composer.config.scalar`); text checks, the
event parser and its error messages are :mod:`composer.config.yamltext`.

Quoted and block scalars are strings. ``!`` alone is no tag (``! 12`` is 12).
``!!str``/``!!int``/``!!float``/``!!bool``/``!!null``/``!!timestamp`` force a type and
refuse a value that does not fit; ``!!binary`` decodes base64; other ``!!`` and ``!<...>``
tags leave a scalar as its raw text, like v2. ``!reset`` gives :class:`Reset` and
``!override`` gives :class:`Override` (on a scalar wrapping its *raw text*, as v2 does:
``!override 1`` is ``Override("1")``). Any other local tag (``!foo``) is refused, and so
is a tag on a mapping key: v2 silently ignores both, which hides typos such as ``!rest``.

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

import gc

import yaml

from composer.config import yamltext
from composer.config.scalar import Timestamp, go_text, resolve_scalar
from composer.config.sourcemap import Document, KeyPath, Override, Reset, SourceMap
from composer.config.yamlbuild import Builder
from composer.errors import YamlError

# The values this phase produces (from sourcemap) and the scalar rules it applies
# (from scalar) are part of its interface.
__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Document",
    "KeyPath",
    "Override",
    "Reset",
    "SourceMap",
    "Timestamp",
    "go_text",
    "load_yaml_file",
    "parse_yaml",
    "resolve_scalar",
]

#: Deepest nesting of mappings and sequences accepted.
MAX_DEPTH = 256
#: Nodes that alias expansion may add to a document, on top of one per character read.
MAX_ALIAS_NODES = 100_000
#: Largest file :func:`load_yaml_file` reads.
MAX_FILE_BYTES = 64 * 1024 * 1024


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
        text, encoding = yamltext.decode(text, file)
    elif text.startswith("\ufeff"):
        text = text[1:]
    yamltext.check_printable(text, file, encoding)
    parser = yamltext.make_parser(text)
    # Building many small containers triggers collections that find nothing to free.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return Builder(file, max_depth, max_alias_nodes).run(parser)
    except yaml.YAMLError as exc:
        raise yamltext.yaml_error(exc, file, text) from None
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
    return parse_yaml(yamltext.read_file(path, max_bytes), path)

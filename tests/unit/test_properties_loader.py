"""Property-based tests of the loader: whatever the compose file holds, composer
answers with a ``ComposerError`` or a project (whose model builds and whose JSON
is JSON), never another exception and never a hang (see ``properties.py``).

Three sources of files: any bytes at all; text made of YAML's and compose's own
tokens (so that the input gets past the YAML parser and into the later phases);
and documents drawn from the compose-spec JSON schema, every key a real one, any
value of the right shape or of a wrong type. A failure found here is fixed in
composer and kept below as an ``@example``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from properties import SETTINGS, answer, compose_documents, to_yaml

# Pieces of YAML and of compose files, joined at random.
TOKENS = (
    "services:", "networks:", "volumes:", "secrets:", "configs:", "include:", "name:",
    "x-a:", "web:", "db:", "image:", "build:", "ports:", "command:", "extends:",
    "depends_on:", "environment:", "deploy:", "healthcheck:", "profiles:", "volumes:",
    "\n", "\n  ", "\n    ", "\n      ", "  ", " ", "- ", ": ", ":", ",", "{", "}", "[", "]",
    "&a ", "*a", "<<: ", "!reset ", "!override ", "!!str ", "!!int ", "!!binary ", "? ",
    "|", ">-", "'", '"', "#", "---\n", "...\n", "%YAML 1.1\n", "busybox", "80:80", "1",
    "-1", "1.5", ".inf", ".nan", "~", "null", "true", "yes", "0x1f", "0o17", "1_000",
    "2001-01-01", "${X}", "$${X}", "${X:-a}", "${X:?}", "$", "\t", "\r\n", "\ufeff", "é",
    "\x00", "\x85", "\u2028",
)

yamlish = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)

# What damages a document without breaking its YAML, mostly: anchors and aliases,
# tags, YAML's special scalars, templates; and merge keys.
PROPERTIES = ("&a ", "&b ", "!reset ", "!override ", "!!str ", "!!map ", "!!seq ", "!!null ")
VALUES = ("*a", "*b", "${X}", "$", "${X:?}", "~", "null", ".inf", "-.inf", ".nan", "0x1f",
          "1e400", "''", "[]", "{}", "!!int 1", "!!float x", "!!bool 1", "[*a]", "{<<: *a}")


@st.composite
def damaged_documents(draw: st.DrawFn) -> str:
    """A schema-shaped document as YAML, damaged in a few places: an anchor or a tag
    before a value, a value replaced, a merge key (``<<: *a``) added to a mapping."""
    lines = to_yaml(draw(compose_documents())).rstrip("\n").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        key, colon, value = line.partition(": ")
        if not colon and line.endswith(":"):
            key, colon, value = line[:-1], ": ", ""
        how = draw(st.sampled_from(("property", "value", "merge")))
        if not colon:
            lines[i] = line + " " + draw(st.sampled_from(VALUES)) if how == "value" else line
        elif how == "property":
            lines[i] = key + colon + draw(st.sampled_from(PROPERTIES)) + value
        elif how == "value" and value:
            lines[i] = key + colon + draw(st.sampled_from(VALUES))
        else:
            indent = " " * (len(key) - len(key.lstrip(" ")))
            lines.insert(i + 1 if not value else i, indent + ("  " if not value else "")
                         + draw(st.sampled_from(("<<: *a", "<<: [*a, *b]", "<<: {}"))))
    return "\n".join(lines) + "\n"


@SETTINGS
@given(st.binary(max_size=1024))
def test_any_bytes_get_an_answer(data: bytes) -> None:
    answer(data)


@SETTINGS
@given(yamlish)
def test_any_yamlish_text_gets_an_answer(text: str) -> None:
    answer(text)


@SETTINGS
@given(compose_documents())
# A negative size v2 keeps as its integer (its JSON: "-2"): the model failed to read it.
@example({"services": {"web": {"image": "busybox", "memswap_limit": -2}}})
def test_any_document_of_schema_keys_gets_an_answer(document: Any) -> None:
    answer(to_yaml(document))


@SETTINGS
@given(damaged_documents())
# A YAML float where a size goes: .inf and .nan raised from int(); v2 drops any float.
@example("services:\n  web:\n    image: busybox\n    shm_size: .inf\n")
@example("services:\n  web:\n    image: busybox\n    memswap_limit: .nan\n")
def test_any_damaged_document_gets_an_answer(text: str) -> None:
    answer(text)

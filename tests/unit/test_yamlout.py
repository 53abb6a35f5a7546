"""Printing a project as v2 prints it: JSON (Go's encoder) and YAML (Go's yaml.v3).

Expected texts were read from Docker Compose v2.40.3 printing the same values under
``x-`` keys (``config`` and ``config --no-interpolate``).
"""

from __future__ import annotations

import csv
import random
from typing import Any

import pytest
from corpus import CORPUS, CORPUS_ENVIRON

from composer.config import yamlout
from composer.config.source import Timestamp, parse_yaml
from composer.config.yamlout import dump_json, dump_yaml, escape_dollars
from composer.errors import ConfigError


def _corpus_rows() -> list[dict[str, str]]:
    manifest = CORPUS / "manifest.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["v2_config"] == "ok"]


CORPUS_ROWS = _corpus_rows()


@pytest.mark.parametrize(("value", "printed"), [
    ("plain", "plain"),
    ("*.foo", "'*.foo'"),          # plain not allowed: single quotes, as yaml.v3
    ("a: b", "'a: b'"),
    ("y", '"y"'),                  # YAML 1.1 booleans stay quoted for old readers
    ("Off", '"Off"'),
    ("0o17", '"0o17"'),            # an int for yaml.v3, not for PyYAML
    ("1_000", '"1_000"'),
    ("1:20", '"1:20"'),            # a YAML 1.1 sexagesimal float
    ("2001-12-14", '"2001-12-14"'),
    ("2001-13-45", "2001-13-45"),  # no such date: text for yaml.v3
    ("", '""'),
    ("null", '"null"'),
    ("1e3", '"1e3"'),
    ("1e400", "1e400"),            # out of range: text for yaml.v3
])
def test_yaml_quotes_a_string_as_yaml_v3_does(value: str, printed: str) -> None:
    assert dump_yaml({"x-a": value}, model=True) == f"x-a: {printed}\n"


def test_yaml_prints_a_timestamp_unquoted_in_rfc3339() -> None:
    data = parse_yaml("x-when: 2001-12-14\nx-at: 2001-12-14t21:59:43.10-05:00\n", "c.yaml")[0].data
    assert dump_yaml(data, model=True) == (
        "x-when: 2001-12-14T00:00:00Z\nx-at: 2001-12-14T21:59:43.1-05:00\n"
    )
    assert dump_json(data) == (
        '{\n  "x-when": "2001-12-14T00:00:00Z",\n  "x-at": "2001-12-14T21:59:43.1-05:00"\n}'
    )


def test_yaml_keys_are_quoted_too() -> None:
    assert dump_yaml({"env": {"Y": None, "on": "1"}}, model=True) == (
        'env:\n  "Y": null\n  "on": "1"\n'
    )


def test_model_yaml_keeps_every_key_in_order() -> None:
    data = {"name": "p", "networks": {"net": {"ipam": {}}},
            "services": {"a": {"command": None}}}
    assert dump_yaml(data, model=True) == (
        "name: p\nnetworks:\n  net:\n    ipam: {}\nservices:\n  a:\n    command: null\n"
    )
    # The typed project leaves out what Go's omitempty leaves out, services first.
    assert dump_yaml(data) == "name: p\nservices:\n  a: {}\nnetworks:\n  net: {}\n"


@pytest.mark.parametrize(("value", "shown"), [
    (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (float("nan"), "NaN"),
])
def test_json_cannot_hold_infinity_nor_nan(value: float, shown: str) -> None:
    # v2: "json: unsupported value: +Inf" (YAML prints .inf)
    with pytest.raises(ConfigError) as info:
        dump_json({"x-a": [1, value]})
    assert str(info.value) == f"json: unsupported value: {shown}"
    assert dump_yaml({"x-a": value}, model=True).startswith("x-a: ")


# -- the writer against PyYAML's emitter ------------------------------------------------------
# dump_yaml lays out the block structure itself and asks PyYAML's emitter only about
# scalars it cannot settle at a glance; these tests hold it to the emitter's bytes.

_STRINGS = [
    "", " ", "a", "web", "8080", "0o17", "1e3", "on", "Y", "no", "null", "~", "true",
    "2001-12-14", "12:30", "1:2:3", "-", "- a", "-a", "?", "? a", ":", "a:", "a: b", "a:b",
    "a #b", "a#b", "#a", "@x", "%x", "`x`", "*x", "&x", "!x", "|x", ">x", "'x'", '"x"',
    "it's", 'say "hi"', "back\\slash", "tab\there", " lead", "trail ", "two  spaces",
    "line1\nline2", "line1\nline2\n", "line\n\n", "\nlead", "  indented\nblock",
    "trailing \nspace", "unicodé", "日本語", "emoji 🎉", "\u2028", "bell\x07", "$HOME",
    "a$$b", "${VAR}", "---", "...", "--- x", "... x", "[a]", "{a}", "a,b", "a[0]",
    "http://x:80/y", "postgres://u:${P:-s}@h/db", "x" * 130, "CMD-SHELL", ".5", ".inf",
    "0x1F", "+1", "-1.5", "1_000", "=", "a=b", "a=", "\\", "'", '"', "*.foo",
]


_OTHERS = [None, True, False, 0, 7, -3, 10**20, 2**63 - 1, -(2**63), 2**63, 0.5, 1.0, 1e-7,
           float("inf"), Timestamp("2001-12-14T00:00:00Z", "2001-12-14")]


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.55:
        return rng.choice([*_STRINGS, *_STRINGS, *_OTHERS])
    if roll < 0.75:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return _random_mapping(rng, depth + 1)


def _random_mapping(rng: random.Random, depth: int) -> dict[str, Any]:
    keys = ["command", "entrypoint", "ipam", "exec", "resources", "image", "V10", "V9",
            "A_B", "AB", "a", "b", *rng.sample(_STRINGS[:60], 6)]
    return {rng.choice(keys): _random_value(rng, depth) for _ in range(rng.randint(0, 6))}


@pytest.mark.parametrize("seed", range(40))
def test_the_writer_prints_what_pyyaml_prints(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(10):
        data = _random_mapping(rng, 0) or {"a": 1}
        data["services"] = _random_mapping(rng, 1)
        for model in (False, True):
            for escape in (False, True):
                expected_input = escape_dollars(data) if escape else data
                expected = yamlout._pyyaml(yamlout._model_order(expected_input) if model
                                           else yamlout._prune(expected_input, top=True))
                assert dump_yaml(data, model=model, escape=escape) == expected, data


@pytest.mark.skipif(not CORPUS_ROWS, reason=f"reference corpus not found at {CORPUS}")
def test_the_writer_prints_what_pyyaml_prints_for_the_corpus() -> None:
    from composer.config.loader import LoadOptions, load_project

    for row in CORPUS_ROWS:
        path = CORPUS / row["path"]
        data = load_project(LoadOptions(files=[path.name], cwd=str(path.parent),
                                        environ=dict(CORPUS_ENVIRON), warn=lambda _: None)).data
        expected = yamlout._pyyaml(yamlout._prune(escape_dollars(data), top=True))
        assert dump_yaml(data, escape=True) == expected, row["path"]

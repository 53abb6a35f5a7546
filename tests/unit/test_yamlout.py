"""Printing a project as v2 prints it: JSON (Go's encoder) and YAML (Go's yaml.v3).

Expected texts were read from Docker Compose v2.40.3 printing the same values under
``x-`` keys (``config`` and ``config --no-interpolate``).
"""

from __future__ import annotations

import pytest

from composer.config.source import parse_yaml
from composer.config.yamlout import dump_json, dump_yaml
from composer.errors import ConfigError


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

"""Go's float formats (composer.model.gofloat) and Go's words for bad sizes and
durations (composer.model.units).

Expected texts were read from Docker Compose v2.40.3 (``config --format json``
printing ``cpus`` and ``x-`` values; its errors for ``mem_limit`` and
``stop_grace_period``) and from Go's ``fmt``/``encoding/json`` documentation.
"""

from __future__ import annotations

import pytest

from composer.model.gofloat import format_g, json32, json64, round32, shortest32, sprint
from composer.model.units import parse_bytes, parse_duration


@pytest.mark.parametrize(("value", "text"), [
    (50.0, "50"), (0.25, "0.25"), (0.00001, "0.00001"), (1e-7, "1e-7"), (1.5e-10, "1.5e-10"),
    (1e20, "100000000000000000000"), (1e21, "1e+21"), (20995480637147713536.0,
                                                      "20995480637147714000"),
    (-2.5, "-2.5"), (0.0, "0"), (-0.0, "-0"),
])
def test_json64_is_encoding_json(value: float, text: str) -> None:
    assert json64(value) == text


def test_json64_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(ValueError, match=r"json: unsupported value: \+Inf"):
        json64(float("inf"))


@pytest.mark.parametrize(("value", "text"), [
    (0.1, "0.1"), (0.333333333333, "0.33333334"), (1.0, "1"), (0.000001, "0.000001"),
    (1e-7, "1e-7"), (123456789.0, "123456790"), (1e21, "1e+21"),
])
def test_json32_is_encoding_json_of_a_float32(value: float, text: str) -> None:
    assert json32(value) == text


def test_float32_rounding() -> None:
    assert round32(0.1) == 0.10000000149011612
    assert round32(1e39) == float("inf")
    assert shortest32(0.1) == 0.1 and shortest32(0.333333333333) == 0.33333334


@pytest.mark.parametrize(("value", "text"), [
    (1000000.0, "1e+06"), (123456.0, "123456"), (0.0001, "0.0001"), (0.00001, "1e-05"),
    (1.5e10, "1.5e+10"), (1234567.5, "1.2345675e+06"), (-2.5, "-2.5"), (1.0, "1"),
    (float("inf"), "+Inf"), (float("nan"), "NaN"),
])
def test_sprint_is_fmt_sprint(value: float, text: str) -> None:
    assert sprint(value) == text


def test_format_g() -> None:
    assert format_g(1.5, 4) == "1.5"
    assert format_g(1234.5, 3) == "1.23e+03"
    assert format_g(0.000012345, 3) == "1.23e-05"


@pytest.mark.parametrize(("text", "message"), [
    ("12xb", "invalid suffix: 'xb'"),
    ("lots", "invalid size: 'lots'"),
    ("1.2.3", 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'),
    ("-1m", "invalid size: '-1m'"),
    ("1 kbb", "invalid suffix: 'kbb'"),
    ("1KBB", "invalid suffix: 'kbb'"),
    ("1KBBB", "invalid suffix: 'KBBB'"),
])
def test_sizes_are_refused_in_go_units_words(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_bytes(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(("text", "message"), [
    ("10 parsecs", 'time: unknown unit " parsecs" in duration "10 parsecs"'),
    ("abc", 'time: invalid duration "abc"'),
    ("10", 'time: missing unit in duration "10"'),
    ("1.2.3s", 'time: missing unit in duration "1.2.3s"'),
])
def test_durations_are_refused_in_gos_words(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


def test_sizes_v2_accepts() -> None:
    assert parse_bytes("1e3") == 1000
    assert parse_bytes("5 ") == 5
    assert parse_bytes("+2k") == 2048

"""``--since``/``--until`` read as the docker client reads them."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from composer.cli.timestamps import engine_timestamp
from composer.errors import UsageError

NOW = 1_700_000_000.0


@pytest.fixture(autouse=True)
def berlin() -> Iterator[None]:
    # A zone away from UTC, so "local" readings differ from UTC ones.
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.mark.parametrize(("value", "expected"), [
    ("10m", str(int(NOW) - 600)),
    ("1h30m", str(int(NOW) - 5400)),
    ("1.5s", str(int(NOW - 1.5))),
    ("1600000000", "1600000000"),
    ("1600000000.123456789", "1600000000.123456789"),
    ("0", "0"),
    ("2020-01-01T00:00:00Z", "1577836800.000000000"),
    ("2020-01-01T00:00:00.5Z", "1577836800.500000000"),
    ("2020-01-01T02:00:00+02:00", "1577836800.000000000"),
    ("2020-01-01T01:00:00-05:00", "1577858400.000000000"),
    # No zone: local time (Berlin is UTC+1 in January).
    ("2020-01-01", "1577833200.000000000"),
    ("2020-01-01T01", "1577836800.000000000"),
    ("2020-01-01T01:00", "1577836800.000000000"),
    ("2020-01-01T01:00:00", "1577836800.000000000"),
])
def test_values_become_engine_seconds(value: str, expected: str) -> None:
    assert engine_timestamp(value, NOW) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("bogus", 'failed to parse value as time or duration: "bogus"'),
    ("10", None),  # seconds: passes through (not an error)
    ("2020-13-01", 'invalid timestamp "2020-13-01"'),
])
def test_bad_values_name_themselves(value: str, message: str | None) -> None:
    if message is None:
        assert engine_timestamp(value, NOW) == value
        return
    with pytest.raises(UsageError, match=message):
        engine_timestamp(value, NOW)

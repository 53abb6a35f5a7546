"""``--since``/``--until`` values as the docker client reads them (``GetTimestamp``).

The engine's logs and events APIs take Unix seconds (``seconds[.nanos]``); the docker
client, and so Docker Compose v2, turns what a person types into that on its side:
a duration (``10m``, ``1h30m``) counts back from now, an RFC 3339 date or time
(``2024-01-02``, ``2024-01-02T15:04``, ``2024-01-02T15:04:05.5Z``) is read in the
local zone unless it names one, and a number passes through as it is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from composer.errors import UsageError

__all__ = ["engine_timestamp"]

_SECONDS = re.compile(r"\d+(\.\d{1,9})?")


def engine_timestamp(value: str, now: float) -> str:
    """``value`` as the engine's ``seconds[.nanos]``; ``now`` is the reference for
    durations. Raises :class:`UsageError` naming the value when it is none of those."""
    from composer.model.units import parse_duration

    text = value.strip()
    if text != "0":
        try:
            return str(int(now - parse_duration(text) / 1e9))
        except ValueError:
            pass
    if "-" not in text:
        if _SECONDS.fullmatch(text):
            return text
        raise UsageError(f'failed to parse value as time or duration: "{value}"')
    zoned = any(c in text for c in "zZ+") or text.count("-") == 3
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        raise UsageError(f'invalid timestamp "{value}": not an RFC 3339 date or time') from None
    if moment.tzinfo is None or not zoned:
        moment = moment.replace(tzinfo=None).astimezone()  # the local zone, as docker
    moment = moment.astimezone(UTC)
    seconds = int(moment.timestamp())
    return f"{seconds}.{moment.microsecond * 1000:09d}"

"""The LXC backend's decisions that need no LXC: which host port a binding gets,
and where ``logs --since`` begins in a console log that has no time stamps."""

from __future__ import annotations

import socket

import pytest

from composer.backends.lxc.backend import _log_offset
from composer.backends.lxc.host import EPHEMERAL_PORTS, _host_port
from composer.errors import EngineError


def test_a_fixed_host_port_is_kept_and_an_empty_one_is_free_and_ephemeral() -> None:
    assert _host_port("8080", "tcp", "", set(), "80/tcp") == "8080"
    picked = int(_host_port("", "tcp", "127.0.0.1", set(), "80/tcp"))
    assert EPHEMERAL_PORTS[0] <= picked <= EPHEMERAL_PORTS[1]
    with socket.socket() as probe:  # free indeed: it can be bound
        probe.bind(("127.0.0.1", picked))


def test_a_range_gives_its_first_port_neither_listened_on_nor_forwarded() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        low = busy.getsockname()[1]
        high = low + 3
        forwarded = {low + 1}
        got = _host_port(f"{low}-{high}", "tcp", "127.0.0.1", forwarded, "80/tcp")
        assert int(got) in (low + 2, low + 3)
        with pytest.raises(EngineError, match=f"no free host port in {low}-{low}"):
            _host_port(f"{low}-{low}", "tcp", "127.0.0.1", set(), "80/tcp")
    with pytest.raises(EngineError, match="invalid host port 'x-y'"):
        _host_port("x-y", "tcp", "", set(), "80/tcp")


RUNS = {"LogRuns": [["2026-12-05T10:00:00.000000Z", 0],
                    ["2026-12-05T10:05:00.000000Z", 120],
                    ["2026-12-05T10:09:00.000000Z", 480]]}


@pytest.mark.parametrize(("since", "offset"), [
    (None, 0),                                       # everything
    ("1796465040", 120),                             # 10:04 (unix seconds): the 10:05 run on
    ("1796465040.5", 120),
    ("2026-12-05T10:05:00.000001000Z", 480),  # nine digits, as Docker writes them
    ("2026-12-05T10:05:00Z", 120),                   # RFC 3339: from the run begun then
    ("2026-12-05T10:08:59.999Z", 480),
    ("2026-12-05T10:30:00Z", 480),                   # after every start: the current run
])
def test_logs_since_starts_at_the_first_run_begun_since(since: str | None,
                                                        offset: int) -> None:
    assert _log_offset(RUNS, since) == offset
    assert _log_offset({}, since) == 0  # a container from before runs were recorded

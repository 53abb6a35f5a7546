"""Streaming ``stats``: the redraw text and the live table's rows, on a fake stats source."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, TypeVar

import anyio
import pytest
from virtual_clock import VirtualClockLoop

from composer.backends.base import StatsSample
from composer.cli import stats_table
from composer.cli.stats_live import Board, LiveOptions, frame, live

T = TypeVar("T")


def _sample(pids: int, usage: int = 1024) -> StatsSample:
    return StatsSample(memory_usage=usage, memory_limit=4096, pids=pids)


@dataclass
class Event:
    action: str
    container_id: str
    service: str
    attributes: Mapping[str, str] = field(default_factory=dict)


class FakeSource:
    """Each container's stream yields ``pids`` samples (1, 2, 3...) every ``period`` s;
    ``ends`` containers' streams stop after one sample. Events come from ``events_q``."""

    def __init__(self, period: float = 0.02, ends: frozenset[str] = frozenset()) -> None:
        self.period = period
        self.ends = ends
        self.opened: list[str] = []
        self.send, self.receive = anyio.create_memory_object_stream[Any](100)

    async def stats_stream(self, container: str) -> AsyncIterator[StatsSample]:
        self.opened.append(container)
        n = 0
        while True:
            n += 1
            yield _sample(n)
            if container in self.ends:
                return
            await anyio.sleep(self.period)

    async def events(self, project: str, since: int | None = None) -> AsyncIterator[Any]:
        assert project == "proj"
        async for event in self.receive:
            yield event


def _names(text: str) -> list[str]:
    # The NAME column of each data row of a plain table.
    return [line.split()[1] for line in text.splitlines()[1:] if line.strip()]


def _tables(out: list[str]) -> list[list[str]]:
    return [_names(t) for t in out]


async def until(check: Callable[[], object]) -> None:
    """Poll ``check`` in virtual time; fail after a (virtual) minute."""
    with anyio.fail_after(60):
        while not check():
            await anyio.sleep(0.005)


def _virtual(main: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``main`` on virtual time: the sleeps and the live table's intervals take no
    real time, and happen in the order their deadlines say, however busy the machine."""
    return anyio.run(main, *args, backend_options={"loop_factory": VirtualClockLoop})


async def _run(source: FakeSource, options: LiveOptions, script: Any,
               initial: list[tuple[str, str]], times: list[float] | None = None) -> list[str]:
    out: list[str] = []
    stop = anyio.Event()

    def write(text: str) -> None:
        out.append(text)
        if times is not None:
            times.append(anyio.current_time())

    async with anyio.create_task_group() as tg:
        async def driver() -> None:
            await script(source, out)
            stop.set()
        tg.start_soon(driver)
        rc = await live(source, initial, options, write, stop=stop)
    assert rc == 0
    return out


def test_frame_on_a_terminal_redraws_in_place_like_the_docker_cli() -> None:
    rows = [stats_table.row("a" * 64, "proj-web-1", _sample(3))]
    plain = stats_table.table(rows)
    text = frame(rows, tty=True)
    assert text.startswith("\033[H") and text.endswith("\033[J")
    lines = text[len("\033[H"):-len("\033[J")].split("\n")
    # every table line and the empty one after it, each erased to its end
    assert lines[:-1] == [f"{line} \033[K" for line in plain.split("\n")]
    assert lines[-1] == ""


def test_frame_off_a_terminal_is_the_plain_table_or_json_lines() -> None:
    rows = [stats_table.row("a" * 64, "proj-web-1", _sample(3)),
            stats_table.row("b" * 64, "proj-db-1", _sample(5))]
    assert frame(rows, tty=False) == stats_table.table(rows)
    assert frame(rows, tty=False, trunc=False) == stats_table.table(rows, trunc=False)
    lines = frame(rows, fmt="json", tty=False).splitlines()
    assert [json.loads(line)["PIDs"] for line in lines] == ["3", "5"]
    assert "\033" not in frame(rows, fmt="json", tty=False)


def test_board_keeps_listing_order_and_ignores_late_samples() -> None:
    board = Board()
    assert board.add("c2", "/proj-web-2") and board.add("c1", "proj-web-1")
    assert not board.add("c2", "again")
    assert board.waiting() == ["c2", "c1"]
    board.update("c1", _sample(7))
    board.update("gone", _sample(9))
    rows = board.rows()
    assert [(r.name, r.pids) for r in rows] == [("proj-web-2", 0), ("proj-web-1", 7)]
    board.remove("c2")
    board.remove("unknown")
    assert [r.id for r in board.rows()] == ["c1"] and board.waiting() == []


def test_live_streams_until_stopped_and_follows_starts_and_deaths() -> None:
    web = ["proj-web-2", "proj-web-1"]

    async def script(source: FakeSource, out: list[str]) -> None:
        await until(lambda: len(out) >= 2)
        await source.send.send(Event("start", "c3", "web", {"name": "proj-web-3"}))
        await source.send.send(Event("start", "x1", "db", {"name": "proj-db-1"}))
        await until(lambda: _names(out[-1]) == [*web, "proj-web-3"])
        await source.send.send(Event("die", "c1", "web"))
        await until(lambda: _names(out[-1]) == ["proj-web-2", "proj-web-3"])

    source = FakeSource()
    options = LiveOptions(project="proj", service="web", tty=False, interval=0.03)
    out = _virtual(_run, source, options, script, [("c2", "proj-web-2"), ("c1", "proj-web-1")])
    tables = _tables(out)
    assert tables[:2] == [web, web]
    assert tables[-1] == ["proj-web-2", "proj-web-3"]
    assert all("proj-db-1" not in t for t in tables)  # another service: not shown
    assert "x1" not in source.opened
    # the samples move on between tables (PIDS column of the first row)
    pids = [int(t.splitlines()[1].split()[-1]) for t in out]
    assert pids == sorted(pids) and len(set(pids)) > 2


def test_live_on_a_terminal_writes_redraws_and_waits_for_first_samples() -> None:
    async def script(source: FakeSource, out: list[str]) -> None:
        await until(lambda: len(out) >= 2)

    source = FakeSource(period=0.01)
    options = LiveOptions(project="proj", tty=True, interval=0.03)
    out = _virtual(_run, source, options, script, [("c1", "proj-web-1")])
    assert len(out) >= 2 and all(t.startswith("\033[H") and t.endswith("\033[J") for t in out)
    # the first table already has a sample (PIDS 1 or more, not the zero placeholder)
    first_row = out[0].split("\n")[1]
    assert first_row.split()[-2] != "0"


def test_live_json_prints_one_line_per_container_per_tick() -> None:
    async def script(source: FakeSource, out: list[str]) -> None:
        await until(lambda: len(out) >= 4)

    source = FakeSource()
    options = LiveOptions(project="proj", fmt="json", tty=False, interval=0.03)
    times: list[float] = []
    out = _virtual(_run, source, options, script,
                   [("c1", "proj-web-1"), ("c2", "proj-web-2")], times)
    assert len(out) >= 4
    for text in out:
        assert [json.loads(line)["Name"] for line in text.splitlines()] == \
            ["proj-web-1", "proj-web-2"]
    # one table per interval (of the virtual clock)
    assert [round(b - a, 6) for a, b in pairwise(times)] == [0.03] * (len(times) - 1)


def test_all_keeps_stopped_containers_shows_created_ones_and_drops_removed_ones() -> None:
    async def script(source: FakeSource, out: list[str]) -> None:
        await until(lambda: len(out) >= 1)
        await source.send.send(Event("die", "c1", "web"))
        await source.send.send(Event("create", "c2", "web", {"name": "proj-web-2"}))
        await until(lambda: _names(out[-1]) == ["proj-web-1", "proj-web-2"])
        await source.send.send(Event("start", "c1", "web", {"name": "proj-web-1"}))
        await until(lambda: source.opened.count("c1") == 2)
        await source.send.send(Event("destroy", "c2", "web"))
        await until(lambda: _names(out[-1]) == ["proj-web-1"])

    # c1's stream ends after one sample (it stopped); it is restarted on "start"
    source = FakeSource(ends=frozenset({"c1"}))
    options = LiveOptions(project="proj", all=True, tty=False, interval=0.03)
    out = _virtual(_run, source, options, script, [("c1", "proj-web-1")])
    tables = _tables(out)
    assert tables[0] == ["proj-web-1"]
    assert ["proj-web-1", "proj-web-2"] in tables  # died, still shown with --all
    assert tables[-1] == ["proj-web-1"]
    assert source.opened.count("c1") == 2


@pytest.mark.parametrize("tty", [True, False])
def test_sigint_ends_the_stream_with_v2s_exit_code_130(tty: bool) -> None:
    import os
    import signal

    async def main() -> tuple[int, list[str]]:
        out: list[str] = []

        async def interrupt() -> None:
            await until(lambda: len(out) >= 2)
            os.kill(os.getpid(), signal.SIGINT)

        async with anyio.create_task_group() as tg:
            tg.start_soon(interrupt)
            rc = await live(FakeSource(), [("c1", "proj-web-1")],
                            LiveOptions(project="proj", tty=tty, interval=0.02), out.append)
        return rc, out

    rc, out = _virtual(main)
    assert rc == 130 and len(out) >= 2


def test_a_closed_pipe_ends_the_stream_with_a_bare_broken_pipe_error() -> None:
    def write(text: str) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    async def main() -> int:
        return await live(FakeSource(), [("c1", "proj-web-1")],
                          LiveOptions(project="proj", tty=False, interval=0.02), write)

    with pytest.raises(BrokenPipeError):
        _virtual(main)

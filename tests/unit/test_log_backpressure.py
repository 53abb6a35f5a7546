"""Merged logs under load: the channel is bounded (a consumer slower than the
containers slows the readers instead of growing composer's memory, on the
in-memory engine), and a reader that goes away (``| head``) ends the output."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence

import anyio
import pytest

from composer.backends.memory import MemoryBackend
from composer.cli.logview import LogPrinter
from composer.runtime.logs import LINE_COST, LogMultiplexer, LogTarget

pytestmark = pytest.mark.anyio


class SlowTerminal:
    """A consumer that falls behind: while it writes one batch, every container
    writes ``burst`` more lines (until each has written ``total``, then exits)."""

    def __init__(self, engine: MemoryBackend, ids: list[str], *, burst: int,
                 total: int) -> None:
        self.engine = engine
        self.ids = ids
        self.burst = burst
        self.total = total
        self.written = dict.fromkeys(ids, 0)
        self.got: dict[str, list[str]] = defaultdict(list)
        self.calls: list[tuple[str, str]] = []
        self.mux: LogMultiplexer | None = None
        self.peak = 0
        self.peak_lines = 0

    def produce(self) -> None:
        for cid in self.ids:
            start = self.written[cid]
            if start >= self.total:
                continue
            end = min(start + self.burst, self.total)
            self.engine.write_output(cid, b"".join(
                b"%06d %s\n" % (n, b"x" * 100) for n in range(start, end)))
            self.written[cid] = end
            if end == self.total:
                self.engine.exit_container(cid, 0)

    def register(self, name: str) -> None:
        self.calls.append(("register", name))

    def lines(self, name: str, stream: str, lines: Sequence[str]) -> None:
        assert self.mux is not None
        self.peak = max(self.peak, self.mux.queued)
        self.peak_lines = max(self.peak_lines, self.mux.queued // (107 + LINE_COST))
        self.got[name].extend(lines)
        self.calls.append(("lines", name))
        self.produce()

    def status(self, name: str, message: str) -> None:
        self.calls.append(("status", name))


async def test_a_slow_consumer_bounds_what_the_channel_holds() -> None:
    engine = MemoryBackend()
    ids = [engine.add_container("p", f"s{i}", 1).id for i in range(20)]
    bound = 16 * 1024
    terminal = SlowTerminal(engine, ids, burst=40, total=1000)
    mux = LogMultiplexer(engine, terminal, queue_bytes=bound)
    terminal.mux = mux
    terminal.produce()
    async with anyio.create_task_group() as tg:
        tg.start_soon(mux.run)
        with anyio.fail_after(60):  # a hang guard only
            while mux._tg is None:
                await anyio.sleep(0)
            for i, cid in enumerate(ids):
                mux.follow(LogTarget(cid, f"s{i}-1", f"s{i}"))
            await mux.finished.wait()
            await mux.drain()
        mux.close()

    produced = 20 * 1000 * (107 + LINE_COST)
    # The containers wrote 200 times the bound while the consumer lagged; the channel
    # never held more than the bound (about 95 of these lines), a count, not a time.
    assert produced > 200 * bound
    assert 0 < terminal.peak <= bound
    assert terminal.peak_lines <= bound // (107 + LINE_COST)
    assert mux.queued == 0
    # Nothing lost, nothing reordered, every exit announced after the last line.
    for i in range(20):
        assert terminal.got[f"s{i}-1"] == [f"{n:06d} {'x' * 100}" for n in range(1000)]
        last_line = max(k for k, c in enumerate(terminal.calls) if c == ("lines", f"s{i}-1"))
        assert terminal.calls.index(("status", f"s{i}-1")) > last_line


async def test_a_batch_larger_than_the_bound_goes_in_pieces_in_order() -> None:
    engine = MemoryBackend()
    cid = engine.add_container("p", "big", 1).id
    line = "y" * 200
    engine.write_output(cid, (line + "\n").encode() * 500 + b"z" * 5000 + b"\n")
    engine.exit_container(cid, 0)
    seen: list[tuple[int, int]] = []
    got: list[str] = []

    class Consumer:
        def register(self, name: str) -> None:
            pass

        def lines(self, name: str, stream: str, lines: Sequence[str]) -> None:
            seen.append((len(lines), mux.queued))
            got.extend(lines)

        def status(self, name: str, message: str) -> None:
            got.append(message)

    bound = 4096
    mux = LogMultiplexer(engine, Consumer(), queue_bytes=bound)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mux.run)
        with anyio.fail_after(60):
            while mux._tg is None:
                await anyio.sleep(0)
            mux.follow(LogTarget(cid, "big-1", "big"), follow=False)
            await mux.finished.wait()
            await mux.drain()
        mux.close()
    assert got == [line] * 500 + ["z" * 5000]
    # Pieces of at most the bound; the one line longer than the bound passes alone.
    assert all(q <= bound for n, q in seen if n > 1)
    assert max(q for _, q in seen) == 5000 + LINE_COST
    assert len(seen) > 500 * (200 + LINE_COST) // bound


def test_a_reader_gone_is_noted_once_and_nothing_more_is_written() -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    calls: list[str] = []
    printer = LogPrinter(Closed())
    printer.on_broken = lambda: calls.append("broken")
    printer.lines("web-1", "stdout", ["a"])
    printer.status("web-1", "exited with code 0")
    printer.lines("web-1", "stdout", ["b"])
    assert isinstance(printer.broken, BrokenPipeError)
    assert calls == ["broken"]

"""Merged logs without an engine: line cutting, the multiplexer on a fake source,
v2's prefix/colour format (golden), the attached-mode flags and ``logs`` flags."""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from composer.backends.base import ContainerInfo, EngineEvent
from composer.backends.docker.wire import Dechunker
from composer.backends.frames import FrameDecoder
from composer.cli.logview import LogPrinter, use_color, validate_attach_flags
from composer.cli.main import _global_parser
from composer.cli.terminal import ansi_enabled
from composer.errors import UsageError
from composer.model import labels as L
from composer.runtime.logs import ContainerExit, LineBuffer, LogMultiplexer, LogTarget


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


# -- line cutting ------------------------------------------------------------------------------


def test_line_buffer_keeps_partial_lines_until_their_end() -> None:
    buf = LineBuffer()
    assert buf.feed(b"hel") == []
    assert buf.feed(b"lo\nwor") == ["hello"]
    assert buf.feed(b"ld\r\n\n") == ["world", ""]
    assert buf.feed(b"tail") == []
    assert buf.flush() == ["tail"]
    assert buf.flush() == []


def test_line_buffer_never_splits_a_multibyte_character() -> None:
    buf = LineBuffer()
    data = "héllo\n".encode()
    assert buf.feed(data[:2]) == []
    assert buf.feed(data[2:]) == ["héllo"]


def test_frame_splitter_waits_for_whole_frames() -> None:
    wire = frame(1, b"out\n") + frame(2, b"err\n")
    splitter = FrameDecoder(multiplexed=True)
    assert splitter.feed(wire[:5]) == []
    assert splitter.feed(wire[5:14]) == [("stdout", b"out\n")]
    assert splitter.feed(wire[14:]) == [("stderr", b"err\n")]
    assert FrameDecoder(multiplexed=False).feed(b"raw") == [("stdout", b"raw")]


def test_dechunker_decodes_chunks_cut_anywhere() -> None:
    body = b"4\r\nabcd\r\n3;ext\r\nefg\r\n0\r\n\r\n"
    pieces = [body[i:i + 3] for i in range(0, len(body), 3)]

    class Fp:
        def read1(self, _n: int) -> bytes:
            return pieces.pop(0) if pieces else b""

    reader = Dechunker(Fp())
    out = b""
    while chunk := reader.read():
        out += chunk
    assert out == b"abcdefg"


# -- the multiplexer ---------------------------------------------------------------------------


class FakeSource:
    """Containers whose attach stream yields given batches, then they exit."""

    def __init__(self, batches: dict[str, list[list[tuple[str, bytes]]]],
                 codes: dict[str, int]) -> None:
        self.batches = batches
        self.codes = codes

    async def attach_output(self, container: str, *,
                            on_attached: Callable[[], None] | None = None
                            ) -> AsyncIterator[list[tuple[str, bytes]]]:
        if on_attached is not None:
            on_attached()
        for batch in self.batches[container]:
            await anyio.sleep(0)
            yield batch

    async def log_batches(self, container: str, **_: Any
                          ) -> AsyncIterator[list[tuple[str, bytes]]]:
        for batch in self.batches[container]:
            yield batch

    async def inspect_container(self, container: str) -> ContainerInfo:
        return ContainerInfo(id=container, name=container, image="", image_id="",
                             state="exited", exit_code=self.codes[container])

    async def events(self, project: str, since: int | None = None) -> AsyncIterator[Any]:
        await anyio.sleep_forever()
        yield None


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def register(self, name: str) -> None:
        self.calls.append(("register", name))

    def lines(self, name: str, stream: str, lines: Any) -> None:
        self.calls.extend(("line", name, stream, line) for line in lines)

    def status(self, name: str, message: str) -> None:
        self.calls.append(("status", name, message))


@pytest.mark.anyio
async def test_multiplexer_merges_whole_lines_and_announces_exits() -> None:
    source = FakeSource({
        "a": [[("stdout", b"a1\na"), ("stderr", b"e")], [("stdout", b"2\n"), ("stderr", b"1\n")],
              [("stdout", b"no newline")]],
        "b": [[("stdout", b"b1\nb2\n")]],
    }, {"a": 3, "b": 0})
    recorder = Recorder()
    exits: list[ContainerExit] = []

    async def on_exit(event: ContainerExit) -> None:
        exits.append(event)

    mux = LogMultiplexer(source, recorder, on_exit=on_exit)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mux.run)
        await mux.attach(LogTarget("a", "a-1", "a"))
        await mux.attach(LogTarget("b", "b-1", "b"))
        ends = [("status", "a-1", "exited with code 3"), ("status", "b-1", "exited with code 0")]
        with anyio.fail_after(60):  # a hang guard only
            await mux.finished.wait()
            # The writer task, first in first out: once it wrote both exits, it wrote
            # every line queued before them.
            while not all(end in recorder.calls for end in ends):
                await anyio.sleep(0)
        mux.close()
    lines = [c for c in recorder.calls if c[0] == "line"]
    assert [c[3] for c in lines if c[1] == "a-1" and c[2] == "stdout"] == ["a1", "a2",
                                                                          "no newline"]
    assert [c[3] for c in lines if c[1] == "a-1" and c[2] == "stderr"] == ["e1"]
    assert [c[3] for c in lines if c[1] == "b-1"] == ["b1", "b2"]
    assert ("status", "a-1", "exited with code 3") in recorder.calls
    assert recorder.calls.index(("register", "a-1")) < recorder.calls.index(lines[0])
    assert sorted((e.target.name, e.exit_code) for e in exits) == [("a-1", 3), ("b-1", 0)]


class LateEvents(FakeSource):
    """Podman's way: the start event of a run comes after the run has ended."""

    def __init__(self) -> None:
        super().__init__({"a": [[("stdout", b"a1\na2\n")]], "c": [[("stdout", b"c1\n")]]},
                         {"a": 0, "c": 0})
        self.a_ended = anyio.Event()

    async def inspect_container(self, container: str) -> ContainerInfo:
        if container == "a":
            self.a_ended.set()
        return ContainerInfo(id=container, name=container, image="", image_id="",
                             state="exited", exit_code=0, started_at="2026-12-05T09:00:00Z")

    async def events(self, project: str, since: int | None = None) -> AsyncIterator[Any]:
        await self.a_ended.wait()
        for cid in ("a", "c"):  # c: a container met through the events alone
            yield EngineEvent("start", cid, cid, "p", {L.SERVICE: cid,
                                                       L.CONTAINER_NUMBER: "1"})
        await anyio.sleep_forever()


@pytest.mark.anyio
async def test_a_start_event_told_after_the_run_ended_does_not_repeat_its_lines() -> None:
    source = LateEvents()
    c_ended = anyio.Event()

    class UntilC(Recorder):
        def status(self, name: str, message: str) -> None:
            super().status(name, message)
            if name == "c-1":
                c_ended.set()  # c's start came after a's: the late event was handled

    recorder = UntilC()
    mux = LogMultiplexer(source, recorder)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mux.run)
        await mux.attach(LogTarget("a", "a-1", "a"))
        tg.start_soon(mux.watch, "p")
        with anyio.fail_after(60):  # a hang guard only
            await c_ended.wait()
        tg.cancel_scope.cancel()
    lines = [(c[1], c[3]) for c in recorder.calls if c[0] == "line"]
    assert lines == [("a-1", "a1"), ("a-1", "a2"), ("c-1", "c1")]


class StoppingFirst(FakeSource):
    """Podman's way: after the stream ended, ``stopping`` (exit code 0) until the stop
    has recorded the exit."""

    def __init__(self) -> None:
        super().__init__({"db": [[("stdout", b"db\n")]]}, {"db": 9})
        self.looks = 0

    async def inspect_container(self, container: str) -> ContainerInfo:
        self.looks += 1
        if self.looks <= 3:
            return ContainerInfo(id=container, name=container, image="", image_id="",
                                 state="stopping", exit_code=0)
        return await super().inspect_container(container)


@pytest.mark.anyio
async def test_an_exit_is_read_once_a_stopping_container_has_recorded_it() -> None:
    source = StoppingFirst()
    exits: list[ContainerExit] = []

    async def on_exit(event: ContainerExit) -> None:
        exits.append(event)

    mux = LogMultiplexer(source, Recorder(), on_exit=on_exit)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mux.run)
        await mux.attach(LogTarget("db", "db-1", "db"))
        with anyio.fail_after(60):  # a hang guard only
            await mux.finished.wait()
        mux.close()
    assert [(e.target.name, e.exit_code) for e in exits] == [("db-1", 9)]


class EndedBeforeStart(FakeSource):
    """An attach stream that ends before its container starts: ``created`` then, and
    the run comes with the start event."""

    def __init__(self) -> None:
        super().__init__({"a": [[("stdout", b"a1\n")]]}, {"a": 3})
        self.started = anyio.Event()

    async def attach_output(self, container: str, *,
                            on_attached: Callable[[], None] | None = None
                            ) -> AsyncIterator[list[tuple[str, bytes]]]:
        if on_attached is not None:
            on_attached()
        return
        yield []

    async def inspect_container(self, container: str) -> ContainerInfo:
        if not self.started.is_set():
            self.started.set()
            return ContainerInfo(id=container, name=container, image="", image_id="",
                                 state="created")
        return await super().inspect_container(container)

    async def events(self, project: str, since: int | None = None) -> AsyncIterator[Any]:
        await self.started.wait()
        yield EngineEvent("start", "a", "a", "p", {L.SERVICE: "a", L.CONTAINER_NUMBER: "1"})
        await anyio.sleep_forever()


@pytest.mark.anyio
async def test_an_attach_that_ends_before_the_start_announces_no_exit_until_the_run() -> None:
    recorder = Recorder()
    exits: list[ContainerExit] = []

    async def on_exit(event: ContainerExit) -> None:
        exits.append(event)

    mux = LogMultiplexer(EndedBeforeStart(), recorder, on_exit=on_exit)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mux.run)
        await mux.attach(LogTarget("a", "a-1", "a"))
        tg.start_soon(mux.watch, "p")
        with anyio.fail_after(60):  # a hang guard only
            await mux.finished.wait()
        tg.cancel_scope.cancel()
    assert [(e.target.name, e.exit_code) for e in exits] == [("a-1", 3)]


# -- the printer (golden) ----------------------------------------------------------------------


def test_prefix_is_padded_to_the_longest_name_plus_one() -> None:
    out = io.StringIO()
    printer = LogPrinter(out)
    printer.register("web-1")
    printer.register("database-1")
    printer.lines("web-1", "stdout", ["hello", "world"])
    printer.lines("database-1", "stdout", ["ready"])
    printer.status("web-1", "exited with code 3")
    # Not a terminal: no escape at all (v2 writes its line reset even to a pipe).
    assert out.getvalue() == ("web-1       | hello\nweb-1       | world\n"
                              "database-1  | ready\nweb-1 exited with code 3\n")


def test_on_a_terminal_a_status_line_starts_with_v2s_line_reset() -> None:
    out = io.StringIO()
    printer = LogPrinter(out, ansi=True)
    printer.lines("web-1", "stdout", ["hello"])
    printer.status("web-1", "exited with code 3")
    assert out.getvalue() == "web-1  | hello\n\r\033[Kweb-1 exited with code 3\n"


def test_colours_cycle_in_v2_order() -> None:
    out = io.StringIO()
    printer = LogPrinter(out, color=True, ansi=True)
    names = [f"s{i}-1" for i in range(11)]
    for name in names:
        printer.register(name)
    for name in names:
        printer.lines(name, "stdout", ["x"])
    printer.status("s0-1", "exited with code 0")
    expected = ["36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1", "36"]
    got = out.getvalue().split("\n")
    # The longest name, "s10-1", sets the width: 5 + 1.
    assert got[:11] == [f"\033[{code}m{name:<6} | \033[0mx"
                        for code, name in zip(expected, names, strict=True)]
    assert got[11] == "\033[36m\r\033[Ks0-1 exited with code 0"


def test_no_prefix_and_stderr_lines() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = LogPrinter(out, err, prefix=False)
    printer.lines("a-1", "stdout", ["o"])
    printer.lines("a-1", "stderr", ["e"])
    assert (out.getvalue(), err.getvalue()) == ("o\n", "e\n")


def test_timestamps_stamp_each_line() -> None:
    out = io.StringIO()
    LogPrinter(out, timestamps=True).lines("a-1", "stdout", ["x", "y"])
    import re

    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)"
    for line in out.getvalue().splitlines():
        assert re.fullmatch(rf"a-1  \| {stamp} [xy]", line), line


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_needs_a_terminal_and_no_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color("auto", stream=Tty()) is True
    assert use_color("auto", stream=io.StringIO()) is False
    assert use_color("auto", no_color=True, stream=Tty()) is False
    assert use_color("never", stream=Tty()) is False
    assert use_color("always", stream=io.StringIO()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color("auto", stream=Tty()) is False


def test_escapes_only_on_a_terminal_unless_ansi_says_otherwise() -> None:
    assert ansi_enabled("auto", Tty()) is True
    assert ansi_enabled("auto", io.StringIO()) is False
    assert ansi_enabled("never", Tty()) is False
    assert ansi_enabled("always", io.StringIO()) is True
    with open(os.devnull, "w") as closed:
        pass
    assert ansi_enabled("auto", closed) is False  # isatty() of a closed file raises


# -- flags -------------------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    return _global_parser().parse_args(list(argv))


@pytest.mark.parametrize("argv", [
    ("up", "-d", "--abort-on-container-exit"),
    ("up", "-d", "--exit-code-from", "web"),
    ("up", "--wait", "--abort-on-container-failure"),
    ("up", "-d", "--attach", "web"),
])
def test_detached_up_refuses_the_attached_flags(argv: tuple[str, ...]) -> None:
    with pytest.raises(UsageError, match="--detach cannot be combined with"):
        validate_attach_flags(parse(*argv))


def test_attached_flags_parse() -> None:
    args = parse("up", "--exit-code-from", "db", "--attach", "web", "--no-attach", "db",
                 "--abort-on-container-failure", "web")
    validate_attach_flags(args)
    assert (args.exit_code_from, args.attach, args.no_attach) == ("db", ["web"], ["db"])
    assert args.abort_on_container_failure and args.services == ["web"]


def test_logs_flags_parse() -> None:
    args = parse("logs", "-f", "-n", "5", "--since", "10m", "--until", "1s", "-t",
                 "--index", "2", "--no-color", "--no-log-prefix", "web", "db")
    assert (args.follow, args.tail, args.since, args.until, args.timestamps, args.index,
            args.no_color, args.no_log_prefix, args.services) == (
        True, "5", "10m", "1s", True, 2, True, True, ["web", "db"])
    assert parse("logs").tail == "all"

"""LXC's console log read back as two streams (``backends/lxc/console.py``): a
line the stderr relay marked is stderr, from the mark to its end."""

from __future__ import annotations

from composer.backends.lxc.console import MARK, Splitter, split_lines
from composer.backends.types import Frame

LOG = b"out 1\n" + MARK + b"err 1\n" + b"partial" + MARK + b"err 2\nout 2\n"


def test_whole_lines_split_by_the_mark() -> None:
    assert split_lines(LOG.split(b"\n")[:-1]) == [
        Frame("stdout", b"out 1\n"), Frame("stderr", b"err 1\n"),
        Frame("stdout", b"partial"), Frame("stderr", b"err 2\n"),
        Frame("stdout", b"out 2\n")]


def test_any_chunking_gives_the_same_streams() -> None:
    whole = {"stdout": b"out 1\npartialout 2\n", "stderr": b"err 1\nerr 2\n"}
    for size in range(1, len(LOG) + 1):
        splitter, seen = Splitter(), {"stdout": b"", "stderr": b""}
        for at in range(0, len(LOG), size):
            for frame in splitter.feed(LOG[at:at + size]):
                seen[frame.stream] += frame.data
        for frame in splitter.flush():
            seen[frame.stream] += frame.data
        assert seen == whole, size


def test_a_mark_cut_by_the_end_of_a_chunk_waits_and_a_lone_first_byte_is_output() -> None:
    splitter = Splitter()
    assert splitter.feed(b"a" + MARK[:1]) == [Frame("stdout", b"a")]
    assert splitter.feed(MARK[1:] + b"e\n") == [Frame("stderr", b"e\n")]
    assert splitter.feed(MARK[:1]) == []
    assert splitter.flush() == [Frame("stdout", MARK[:1])]


def test_an_unmarked_log_is_all_stdout() -> None:
    assert Splitter().feed(b"one\ntwo") == [Frame("stdout", b"one\ntwo")]

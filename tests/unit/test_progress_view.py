"""The progress printer's modes: plain lines off a terminal, v2's live view on one."""

from __future__ import annotations

import io
import re

from composer.cli.progress import ProgressPrinter
from composer.runtime.progress import DONE, ERROR, ProgressEvent


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_plain_off_a_terminal() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, mode="auto")
    printer(ProgressEvent("Container p-web-1", "Started", DONE, elapsed=0.4))
    assert out.getvalue() == " Container p-web-1  Started\n"


def test_ansi_never_keeps_plain_lines_on_a_terminal() -> None:
    out = Tty()
    ProgressPrinter(out, mode="auto", ansi="never")(ProgressEvent("Network p_default",
                                                                   "Created", DONE))
    assert out.getvalue() == " Network p_default  Created\n"


def _screen(raw: str) -> list[str]:
    """The last drawn block, escapes removed."""
    block = raw.split("\033[J")[-1]
    return [re.sub(r"\033\[[0-9;]*[a-zA-Z]", "", line) for line in block.splitlines()]


class Clock:
    """A clock the test moves by hand (the live view's elapsed times read it)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_live_view_on_a_terminal_redraws_one_block() -> None:
    out = Tty()
    printer = ProgressPrinter(out, mode="auto", tick=None)
    printer(ProgressEvent("Network p_default", "Creating"))
    printer(ProgressEvent("Network p_default", "Created", DONE, elapsed=0.1))
    printer(ProgressEvent("Container p-web-1", "Created", DONE, elapsed=0.25))
    printer(ProgressEvent("Container p-db-1", "Error", ERROR, elapsed=1.0))
    assert _screen(out.getvalue()) == [
        "[+] Running 3/3",
        " ✔ Network p_default  Created 0.1s",
        " ✔ Container p-web-1  Created 0.2s",
        " ✘ Container p-db-1   Error 1.0s",
    ]
    assert "\033[32m✔" in out.getvalue()  # green ticks


def test_working_rows_count_their_own_time_and_spin_with_each_tick() -> None:
    out, clock = Tty(), Clock()
    printer = ProgressPrinter(out, mode="tty", clock=clock, tick=None)
    printer(ProgressEvent("Container p-a-1", "Starting"))
    clock.now += 1.25
    printer(ProgressEvent("Container p-b-1", "Starting"))
    assert _screen(out.getvalue()) == [
        "[+] Running 0/2", " ⠋ Container p-a-1  Starting 1.2s",
        " ⠋ Container p-b-1  Starting 0.0s"]
    clock.now += 2.0
    printer.tick()
    assert _screen(out.getvalue()) == [
        "[+] Running 0/2", " ⠙ Container p-a-1  Starting 3.2s",
        " ⠙ Container p-b-1  Starting 2.0s"]
    # Done without a time of its own: the time it took by the clock; then no more frames.
    printer(ProgressEvent("Container p-a-1", "Started", DONE))
    printer(ProgressEvent("Container p-b-1", "Started", DONE, elapsed=0.5))
    clock.now += 5.0
    printer.tick()
    assert _screen(out.getvalue()) == [
        "[+] Running 2/2", " ✔ Container p-a-1  Started 3.2s",
        " ✔ Container p-b-1  Started 0.5s"]


def test_forced_tty_and_quiet_and_json() -> None:
    out = io.StringIO()
    ProgressPrinter(out, mode="tty", tick=None)(ProgressEvent("Container p-a-1", "Starting"))
    assert _screen(out.getvalue())[0] == "[+] Running 0/1"
    assert re.fullmatch(r" . Container p-a-1  Starting \d\.\ds", _screen(out.getvalue())[1])
    quiet = io.StringIO()
    ProgressPrinter(quiet, mode="quiet")(ProgressEvent("Container p-a-1", "Started", DONE))
    assert quiet.getvalue() == ""
    js = io.StringIO()
    ProgressPrinter(js, mode="json", ansi="always")(ProgressEvent("Container p-a-1",
                                                                  "Started", DONE))
    assert js.getvalue() == '{"id":"Container p-a-1","status":"Started"}\n'

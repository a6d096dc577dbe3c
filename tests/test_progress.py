"""The progress line of long jobs: redrawn in place on a terminal, a line every few seconds in a log."""
from __future__ import annotations

import io

from gateway.progress import EVERY_SECONDS, ProgressLine


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_every_few_seconds_and_the_last_figures() -> None:
    clock, log = Clock(), io.StringIO()
    line = ProgressLine(log, 1000, clock=clock)
    clock.now += 1
    line.update(100)
    assert log.getvalue() == ""  # not yet: a CI log is not filled with one line per batch
    clock.now += EVERY_SECONDS
    line.update(600)
    clock.now += 1
    line.update(700)
    line.done()
    lines = log.getvalue().splitlines()
    assert lines == [
        "600/1,000 members (60%), 100/s, 4 s left",
        "700/1,000 members (70%), 100/s, 3 s left",
    ]
    assert "\r" not in log.getvalue()


def test_a_terminal_sees_one_line_redrawn() -> None:
    clock, screen = Clock(), Terminal()
    line = ProgressLine(screen, 10, clock=clock)
    for done in (2, 4, 10):
        clock.now += 1
        line.update(done)
    line.done()
    text = screen.getvalue()
    assert text.count("\r") == 4 and text.count("\n") == 1 and text.endswith("10/10 members (100%), 3/s\x1b[K\n")

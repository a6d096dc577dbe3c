"""A progress line for long jobs on stderr: count done, rate, time left. Redrawn in place (\\r) on a
terminal; one line every few seconds otherwise, so a CI log shows it is alive without filling up."""
from __future__ import annotations

import time
from typing import TextIO

EVERY_SECONDS = 5.0  # between lines when the stream is no terminal


class ProgressLine:
    def __init__(self, stream: TextIO, total: int, *, unit: str = "members", clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.stream = stream
        self.total = total
        self.unit = unit
        self.clock = clock
        self.started = clock()
        self.tty = stream.isatty()
        self._shown_at = self.started
        self._done = 0

    def elapsed(self) -> float:
        return self.clock() - self.started

    def text(self) -> str:
        elapsed = max(self.elapsed(), 1e-9)
        rate = self._done / elapsed
        left = (self.total - self._done) / rate if rate else float("inf")
        shown_left = f"{left:.0f} s left" if left != float("inf") else "time left unknown"
        percent = 100 * self._done / self.total if self.total else 100
        return f"{self._done:,}/{self.total:,} {self.unit} ({percent:.0f}%), {rate:,.0f}/s, {shown_left}"

    def update(self, done: int, total: int | None = None) -> None:
        self._done = done
        if total is not None:
            self.total = total
        now = self.clock()
        if self.tty:
            self.stream.write("\r" + self.text() + "\033[K")
            self.stream.flush()
        elif now - self._shown_at >= EVERY_SECONDS:
            self._shown_at = now
            self.stream.write(self.text() + "\n")
            self.stream.flush()

    def done(self) -> None:
        """The last figures, on a line of their own."""
        finished = self.text().replace(", 0 s left", "")
        self.stream.write(("\r" + finished + "\033[K\n") if self.tty else finished + "\n")
        self.stream.flush()

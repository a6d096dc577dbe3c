"""A change counter the processes of one supervisor share in memory: whoever publishes a change to the
shared sandbox state writes its version here, and every process compares it with the version it holds
before each request (a read of one machine word), so a change made through one worker is seen by the
next request any other worker serves. Knows no HTTP and nothing of what changed."""
from __future__ import annotations

import ctypes
import mmap
import multiprocessing


class ChangeCounter:
    """Made before the workers are forked: the mapping is shared, not copied, by fork."""

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, 8)  # anonymous and MAP_SHARED: one page every child sees
        self._word = ctypes.c_int64.from_buffer(self._map)
        self._lock = multiprocessing.Lock()  # writers only; an aligned 8-byte read is never torn on x86-64 and arm64

    @property
    def value(self) -> int:
        return self._word.value

    def advance(self, version: int) -> None:
        """Raise the counter to `version` (never lower it: two publishers may finish out of order)."""
        with self._lock:
            if version > self._word.value:
                self._word.value = version


# Set in each worker by gateway/workers.py before its app is made; None in a lone process.
installed: ChangeCounter | None = None


def install(counter: ChangeCounter | None) -> None:
    global installed
    installed = counter

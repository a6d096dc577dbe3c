"""A change counter the processes of one supervisor share in memory: whoever publishes a change to the
shared sandbox state writes its version here, and every process compares it with the version it holds
before each request (a read of one machine word), so a change made through one worker is seen by the
next request any other worker serves. Knows no HTTP and nothing of what changed."""
from __future__ import annotations

import ctypes
import mmap
import multiprocessing


MOST_WORKERS = 256


class ChangeCounter:
    """Made before the workers are forked: the mapping is shared, not copied, by fork. Besides the
    version, one word per worker that only that worker writes: how many journal entries it holds not yet
    written to the store, so a listing can wait for every worker's (see shared_journal.py)."""

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, 8 * (1 + MOST_WORKERS))  # anonymous and MAP_SHARED: every child sees it
        self._word = ctypes.c_int64.from_buffer(self._map)
        self._pending = (ctypes.c_int64 * MOST_WORKERS).from_buffer(self._map, 8)
        self._lock = multiprocessing.Lock()  # writers only; an aligned 8-byte read is never torn on x86-64 and arm64
        self.index = 0  # which worker this process is, set by install

    def set_pending(self, count: int) -> None:
        self._pending[self.index] = count

    def pending(self) -> int:
        return sum(self._pending)

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


def install(counter: ChangeCounter | None, index: int = 0) -> None:
    global installed
    installed = counter
    if counter is not None:
        counter.index = index

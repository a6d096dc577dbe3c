"""Vendor rate-limit emulation: a fixed window per (dialect, caller key) on the monotonic wall clock,
never the ledger's clock (freezing ledger time must not freeze the limiter). Off until given a limit.
Names no vendor: each dialect's answer (status, words, default window) comes from its descriptor."""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keys.py imports the sandbox, and the descriptor module imports keys
    from ..dialects.descriptor import RateLimitAnswer


@dataclass
class Limit:
    limit: int
    window_seconds: int
    status: int

    def as_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "window_seconds": self.window_seconds, "status": self.status}


class RateLimits:
    """Per-dialect limits; `check` answers None (go on) or the seconds to wait before retrying."""

    def __init__(self, answers: Mapping[str, RateLimitAnswer] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.answers = dict(answers or {})
        self._limits: dict[str, Limit] = {}
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._clock = clock
        self.refused = 0

    def set(self, dialect: str, limit: int, window_seconds: int) -> None:
        if limit <= 0:
            self._limits.pop(dialect, None)
        else:
            self._limits[dialect] = Limit(limit, window_seconds, self.answers[dialect].status)
        self._windows = {k: v for k, v in self._windows.items() if k[0] != dialect}

    def get(self, dialect: str) -> Limit | None:
        return self._limits.get(dialect)

    def default_window(self, dialect: str) -> int:
        return self.answers[dialect].window_seconds

    def as_json(self) -> dict[str, Any]:
        return {d: (self._limits[d].as_json() if d in self._limits else None) for d in self.answers}

    def message(self, dialect: str) -> str:
        limit = self._limits[dialect]
        return self.answers[dialect].message.format(limit=limit.limit, window=limit.window_seconds)

    def check(self, dialect: str, key: str) -> int | None:
        limit = self._limits.get(dialect)
        if limit is None:
            return None
        now = self._clock()
        start, count = self._windows.get((dialect, key), (now, 0))
        if now - start >= limit.window_seconds:
            start, count = now, 0
            if len(self._windows) > 10_000:  # forget stale callers so memory stays flat
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self._limits.get(k[0], limit).window_seconds}
        if count >= limit.limit:
            self.refused += 1
            return max(1, math.ceil(start + limit.window_seconds - now))
        self._windows[(dialect, key)] = (start, count + 1)
        return None

    def reset_counters(self) -> None:
        self._windows.clear()

"""Per-tenant statistics of upstream exchanges: calls, errors, the last error, latency percentiles over a
bounded window, and whether the upstream is reachable (its last call got an answer). In memory, per
process; knows nothing of HTTP beyond an Exchange."""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..dialects.upstream_transport import Exchange

WINDOW = 1000  # latencies kept per tenant for the percentiles
# Answers that count as errors beside no answer at all: the upstream failing, refusing the gateway's own
# credentials, or asking it to slow down. Other 4xx are the upstream's answer to a client (e.g. too few points).
ERROR_STATUSES = frozenset({401, 403, 429})


def is_error(exchange: Exchange) -> bool:
    return exchange.status is None or exchange.error is not None or exchange.status >= 500 or exchange.status in ERROR_STATUSES


@dataclass
class UpstreamStats:
    calls: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    reachable: bool | None = None  # None until the first call
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))

    def add(self, exchange: Exchange) -> None:
        self.calls += 1
        self.latencies.append(exchange.duration_ms)
        self.reachable = exchange.status is not None
        if is_error(exchange):
            self.errors += 1
            self.last_error = _describe(exchange)
            self.last_error_at = time.time()

    def percentiles(self) -> dict[str, float | None]:
        ordered = sorted(self.latencies)
        return {f"p{p}": _rank(ordered, p) for p in (50, 95, 99)}

    def as_json(self) -> dict[str, Any]:
        return {"reachable": self.reachable, "calls": self.calls, "errors": self.errors, "last_error": self.last_error,
                "latency_ms": self.percentiles()}


def _rank(ordered: list[float], percent: int) -> float | None:
    """Nearest-rank percentile; None with no call yet."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)], 3)


def _describe(exchange: Exchange) -> str:
    what = exchange.error or f"answered {exchange.status}"
    return f"{exchange.method} {exchange.url}: {what}"


class Stats:
    """Statistics by tenant name; a tenant's are dropped when its upstream changes or goes."""

    def __init__(self) -> None:
        self._by_tenant: dict[str, UpstreamStats] = {}

    def add(self, tenant: str, exchange: Exchange) -> None:
        self._by_tenant.setdefault(tenant, UpstreamStats()).add(exchange)

    def of(self, tenant: str) -> UpstreamStats:
        return self._by_tenant.get(tenant) or UpstreamStats()

    def forget(self, tenant: str) -> None:
        self._by_tenant.pop(tenant, None)

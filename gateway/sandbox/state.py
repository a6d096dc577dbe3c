"""The sandbox's in-memory state for one application: the journal, the fault rules, the rate limits."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .faults import FaultBook
from .journal import Journal
from .ratelimit import RateLimits


@dataclass
class Sandbox:
    journal: Journal
    faults: FaultBook = field(default_factory=FaultBook)
    limits: RateLimits = field(default_factory=RateLimits)

    @classmethod
    def from_settings(cls, settings: Any) -> Sandbox:
        sandbox = cls(
            Journal(
                enabled=settings.journal, max_entries=settings.journal_max_entries,
                max_bytes=settings.journal_max_bytes, body_bytes=settings.journal_body_bytes,
            )
        )
        sandbox.limits.set("imonggo", settings.imonggo_rate_limit, settings.imonggo_rate_window_seconds)
        sandbox.limits.set("memberpoints", settings.memberpoints_rate_limit, 60)
        return sandbox

"""The sandbox's in-memory state for one application: the journal, the fault rules, the rate limits.
Names no vendor: the dialects (their names, rate-limit answers and the settings that switch limits on)
come from their descriptors."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keys.py imports this module, and the descriptor module imports keys
    from ..dialects.descriptor import Dialect
from .faults import FaultBook
from .journal import Journal
from .ratelimit import RateLimits


@dataclass
class Sandbox:
    journal: Journal
    faults: FaultBook = field(default_factory=FaultBook)
    limits: RateLimits = field(default_factory=RateLimits)

    @classmethod
    def from_settings(cls, settings: Any, dialects: Sequence[Dialect] = ()) -> Sandbox:
        sandbox = cls(
            Journal(
                enabled=settings.journal, max_entries=settings.journal_max_entries,
                max_bytes=settings.journal_max_bytes, body_bytes=settings.journal_body_bytes,
            ),
            FaultBook(d.name for d in dialects),
            RateLimits({d.name: d.rate_limit for d in dialects}),
        )
        for dialect in dialects:
            answer = dialect.rate_limit
            if answer.settings is not None:
                limit, window = answer.settings
                seconds = answer.window_seconds if window is None else getattr(settings, window)
                sandbox.limits.set(dialect.name, getattr(settings, limit), seconds)
        return sandbox

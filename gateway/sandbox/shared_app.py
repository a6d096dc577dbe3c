"""Whether the sandbox's state lives in this process's memory (one worker, one instance: today's path,
untouched) or in the store (workers > 1, or shared_state for instances on one database), and the parts
the application mounts for the shared one: its Sandbox, its per-request check, its cleanup_ctx step."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..ledger import Ledger
from .shared import CLOCK, FAULTS, LIMITS, SharedClock, SharedFaultBook, SharedRateLimits, SharedState, context
from .shared_journal import JOURNAL, STREAM, SharedJournal
from .state import Sandbox

if TYPE_CHECKING:  # keys.py imports the sandbox, and the descriptor module imports keys
    from ..dialects.descriptor import Dialect


@dataclass(frozen=True)
class SharedSandbox:
    sandbox: Sandbox
    middleware: Any  # the per-request check, first of the root app's middlewares
    context: Callable[[web.Application], AsyncIterator[None]]  # after the ledger's in cleanup_ctx


def wanted(settings: Any) -> bool:
    return settings.workers > 1 or settings.shared_state


def shared_sandbox(settings: Any, dialects: Sequence[Dialect]) -> SharedSandbox | None:
    """The shared sandbox when the settings call for one, else None (keep the in-memory Sandbox)."""
    if not wanted(settings):
        return None
    # Instances on one database have no common memory: they ask the store's version on every request.
    state = SharedState(across_instances=settings.shared_state)
    journal = _journal(state, settings)
    sandbox = Sandbox(journal, SharedFaultBook(state, [d.name for d in dialects]),
                      SharedRateLimits(state, {d.name: d.rate_limit for d in dialects}))
    clock = SharedClock(state)
    bind = context(state, clock, _defaults(settings, dialects, journal))

    async def both(app: web.Application) -> AsyncIterator[None]:
        async for _ in bind(app):
            async for _ in journal.running():
                yield

    return SharedSandbox(sandbox, state.middleware(), both)


def _journal(state: SharedState, settings: Any) -> SharedJournal:
    return SharedJournal(
        state, enabled=settings.journal, max_entries=settings.journal_max_entries,
        max_bytes=settings.journal_max_bytes, body_bytes=settings.journal_body_bytes,
    )


def _defaults(settings: Any, dialects: Sequence[Dialect], journal: SharedJournal) -> dict[str, Any]:
    """The documents a sandbox starts from: the settings' rate limits (named by each dialect's descriptor,
    as Sandbox.from_settings reads them), real time, no rule, the journal on."""
    limits: dict[str, list[int]] = {}
    for dialect in dialects:
        answer = dialect.rate_limit
        if answer.settings is not None:
            limit, window = answer.settings
            limits[dialect.name] = [getattr(settings, limit),
                                    answer.window_seconds if window is None else getattr(settings, window)]
    return {LIMITS: {d: (v if v[0] > 0 else None) for d, v in limits.items()}, CLOCK: {"offset": 0},
            JOURNAL: journal.defaults(), FAULTS: {"next": 1, "rules": []}}


async def start_afresh(ledger: Ledger, settings: Any, dialects: Sequence[Dialect]) -> None:
    """A supervisor's start, as a lone process starts: no rule, no count, real time, an empty journal
    (what a previous run left in the database is gone). Not for instances sharing one database: the
    others are still running on that state."""
    if not wanted(settings) or settings.shared_state:
        return
    for name, document in _defaults(settings, dialects, _journal(SharedState(across_instances=True), settings)).items():
        await ledger.put_shared_document(name, json.dumps(document))
    for prefix in ("fault:", "limit:"):
        await ledger.drop_counters(prefix)
    await ledger.clear_records(STREAM)

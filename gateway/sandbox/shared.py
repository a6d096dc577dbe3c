"""The sandbox state every worker and every instance on one database sees alike: fault rules, rate-limit
settings and counts, and the ledger clock's frozen or shifted state, held as documents and counters in the
store (the ledger's neutral shared operations), with the journal in shared_journal.py. Each request first
compares the version this process holds with the supervisor's change counter (a read of one word) or, for
instances on one database, the store's (one small read), and reloads only when it moved.

Same methods as FaultBook, RateLimits and Clock; those that must reach the store are coroutines, so a
caller awaits `settled(...)` of them, which costs nothing for the in-memory classes. Knows no dialect."""
from __future__ import annotations

import asyncio
import inspect
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web

from ..keys import LEDGER
from ..ledger import Clock, IdGenerator, Ledger
from . import changes
from .faults import FaultBook, FaultRule, parse_rule
from .ratelimit import Limit, RateLimits

T = TypeVar("T")
FAULTS, LIMITS, CLOCK, JOURNAL = "sandbox.faults", "sandbox.limits", "sandbox.clock", "sandbox.journal"


async def settled(value: T | Awaitable[T]) -> T:
    """The value of a sandbox method, awaited when it is a shared one's coroutine."""
    if inspect.isawaitable(value):
        return await value  # type: ignore[no-any-return]
    return value  # type: ignore[return-value]


def _dumps(document: Any) -> str:
    """A document as JSON; the admin API reads numbers as Decimal (10.0 stays 10.0), and so does _loads."""
    return json.dumps(document, default=float)


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


class SharedState:
    """The link between this process's copies and the store: whoever changes a document publishes it
    here; every request checks, and reloads every copy, when anyone has."""

    def __init__(self, *, across_instances: bool) -> None:
        self.across_instances = across_instances  # no supervisor's counter covers every process: ask the store
        self.ledger: Ledger | None = None
        self.version = -1
        self._lock = asyncio.Lock()
        self._appliers: dict[str, Callable[[Any], None]] = {}

    def on(self, name: str, apply: Callable[[Any], None]) -> None:
        self._appliers[name] = apply

    @property
    def store(self) -> Ledger:
        if self.ledger is None:
            raise RuntimeError("the shared sandbox state is not bound to a ledger yet")
        return self.ledger

    async def check(self) -> None:
        """Bring every copy up to date if anyone changed anything since this process last looked."""
        counter = changes.installed
        if counter is not None and not self.across_instances:
            if counter.value == self.version:
                return
        elif await self.store.shared_version() == self.version:
            return
        await self.refresh()

    async def refresh(self) -> None:
        async with self._lock:
            version, documents = await self.store.shared_documents()
            for name, apply in self._appliers.items():
                if name in documents:
                    apply(_loads(documents[name][1]))
            # A change to the sandbox may come with one to the tenants (a reset rebuilds them): their cache
            # is brought up to date too (one read of their epoch when they did not change), so the next
            # request here does not wait out the cache's second to find them.
            await self.store.reload_tenants()
            self.version = version
            if changes.installed is not None:
                changes.installed.advance(version)

    async def update(self, name: str, change: Callable[[Any], tuple[Any, T]], empty: Any) -> T:
        """Apply `change` (document -> (new document, result)) to the stored document as it is now, retried
        if another process wrote it meanwhile; then every copy here is reloaded and the others told."""
        while True:
            _, documents = await self.store.shared_documents()
            seen, text = documents.get(name, (0, None))
            document, result = change(empty if text is None else _loads(text))
            written = await self.store.put_shared_document(name, _dumps(document), if_version=seen)
            if written is not None:
                break
        await self.refresh()
        return result

    def middleware(self) -> Any:
        @web.middleware
        async def shared_state_check(request: web.Request, handler: Any) -> web.StreamResponse:
            await self.check()
            return await handler(request)

        return shared_state_check


class SharedFaultBook(FaultBook):
    """Rules in a document (each kept as the body it was added with, so it is parsed the one way); a rule
    with `times` counts its hits in the store, so it strikes that many times across all workers. `matched`,
    and `hits` of a rule without `times`, count this process's requests only."""

    def __init__(self, state: SharedState, dialects: Sequence[str] = (), seed: int | None = None) -> None:
        super().__init__(dialects, seed)
        self.shared = state
        state.on(FAULTS, self._apply)

    def _apply(self, document: Any) -> None:
        before = self._rules
        self._rules = {}
        for item in document["rules"]:
            rule = parse_rule(item["id"], item["body"], self.dialects)
            if item["id"] in before:
                rule.matched, rule.hits = before[item["id"]].matched, before[item["id"]].hits
            self._rules[rule.id] = rule

    async def add(self, body: Any) -> FaultRule:  # type: ignore[override]
        parse_rule("flt-0", body, self.dialects)  # refused here, before anything is written

        def change(document: Any) -> tuple[Any, str]:
            rule_id = f"flt-{document['next']}"
            return {"next": document["next"] + 1, "rules": [*document["rules"], {"id": rule_id, "body": body}]}, rule_id

        rule_id = await self.shared.update(FAULTS, change, {"next": 1, "rules": []})
        return self._rules.get(rule_id) or parse_rule(rule_id, body, self.dialects)

    async def rules(self) -> list[FaultRule]:  # type: ignore[override]
        """The rules, a counted rule's hits as the store counts them (every worker's)."""
        counted = await self.shared.store.counters("fault:")
        for rule in self._rules.values():
            if rule.times is not None:
                rule.hits = min(counted.get(f"fault:{rule.id}", 0), rule.times)
        return list(self._rules.values())

    async def remove(self, rule_id: str) -> bool:  # type: ignore[override]
        def change(document: Any) -> tuple[Any, bool]:
            kept = [r for r in document["rules"] if r["id"] != rule_id]
            return {**document, "rules": kept}, len(kept) < len(document["rules"])

        return await self.shared.update(FAULTS, change, {"next": 1, "rules": []})

    async def clear(self) -> int:  # type: ignore[override]
        removed = await self.shared.update(
            FAULTS, lambda d: ({**d, "rules": []}, len(d["rules"])), {"next": 1, "rules": []}
        )
        await self.shared.store.drop_counters("fault:")
        return removed

    async def pick(self, *, when: str, dialect: str, tenant: str | None, method: str, path: str) -> FaultRule | None:  # type: ignore[override]
        for rule in list(self._rules.values()):
            if rule.when != when or not rule.matches(dialect=dialect, tenant=tenant, method=method, path=path):
                continue
            rule.matched += 1
            if rule.probability < 1 and self.random.random() >= rule.probability:
                continue
            if rule.times is None:
                rule.hits += 1
                return rule
            _, count = await self.shared.store.count_up(f"fault:{rule.id}", now=0)
            rule.hits = min(count, rule.times)
            if count <= rule.times:
                return rule
        return None


class SharedRateLimits(RateLimits):
    """Limits in a document; each caller's window counted in the store on the wall clock (time.monotonic
    is one machine's), so requests count alike whichever worker or instance serves them."""

    def __init__(self, state: SharedState, answers: Mapping[str, Any]) -> None:
        super().__init__(answers, clock=time.time)
        self.shared = state
        state.on(LIMITS, self._apply)

    def _apply(self, document: Any) -> None:
        self._limits = {d: Limit(v[0], v[1], self.answers[d].status) for d, v in document.items() if v}

    async def set(self, dialect: str, limit: int, window_seconds: int) -> None:  # type: ignore[override]
        value = [limit, window_seconds] if limit > 0 else None
        await self.shared.update(LIMITS, lambda d: ({**d, dialect: value}, None), {})
        await self.shared.store.drop_counters(f"limit:{dialect}:")

    async def check(self, dialect: str, key: str) -> int | None:  # type: ignore[override]
        limit = self._limits.get(dialect)
        if limit is None:
            return None
        now = int(self._clock() * 1000)
        window = limit.window_seconds * 1000
        started, count = await self.shared.store.count_up(f"limit:{dialect}:{key}", now=now, window=window)
        if count <= limit.limit:
            return None
        self.refused += 1
        return max(1, math.ceil((started + window - now) / 1000))

    async def reset_counters(self) -> None:  # type: ignore[override]
        await self.shared.store.drop_counters("limit:")


class SharedClock(Clock):
    """The ledger's clock, frozen or shifted for every process at once: a change is published before it
    is answered, and each process applies what it reads locally, so now() stays a plain call."""

    def __init__(self, state: SharedState) -> None:
        super().__init__()
        self.shared = state
        state.on(CLOCK, self._apply)

    def _apply(self, document: Any) -> None:
        if document.get("frozen"):
            Clock.freeze(self, datetime.fromisoformat(document["frozen"]))
        else:
            Clock.shift(self, timedelta(seconds=float(document.get("offset", 0))))  # stored JSON reads as Decimal

    async def _publish(self, document: dict[str, Any]) -> None:
        await self.shared.update(CLOCK, lambda _: (document, None), {})

    def freeze(self, at: datetime) -> Awaitable[None]:  # type: ignore[override]
        if at.tzinfo is None:
            raise ValueError("a frozen time must carry a timezone")
        return self._publish({"frozen": at.astimezone(timezone.utc).isoformat()})

    def shift(self, offset: timedelta) -> Awaitable[None]:  # type: ignore[override]
        return self._publish({"offset": offset.total_seconds()})

    def reset(self) -> Awaitable[None]:  # type: ignore[override]
        return self._publish({"offset": 0})


def context(state: SharedState, clock: SharedClock, defaults: dict[str, Any]) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup_ctx step (after the ledger's) that binds the shared state to the ledger: the settings'
    rate limits become the document if none is stored yet, the ledger takes the shared clock, and the
    journal's writer starts."""
    async def bind(app: web.Application) -> AsyncIterator[None]:
        ledger = app[LEDGER]
        state.ledger = ledger
        for name, document in defaults.items():
            await ledger.put_shared_document(name, _dumps(document), if_version=0)
        ledger.clock, ledger.ids = clock, IdGenerator(clock)  # the ids' timestamps follow the shared clock too
        await state.refresh()
        yield

    return bind

"""Outgoing deliveries of outbox events: enqueue them (advancing a named cursor in the same
transaction), claim the due ones with a lease (of one channel, in order per label when asked), record
each attempt (and what the receiver answered) and schedule the next with exponential backoff on the
ledger clock. What is sent, and how, is the caller's business."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .core import LedgerBase
from .errors import InvalidArgument, UnknownEntry
from .members import check_page
from .models import Delivery, Event, NewDelivery, Tenant
from .repo import deliveries as delivery_sql
from .repo import events as event_sql
from .repo import rows as row_json
from .store.base import Tx

DELIVERED, PENDING, FAILED, REFUSED = "delivered", "pending", "failed", "refused"
DELIVERY_STATES = (PENDING, DELIVERED, REFUSED, FAILED)


@dataclass(frozen=True)
class SentAttempt:
    """One try of a claimed delivery, as its sender saw it: ok, or the status and/or error it got.
    `outcome`: what the receiver answered besides (kept on the delivery; None keeps the one before).
    `final`: a failure not worth trying again (the receiver refused it for good): the delivery is refused."""

    delivery: int
    claim: str | None
    ok: bool
    status: int | None = None
    error: str | None = None
    outcome: Mapping[str, Any] | None = None
    final: bool = False


class DeliveryOps(LedgerBase):
    async def cursor(self, *, name: str) -> int:
        """The last outbox event id the consumer `name` has taken into account."""
        return await self._read(lambda tx: delivery_sql.cursor(tx, name))

    async def events_for(self, *, consumer: str, limit: int = 200,
                         tenant: Tenant | None = None) -> tuple[int, list[Event]]:
        """The consumer's cursor and the outbox events after it (only the tenant's, given one: what the
        consumer has yet to take into account for it), read in one transaction."""

        async def work(tx: Tx) -> tuple[int, list[Event]]:
            after = await delivery_sql.cursor(tx, consumer)
            return after, await event_sql.events_after(tx, after, limit, None if tenant is None else tenant.id)

        return await self._read(work)

    async def consumer_lag(self, *, consumer: str, channel: str) -> tuple[int, int, bool]:
        """The consumer's cursor, the newest outbox event's id (0 when none), and whether a delivery of `channel`
        is due, read together: whether it has anything to do, without reading or claiming it."""

        async def work(tx: Tx) -> tuple[int, int, bool]:
            due = await delivery_sql.any_due(tx, self.clock.now(), channel)
            return await delivery_sql.cursor(tx, consumer), await event_sql.newest_id(tx), due

        return await self._read(work)

    async def enqueue_deliveries(
        self, *, consumer: str, upto: int, items: Sequence[NewDelivery], seen: Sequence[int] | None = None,
        after: int | None = None,
    ) -> int:
        """Store deliveries and move the consumer's cursor, together; return the new position. An event
        already enqueued (same channel, event and label) is not enqueued twice, so two consumers may
        race. With `seen` (the events from `after` to `upto` the items were made from), the write runs
        alone and the cursor stops before any event in that range that was not seen: generated ids are
        not handed out in commit order, so an event with a smaller id may have committed after the read."""
        position, _ = await self.enqueue_and_claim(consumer=consumer, upto=upto, items=items, seen=seen, after=after)
        return position

    async def enqueue_and_claim(
        self, *, consumer: str, upto: int, items: Sequence[NewDelivery], seen: Sequence[int] | None = None,
        after: int | None = None, limit: int = 0, lease_seconds: float = 60.0, channel: str | None = None,
        in_order: bool = False,
    ) -> tuple[int, list[Delivery]]:
        """enqueue_deliveries, then claim_deliveries up to `limit` (of `channel`, `in_order` alike) in the same
        transaction (one commit where there would be two, so a delivery just enqueued is on its way a round
        trip sooner)."""

        if (seen is None) != (after is None):
            raise InvalidArgument("seen and after go together")

        async def work(tx: Tx) -> tuple[int, list[Delivery]]:
            now = self.clock.now()
            for item in items:
                await delivery_sql.insert(tx, item, now)
            position = upto
            if seen is not None:
                known = set(seen)
                late = [i for i in await delivery_sql.event_ids(tx, after or 0, upto) if i not in known]
                position = min(late, default=upto + 1) - 1
            await delivery_sql.advance(tx, consumer, position)
            claimed = await self._claim_due(tx, limit, lease_seconds, channel, in_order) if limit > 0 else []
            return await delivery_sql.cursor(tx, consumer), claimed

        return await self._commit(work, alone=seen is not None)

    async def claim_deliveries(
        self, *, limit: int = 20, lease_seconds: float = 60.0, channel: str | None = None, in_order: bool = False
    ) -> list[Delivery]:
        """Due deliveries (an expired lease is due again), of `channel` only when given, leased under a new
        claim token: their next try is pushed past the lease so no other worker, in this process or another,
        takes them meanwhile. `in_order`: only the earliest pending delivery of each (channel, label) is due,
        so a label's deliveries reach their receiver one after another, in the order of their events."""
        return await self._commit(lambda tx: self._claim_due(tx, limit, lease_seconds, channel, in_order))

    async def _claim_due(
        self, tx: Tx, limit: int, lease_seconds: float, channel: str | None = None, in_order: bool = False
    ) -> list[Delivery]:
        now = self.clock.now()
        found = await delivery_sql.due(tx, now, limit, channel, in_order)
        if not found:
            return []
        token = self.ids.ksuid("dlc-")  # one per claim: the deliveries it took are recorded against it
        await delivery_sql.lease(tx, [row["id"] for row in found], now + timedelta(seconds=lease_seconds), token)
        return [delivery_sql.to_delivery(row, claim=token) for row in found]

    async def record_attempt(
        self, *, delivery: int, claim: str | None, ok: bool, status: int | None = None, error: str | None = None,
        retry_base_seconds: float = 1.0, max_attempts: int = 8,
    ) -> Delivery | None:
        """One try's outcome, recorded only while `claim` is still the delivery's latest claim and it is
        pending (else None: its lease ran out and another worker took it over, or it was settled).
        Success ends it; a final failure refuses it; any other failure is retried after base x 2^(tries-1)
        seconds until `max_attempts` tries have been made, then the delivery is failed."""
        _check_retry_rule(retry_base_seconds, max_attempts)
        tried = SentAttempt(delivery, claim, ok, status, error)

        async def work(tx: Tx) -> Delivery | None:
            if await delivery_sql.get(tx, delivery) is None:
                raise InvalidArgument(f"no delivery {delivery}")
            (recorded,) = await self._record_attempts(tx, [tried], retry_base_seconds, max_attempts)
            return await delivery_sql.with_history(tx, await delivery_sql.get(tx, delivery)) if recorded else None

        return await self._commit(work)

    async def record_attempts(
        self, *, attempts: Sequence[SentAttempt], retry_base_seconds: float = 1.0, max_attempts: int = 8
    ) -> list[bool]:
        """Many tries' outcomes in one transaction, each by record_attempt's rule; for each, whether it
        was recorded (False: its claim is no longer the latest, or the delivery is settled or gone)."""
        _check_retry_rule(retry_base_seconds, max_attempts)
        if not attempts:
            return []
        return await self._commit(lambda tx: self._record_attempts(tx, attempts, retry_base_seconds, max_attempts))

    async def _record_attempts(
        self, tx: Tx, attempts: Sequence[SentAttempt], retry_base_seconds: float, max_attempts: int
    ) -> list[bool]:
        rows = await delivery_sql.claim_states(tx, sorted({a.delivery for a in attempts}))
        now = self.clock.now()
        recorded = []
        tries: list[delivery_sql.Try] = []
        for tried in attempts:
            row = rows.get(tried.delivery)
            if row is None or row["claim"] != tried.claim or row["state"] != PENDING:
                recorded.append(False)
                continue
            number = row["attempts"] + 1
            if tried.ok:
                state, next_at = DELIVERED, now
            elif tried.final:
                state, next_at = REFUSED, now
            elif number >= max_attempts:
                state, next_at = FAILED, now
            else:
                state, next_at = PENDING, now + timedelta(seconds=retry_base_seconds * 2 ** (number - 1))
            outcome = None if tried.outcome is None else row_json.dumps(tried.outcome)
            tries.append((tried.delivery, number, tried.status, tried.error, state, next_at, outcome))
            rows[tried.delivery] = {"claim": row["claim"], "state": state, "attempts": number}
            recorded.append(True)
        await delivery_sql.record_many(tx, now, tries)
        return recorded

    async def redeliver(self, *, delivery: int, channels: Sequence[str]) -> Delivery:
        """Send a delivery of one of `channels` again now, whatever its state; its attempts so far are kept.
        A delivery of another channel is unknown here: its sender may not take a resend (a write applied twice)."""

        async def work(tx: Tx) -> Delivery:
            row = await delivery_sql.get(tx, delivery)
            if row is None or row["channel"] not in channels:
                raise UnknownEntry(f"no delivery {delivery}")
            await delivery_sql.reopen(tx, delivery, self.clock.now())
            return await delivery_sql.with_history(tx, await delivery_sql.get(tx, delivery))

        return await self._commit(work)

    async def deliveries(
        self, *, tenant: Tenant | None = None, channel: str | Sequence[str] | None = None,
        states: Sequence[str] | None = None, offset: int = 0, limit: int = 200,
    ) -> list[Delivery]:
        """Deliveries with every attempt, oldest first; of one channel (or any of several) and in some states
        only, when given."""
        check_page(offset, limit)
        if states is not None and any(s not in DELIVERY_STATES for s in states):
            raise InvalidArgument(f"a delivery's state is one of {', '.join(DELIVERY_STATES)}")
        return await self._read(
            lambda tx: delivery_sql.listing(tx, None if tenant is None else tenant.id, offset, limit, channel, states)
        )

    async def delivery_by_key(self, *, tenant: Tenant, channel: str, key: str) -> Delivery | None:
        """The tenant's delivery on `channel` under the receiver-side key `key` (the latest, should there be
        several), with its attempts; None when there is none."""
        return await self._read(lambda tx: delivery_sql.by_key(tx, tenant.id, channel, key))

    async def delivery_counts(self, *, tenant: Tenant, channel: str) -> dict[str, Any]:
        """{state: how many} for the tenant's deliveries on `channel` (every state present, 0 when none), and
        "oldest_pending_at": when the oldest still pending was enqueued (None when none is)."""
        found = await self._read(lambda tx: delivery_sql.counts(tx, tenant.id, channel))
        return {**{state: 0 for state in DELIVERY_STATES}, **found}


def _check_retry_rule(retry_base_seconds: float, max_attempts: int) -> None:
    if max_attempts < 1 or retry_base_seconds < 0:
        raise InvalidArgument("max_attempts must be at least 1 and the retry base not negative")

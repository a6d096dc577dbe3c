"""Outgoing deliveries of outbox events: enqueue them (advancing a named cursor in the same
transaction), claim the due ones with a lease, record each attempt and schedule the next with
exponential backoff on the ledger clock. What is sent, and how, is the caller's business."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from .core import LedgerBase
from .errors import InvalidArgument, UnknownEntry
from .members import check_page
from .models import Delivery, NewDelivery, Tenant
from .repo import deliveries as delivery_sql
from .store.base import Tx

DELIVERED, PENDING, FAILED = "delivered", "pending", "failed"


class DeliveryOps(LedgerBase):
    async def cursor(self, *, name: str) -> int:
        """The last outbox event id the consumer `name` has taken into account."""
        return await self._read(lambda tx: delivery_sql.cursor(tx, name))

    async def enqueue_deliveries(self, *, consumer: str, upto: int, items: Sequence[NewDelivery]) -> None:
        """Store deliveries and move the consumer's cursor to `upto`, together. An event already
        enqueued (same channel, event and label) is not enqueued twice."""

        async def work(tx: Tx) -> None:
            now = self.clock.now()
            for item in items:
                await delivery_sql.insert(tx, item, now)
            await delivery_sql.advance(tx, consumer, upto)

        await self.store.write(work)

    async def claim_deliveries(self, *, limit: int = 20, lease_seconds: float = 60.0) -> list[Delivery]:
        """Due deliveries, each leased (its next try pushed past the lease) so no other worker takes it."""

        async def work(tx: Tx) -> list[Delivery]:
            now = self.clock.now()
            rows = await delivery_sql.due(tx, now, limit)
            for row in rows:
                await delivery_sql.set_next(tx, row["id"], now + timedelta(seconds=lease_seconds))
            return [delivery_sql.to_delivery(r) for r in rows]

        return await self.store.write(work)

    async def record_attempt(
        self, *, delivery: int, ok: bool, status: int | None = None, error: str | None = None,
        retry_base_seconds: float = 1.0, max_attempts: int = 8,
    ) -> Delivery:
        """One try's outcome. Success ends it; a failure is retried after base x 2^(tries-1) seconds
        until `max_attempts` tries have been made, then the delivery is failed."""
        if max_attempts < 1 or retry_base_seconds < 0:
            raise InvalidArgument("max_attempts must be at least 1 and the retry base not negative")

        async def work(tx: Tx) -> Delivery:
            row = await delivery_sql.get(tx, delivery)
            if row is None:
                raise InvalidArgument(f"no delivery {delivery}")
            now = self.clock.now()
            number = row["attempts"] + 1
            if ok:
                state, next_at = DELIVERED, now
            elif number >= max_attempts:
                state, next_at = FAILED, now
            else:
                state, next_at = PENDING, now + timedelta(seconds=retry_base_seconds * 2 ** (number - 1))
            await delivery_sql.record(tx, delivery, number, now, status, error, state, next_at)
            return await delivery_sql.with_history(tx, await delivery_sql.get(tx, delivery))

        return await self.store.write(work)

    async def redeliver(self, *, delivery: int) -> Delivery:
        """Send a delivery again now, whatever its state; its attempts so far are kept."""

        async def work(tx: Tx) -> Delivery:
            row = await delivery_sql.get(tx, delivery)
            if row is None:
                raise UnknownEntry(f"no delivery {delivery}")
            await delivery_sql.reopen(tx, delivery, self.clock.now())
            return await delivery_sql.with_history(tx, await delivery_sql.get(tx, delivery))

        return await self.store.write(work)

    async def deliveries(self, *, tenant: Tenant | None = None, offset: int = 0, limit: int = 200) -> list[Delivery]:
        """Deliveries with every attempt, oldest first."""
        check_page(offset, limit)
        return await self._read(
            lambda tx: delivery_sql.listing(tx, None if tenant is None else tenant.id, offset, limit)
        )

"""The outbox cursor across processes: PostgreSQL hands out ids when rows are inserted, not when they
commit, so an event with a smaller id can become visible after a larger one has been read. The cursor
must stop before it rather than skip it; the write that moves it waits for every writer in flight."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import asyncpg
import pytest

from gateway.ledger import Ledger, NewDelivery, open_store


async def test_an_event_committed_after_a_later_one_was_read_is_not_skipped(pg_url: str) -> None:
    ledger = Ledger(open_store(pg_url))
    await ledger.start()
    other = await asyncpg.connect(pg_url)  # another instance, its write transaction still open
    try:
        tenant = await ledger.create_tenant(name="shop")
        member = await ledger.create_member(tenant=tenant, name="M", customer_no=1)
        after = (await ledger.events())[-1].id if await ledger.events() else 0
        await ledger.enqueue_deliveries(consumer="c", upto=after, items=[])
        await other.execute("BEGIN ISOLATION LEVEL SERIALIZABLE; LOCK TABLE write_lane IN ROW SHARE MODE")
        early = await other.fetchval(
            "INSERT INTO outbox (tenant_id, topic, entry_id, payload, created_at)"
            " VALUES ($1, 'late', NULL, '{}', '2026-01-01 00:00:00.000000') RETURNING id", tenant.id,
        )
        await ledger.credit(tenant=tenant, member=member, amount=Decimal("5.00"))  # commits a larger id
        read = await ledger.events(after=after, limit=200)
        assert early not in [e.id for e in read] and read and read[-1].id > early
        item = NewDelivery(tenant.id, read[-1].id, "test", "x", "http://127.0.0.1:1/", "k", "{}")
        moving = asyncio.create_task(ledger.enqueue_deliveries(
            consumer="c", upto=read[-1].id, items=[item], after=after, seen=[e.id for e in read]
        ))
        await asyncio.sleep(0.3)
        assert not moving.done()  # it waits for the other instance's transaction to end
        await other.execute("COMMIT")
        position = await asyncio.wait_for(moving, timeout=10)
        assert position == early - 1 == await ledger.cursor(name="c")  # stopped before the late event
        assert early in [e.id for e in await ledger.events(after=position)]
        assert len(await ledger.deliveries()) == 1  # what was seen is enqueued; re-enqueueing it is a no-op
    finally:
        await other.close()
        await ledger.close()


@pytest.mark.parametrize("missing", [0, 1])
async def test_the_cursor_stops_before_the_first_event_it_was_not_shown(ledger: Ledger, missing: int) -> None:
    tenant = await ledger.create_tenant(name="shop")
    member = await ledger.create_member(tenant=tenant, name="M", customer_no=1)
    start = await ledger.cursor(name="c")
    for _ in range(3):
        await ledger.credit(tenant=tenant, member=member, amount=Decimal("1.00"))
    events = [e.id for e in await ledger.events(after=start)]
    shown = [i for n, i in enumerate(events) if n != missing]
    position = await ledger.enqueue_deliveries(consumer="c", upto=events[-1], items=[], after=start, seen=shown)
    assert position == events[missing] - 1
    assert await ledger.enqueue_deliveries(consumer="c", upto=events[-1], items=[], after=start, seen=events) == events[-1]

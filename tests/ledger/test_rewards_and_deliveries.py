"""Purchase rewards held for several assets in one transaction and resolved together at most once;
deliveries: enqueue with the cursor, lease on claim, backoff on the ledger clock, survival of a restart."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from gateway.ledger import (
    AlreadyResolved,
    Asset,
    DuplicateReference,
    InsufficientFunds,
    Kind,
    Ledger,
    Member,
    NewDelivery,
    Tenant,
    UnknownEntry,
    open_store,
)

REWARDS = {Asset.POINTS: Decimal("150.00"), Asset.CASHBACK: Decimal("7.50")}
REFS = {Asset.POINTS: "lye-p", Asset.CASHBACK: "lye-c"}


async def _hold(ledger: Ledger, tenant: Tenant, member: Member, reference: str = "ctx-1") -> None:
    await ledger.hold_many(tenant=tenant, member=member, amounts=REWARDS, reference=reference,
                           public_refs={a: f"{r}-{reference}" for a, r in REFS.items()}, value=Decimal("1500"))


async def test_a_purchase_holds_every_reward_pending_and_unspendable(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    await _hold(ledger, tenant, member)
    balance = await ledger.balance(tenant=tenant, member=member)
    assert (balance[Asset.POINTS].posted, balance[Asset.POINTS].pending) == (Decimal("100.00"), Decimal("150.00"))
    assert (balance[Asset.CASHBACK].posted, balance[Asset.CASHBACK].pending) == (Decimal("0.00"), Decimal("7.50"))
    with pytest.raises(InsufficientFunds):
        await ledger.debit(tenant=tenant, member=member, amount=Decimal("100.01"))
    events = await ledger.events()
    assert [e.topic for e in events][-2:] == ["entry.created", "entry.created"]
    with pytest.raises(DuplicateReference):
        await _hold(ledger, tenant, member)


async def test_confirm_credits_all_then_a_second_resolution_changes_nothing(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    await _hold(ledger, tenant, member)
    moved = await ledger.confirm_reference(tenant=tenant, reference="ctx-1")
    assert sorted(m.entry.asset.value for m in moved) == ["cashback", "points"]
    before = await ledger.balance(tenant=tenant, member=member)
    assert before[Asset.POINTS].posted == Decimal("250.00") and before[Asset.CASHBACK].posted == Decimal("7.50")
    count = len(await ledger.events(limit=1000))
    with pytest.raises(AlreadyResolved):
        await ledger.confirm_reference(tenant=tenant, reference="ctx-1")
    assert len(await ledger.events(limit=1000)) == count
    assert await ledger.balance(tenant=tenant, member=member) == before


async def test_cancel_after_confirm_reverses_clamped_when_spent(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    await _hold(ledger, tenant, member)
    await ledger.confirm_reference(tenant=tenant, reference="ctx-1")
    await ledger.debit(tenant=tenant, member=member, amount=Decimal("200.00"))
    moved = await ledger.cancel_reference(tenant=tenant, reference="ctx-1")
    assert {m.entry.asset: m.entry.amount for m in moved} == {Asset.POINTS: Decimal("-50.00"), Asset.CASHBACK: Decimal("-7.50")}
    assert all(m.entry.kind is Kind.REVERSAL for m in moved)
    with pytest.raises(AlreadyResolved):
        await ledger.cancel_reference(tenant=tenant, reference="ctx-1")
    with pytest.raises(AlreadyResolved):
        await ledger.confirm_reference(tenant=tenant, reference="ctx-1")


async def test_cancel_while_pending_releases_the_hold(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    await _hold(ledger, tenant, member)
    await ledger.cancel_reference(tenant=tenant, reference="ctx-1")
    balance = await ledger.balance(tenant=tenant, member=member)
    assert balance[Asset.POINTS].pending == 0 and balance[Asset.POINTS].posted == Decimal("100.00")
    with pytest.raises(UnknownEntry):
        await ledger.confirm_reference(tenant=tenant, reference="ctx-unknown")


def _item(tenant: Tenant, event_id: int, label: str = "sent") -> NewDelivery:
    return NewDelivery(tenant.id, event_id, "test", label, "http://127.0.0.1:1/", f"k-{event_id}", '{"a":1}')


async def test_deliveries_back_off_exponentially_on_the_ledger_clock_then_fail(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ledger.clock.freeze(start)
    event = (await ledger.events())[-1]
    await ledger.enqueue_deliveries(consumer="c", upto=event.id, items=[_item(tenant, event.id)])
    await ledger.enqueue_deliveries(consumer="c", upto=event.id, items=[_item(tenant, event.id)])  # no duplicate
    assert await ledger.cursor(name="c") == event.id
    waits = []
    for attempt in range(1, 5):
        (claimed,) = await ledger.claim_deliveries(lease_seconds=30)
        assert await ledger.claim_deliveries() == []  # leased
        done = await ledger.record_attempt(delivery=claimed.id, claim=claimed.claim, ok=False, status=500, retry_base_seconds=2, max_attempts=4)
        assert done.attempts == attempt and [a.status for a in done.history] == [500] * attempt
        if attempt < 4:
            waits.append((done.next_at - ledger.clock.now()).total_seconds())
            ledger.clock.freeze(done.next_at)
    assert waits == [2, 4, 8]
    assert done.state == "failed" and await ledger.claim_deliveries() == []


async def test_deliveries_survive_a_restart(store_url: str) -> None:
    first = Ledger(open_store(store_url))
    await first.start()
    tenant = await first.create_tenant(name="t")
    await first.enqueue_deliveries(consumer="c", upto=0, items=[_item(tenant, None, "a")])
    await first.close()
    again = Ledger(open_store(store_url))
    await again.start()
    try:
        (pending,) = await again.claim_deliveries()
        delivered = await again.record_attempt(delivery=pending.id, claim=pending.claim, ok=True, status=204)
        assert delivered.state == "delivered" and (await again.deliveries())[0].history[0].status == 204
        assert (await again.audit()).ok
    finally:
        await again.close()


async def test_a_tenant_reset_takes_its_deliveries_along(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    await ledger.enqueue_deliveries(consumer="c", upto=1, items=[_item(tenant, 1)])
    await ledger.delete_tenants(tenants=[tenant])
    assert await ledger.deliveries() == []


async def test_a_worker_whose_lease_ran_out_cannot_record_over_the_new_owner(ledger: Ledger, tenant: Tenant) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ledger.clock.freeze(start)
    await ledger.enqueue_deliveries(consumer="c", upto=0, items=[_item(tenant, None, "a")])
    (slow,) = await ledger.claim_deliveries(lease_seconds=30)
    ledger.clock.freeze(start + timedelta(seconds=31))  # the lease ran out: the delivery is due again
    (taker,) = await ledger.claim_deliveries(lease_seconds=30)
    assert taker.id == slow.id and taker.claim != slow.claim and slow.claim is not None
    assert await ledger.record_attempt(delivery=slow.id, claim=slow.claim, ok=False, status=500) is None
    done = await ledger.record_attempt(delivery=taker.id, claim=taker.claim, ok=True, status=200)
    assert done is not None and done.state == "delivered" and [a.status for a in done.history] == [200]
    assert await ledger.record_attempt(delivery=taker.id, claim=taker.claim, ok=True, status=200) is None  # settled

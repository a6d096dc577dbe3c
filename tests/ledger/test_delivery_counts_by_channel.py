"""Every tenant's deliveries counted by channel and state in one read (what a metrics scrape asks): the same
totals as asking each tenant in turn, the oldest pending one across tenants, deleted tenants' deliveries
gone with them, and one statement whether there is one tenant or many, on every store."""
from __future__ import annotations

from decimal import Decimal

from gateway.ledger import DELIVERY_STATES, Credential, Ledger, Member, SentAttempt, Tenant
from tests.ledger.delivery_items import events, item


async def _tenant_with_member(ledger: Ledger, name: str) -> tuple[Tenant, Member]:
    tenant = await ledger.create_tenant(name=name, credentials=[Credential("imonggo", f"token-{name}")], config={})
    await ledger.upsert_programme(tenant=tenant, number=1, name="Base", spend_ratio=Decimal("200"),
                                  earn_unit=Decimal("10"))
    member = await ledger.create_member(tenant=tenant, name="M", customer_no=1, programme_no=1, card_refs=[f"c-{name}"])
    return tenant, member


def _statements(ledger: Ledger) -> list[str]:
    seen: list[str] = []
    ledger.store.observer = lambda kind, sql: seen.append(sql) if sql != "BEGIN" else None
    return seen


async def test_counts_by_channel_are_every_tenants_counts_summed(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    other, someone = await _tenant_with_member(ledger, "t2")
    mine = await events(ledger, tenant, member, 3)
    theirs = await events(ledger, other, someone, 2)
    await ledger.enqueue_deliveries(consumer="c", upto=max(mine + theirs), items=[
        item(tenant, mine[0], "a"), item(tenant, mine[1], "b"), item(tenant, mine[2], "a", channel="elsewhere"),
        item(other, theirs[0], "x"), item(other, theirs[1], "y")])
    claimed = [d for d in await ledger.claim_deliveries(limit=10, channel="shadow") if d.event_id in (mine[0], theirs[0])]
    await ledger.record_attempts(attempts=[SentAttempt(d.id, d.claim, True) for d in claimed])

    counted = await ledger.delivery_counts_by_channel()
    assert set(counted) == {"shadow", "elsewhere"}
    for channel, counts in counted.items():
        each = [await ledger.delivery_counts(tenant=t, channel=channel) for t in (tenant, other)]
        assert {s: counts[s] for s in DELIVERY_STATES} == {s: sum(c[s] for c in each) for s in DELIVERY_STATES}
        pending = [c["oldest_pending_at"] for c in each if c["oldest_pending_at"] is not None]
        assert counts["oldest_pending_at"] == (min(pending) if pending else None)
    assert (counted["shadow"]["delivered"], counted["shadow"]["pending"]) == (2, 2)
    assert counted["elsewhere"] == {**dict.fromkeys(DELIVERY_STATES, 0), "pending": 1,
                                    "oldest_pending_at": counted["elsewhere"]["oldest_pending_at"]}
    assert counted["elsewhere"]["oldest_pending_at"] is not None

    await ledger.delete_tenants(tenants=[other])
    assert (await ledger.delivery_counts_by_channel())["shadow"]["delivered"] == 1


async def test_no_delivery_is_no_channel(ledger: Ledger) -> None:
    assert await ledger.delivery_counts_by_channel() == {}


async def test_counting_is_one_statement_however_many_tenants(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    seen = _statements(ledger)
    try:
        await ledger.delivery_counts_by_channel()
        with_one = len(seen)
        for n in range(2, 8):
            await _tenant_with_member(ledger, f"t{n}")
        seen.clear()
        await ledger.delivery_counts_by_channel()
        assert len(seen) == with_one == 1, seen
    finally:
        ledger.store.observer = None

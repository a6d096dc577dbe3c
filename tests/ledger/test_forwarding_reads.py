"""Reads of an upstream tenant cost what a careful client would spend: a balance is one upstream read for
every asset, a listing keeps at most 8 reads in flight at once; intents are counted, not listed; and a
tenant whose upstream writes are not settled is neither deleted nor reset (they would vanish with it)."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from gateway.ledger import Asset, Credential, Ledger, Member, PendingUpstreamWrites, Tenant, UpstreamUnavailable
from tests.ledger.fake_upstream import FakeUpstream

P = Asset.POINTS


@pytest.fixture
def fake() -> FakeUpstream:
    return FakeUpstream()


@pytest.fixture
async def up(ledger: Ledger, fake: FakeUpstream) -> Tenant:
    tenant = await ledger.create_tenant(name="up", credentials=[Credential("imonggo", "token-up")])
    ledger.bind_upstreams(lambda t: fake if t.id == tenant.id else None, settle_budget=1.0)
    ledger.mark_ready(tenant)
    return tenant


@pytest.fixture
async def juan(ledger: Ledger, up: Tenant, fake: FakeUpstream) -> Member:
    created = await ledger.create_member(tenant=up, name="Juan", upstream_ref="usr-9")
    fake.kept[("usr-9", P)] = Decimal("100.00")
    fake.kept[("usr-9", Asset.MILES)] = Decimal("7.50")
    return created


async def test_a_balance_is_one_upstream_read_for_every_asset(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    found = await ledger.balance(tenant=up, member=juan)
    assert fake.balance_reads == ["usr-9"]
    assert (found[P].posted, found[Asset.MILES].posted, found[Asset.CASHBACK].posted) == (
        Decimal("100.00"), Decimal("7.50"), Decimal("0.00"))


async def test_a_listing_keeps_at_most_eight_upstream_reads_in_flight(
    ledger: Ledger, up: Tenant, fake: FakeUpstream
) -> None:
    for n in range(20):
        await ledger.create_member(tenant=up, name=f"M{n}", upstream_ref=f"m-{n}")
        fake.kept[(f"m-{n}", P)] = Decimal(n)
    now, most = 0, 0

    def counting(read):
        async def counted(*args):
            nonlocal now, most
            now += 1
            most = max(most, now)
            try:
                await asyncio.sleep(0.01)
                return await read(*args)
            finally:
                now -= 1
        return counted

    fake.balance, fake.balances = counting(fake.balance), counting(fake.balances)  # type: ignore[method-assign]
    page = await ledger.balances(tenant=up)
    assert [r.balance for r in page.items] == [Decimal(n).quantize(Decimal("0.01")) for n in range(20)]
    assert most == 8 and len(fake.balance_reads) == 20


async def unsettled_debit(ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream) -> None:
    fake.settles, fake.drop_next = False, 1
    with pytest.raises(UpstreamUnavailable):
        await ledger.debit(tenant=up, member=juan, amount=Decimal("30"))


async def test_intents_are_counted_by_state(ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream) -> None:
    assert await ledger.count_intents(tenant=up) == 0
    await unsettled_debit(ledger, up, juan, fake)
    await ledger.credit(tenant=up, member=juan, amount=Decimal("1"))
    assert await ledger.count_intents(tenant=up) == 1  # open or unsettled, by default
    assert await ledger.count_intents(tenant=up, states=("applied",)) == 1
    assert await ledger.count_intents(states=("unsettled", "applied")) == 2  # every tenant


async def test_a_tenant_with_writes_not_settled_is_not_deleted_until_they_are(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    await unsettled_debit(ledger, up, juan, fake)
    other = await ledger.create_tenant(name="other", credentials=[Credential("imonggo", "token-other")])
    with pytest.raises(PendingUpstreamWrites, match=r"tenant up: 0 open, 1 unsettled.*would lose them") as caught:
        await ledger.delete_tenants(tenants=[other, up])
    assert caught.value.details == {"tenants": {"up": {"open": 0, "unsettled": 1}}, "open": 0, "unsettled": 1}
    with pytest.raises(PendingUpstreamWrites):
        await ledger.check_deletable(tenants=[up])
    assert {t.name for t in await ledger.tenants()} == {"up", "other"}  # refused whole: nothing deleted
    await ledger.check_deletable(tenants=[other])
    [intent] = await ledger.intents(tenant=up)
    await ledger.settle_intent(intent_id=intent.id, applied=False, by="ops")
    await ledger.delete_tenants(tenants=[other, up])
    assert await ledger.tenants() == []

"""One worker at a time on an open intent, whoever and wherever it is: a client's retry racing the settler,
two gateway instances on one database, a sender whose intent someone else closed meanwhile, a resend still
on its way when another worker looks, a restart after a crash that left its claim behind. The fake upstream
is keyless here (like memberpoints): a write sent twice is applied twice, so a double shows."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from gateway.ledger import (
    Asset,
    Credential,
    IdempotencyInFlight,
    Ledger,
    Member,
    Movement,
    Outcome,
    Tenant,
    UpstreamUnavailable,
    open_store,
)
from gateway.ledger import claims
from gateway.ledger.repo import intents as intent_sql
from tests.ledger.fake_upstream import Crash, FakeUpstream
from tests.ledger.test_forwarding_settle import keyed, recorded

P = Asset.POINTS


@pytest.fixture
def fake() -> FakeUpstream:
    return FakeUpstream(keyless=True)


@pytest.fixture
async def up(ledger: Ledger, fake: FakeUpstream) -> Tenant:
    tenant = await ledger.create_tenant(name="up", credentials=[Credential("memberpoints", "api-up", "k")])
    bind(ledger, tenant, fake)
    return tenant


def bind(ledger: Ledger, tenant: Tenant, port: FakeUpstream) -> None:
    ledger.bind_upstreams(lambda t: port if t.id == tenant.id else None, settle_budget=1.0)
    ledger.mark_ready(tenant)


@pytest.fixture
async def juan(ledger: Ledger, up: Tenant, fake: FakeUpstream) -> Member:
    created = await ledger.create_member(tenant=up, name="Juan", upstream_ref="mbr-9")
    fake.kept[("mbr-9", P)] = Decimal("100.00")
    return created


async def left_unavailable(ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream, key: str | None) -> None:
    """A credit whose request was lost and whose upstream went away before it could be asked: the client
    hears "unavailable", the intent stays open, nothing was applied. Then the upstream is back, answering
    slowly enough that two workers overlap, and the grace after the send has passed."""
    fake.lose_next = 1
    original = fake.settle

    async def gone(forward):
        fake.down = True
        return await original(forward)

    fake.settle = gone  # type: ignore[method-assign]
    with pytest.raises(UpstreamUnavailable):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=key and keyed(key))

    async def slow(forward):
        await asyncio.sleep(0.05)
        return await original(forward)

    fake.settle, fake.down = slow, False  # type: ignore[method-assign]
    await asyncio.sleep(0.55)  # half the budget since the send: "not applied" is believed
    assert not fake.writes


async def test_a_client_retry_racing_the_settler_on_one_intent_carries_it_out_once(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    await left_unavailable(ledger, up, juan, fake, "k1")
    settled, retried = await asyncio.gather(
        ledger.settle_open(tenant=up),
        ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k1")),
        return_exceptions=True,
    )
    # Whoever got the claim carried it out; the other left it alone (a busy retry is told so, never an
    # internal "settled meanwhile").
    assert settled in ({"applied": 1}, {"open": 1}), settled
    assert isinstance(retried, (Outcome, IdempotencyInFlight)), retried
    again: Outcome = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k1"))
    assert again.replayed and again.response == b"5.00|105.00"
    assert sum(fake.writes.values()) == 1 and fake.figure("mbr-9") == Decimal("105.00")
    assert await recorded(ledger, up, juan) == [Decimal("5.00")]


async def test_two_instances_on_one_database_carry_an_intent_out_once(
    ledger: Ledger, store_url: str, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    await left_unavailable(ledger, up, juan, fake, "k2")
    other = Ledger(open_store(store_url))
    await other.start()
    try:
        bind(other, up, fake)
        answers = await asyncio.gather(
            ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k2")),
            other.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k2")),
            return_exceptions=True,
        )
        assert sorted(type(a).__name__ for a in answers) == ["IdempotencyInFlight", "Outcome"], answers
        assert await other.settle_open(tenant=up) == {}
    finally:
        await other.close()
    assert sum(fake.writes.values()) == 1 and await recorded(ledger, up, juan) == [Decimal("5.00")]


async def test_an_apply_that_succeeds_after_someone_closed_the_intent_is_recorded_applied(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    release = asyncio.Event()
    original = fake.apply

    async def slow(forward):
        await release.wait()
        return await original(forward)

    fake.apply = slow  # type: ignore[method-assign]
    sending = asyncio.ensure_future(ledger.credit(tenant=up, member=juan, amount=Decimal("5")))
    await asyncio.sleep(0.05)
    [intent] = await ledger.intents(tenant=up)
    now = ledger.clock.now()
    await ledger.store.write(  # another worker (its lease long over, say) believed it never applied
        lambda tx: intent_sql.finish(tx, intent.id, state="not_applied", answered=None, outcome={}, now=now)
    )
    release.set()
    moved = await sending  # the upstream's word wins: no "settled meanwhile" for the client
    assert isinstance(moved, Movement) and moved.balance.posted == Decimal("105.00")
    assert (await ledger.intent(intent_id=intent.id)).state == "applied"
    assert await recorded(ledger, up, juan) == [Decimal("5.00")]


async def test_a_resend_still_on_its_way_is_not_taken_for_never_applied_by_the_settler(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.lose_next = 1  # the first request is lost; the resend times out and lands 0.3 s later
    fake.late_next = 0.3
    with pytest.raises(UpstreamUnavailable):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert len(fake.apply_calls) == 2
    # The intent is older than the grace, its resend is not: the stored sending time says so.
    assert await ledger.settle_open(tenant=up) == {"open": 1}
    await asyncio.sleep(0.6)
    assert await ledger.settle_open(tenant=up) == {"applied": 1}
    assert sum(fake.writes.values()) == 1 and len(fake.apply_calls) == 2
    assert await recorded(ledger, up, juan) == [Decimal("5.00")]


async def test_a_restart_waits_out_the_claim_a_crashed_process_left_before_settling_it(
    ledger: Ledger, store_url: str, up: Tenant, juan: Member, fake: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = intent_sql.release

    async def dead(tx, intent_id, token):  # a killed process releases nothing: its lease has to run out
        return None

    monkeypatch.setattr(intent_sql, "release", dead)
    monkeypatch.setattr(claims, "LEASE_SECONDS", 2.0)  # the crashed process's lease, shortened for the test
    fake.crash_next = "after"
    with pytest.raises(Crash):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    monkeypatch.setattr(intent_sql, "release", release)
    restarted = Ledger(open_store(store_url))
    await restarted.start()
    try:
        restarted.bind_upstreams(lambda t: fake if t.id == up.id else None, settle_budget=1.0)
        assert await restarted.settle_open(tenant=up) == {"applied": 1}  # after the lease (2 s) ran out
        assert restarted.upstream_ready(up)
    finally:
        await restarted.close()
    assert sum(fake.writes.values()) == 1 and await recorded(ledger, up, juan) == [Decimal("5.00")]


async def test_the_settler_leaves_alone_an_intent_whose_sender_outlasts_its_lease_renewing_it(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claims, "LEASE_SECONDS", 0.2)  # renewed every 0.07 s while the sender waits
    release = asyncio.Event()
    original = fake.apply

    async def slow(forward):  # the sender's request hangs; any other goes through at once
        if not fake.apply_calls:
            fake.apply_calls.append("held")
            await release.wait()
            fake.apply_calls.remove("held")
        return await original(forward)

    fake.apply = slow  # type: ignore[method-assign]
    sending = asyncio.ensure_future(ledger.credit(tenant=up, member=juan, amount=Decimal("5")))
    await asyncio.sleep(0.7)  # past the grace and three leases: only the renewed claim keeps the settler off
    assert await asyncio.wait_for(ledger.settle_open(tenant=up), 5) == {"open": 1}
    assert fake.settle_calls == []  # not even asked about: the sender is still waiting for its answer
    release.set()
    await sending
    assert sum(fake.writes.values()) == 1 and len(fake.apply_calls) == 1


async def test_a_retry_of_a_write_an_upstream_cannot_settle_is_told_a_person_settles_it(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.settles, fake.crash_next = False, "after"  # like imonggo: never asked, never resent
    with pytest.raises(Crash):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k9"))
    with pytest.raises(UpstreamUnavailable, match="listed for a person to settle"):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k9"))
    assert len(fake.apply_calls) == 1 and (await ledger.intents(tenant=up))[0].state == "unsettled"


def test_every_upstream_error_that_proves_nothing_was_applied_is_named_in_one_place() -> None:
    from gateway.ledger import UpstreamCredentialsRefused, UpstreamFailed, UpstreamRateLimited, UpstreamTimeout
    from gateway.ledger.claims import surely_not_applied

    assert surely_not_applied(UpstreamFailed("refused the connection", sent=False))
    assert surely_not_applied(UpstreamRateLimited("slow down", sent=True, retry_after=3))
    assert surely_not_applied(UpstreamCredentialsRefused("401", sent=True))
    assert not surely_not_applied(UpstreamTimeout("no answer", sent=True))
    assert not surely_not_applied(UpstreamFailed("dropped", sent=True))

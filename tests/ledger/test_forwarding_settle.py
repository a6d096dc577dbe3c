"""Exactly once through every failure: a dropped answer is settled to the real result before the client
hears anything; a lost request is sent again under the same key; an upstream gone while the outcome is
unclear leaves an open intent that settle_open (or the client's retry) settles later; an upstream that
cannot be asked (settles=False) is never resent, and a person settles it; a crash settles on restart."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from gateway.ledger import (
    AlreadyResolved,
    Asset,
    Credential,
    HistoryQuery,
    Idempotency,
    IdempotencyConflict,
    IdempotencyInFlight,
    Ledger,
    Member,
    Outcome,
    Status,
    Tenant,
    UpstreamFailed,
    UpstreamUnavailable,
    open_store,
)
from gateway.ledger import forwarding
from tests.ledger.fake_upstream import Crash, FakeUpstream

P = Asset.POINTS


@pytest.fixture
def fake() -> FakeUpstream:
    return FakeUpstream()


@pytest.fixture
async def up(ledger: Ledger, fake: FakeUpstream) -> Tenant:
    tenant = await ledger.create_tenant(name="up", credentials=[Credential("memberpoints", "api-up", "k")])
    bind(ledger, tenant, fake)
    ledger.mark_ready(tenant)
    return tenant


def bind(ledger: Ledger, tenant: Tenant, port: FakeUpstream) -> None:
    ledger.bind_upstreams(lambda t: port if t.id == tenant.id else None, settle_budget=1.0)


@pytest.fixture
async def juan(ledger: Ledger, up: Tenant, fake: FakeUpstream) -> Member:
    created = await ledger.create_member(tenant=up, name="Juan", upstream_ref="mbr-9")
    fake.kept[("mbr-9", P)] = Decimal("100.00")
    return created


def keyed(key: str, fingerprint: str = "f") -> Idempotency:
    return Idempotency("mint", key, fingerprint, lambda m: f"{m.entry.amount}|{m.balance.posted}".encode())


async def recorded(ledger: Ledger, tenant: Tenant, member: Member) -> list[Decimal]:
    page = await ledger.history(tenant=tenant, query=HistoryQuery(member_id=member.id, statuses=frozenset(Status)))
    return [e.amount for e in page.items]


async def test_a_dropped_answer_is_settled_to_the_real_result_without_a_second_apply(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.drop_next = 1
    moved = await ledger.debit(tenant=up, member=juan, amount=Decimal("30"))
    [key] = fake.writes
    assert fake.writes[key] == 1 and fake.apply_calls == [key] and fake.settle_calls == [key]
    assert moved.balance.posted == Decimal("70.00") and moved.entry.data["upstream"]["ref"] == "up-1"
    assert await recorded(ledger, up, juan) == [Decimal("-30.00")]
    assert (await ledger.intents(tenant=up, states=("applied",)))[0].answered == "applied"


async def test_a_lost_request_is_sent_again_under_the_same_key_once_settle_says_it_never_applied(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.lose_next = 1
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    [key] = fake.writes
    assert fake.apply_calls == [key, key] and fake.writes[key] == 1 and fake.figure("mbr-9") == Decimal("105.00")


async def test_after_a_timeout_not_applied_is_believed_only_once_the_first_request_could_have_landed(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.late_next = 0.3  # lands 0.3 s after the client timed out; the budget is 1 s, so 0.5 s is waited
    moved = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    [key] = fake.writes
    assert fake.writes[key] == 1 and fake.apply_calls == [key]  # found by settling, never resent
    assert moved.balance.posted == Decimal("105.00") == fake.figure("mbr-9")


async def test_an_upstream_gone_while_unclear_answers_unavailable_and_settle_open_applies_once(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.drop_next = 1
    original = fake.settle

    async def gone(forward):  # the answer was dropped, and the upstream is gone before it can be asked
        fake.down = True
        return await original(forward)

    fake.settle = gone  # type: ignore[method-assign]
    kept = "the gateway keeps it and will carry it out exactly once when the upstream answers again: do not send it"
    with pytest.raises(UpstreamUnavailable, match=kept) as caught:
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert "(last: the fake upstream did not answer)" in caught.value.message  # the last answer's words
    [intent] = await ledger.intents(tenant=up)
    assert (intent.state, intent.answered) == ("open", "unavailable")
    assert await recorded(ledger, up, juan) == []
    fake.settle = original  # type: ignore[method-assign]
    assert await ledger.settle_open(tenant=up) == {"open": 1}  # still gone: stays open
    fake.down = False
    assert await ledger.settle_open(tenant=up) == {"applied": 1}
    assert list(fake.writes.values()) == [1] and await recorded(ledger, up, juan) == [Decimal("5.00")]
    settled = await ledger.intent(intent_id=intent.id)
    assert (settled.state, settled.answered) == ("applied", "unavailable")  # what the client was told stays
    assert await ledger.settle_open(tenant=up) == {}


async def test_a_write_answered_unavailable_that_never_applied_is_carried_out_once_by_settle_open(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.lose_next = 1
    original = fake.settle

    async def gone(forward):
        fake.down = True
        return await original(forward)

    fake.settle = gone  # type: ignore[method-assign]
    with pytest.raises(UpstreamUnavailable, match="the gateway keeps it"):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    fake.settle, fake.down = original, False  # type: ignore[method-assign]
    assert not fake.writes  # the upstream never got it
    assert await ledger.settle_open(tenant=up) == {"applied": 1}  # the gateway took it over: sent once more
    [key] = fake.writes
    assert fake.writes[key] == 1 and fake.figure("mbr-9") == Decimal("105.00")
    assert await recorded(ledger, up, juan) == [Decimal("5.00")]
    [intent] = await ledger.intents(tenant=up, states=("applied",))
    assert intent.answered == "unavailable"  # what the client was told stays
    assert await ledger.settle_open(tenant=up) == {}


async def test_a_resend_by_settle_open_that_the_upstream_refuses_is_recorded_refused(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.lose_next = 1
    original = fake.settle

    async def gone(forward):
        fake.down = True
        return await original(forward)

    fake.settle = gone  # type: ignore[method-assign]
    with pytest.raises(UpstreamUnavailable):
        await ledger.debit(tenant=up, member=juan, amount=Decimal("30"))
    fake.settle, fake.down = original, False  # type: ignore[method-assign]
    fake.kept[("mbr-9", P)] = Decimal("10.00")  # spent elsewhere meanwhile
    assert await ledger.settle_open(tenant=up) == {"refused": 1}
    [intent] = await ledger.intents(tenant=up, states=("refused",))
    assert intent.outcome["code"] == "insufficient_funds" and not fake.writes


async def test_a_client_retry_with_its_key_gets_the_settled_outcome(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.drop_next = 1
    original = fake.settle

    async def gone(forward):
        fake.down = True
        return await original(forward)

    fake.settle = gone  # type: ignore[method-assign]
    with pytest.raises(UpstreamUnavailable, match="a retry with the same idempotency key, where the API has one, returns"):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k1"))
    with pytest.raises(IdempotencyInFlight, match="not settled yet"):  # still gone: asked about, never resent
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k1"))
    assert len(fake.apply_calls) == 1
    with pytest.raises(IdempotencyConflict):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("6"), idempotency=keyed("k1", "other"))
    fake.settle, fake.down = original, False  # type: ignore[method-assign]
    assert await ledger.settle_open(tenant=up) == {"applied": 1}
    again: Outcome = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k1"))
    assert again.replayed and again.response == b"5.00|105.00"
    once_more: Outcome = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k1"))
    assert once_more.response == again.response
    assert list(fake.writes.values()) == [1] and fake.figure("mbr-9") == Decimal("105.00")


async def test_a_client_retry_settles_an_open_intent_itself_when_the_upstream_is_back(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.drop_next = 1
    original = fake.settle

    async def gone(forward):
        fake.down = True
        return await original(forward)

    fake.settle = gone  # type: ignore[method-assign]
    with pytest.raises(UpstreamUnavailable):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k2"))
    fake.settle, fake.down = original, False  # type: ignore[method-assign]
    again: Outcome = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k2"))
    assert again.replayed and again.response == b"5.00|105.00"
    assert list(fake.writes.values()) == [1] and len(fake.apply_calls) == 1


async def test_a_key_in_flight_is_refused_and_a_stored_answer_replayed(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    release = asyncio.Event()
    original = fake.apply

    async def slow(forward):
        await release.wait()
        return await original(forward)

    fake.apply = slow  # type: ignore[method-assign]
    first = asyncio.ensure_future(ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k3")))
    await asyncio.sleep(0.05)
    with pytest.raises(IdempotencyInFlight):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k3"))
    release.set()
    done: Outcome = await first
    replay: Outcome = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed("k3"))
    assert not done.replayed and replay.replayed and replay.response == done.response == b"5.00|105.00"
    assert list(fake.writes.values()) == [1]


async def test_an_upstream_that_cannot_settle_never_resends_and_a_person_settles(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.settles = False
    fake.drop_next = 2
    with pytest.raises(UpstreamUnavailable, match="listed for a person to settle"):
        await ledger.debit(tenant=up, member=juan, amount=Decimal("30"))
    with pytest.raises(UpstreamUnavailable):
        await ledger.debit(tenant=up, member=juan, amount=Decimal("20"))
    assert len(fake.apply_calls) == 2 and fake.settle_calls == []  # each sent once, never again
    first, second = await ledger.intents(tenant=up)
    assert (first.state, first.answered) == ("unsettled", "unavailable")
    assert await ledger.settle_open(tenant=up) == {}  # settle_open leaves them to a person
    settled = await ledger.settle_intent(intent_id=first.id, applied=True, by="ops@example")
    assert (settled.state, settled.settled_by) == ("applied", "ops@example")
    closed = await ledger.settle_intent(intent_id=second.id, applied=False, by="ops@example")
    assert closed.state == "not_applied"
    assert await recorded(ledger, up, juan) == [Decimal("-30.00")]  # what the person said was applied
    assert fake.figure("mbr-9") == Decimal("50.00")  # both really applied: the person got the second wrong
    with pytest.raises(AlreadyResolved):
        await ledger.settle_intent(intent_id=first.id, applied=False, by="ops@example")
    assert await ledger.intents(tenant=up) == []


async def test_unreachable_surely_not_sent_is_not_settled_later(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.down = True
    with pytest.raises(UpstreamFailed):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    fake.down = False
    assert await ledger.settle_open(tenant=up) == {} and not fake.writes


@pytest.mark.parametrize("when", ["before", "after"])
async def test_a_crash_mid_write_leaves_an_open_intent_settled_on_restart_before_new_writes(
    ledger: Ledger, store_url: str, up: Tenant, juan: Member, fake: FakeUpstream, when: str
) -> None:
    fake.crash_next = when
    with pytest.raises(Crash):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    [intent] = await ledger.intents(tenant=up)
    assert (intent.state, intent.answered) == ("open", None)
    await asyncio.sleep(0.06)  # older than half the restarted ledger's budget: "not applied" is believed
    restarted = Ledger(open_store(store_url))
    await restarted.start()
    try:
        restarted.bind_upstreams(lambda t: fake if t.id == up.id else None, settle_budget=0.1)
        assert not restarted.upstream_ready(up)
        await restarted.credit(tenant=up, member=juan, amount=Decimal("1"))  # settles the old intent first
        assert restarted.upstream_ready(up)
        settled = await restarted.intent(intent_id=intent.id)
        assert settled.state == "applied"  # found applied, or (never applied) carried out by the restart
        assert len(fake.writes) == 2 and all(n == 1 for n in fake.writes.values())
        expected = [Decimal("5.00"), Decimal("1.00")]
        assert await recorded(restarted, up, juan) == expected
        assert fake.figure("mbr-9") == Decimal("100.00") + sum(expected)
    finally:
        await restarted.close()


async def test_after_a_restart_writes_wait_for_settling_then_answer_unavailable(
    ledger: Ledger, store_url: str, up: Tenant, juan: Member, fake: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.crash_next = "after"
    with pytest.raises(Crash):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    monkeypatch.setattr(forwarding, "READY_WAIT", 0.2)
    hang = asyncio.Event()
    original = fake.settle

    async def stuck(forward):
        await hang.wait()
        return await original(forward)

    fake.settle = stuck  # type: ignore[method-assign]
    restarted = Ledger(open_store(store_url))
    await restarted.start()
    try:
        bind(restarted, up, fake)
        with pytest.raises(UpstreamUnavailable, match="still being settled"):
            await restarted.credit(tenant=up, member=juan, amount=Decimal("1"))
        assert len(fake.apply_calls) == 1  # the new write was not sent
        hang.set()
        await restarted.credit(tenant=up, member=juan, amount=Decimal("1"))
        assert await recorded(restarted, up, juan) == [Decimal("5.00"), Decimal("1.00")]
    finally:
        await restarted.close()


async def test_a_write_sent_moments_ago_is_not_sent_again_until_it_could_have_landed(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.crash_next = "before"  # sent, and the process died: the request could still be on its way
    with pytest.raises(Crash):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert await ledger.settle_open(tenant=up) == {"open": 1}  # younger than half the budget (1 s)
    assert len(fake.apply_calls) == 1
    await asyncio.sleep(0.5)
    assert await ledger.settle_open(tenant=up) == {"applied": 1}
    assert list(fake.writes.values()) == [1]

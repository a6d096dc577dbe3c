"""Forwarding a tenant's points operations to its upstream: each write moves the upstream once and is
recorded here as the local operation would record it, the local account mirroring the upstream's
balance; refusals keep nothing; reads ask the upstream; a tenant without an upstream is untouched."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from gateway.ledger import (
    AlreadyResolved,
    Asset,
    Cause,
    Direction,
    DuplicateIdentity,
    HistoryQuery,
    Identity,
    InsufficientFunds,
    InvalidArgument,
    Kind,
    Ledger,
    Member,
    Movement,
    Status,
    Tenant,
    UnknownMember,
    UpstreamCannotExpress,
    UpstreamCredentialsRefused,
    UpstreamFailed,
    UpstreamRateLimited,
    By,
)
from tests.ledger.fake_upstream import FakeUpstream
from tests.ledger.upstream_tenant import fake, juan, up  # noqa: F401  (fixtures)

P = Asset.POINTS


async def local_posted(ledger: Ledger, tenant: Tenant, member: Member, asset: Asset = P) -> Decimal:
    """The local mirror (what the account row holds), not the upstream's figure a balance read shows."""
    found = await ledger.store.read(
        lambda tx: tx.fetchval("SELECT posted FROM accounts WHERE member_id = ? AND asset = ?", (member.id, asset.value))
    )
    return Decimal(found).scaleb(-2)


async def entries(ledger: Ledger, tenant: Tenant, member: Member) -> list:
    page = await ledger.history(
        tenant=tenant, query=HistoryQuery(member_id=member.id, statuses=frozenset(Status)), limit=100
    )
    return list(page.items)


async def test_a_credit_moves_the_upstream_once_under_a_derived_key(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    moved = await ledger.credit(tenant=up, member=juan, amount=Decimal("50"), note="goodwill", origin="test")
    assert fake.figure("usr-9") == Decimal("150.00")
    [key] = fake.writes
    assert fake.writes[key] == 1
    forward = fake.forwards[key]
    assert (forward.direction, forward.cause, forward.points, forward.member) == (
        Direction.CREDIT, Cause.ADJUSTMENT, Decimal("50.00"), "usr-9")
    [intent] = await ledger.intents(tenant=up, states=("applied",))
    assert re.fullmatch(rf"lg-{up.id}-{intent.id}-[0-9a-f]{{8}}", key) and intent.key == key
    assert intent.answered == "applied" and intent.outcome["ref"] == "up-1"
    # recorded as the local credit would be, marked with the upstream's key and ref; the mirror shows 150
    assert moved.entry.amount == Decimal("50.00") and moved.entry.note == "goodwill" and moved.entry.origin == "test"
    assert moved.entry.data["upstream"] == {"key": key, "ref": "up-1"}
    assert moved.balance.posted == Decimal("150.00") == await local_posted(ledger, up, juan)


async def test_a_debit_has_no_local_check_the_upstream_decides(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    assert await local_posted(ledger, up, juan) == 0  # the 100 points were made at the upstream by others
    moved = await ledger.debit(tenant=up, member=juan, amount=Decimal("30"))
    assert fake.figure("usr-9") == Decimal("70.00")
    assert moved.balance.posted == Decimal("70.00") == await local_posted(ledger, up, juan)
    # the history shows the forwarded movement only, never a row for what others did upstream
    assert [e.amount for e in await entries(ledger, up, juan)] == [Decimal("-30.00")]


async def test_the_upstreams_insufficient_is_the_clients_and_keeps_nothing(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    with pytest.raises(InsufficientFunds):
        await ledger.debit(tenant=up, member=juan, amount=Decimal("100.01"))
    assert fake.figure("usr-9") == Decimal("100.00") and not fake.writes
    assert await entries(ledger, up, juan) == []
    [intent] = await ledger.intents(tenant=up, states=("refused",))
    assert intent.answered == "refused" and intent.outcome["code"] == "insufficient_funds"
    assert await ledger.intents(tenant=up) == []  # nothing open, nothing unsettled


@pytest.mark.parametrize(
    "refusal",
    [UnknownMember("no such member there"), UpstreamCannotExpress("it cannot"), InvalidArgument("the fake said no")],
    ids=["unknown-member", "cannot-express", "invalid"],
)
async def test_every_refusal_is_raised_as_is_and_keeps_nothing(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream, refusal: Exception
) -> None:
    fake.refuse = refusal  # type: ignore[assignment]
    with pytest.raises(type(refusal)):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert await entries(ledger, up, juan) == [] and await local_posted(ledger, up, juan) == 0
    assert [i.state for i in await ledger.intents(tenant=up, states=("refused",))] == ["refused"]


@pytest.mark.parametrize(
    "error",
    [UpstreamFailed("connection refused", sent=False), UpstreamRateLimited("slow down", sent=True, retry_after=3),
     UpstreamCredentialsRefused("401 from the upstream", sent=True)],
    ids=["unreachable", "rate-limited", "credentials-refused"],
)
async def test_a_write_surely_not_applied_is_closed_and_its_error_raised(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream, error: Exception
) -> None:
    fake.refuse = error  # type: ignore[assignment]
    with pytest.raises(type(error)) as raised:
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert raised.value is error
    [intent] = await ledger.intents(tenant=up, states=("not_applied",))
    assert intent.outcome["code"] == error.code  # type: ignore[attr-defined]
    assert fake.settle_calls == [] and await entries(ledger, up, juan) == []


async def test_the_mirror_follows_the_upstream_when_the_answer_omits_the_balance(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.omit_balance = True
    moved = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert moved.balance.posted == Decimal("105.00") == await local_posted(ledger, up, juan)


async def test_reads_ask_the_upstream_and_pending_stays_local(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.kept[("usr-9", Asset.MILES)] = Decimal("7.50")
    fake.cannot = frozenset({Asset.CASHBACK})
    await ledger.hold(tenant=up, member=juan, amount=Decimal("4"), asset=P)  # holds stay local
    found = await ledger.balance(tenant=up, member=By(Identity.CUSTOMER_NO, 1534))
    assert found[P].posted == Decimal("100.00") and found[P].pending == Decimal("4.00")
    assert found[Asset.MILES].posted == Decimal("7.50")
    assert found[Asset.CASHBACK].posted == 0  # an asset the upstream cannot express reads as 0
    fake.kept[("usr-9", P)] = Decimal("12.00")  # moved at the upstream by someone else
    assert (await ledger.balance(tenant=up, member=juan))[P].posted == Decimal("12.00")


async def test_a_balance_listing_asks_the_upstream_for_each_row(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    ana = await ledger.create_member(tenant=up, name="Ana")
    fake.kept[(ana.user_ref, P)] = Decimal("3.00")
    fake.known = {"usr-9", ana.user_ref}
    stranger = await ledger.create_member(tenant=up, name="Not there")
    page = await ledger.balances(tenant=up)
    assert [(r.member.id, r.balance) for r in page.items] == [
        (juan.id, Decimal("100.00")), (ana.id, Decimal("3.00")), (stranger.id, Decimal("0.00"))]
    with pytest.raises(UnknownMember):  # asked alone, a member the upstream does not know is its 404
        await ledger.balance(tenant=up, member=stranger)


async def test_an_upstream_member_falls_back_to_the_ports_own_identity(
    ledger: Ledger, up: Tenant, fake: FakeUpstream
) -> None:
    ana = await ledger.create_member(tenant=up, name="Ana")
    await ledger.credit(tenant=up, member=ana, amount=Decimal("2"))
    assert fake.figure(ana.user_ref) == Decimal("2.00")


async def test_adjustments_and_their_revisions_forward_the_difference(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    first = await ledger.adjust(tenant=up, member=juan, amount=Decimal("-40"), note="fix")
    assert fake.figure("usr-9") == Decimal("60.00")
    revised = await ledger.adjust(tenant=up, revises=first.entry.record_id, amount=Decimal("-25"))
    assert fake.figure("usr-9") == Decimal("75.00")
    last = list(fake.forwards.values())[-1]
    assert (last.direction, last.points) == (Direction.CREDIT, Decimal("15.00"))
    assert revised.entry.record_id == first.entry.record_id and revised.entry.record_amount == Decimal("-25.00")
    assert revised.entry.note == "fix" and revised.balance.posted == Decimal("75.00")
    unchanged = await ledger.adjust(tenant=up, revises=first.entry.record_id, note="only the note")
    assert unchanged.entry.amount == 0 and len(fake.writes) == 2  # nothing to forward
    other = await ledger.create_member(tenant=up, name="Ana")
    with pytest.raises(UpstreamCannotExpress, match="from one member to another"):
        await ledger.adjust(tenant=up, revises=first.entry.record_id, member=other)


async def test_spending_a_value_forwards_the_points_the_programme_gives(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.kept[("usr-9", P)] = Decimal("5000.00")
    spent = await ledger.spend_value(tenant=up, member=By(Identity.CUSTOMER_NO, 1534), value=Decimal("10"), reference="r1")
    [forward] = fake.forwards.values()
    assert (forward.direction, forward.cause, forward.points, forward.value, forward.reference) == (
        Direction.DEBIT, Cause.SPEND, Decimal("2000.00"), Decimal("10.00"), "r1")
    assert spent.points == Decimal("2000.00") and spent.value == Decimal("10.00")
    assert spent.movement.entry.kind is Kind.ORDER_SPEND and spent.movement.balance.posted == Decimal("3000.00")


async def test_an_order_earns_what_the_upstream_decides_and_voiding_takes_it_back(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.earns = Decimal("12.00")  # the programme says 10.00 for 100; the upstream decides 12
    result = await ledger.record_order(tenant=up, value=Decimal("100"), member=juan, reference="inv-1", data={"x": 1})
    [earn] = fake.forwards.values()
    assert (earn.direction, earn.cause, earn.points, earn.value) == (
        Direction.CREDIT, Cause.ORDER_EARN, Decimal("10.00"), Decimal("100.00"))
    assert result.order.earned == Decimal("12.00") and result.movement is not None
    assert result.order.data == {"x": 1} and fake.figure("usr-9") == Decimal("112.00")
    fake.earns = None
    voided = await ledger.void_order(tenant=up, order=result.order.id, reason="returned")
    back = list(fake.forwards.values())[-1]
    assert (back.direction, back.cause, back.points, back.reverses) == (
        Direction.DEBIT, Cause.ORDER_VOID, Decimal("12.00"), "up-1")
    assert voided.order.voided and voided.movement is not None and voided.movement.entry.amount == Decimal("-12.00")
    assert fake.figure("usr-9") == Decimal("100.00")


async def test_an_order_without_earning_is_only_a_local_document(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    result = await ledger.record_order(tenant=up, value=Decimal("5"), member=By(Identity.CUSTOMER_NO, 999))
    assert result.movement is None and not fake.apply_calls
    await ledger.void_order(tenant=up, order=result.order.id)
    assert not fake.apply_calls


async def test_confirming_a_held_reward_forwards_each_assets_credit(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    await ledger.hold_many(
        tenant=up, member=juan, amounts={P: Decimal("3"), Asset.MILES: Decimal("2")}, reference="tx-1",
        public_refs={P: "lye-1", Asset.MILES: "lye-2"},
    )
    assert not fake.apply_calls
    moved = await ledger.confirm_reference(tenant=up, reference="tx-1")
    assert sorted((m.entry.asset.value, m.entry.status.value) for m in moved) == [
        ("miles", "confirmed"), ("points", "confirmed")]
    assert {f.cause for f in fake.forwards.values()} == {Cause.REWARD}
    assert fake.figure("usr-9") == Decimal("103.00") and fake.figure("usr-9", Asset.MILES) == Decimal("2.00")
    with pytest.raises(AlreadyResolved):
        await ledger.confirm_reference(tenant=up, reference="tx-1")
    assert len(fake.writes) == 2


async def test_a_tenant_without_an_upstream_is_untouched(
    ledger: Ledger, up: Tenant, tenant: Tenant, member: Member, fake: FakeUpstream
) -> None:
    moved = await ledger.debit(tenant=tenant, member=member, amount=Decimal("30"))
    assert moved.balance.posted == Decimal("70.00") and "upstream" not in moved.entry.data
    with pytest.raises(InsufficientFunds):  # its own rule, checked here
        await ledger.debit(tenant=tenant, member=member, amount=Decimal("1000"))
    await ledger.record_order(tenant=tenant, value=Decimal("100"), member=member)
    assert (await ledger.balance(tenant=tenant, member=member))[P].posted == Decimal("80.00")
    assert not fake.apply_calls and await ledger.intents(states=("open", "applied", "refused")) == []


async def test_an_opening_balance_for_an_upstream_tenant_is_refused(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    with pytest.raises(InvalidArgument, match="opening balance"):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), kind=Kind.OPENING)
    assert not fake.apply_calls


async def test_upstream_identities_are_unique_and_linked_in_one_go(ledger: Ledger, up: Tenant, juan: Member) -> None:
    ana = await ledger.create_member(tenant=up, name="Ana")
    with pytest.raises(DuplicateIdentity):
        await ledger.create_member(tenant=up, name="Copy", upstream_ref="usr-9")
    with pytest.raises(DuplicateIdentity):
        await ledger.link_members(tenant=up, links=[(ana.id, "usr-9")])
    assert await ledger.link_members(tenant=up, links=[(ana.id, "usr-9"), (juan.id, "usr-1")]) == 2
    assert (await ledger.find_member(tenant=up, member=By(Identity.UPSTREAM_REF, "usr-9"))).id == ana.id
    assert await ledger.link_members(tenant=up, links=[(ana.id, "usr-9")]) == 0
    cleared = await ledger.update_member(tenant=up, member=ana, changes={"upstream_ref": ""})
    assert cleared.upstream_ref is None


async def test_the_returned_movement_is_what_a_client_renders(
    ledger: Ledger, up: Tenant, juan: Member
) -> None:
    moved = await ledger.credit(tenant=up, member=juan, amount=Decimal("1"), public_ref="lye-x")
    assert isinstance(moved, Movement) and moved.entry.public_ref == "lye-x" and moved.member.id == juan.id


async def test_cancelling_a_confirmed_reward_takes_it_back_at_the_upstream_and_a_pending_one_stays_local(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    await ledger.hold_many(tenant=up, member=juan, amounts={P: Decimal("3")}, reference="tx-2", public_refs={P: "lye-3"})
    await ledger.confirm(tenant=up, entry="lye-3")
    assert fake.figure("usr-9") == Decimal("103.00")
    [moved] = await ledger.cancel_reference(tenant=up, reference="tx-2", note="purchase reversed")
    back = list(fake.forwards.values())[-1]
    assert (back.direction, back.cause, back.points, back.reverses) == (
        Direction.DEBIT, Cause.ORDER_VOID, Decimal("3.00"), "up-1")
    assert moved.entry.kind is Kind.REVERSAL and moved.entry.amount == Decimal("-3.00")
    assert fake.figure("usr-9") == Decimal("100.00") == moved.balance.posted
    with pytest.raises(AlreadyResolved):
        await ledger.cancel_reference(tenant=up, reference="tx-2")
    await ledger.hold_many(tenant=up, member=juan, amounts={P: Decimal("2")}, reference="tx-3", public_refs={P: "lye-4"})
    [dropped] = await ledger.cancel_reference(tenant=up, reference="tx-3")
    assert dropped.entry.status is Status.CANCELLED and len(fake.writes) == 2


async def test_a_tenant_without_an_upstream_takes_no_step_of_forwarding(
    ledger: Ledger, up: Tenant, tenant: Tenant, member: Member, gold: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every operation of a local tenant runs as before: nothing of the forwarding path (no intent SQL,
    no readiness wait, no port) is touched, even with upstreams bound for other tenants."""
    from gateway.ledger import forwarding
    from gateway.ledger.repo import intents as intent_sql

    def explode(*args: object, **kwargs: object) -> None:
        raise AssertionError("the forwarding path was taken for a tenant without an upstream")

    monkeypatch.setattr(forwarding.ForwardOps, "_forward", explode)
    monkeypatch.setattr(forwarding.ForwardOps, "_await_ready", explode)
    for name in ("insert", "finish", "get", "by_client_key", "listing", "open_like", "applied_ref"):
        monkeypatch.setattr(intent_sql, name, explode)
    await ledger.credit(tenant=tenant, member=member, amount=Decimal("1"))
    await ledger.debit(tenant=tenant, member=member, amount=Decimal("1"))
    first = await ledger.adjust(tenant=tenant, member=member, amount=Decimal("-2"))
    await ledger.adjust(tenant=tenant, revises=first.entry.record_id, amount=Decimal("-1"))
    await ledger.spend_value(tenant=tenant, member=member, value=Decimal("0.25"))
    order = await ledger.record_order(tenant=tenant, value=Decimal("30"), member=member)
    await ledger.void_order(tenant=tenant, order=order.order.id)
    await ledger.hold_many(tenant=tenant, member=member, amounts={P: Decimal("1")}, reference="h", public_refs={P: "p"})
    await ledger.confirm_reference(tenant=tenant, reference="h")
    await ledger.cancel_reference(tenant=tenant, reference="h")
    assert (await ledger.balance(tenant=tenant, member=member))[P].posted == Decimal("49.00")
    assert [r.balance for r in (await ledger.balances(tenant=tenant)).items] == [Decimal("49.00")]

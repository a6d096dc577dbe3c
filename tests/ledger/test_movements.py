"""Credits, debits, adjustments and their revisions, holds, reversals and spending through a programme."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from gateway.ledger import (
    AlreadyResolved,
    Asset,
    By,
    HistoryQuery,
    Identity,
    InsufficientFunds,
    InvalidAmount,
    Kind,
    Ledger,
    Member,
    NotInProgramme,
    NotReversible,
    Status,
    Tenant,
    UnknownEntry,
    UnknownMember,
)


async def points(ledger: Ledger, tenant: Tenant, member: Member) -> Decimal:
    return (await ledger.balance(tenant=tenant, member=member))[Asset.POINTS].posted


async def test_credit_and_debit_move_the_balance(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    await ledger.credit(tenant=tenant, member=member, amount=Decimal("5.50"), note="bonus")
    moved = await ledger.debit(tenant=tenant, member=member, amount=Decimal("0.50"))
    assert moved.balance.posted == Decimal("105.00")
    assert await points(ledger, tenant, member) == Decimal("105.00")


async def test_a_debit_beyond_the_balance_applies_nothing(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    with pytest.raises(InsufficientFunds):
        await ledger.debit(tenant=tenant, member=member, amount=Decimal("100.01"))
    assert await points(ledger, tenant, member) == Decimal("100.00")
    assert await ledger.count_history(tenant=tenant, query=HistoryQuery(member_id=member.id)) == 1


async def test_bad_amounts_are_refused_before_anything_is_written(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    for bad in ("NaN", "1.001", "-3", "0", 1.5):
        with pytest.raises(InvalidAmount):
            await ledger.credit(tenant=tenant, member=member, amount=bad)  # type: ignore[arg-type]
    assert await points(ledger, tenant, member) == Decimal("100.00")


async def test_members_are_found_by_every_identity(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    for ref in (
        By(Identity.CUSTOMER_NO, 1534), By(Identity.MEMBER_NO, 1534), By(Identity.CARD_REF, "crd-1"),
        By(Identity.USER_REF, member.user_ref), By.id(member.id),
    ):
        assert (await ledger.find_member(tenant=tenant, member=ref)).id == member.id
    with pytest.raises(UnknownMember):
        await ledger.debit(tenant=tenant, member=By(Identity.CARD_REF, "crd-nope"), amount=Decimal("1"))


async def test_hundred_concurrent_debits_never_overdraw(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    # 100.00 available; 100 debits of 3.00 at once: exactly 33 can succeed.
    results = await asyncio.gather(
        *(ledger.debit(tenant=tenant, member=member, amount=Decimal("3.00")) for _ in range(100)),
        return_exceptions=True,
    )
    succeeded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(succeeded) == 33 and len(refused) == 67
    left = await points(ledger, tenant, member)
    assert left == Decimal("1.00")
    assert sum(-r.entry.amount for r in succeeded) == Decimal("100.00") - left
    store = ledger.store
    if store.kind == "sqlite":
        assert store.commits < store.writes  # type: ignore[attr-defined]  # concurrent writes shared commits


async def test_signed_adjustments_and_their_revision(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    first = await ledger.adjust(tenant=tenant, member=member, amount=Decimal("-40"), note="voucher")
    assert first.balance.posted == Decimal("60.00")
    with pytest.raises(InsufficientFunds):
        await ledger.adjust(tenant=tenant, member=member, amount=Decimal("-60.01"))
    revised = await ledger.adjust(tenant=tenant, revises=first.entry.id, amount=Decimal("-10"), note="fixed")
    assert revised.balance.posted == Decimal("90.00")
    assert revised.entry.record_id == first.entry.id and revised.entry.record_amount == Decimal("-10.00")
    rows = (await ledger.history(tenant=tenant, query=HistoryQuery(member_id=member.id))).items
    shown = [(r.record_id, r.record_amount, r.note) for r in rows]
    assert shown[-1] == (first.entry.id, Decimal("-10.00"), "fixed")
    assert len([r for r in rows if r.record_id == first.entry.id]) == 1
    with pytest.raises(UnknownEntry):
        await ledger.adjust(tenant=tenant, revises=999999, amount=Decimal("1"))


async def test_revision_that_moves_an_adjustment_to_another_member(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    other = await ledger.create_member(tenant=tenant, name="Other")
    given = await ledger.adjust(tenant=tenant, member=member, amount=Decimal("30"))
    await ledger.adjust(tenant=tenant, revises=given.entry.id, member=other)
    assert await points(ledger, tenant, member) == Decimal("100.00")
    assert await points(ledger, tenant, other) == Decimal("30.00")
    mine = (await ledger.history(tenant=tenant, query=HistoryQuery(member_id=member.id))).items
    assert given.entry.id not in [r.record_id for r in mine]


async def test_holds_are_pending_until_confirmed_and_never_spendable(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    held = await ledger.hold(tenant=tenant, member=member, amount=Decimal("50"), public_ref="lye-1")
    assert held.entry.status is Status.PENDING and held.balance.pending == Decimal("50.00")
    with pytest.raises(InsufficientFunds):
        await ledger.debit(tenant=tenant, member=member, amount=Decimal("120"))
    confirmed = await ledger.confirm(tenant=tenant, entry="lye-1")
    assert confirmed.balance.posted == Decimal("150.00") and confirmed.balance.pending == 0
    with pytest.raises(AlreadyResolved):
        await ledger.confirm(tenant=tenant, entry="lye-1")
    cancelled = await ledger.cancel(tenant=tenant, entry="lye-1")  # after confirmation: taken back
    assert cancelled.entry.kind is Kind.REVERSAL and cancelled.balance.posted == Decimal("100.00")
    with pytest.raises(AlreadyResolved):
        await ledger.cancel(tenant=tenant, entry="lye-1")


async def test_cancelling_a_pending_hold_posts_nothing(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    held = await ledger.hold(tenant=tenant, member=member, amount=Decimal("7"), asset=Asset.MILES)
    gone = await ledger.cancel(tenant=tenant, entry=held.entry.id)
    assert gone.entry.status is Status.CANCELLED and gone.balance.pending == 0 and gone.balance.posted == 0
    with pytest.raises(AlreadyResolved):
        await ledger.confirm(tenant=tenant, entry=held.entry.id)


async def test_concurrent_resolutions_resolve_once(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    held = await ledger.hold(tenant=tenant, member=member, amount=Decimal("5"))
    results = await asyncio.gather(
        *(ledger.confirm(tenant=tenant, entry=held.entry.id) for _ in range(10)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, AlreadyResolved) for r in results if isinstance(r, BaseException))


async def test_reversal_of_spent_credit_is_clamped_and_recorded(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    credit = await ledger.credit(tenant=tenant, member=member, amount=Decimal("20"))
    await ledger.debit(tenant=tenant, member=member, amount=Decimal("110"))
    reversal = await ledger.reverse(tenant=tenant, entry=credit.entry.id)
    assert reversal.entry.amount == Decimal("-10.00") and reversal.balance.posted == 0
    assert reversal.entry.data == {"requested": "-20.00", "clamped": "10.00"}
    with pytest.raises(AlreadyResolved):
        await ledger.reverse(tenant=tenant, entry=credit.entry.id)
    with pytest.raises(NotReversible):
        await ledger.reverse(tenant=tenant, entry=reversal.entry.id)


async def test_spending_a_value_uses_the_programme_ratio(ledger: Ledger, tenant: Tenant, gold: int) -> None:
    juan = await ledger.create_member(tenant=tenant, customer_no=1534, programme_no=gold)
    await ledger.credit(tenant=tenant, member=juan, amount=Decimal("30511"), kind=Kind.OPENING)
    spent = await ledger.spend_value(tenant=tenant, member=By(Identity.CUSTOMER_NO, 1534), value=Decimal("10"))
    assert (spent.points, spent.value, spent.movement.balance.posted) == (
        Decimal("2000.00"), Decimal("10.00"), Decimal("28511.00"),
    )
    with pytest.raises(InsufficientFunds):
        await ledger.spend_value(tenant=tenant, member=juan, value=Decimal("1000"))
    plain = await ledger.create_member(tenant=tenant, name="No programme")
    with pytest.raises(NotInProgramme):
        await ledger.spend_value(tenant=tenant, member=plain, value=Decimal("1"))


async def test_history_filters(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    await ledger.adjust(tenant=tenant, member=member, amount=Decimal("1"), note="Product refund")
    await ledger.spend_value(tenant=tenant, member=member, value=Decimal("0.10"))
    manual = HistoryQuery(member_id=member.id, kinds=frozenset({Kind.ADJUSTMENT}))
    assert [e.note for e in (await ledger.history(tenant=tenant, query=manual)).items] == [None, "Product refund"]
    by_note = HistoryQuery(note_contains="REFUND")
    assert len((await ledger.history(tenant=tenant, query=by_note)).items) == 1
    orders = HistoryQuery(member_id=member.id, kinds=frozenset({Kind.ORDER_SPEND}))
    (spend,) = (await ledger.history(tenant=tenant, query=orders)).items
    assert spend.amount == Decimal("-20.00") and spend.value == Decimal("0.10")


async def test_a_revision_cannot_reach_an_adjustment_of_another_asset(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    cashback = await ledger.credit(tenant=tenant, member=member, amount=Decimal("50"), asset=Asset.CASHBACK)
    with pytest.raises(UnknownEntry):
        await ledger.adjust(tenant=tenant, revises=cashback.entry.id, amount=Decimal("0"))
    with pytest.raises(UnknownEntry):
        await ledger.adjust(tenant=tenant, revises=cashback.entry.id, amount=Decimal("1000"), asset=Asset.MILES)
    balance = await ledger.balance(tenant=tenant, member=member)
    assert balance[Asset.CASHBACK].posted == Decimal("50.00") and balance[Asset.POINTS].posted == Decimal("100.00")

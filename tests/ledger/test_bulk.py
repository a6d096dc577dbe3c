"""add_members_in_bulk on every store: balances are the sums of the entries given, every invariant the
audit checks holds (the ledger fixture audits after each test), numbers continue from the tenant's
highest so later members never collide, and a batch that breaks a rule writes nothing."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from gateway.ledger import (
    Asset,
    By,
    DuplicateIdentity,
    HistoryQuery,
    Identity,
    InvalidArgument,
    Kind,
    Ledger,
    Member,
    NewEntry,
    NewMember,
    Tenant,
    add_members_in_bulk,
)
from gateway.ledger.bulk import _stored, event_payload
from gateway.ledger.clock import to_text
from gateway.ledger.repo.rows import dumps

JOINED = datetime(2020, 3, 1, 9, 30, tzinfo=timezone.utc)
LATER = datetime(2021, 7, 4, 12, 0, tzinfo=timezone.utc)


def person(n: int, *entries: NewEntry, email: str | None = None, cards: tuple[str, ...] = ()) -> NewMember:
    return NewMember(
        name=f"Person {n}", user_ref=f"usr-bulk-{n}", created_at=JOINED, email=email or f"p{n}@example.com",
        card_refs=cards or (f"crd-bulk-{n}",), profile={"first_name": "Person", "last_name": str(n)},
        entries=entries,
    )


def opening(cents: int, asset: Asset = Asset.POINTS) -> NewEntry:
    return NewEntry(asset, cents, JOINED, Kind.OPENING, "Opening balance")


async def test_balances_are_the_sums_of_the_entries_and_numbers_follow_the_highest(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    written = await add_members_in_bulk(ledger, tenant=tenant, members=[
        person(1, opening(12_345), NewEntry(Asset.POINTS, -345, LATER, note="Redeemed")),
        person(2),  # no history: three empty accounts
        person(3, opening(500, Asset.MILES), NewEntry(Asset.MILES, 250, LATER, note="Flight")),
    ])
    assert written == 3
    first = await ledger.balance(tenant=tenant, member=By(Identity.USER_REF, "usr-bulk-1"))
    assert first.member.customer_no == first.member.member_no == member.customer_no + 1  # after 1534
    assert {a: (b.posted, b.pending) for a, b in first.accounts.items()} == {
        Asset.POINTS: (Decimal("120.00"), Decimal("0")), Asset.CASHBACK: (Decimal("0"), Decimal("0")),
        Asset.MILES: (Decimal("0"), Decimal("0")),
    }
    assert first.member.updated_at == LATER  # a movement after the opening moved the member's time
    third = await ledger.balance(tenant=tenant, member=By(Identity.CARD_REF, "crd-bulk-3"))
    assert third.accounts[Asset.MILES].posted == Decimal("7.50")
    empty = await ledger.balance(tenant=tenant, member=By(Identity.EMAIL, "P2@example.com"))
    assert all(b.posted == 0 and b.updated_at is None for b in empty.accounts.values())
    assert empty.member.updated_at == JOINED
    # A member made afterwards through the ordinary operation takes the next number, no collision.
    later = await ledger.create_member(tenant=tenant, name="Later")
    assert later.customer_no == member.customer_no + 4
    history = await ledger.history(tenant=tenant, query=HistoryQuery(member_id=first.member.id))
    assert [e.amount for e in history.items] == [Decimal("123.45"), Decimal("-3.45")]
    assert await ledger.count_members(tenant=tenant) == 5


async def test_each_entry_has_the_event_the_ledger_would_have_published(ledger: Ledger, tenant: Tenant) -> None:
    await add_members_in_bulk(ledger, tenant=tenant, members=[person(1, opening(700))], origin="generated")
    made = await ledger.create_member(tenant=tenant, name="One at a time")
    await ledger.credit(tenant=tenant, member=made, amount=Decimal("7.00"), asset=Asset.POINTS, kind=Kind.OPENING,
                        origin="generated", occurred_at=JOINED)
    bulk, single = await ledger.events(tenant_id=tenant.id)
    assert bulk.topic == single.topic == "entry.created"
    assert (bulk.payload["record_id"], single.payload["record_id"]) == (bulk.entry_id, single.entry_id)
    differs = {"entry_id", "member_id", "record_id"}
    assert {k: v for k, v in bulk.payload.items() if k not in differs} == {
        k: v for k, v in single.payload.items() if k not in differs
    }
    # Filled in rather than encoded: the text is what rows.dumps makes of the same document.
    text = event_payload(41, 9, opening(-5), 12_300, json.dumps("o\"rigin"), to_text(JOINED))
    assert text == dumps({**json.loads(text), "origin": 'o"rigin'})


async def test_a_batch_whose_balance_would_go_below_zero_writes_nothing(ledger: Ledger, tenant: Tenant) -> None:
    spent_first = person(2, NewEntry(Asset.POINTS, -100, JOINED), opening(1_000))
    with pytest.raises(InvalidArgument, match="below zero"):
        await add_members_in_bulk(ledger, tenant=tenant, members=[person(1, opening(5)), spent_first])
    assert await ledger.count_members(tenant=tenant) == 0


@pytest.mark.parametrize("cents", [Decimal("1.5"), 1.5, True, 0])
async def test_an_amount_that_is_no_whole_nonzero_number_of_hundredths_is_refused(
    ledger: Ledger, tenant: Tenant, cents: object
) -> None:
    with pytest.raises(InvalidArgument, match="integer hundredths"):
        await add_members_in_bulk(ledger, tenant=tenant, members=[person(1, NewEntry(Asset.POINTS, cents, JOINED))])  # type: ignore[arg-type]
    assert await ledger.count_members(tenant=tenant) == 0


async def test_only_manual_kinds_and_batches_of_sane_size(ledger: Ledger, tenant: Tenant) -> None:
    with pytest.raises(InvalidArgument, match="opening balances or adjustments"):
        await add_members_in_bulk(ledger, tenant=tenant, members=[
            person(1, NewEntry(Asset.POINTS, 100, JOINED, Kind.ORDER_EARN))
        ])
    with pytest.raises(InvalidArgument, match="1 to"):
        await add_members_in_bulk(ledger, tenant=tenant, members=[])
    assert await ledger.count_members(tenant=tenant) == 0


@pytest.mark.parametrize("clash", ["user_ref", "email", "card_ref"])
async def test_an_identity_twice_in_a_batch_is_refused(ledger: Ledger, tenant: Tenant, clash: str) -> None:
    second = {
        "user_ref": NewMember(name="B", user_ref="usr-bulk-1", created_at=JOINED),
        "email": person(2, email="P1@EXAMPLE.com"),
        "card_ref": person(2, cards=("crd-bulk-1",)),
    }[clash]
    with pytest.raises(DuplicateIdentity, match=clash):
        await add_members_in_bulk(ledger, tenant=tenant, members=[person(1), second])
    assert await ledger.count_members(tenant=tenant) == 0


@pytest.mark.parametrize("clash", ["user_ref", "email", "card_ref"])
async def test_an_identity_another_member_holds_is_refused(ledger: Ledger, tenant: Tenant, clash: str) -> None:
    await ledger.create_member(tenant=tenant, name="Held", user_ref="usr-held", email="held@example.com",
                               card_refs=["crd-held"])
    taken = {
        "user_ref": NewMember(name="B", user_ref="usr-held", created_at=JOINED),
        "email": person(2, email="HELD@example.com"),
        "card_ref": person(2, cards=("crd-held",)),
    }[clash]
    with pytest.raises(DuplicateIdentity, match=clash):
        await add_members_in_bulk(ledger, tenant=tenant, members=[person(1), taken])
    assert await ledger.count_members(tenant=tenant) == 1


async def test_listings_remembered_before_a_bulk_load_are_not_reused(ledger: Ledger, tenant: Tenant) -> None:
    await add_members_in_bulk(ledger, tenant=tenant, members=[person(n, opening(n * 100)) for n in range(1, 6)])
    before = await ledger.balances(tenant=tenant, offset=2, limit=2)  # remembers where this page ended
    assert [r.member.user_ref for r in before.items] == ["usr-bulk-3", "usr-bulk-4"]
    # Members are only appended here, so the page itself stays; the roster version still moves, so a
    # continuation remembered under the old roster is never taken for the new one.
    versions = []
    for batch in ([person(6)], [person(7)]):
        await add_members_in_bulk(ledger, tenant=tenant, members=batch)
        versions.append(await ledger.store.read(
            lambda tx: tx.fetchval("SELECT roster_version FROM tenants WHERE id = ?", (tenant.id,))
        ))
    assert versions[0] != versions[1]
    after = await ledger.balances(tenant=tenant, offset=4, limit=10)
    assert [r.member.user_ref for r in after.items] == ["usr-bulk-5", "usr-bulk-6", "usr-bulk-7"]


@pytest.mark.parametrize("moment", [
    JOINED, datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=timezone.utc), datetime(999, 1, 2, tzinfo=timezone.utc),
    datetime(2020, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8))),
])
def test_times_are_stored_as_the_clock_writes_them(moment: datetime) -> None:
    assert _stored(moment) == to_text(moment)

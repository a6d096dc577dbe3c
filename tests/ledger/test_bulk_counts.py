"""A bulk load counts its own rows in the listings: the counts after members loaded in bulk, between and
beside members made one at a time, equal a count made from scratch, on every store; the row triggers a load
sets aside on SQLite are there again after it, whether it committed or failed."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from gateway.ledger import (
    Asset, Kind, Ledger, NewEntry, NewMember, Tenant, add_members_in_bulk,
)
from gateway.ledger.store.listing_counts import SQLITE_ROW_COUNTERS
from tests.ledger.test_listing_counts import recounted_differences

JOINED = datetime(2020, 3, 1, 9, 30, tzinfo=timezone.utc)
LATER = datetime(2021, 7, 4, 12, 0, tzinfo=timezone.utc)


def person(n: int) -> NewMember:
    """Members of every shape the generator makes: none, one or three assets, later movements."""
    entries: list[NewEntry] = []
    if n % 10:
        entries.append(NewEntry(Asset.POINTS, 1000 + n, JOINED, Kind.OPENING, "Opening balance"))
    if n % 7 == 0:
        entries.append(NewEntry(Asset.CASHBACK, 250, JOINED, Kind.OPENING, "Opening balance"))
        entries.append(NewEntry(Asset.MILES, 99, JOINED, Kind.OPENING, "Opening balance"))
    if n % 5 == 0 and n % 10:
        entries.append(NewEntry(Asset.POINTS, -(n % 500) - 1, LATER, Kind.ADJUSTMENT, "Redeemed"))
        entries.append(NewEntry(Asset.POINTS, 300, LATER, Kind.ADJUSTMENT, "Purchase"))
    return NewMember(
        name=f"Person {n}", user_ref=f"usr-count-{n}", created_at=JOINED, email=f"c{n}@example.com",
        card_refs=(f"crd-count-{n}",), entries=tuple(entries),
    )


async def triggers_in_place(ledger: Ledger) -> bool:
    """The listing counts' row triggers are all there (SQLite: a load drops and makes them again)."""
    if ledger.kind != "sqlite":
        return True
    found = await ledger.store.read(lambda tx: tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    return set(SQLITE_ROW_COUNTERS) <= {r[0] for r in found}


async def test_counts_after_bulk_loads_equal_a_recount(ledger: Ledger, tenant: Tenant) -> None:
    other = await ledger.create_tenant(name="beside")
    await ledger.create_member(tenant=tenant, name="Before", customer_no=250)  # the load continues from 251
    # Batches over the 2^8 boundaries of member numbers, a member made one at a time between them, another
    # tenant loaded between them too.
    assert await add_members_in_bulk(ledger, tenant=tenant, members=[person(n) for n in range(1, 301)]) == 300
    between = await ledger.create_member(tenant=tenant, name="Between")
    await ledger.credit(tenant=tenant, member=between, amount=Decimal("5.00"), asset=Asset.POINTS)
    await add_members_in_bulk(ledger, tenant=other, members=[person(n) for n in range(1, 40)])
    await add_members_in_bulk(ledger, tenant=tenant, members=[person(n) for n in range(301, 620)], check_taken=False)
    await ledger.create_member(tenant=tenant, name="After")
    assert await triggers_in_place(ledger)
    await ledger.create_member(tenant=tenant, name="Counted by the triggers again")
    assert await ledger.store.read(recounted_differences) == []


async def test_a_deep_page_after_a_bulk_load_is_the_plain_offset_page(ledger: Ledger, tenant: Tenant) -> None:
    await add_members_in_bulk(ledger, tenant=tenant, members=[person(n) for n in range(1, 700)])
    page = await ledger.members(tenant=tenant, offset=600, limit=5)
    assert [m.customer_no for m in page.items] == list(range(601, 606))


async def test_a_failed_load_leaves_the_triggers_and_no_count(ledger: Ledger, tenant: Tenant) -> None:
    await add_members_in_bulk(ledger, tenant=tenant, members=[person(1)])
    clashing = [person(n) for n in range(2, 50)] + [person(1)]  # user_ref of member 1 again: the index refuses
    with pytest.raises(Exception):  # noqa: B017 - the unique index refuses it, in each engine's own words
        await add_members_in_bulk(ledger, tenant=tenant, members=clashing, check_taken=False)
    assert await triggers_in_place(ledger)
    await ledger.create_member(tenant=tenant, name="Counted by the triggers again")
    assert await ledger.store.read(recounted_differences) == []

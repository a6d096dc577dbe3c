"""History paged by offset: every row exactly once in (record, entry) order for any page size, and a jump
to any offset sees every change to rows already listed (a revision, a pending entry resolved, a member
renumbered)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger import By, HistoryQuery, Identity, Kind, Ledger, Member, Status, Tenant

EVERYTHING = HistoryQuery(statuses=frozenset({Status.CONFIRMED}))


async def walk(ledger: Ledger, tenant: Tenant, size: int, query: HistoryQuery = EVERYTHING) -> list[tuple[int, Decimal]]:
    seen, offset = [], 0
    while True:
        page = await ledger.history(tenant=tenant, query=query, offset=offset, limit=size)
        seen.extend((e.record_id, e.record_amount) for e in page.items)
        if len(page.items) < size:
            return seen
        offset += size


async def jump(ledger: Ledger, tenant: Tenant, offset: int, size: int, query: HistoryQuery = EVERYTHING) -> list[int]:
    page = await ledger.history(tenant=tenant, query=query, offset=offset, limit=size)
    return [e.record_id for e in page.items]


@pytest.fixture
async def busy(ledger: Ledger, tenant: Tenant, member: Member) -> list[int]:
    """Twenty adjustments on the seeded member, a few of them revised, and another tenant's movements."""
    made = []
    for n in range(1, 21):
        moved = await ledger.adjust(tenant=tenant, member=member, amount=Decimal(n), note=f"n{n}")
        made.append(moved.entry.record_id)
    for record in made[::5]:
        await ledger.adjust(tenant=tenant, revises=record, amount=Decimal("0.5"))
    other = await ledger.create_tenant(name="elsewhere")
    stranger = await ledger.create_member(tenant=other, member_no=5, customer_no=5)
    for _ in range(3):
        await ledger.adjust(tenant=other, member=stranger, amount=Decimal("1"))
    return made


@pytest.mark.parametrize("size", [1, 2, 3, 7, 21, 22, 200])
async def test_walking_every_page_lists_each_record_once_in_order(
    ledger: Ledger, tenant: Tenant, busy: list[int], size: int
) -> None:
    whole = (await ledger.history(tenant=tenant, query=EVERYTHING, limit=200)).items
    expected = [(e.record_id, e.record_amount) for e in whole]
    assert len(expected) == 21 and [r for r, _ in expected] == sorted({r for r, _ in expected})
    assert await walk(ledger, tenant, size) == expected
    assert await walk(ledger, tenant, size) == expected  # again: nothing a first walk leaves changes the second
    for offset in range(0, 23):
        assert await jump(ledger, tenant, offset, 3) == [r for r, _ in expected][offset : offset + 3]


async def test_a_revision_of_a_listed_row_is_seen_by_a_jump(ledger: Ledger, tenant: Tenant, busy: list[int]) -> None:
    notes = HistoryQuery(note="n2")
    assert await jump(ledger, tenant, 0, 1, notes) == [busy[1]]
    assert await jump(ledger, tenant, 1, 1, notes) == []  # the end of the listing is now remembered
    await ledger.adjust(tenant=tenant, revises=busy[0], note="n2")  # an earlier row now has note n2 too
    assert await jump(ledger, tenant, 1, 1, notes) == [busy[1]]


async def test_a_pending_entry_resolved_later_is_seen_by_a_jump(
    ledger: Ledger, tenant: Tenant, member: Member, busy: list[int]
) -> None:
    held = await ledger.hold(tenant=tenant, member=member, amount=Decimal("3"), kind=Kind.REWARD)
    await ledger.adjust(tenant=tenant, member=member, amount=Decimal("1"), note="after the hold")
    listed = [r for r, _ in await walk(ledger, tenant, 4)]
    assert held.entry.id not in listed
    assert await jump(ledger, tenant, len(listed), 4) == []  # the end of the listing is remembered
    await ledger.confirm(tenant=tenant, entry=held.entry.id)  # a row appears before the last one
    assert await jump(ledger, tenant, len(listed), 4) == [listed[-1]]
    assert await jump(ledger, tenant, len(listed) - 1, 4) == [held.entry.id, listed[-1]]


async def test_a_renumbered_member_is_seen_by_a_jump(ledger: Ledger, tenant: Tenant, member: Member, busy: list[int]) -> None:
    by_number = HistoryQuery(member_no=1534)
    assert len(await jump(ledger, tenant, 0, 5, by_number)) == 5  # remembers where the first five ended
    await ledger.update_member(tenant=tenant, member=By(Identity.ID, member.id), changes={"member_no": 777})
    newcomer = await ledger.create_member(tenant=tenant, member_no=1534, customer_no=99)
    await ledger.adjust(tenant=tenant, member=newcomer, amount=Decimal("2"))
    assert await jump(ledger, tenant, 5, 5, by_number) == []  # number 1534 now has one row only
    assert len(await jump(ledger, tenant, 5, 50, HistoryQuery(member_no=777))) == 16


async def test_a_store_without_commit_ordered_ids_pages_the_same(
    ledger: Ledger, tenant: Tenant, busy: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = await walk(ledger, tenant, 200)
    monkeypatch.setattr(ledger.store, "ordered_ids", False, raising=False)
    assert await walk(ledger, tenant, 3) == expected  # the counts are read in the rows' snapshot, whatever the ids

"""Balances paged by offset: every live member exactly once, in member-number order, for any page size,
after any change to the roster, whichever instance made it (the listing counts live in the database)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger import Credential, Ledger, Tenant


async def walk(ledger: Ledger, tenant: Tenant, size: int) -> list[int]:
    seen, offset = [], 0
    while True:
        page = await ledger.balances(tenant=tenant, offset=offset, limit=size)
        seen.extend(row.member.member_no for row in page.items)
        if len(page.items) < size:
            return seen
        offset += size


@pytest.fixture
async def roster(ledger: Ledger, tenant: Tenant) -> list[int]:
    numbers = [7, 3, 250, 11, 42, 5, 99, 1000, 64, 8, 13, 21, 34, 55, 89, 144, 233]
    for n in numbers:
        await ledger.create_member(tenant=tenant, member_no=n, customer_no=n)
    other = await ledger.create_tenant(name="t2", credentials=[Credential("memberpoints", "api-2", "key-2")])
    for n in (1, 4, 6, 500):
        await ledger.create_member(tenant=other, member_no=n, customer_no=n)
    return sorted(numbers)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 16, 17, 200])
async def test_walking_every_page_gives_every_member_once_in_order(
    ledger: Ledger, tenant: Tenant, roster: list[int], size: int
) -> None:
    assert await walk(ledger, tenant, size) == roster
    assert await walk(ledger, tenant, size) == roster


async def test_a_jump_to_any_offset_matches_the_plain_order(ledger: Ledger, tenant: Tenant, roster: list[int]) -> None:
    await walk(ledger, tenant, 4)
    for offset in range(len(roster) + 2):
        for size in (1, 3, 6):
            page = await ledger.balances(tenant=tenant, offset=offset, limit=size)
            assert [r.member.member_no for r in page.items] == roster[offset : offset + size]


async def test_a_changed_roster_is_never_paged_with_old_continuations(
    ledger: Ledger, tenant: Tenant, roster: list[int]
) -> None:
    assert await walk(ledger, tenant, 5) == roster
    await ledger.create_member(tenant=tenant, member_no=2, customer_no=2)  # lands before every mark
    assert await walk(ledger, tenant, 5) == sorted([2, *roster])


async def test_deleted_members_leave_the_listing_and_balances_stay_exact(
    ledger: Ledger, tenant: Tenant, roster: list[int]
) -> None:
    from gateway.ledger import By, Identity

    await ledger.credit(tenant=tenant, member=By(Identity.MEMBER_NO, 64), amount=Decimal("12.50"))
    assert await walk(ledger, tenant, 3) == roster
    await ledger.update_member(tenant=tenant, member=By(Identity.MEMBER_NO, 11), changes={"deleted": True})
    assert await walk(ledger, tenant, 3) == [n for n in roster if n != 11]
    (row,) = (await ledger.balances(tenant=tenant, member_no=64)).items
    assert row.balance == Decimal("12.50")


async def test_another_process_changing_the_roster_is_seen_at_once(
    ledger: Ledger, tenant: Tenant, roster: list[int], store_url: str
) -> None:
    from gateway.ledger import open_store

    assert await walk(ledger, tenant, 4) == roster  # this instance now remembers where its pages ended
    other = Ledger(open_store(store_url))  # a second server process on the same database
    await other.start()
    try:
        await other.create_member(tenant=await other.tenant(tenant.name), member_no=1, customer_no=1)
    finally:
        await other.close()
    jump = await ledger.balances(tenant=tenant, offset=4, limit=4)
    assert [r.member.member_no for r in jump.items] == [1, *roster][4:8]
    assert await walk(ledger, tenant, 4) == [1, *roster]


async def test_a_tenant_created_again_never_meets_its_predecessors_continuations(ledger: Ledger) -> None:
    first = await ledger.create_tenant(name="again")
    for n in (10, 20, 30, 40):
        await ledger.create_member(tenant=first, member_no=n, customer_no=n)
    assert await walk(ledger, first, 2) == [10, 20, 30, 40]
    await ledger.delete_tenants(tenants=[first])
    second = await ledger.create_tenant(name="again")
    for n in (1, 2, 3, 4):  # as many members as before: the same number of roster changes
        await ledger.create_member(tenant=second, member_no=n, customer_no=n)
    jump = await ledger.balances(tenant=second, offset=2, limit=2)  # straight to a remembered offset
    assert [r.member.member_no for r in jump.items] == [3, 4]
    assert await walk(ledger, second, 2) == [1, 2, 3, 4]

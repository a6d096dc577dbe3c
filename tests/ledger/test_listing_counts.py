"""Property test of deep paging: random rosters and histories, changed at random through two ledgers on one
database (two instances); after every few changes every page of both listings, under several filters, must
equal what a plain ORDER BY ... OFFSET gives, and the listing counts must equal a count made from scratch.
Member numbers and entry ids are spread over the boundaries of every count width (2^8, 2^16, 2^24)."""
from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from gateway.ledger import (
    MANUAL_KINDS, Asset, By, DuplicateIdentity, HistoryQuery, Identity, Kind, Ledger, Status, Tenant, open_store,
)
from gateway.ledger.repo import entries as entry_sql

ALL_STATUSES = frozenset(Status)
QUERIES = {
    "confirmed": HistoryQuery(),
    "memberpoints": HistoryQuery(asset=Asset.POINTS, kinds=MANUAL_KINDS),
    "every status": HistoryQuery(statuses=ALL_STATUSES),
    "cashback rewards": HistoryQuery(asset=Asset.CASHBACK, kinds=frozenset({Kind.REWARD}), statuses=ALL_STATUSES),
    "no kinds": HistoryQuery(kinds=frozenset()),
    "every revision": HistoryQuery(records_only=False),  # not counted: walks
    "since 2000": HistoryQuery(after=datetime(2000, 1, 1, tzinfo=timezone.utc)),  # not counted: walks
}


@pytest.fixture
async def second(store_url: str) -> AsyncIterator[Ledger]:
    """Another instance on the same database."""
    book = Ledger(open_store(store_url))
    await book.start()
    yield book
    await book.close()


def number(rng: random.Random) -> int:
    edge = rng.choice([0, 1 << 8, 1 << 16, 1 << 24, 3 << 24])
    return max(1, edge + rng.randint(-300, 300)) if rng.random() < 0.8 else rng.randint(1, 1 << 40)


async def skip_ids(ledger: Ledger, by: int) -> None:
    """Leave a gap in entry ids, so records fall in more than one range of every width."""
    if ledger.kind == "sqlite":
        sql = "UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'entries'"
    else:
        sql = "SELECT setval(pg_get_serial_sequence('entries', 'id'), (SELECT coalesce(max(id), 1) FROM entries) + ?)"
    await ledger.store.write(lambda tx: tx.execute(sql, (by,)))


class World:
    def __init__(self, rng: random.Random, books: list[Ledger], tenants: list[Tenant]) -> None:
        self.rng, self.books, self.tenants = rng, books, tenants
        self.records: list[tuple[int, int, Asset]] = []  # (tenant index, record id, asset)
        self.held: list[tuple[int, int]] = []

    async def step(self) -> None:
        rng = self.rng
        at = rng.randrange(len(self.tenants))
        book = rng.choice(self.books)
        tenant = await book.tenant(self.tenants[at].name)
        live = await self.naive_roster(tenant)
        move = rng.choice(["member"] * 3 + ["delete", "renumber", "adjust", "adjust", "revise", "hold", "resolve", "gap"])
        if move == "member" or not live:
            n = number(rng)
            try:
                await book.create_member(tenant=tenant, member_no=n, customer_no=n)
            except DuplicateIdentity:
                pass
        elif move == "delete":
            await book.update_member(tenant=tenant, member=By(Identity.MEMBER_NO, rng.choice(live)), changes={"deleted": True})
        elif move == "renumber":
            try:
                await book.update_member(
                    tenant=tenant, member=By(Identity.MEMBER_NO, rng.choice(live)), changes={"member_no": number(rng)}
                )
            except DuplicateIdentity:
                pass
        elif move == "adjust":
            asset = rng.choice([Asset.POINTS, Asset.CASHBACK])
            moved = await book.adjust(tenant=tenant, member=By(Identity.MEMBER_NO, rng.choice(live)),
                                      amount=Decimal(rng.randint(1, 50)), asset=asset)
            self.records.append((at, moved.entry.record_id, asset))
        elif move == "revise" and self.records:
            which, record, asset = rng.choice(self.records)
            if which == at:
                await book.adjust(tenant=tenant, revises=record, amount=Decimal(rng.randint(60, 90)), asset=asset)
        elif move == "hold":
            held = await book.hold(tenant=tenant, member=By(Identity.MEMBER_NO, rng.choice(live)),
                                   amount=Decimal(rng.randint(1, 9)), asset=rng.choice([Asset.POINTS, Asset.CASHBACK]))
            self.held.append((at, held.entry.id))
        elif move == "resolve" and self.held:
            which, entry = self.held.pop(rng.randrange(len(self.held)))
            tenant = await book.tenant(self.tenants[which].name)
            if rng.random() < 0.5:
                await book.confirm(tenant=tenant, entry=entry)
            else:
                await book.cancel(tenant=tenant, entry=entry)
        elif move == "gap":
            await skip_ids(book, rng.choice([1, 200, 256, 70_000, 1 << 24]))

    async def naive_roster(self, tenant: Tenant) -> list[int]:
        found = await self.books[0].store.read(lambda tx: tx.fetchall(
            "SELECT member_no FROM members WHERE tenant_id = ? AND deleted = 0 ORDER BY member_no", (tenant.id,)
        ))
        return [r["member_no"] for r in found]

    async def naive_history(self, tenant: Tenant, query: HistoryQuery) -> list[int]:
        where, params = entry_sql._where(tenant.id, query)
        found = await self.books[0].store.read(lambda tx: tx.fetchall(
            f"SELECT e.id FROM entries e WHERE {where} ORDER BY coalesce(e.record_id, e.id), e.id", params
        ))
        return [r["id"] for r in found]

    async def check(self) -> None:
        for index, book in enumerate(self.books):
            for name in (t.name for t in self.tenants):
                tenant = await book.tenant(name)
                roster = await self.naive_roster(tenant)
                for offset in range(len(roster) + 2):
                    size = 1 + (offset + index) % 4
                    page = await book.balances(tenant=tenant, offset=offset, limit=size)
                    assert [r.member.member_no for r in page.items] == roster[offset : offset + size], (name, offset)
                for label, query in QUERIES.items():
                    rows = await self.naive_history(tenant, query)
                    for offset in range(len(rows) + 2):
                        size = 1 + (offset + index) % 3
                        page = await book.history(tenant=tenant, query=query, offset=offset, limit=size)
                        assert [e.id for e in page.items] == rows[offset : offset + size], (name, label, offset)
        assert await self.books[0].store.read(recounted_differences) == []


async def recounted_differences(tx: Any) -> list[Any]:
    """Every (listing, width, range, category) whose kept count differs from a count made from scratch."""
    return await tx.fetchall(
        "WITH widths(shift) AS (SELECT 8 UNION ALL SELECT 16 UNION ALL SELECT 24),"
        " fresh(tenant_id, listing, level, bucket, category, n) AS ("
        "  SELECT tenant_id, 'members', shift, member_no >> shift, '', count(*) FROM members, widths"
        "  WHERE deleted = 0 GROUP BY tenant_id, shift, member_no >> shift"
        "  UNION ALL SELECT e.tenant_id, 'entries', shift, coalesce(e.record_id, e.id) >> shift,"
        "  e.asset || '/' || e.kind || '/' || e.status, count(*) FROM entries e, widths"
        "  WHERE NOT EXISTS (SELECT 1 FROM entries q WHERE q.record_id = coalesce(e.record_id, e.id) AND q.id > e.id)"
        "  GROUP BY e.tenant_id, shift, coalesce(e.record_id, e.id) >> shift, e.asset || '/' || e.kind || '/' || e.status),"
        " kept(tenant_id, listing, level, bucket, category, n) AS ("
        "  SELECT tenant_id, listing, level, bucket, category, sum(n) FROM listing_counts"
        "  GROUP BY tenant_id, listing, level, bucket, category HAVING sum(n) <> 0)"
        " SELECT * FROM (SELECT * FROM fresh EXCEPT SELECT * FROM kept) AS a"
        " UNION ALL SELECT * FROM (SELECT * FROM kept EXCEPT SELECT * FROM fresh) AS b"
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_page_equals_the_plain_offset_query_through_random_changes(
    ledger: Ledger, second: Ledger, seed: int
) -> None:
    tenants = [await ledger.create_tenant(name=f"p{seed}-{i}") for i in range(2)]
    world = World(random.Random(seed), [ledger, second], tenants)
    for _ in range(8):
        for _ in range(12):
            await world.step()
        await world.check()


async def test_a_deep_page_is_found_on_the_counts_not_by_walking(ledger: Ledger, tenant: Tenant) -> None:
    """The start of a deep page is read from the counts: with the counts of one range made wrong on purpose,
    the page lands elsewhere (so the test above would catch counts that drift)."""
    for n in range(1, 600):
        await ledger.create_member(tenant=tenant, member_no=n, customer_no=n)
    assert [r.member.member_no for r in (await ledger.balances(tenant=tenant, offset=500, limit=2)).items] == [501, 502]
    await ledger.store.write(lambda tx: tx.execute(
        "UPDATE listing_counts SET n = n + 1 WHERE tenant_id = ? AND listing = 'members' AND level = 8 AND bucket = 0",
        (tenant.id,),
    ))
    assert [r.member.member_no for r in (await ledger.balances(tenant=tenant, offset=500, limit=2)).items] == [500, 501]
    assert await ledger.store.read(recounted_differences) != []
    await ledger.store.write(lambda tx: tx.execute(
        "UPDATE listing_counts SET n = n - 1 WHERE tenant_id = ? AND listing = 'members' AND level = 8 AND bucket = 0",
        (tenant.id,),
    ))


async def test_offsets_past_the_end_give_empty_pages(ledger: Ledger, tenant: Tenant, member: Any) -> None:
    for offset in (1, 2, 10_000, 10**15):
        assert (await ledger.balances(tenant=tenant, offset=offset)).items == []
        assert (await ledger.history(tenant=tenant, offset=offset)).items == []


async def test_a_database_from_before_migration_11_gets_its_counts_at_upgrade(ledger: Ledger, store_url: str) -> None:
    """Migration 11 counts the rows already there: the database is taken back to version 10 (counts and
    triggers gone), changed, and opened again."""
    tenants = [await ledger.create_tenant(name=f"u{i}") for i in range(2)]
    world = World(random.Random(11), [ledger], tenants)
    for _ in range(40):
        await world.step()
    if ledger.kind == "sqlite":
        undo = ["DROP TABLE listing_counts"] + [
            f"DROP TRIGGER {t}" for t in
            ("members_listed", "members_relisted", "entries_listed", "entries_revised", "entries_relisted", "tenants_unlisted")
        ]
    else:
        undo = ["DROP TABLE listing_counts", "DROP FUNCTION listing_count, members_added, members_changed, entries_added,"
                " entries_changed, tenants_unlisted CASCADE"]

    async def back_to_10(tx: Any) -> None:
        for statement in [*undo, "DELETE FROM schema_version WHERE version >= 11"]:
            await tx.execute(statement)

    await ledger.store.write(back_to_10)
    for _ in range(20):  # changes no trigger counts
        await world.step()
    again = Ledger(open_store(store_url))
    await again.start()  # migrates
    try:
        world.books = [again]
        await world.check()
        for _ in range(20):
            await world.step()
        await world.check()
    finally:
        await again.close()

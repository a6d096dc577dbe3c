"""What several writers on one PostgreSQL database see: a conflict or a deadlock between two units is
re-run, never shown, unless it keeps happening past max_attempts; two ledgers (two instances) sharing
an idempotency key apply it once and return the same bytes."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from gateway.ledger import Asset, Credential, IdempotencyInFlight, Idempotency, Ledger, Outcome, StoreUnavailable, open_store
from gateway.ledger.store.base import Tx
from gateway.ledger.store.postgres import PostgresStore


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresStore]:
    opened = open_store(pg_url)
    assert isinstance(opened, PostgresStore)
    await opened.open()
    await opened.write(lambda tx: tx.execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
    await opened.write(lambda tx: tx.execute("INSERT INTO counters VALUES (1, 0), (2, 0)"))
    yield opened
    await opened.close()


class Meeting:
    """Holds the first attempt of each of `n` units until all have read, so they surely overlap."""

    def __init__(self, n: int) -> None:
        self.n, self.arrived, self.all_here = n, 0, asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived == self.n:
            self.all_here.set()
        await self.all_here.wait()


def increment(meeting: Meeting, attempts: list[int]):  # type: ignore[no-untyped-def]
    """Read the counter, meet the other unit (first attempt only), write the value read plus one."""

    async def work(tx: Tx) -> int:
        attempts.append(1)
        n = await tx.fetchval("SELECT n FROM counters WHERE id = 1")
        if len(attempts) == 1:
            await meeting.wait()
        await tx.execute("UPDATE counters SET n = ? WHERE id = 1", (n + 1,))
        return n + 1

    return work


def cross(meeting: Meeting, attempts: list[int], first: int, second: int):  # type: ignore[no-untyped-def]
    """Lock row `first`, meet the other unit (first attempt only), then lock row `second`."""

    async def work(tx: Tx) -> None:
        attempts.append(1)
        await tx.execute("UPDATE counters SET n = n + 1 WHERE id = ?", (first,))
        if len(attempts) == 1:
            await meeting.wait()
        await tx.execute("UPDATE counters SET n = n + 1 WHERE id = ?", (second,))

    return work


async def counter(store: PostgresStore, row: int = 1) -> int:
    return await store.read(lambda tx: tx.fetchval("SELECT n FROM counters WHERE id = ?", (row,)))


async def test_two_units_reading_then_writing_one_row_both_count(store: PostgresStore) -> None:
    meeting, a, b = Meeting(2), [], []
    results = await asyncio.gather(store.write(increment(meeting, a)), store.write(increment(meeting, b)))
    assert sorted(results) == [1, 2]  # no lost update: the loser was re-run on the new value
    assert await counter(store) == 2
    assert len(a) + len(b) == 3 and store.retries == 1


async def test_a_conflict_past_max_attempts_is_store_unavailable_and_applies_nothing(pg_url: str) -> None:
    store = PostgresStore(pg_url, max_attempts=1)
    await store.open()
    try:
        await store.write(lambda tx: tx.execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        await store.write(lambda tx: tx.execute("INSERT INTO counters VALUES (1, 0)"))
        meeting = Meeting(2)
        results = await asyncio.gather(
            store.write(increment(meeting, [])), store.write(increment(meeting, [])), return_exceptions=True
        )
        assert sorted(map(type, results), key=str) == sorted([int, StoreUnavailable], key=str)
        assert await counter(store) == 1
    finally:
        await store.close()


async def test_a_deadlock_between_two_units_is_resolved_out_of_sight(store: PostgresStore) -> None:
    # One unit takes row 1 then row 2, the other row 2 then row 1: PostgreSQL aborts one (40P01 or
    # 40001); it is re-run and both apply.
    meeting, a, b = Meeting(2), [], []
    await asyncio.gather(
        store.write(cross(meeting, a, first=1, second=2)), store.write(cross(meeting, b, first=2, second=1))
    )
    assert await counter(store, 1) == 2 and await counter(store, 2) == 2
    assert store.retries >= 1 and len(a) + len(b) == 2 + store.retries


@pytest.fixture
async def two_ledgers(pg_url: str) -> AsyncIterator[tuple[Ledger, Ledger]]:
    first, second = Ledger(open_store(pg_url)), Ledger(open_store(pg_url))
    await first.start()
    await second.start()
    yield first, second
    report = await first.audit()
    await first.close()
    await second.close()
    assert report.ok, report.violations


async def test_one_idempotency_key_on_two_instances_applies_once(two_ledgers: tuple[Ledger, Ledger]) -> None:
    first, second = two_ledgers
    tenant = await first.create_tenant(name="t", credentials=[Credential("imonggo", "tok")])
    member = await first.create_member(tenant=tenant, name="M")
    await second.reload_tenants()
    key = Idempotency("mint", "key-1", "fp", lambda m: f"{m.entry.id}:{m.balance.posted}".encode())
    calls = [
        book.credit(tenant=tenant, member=member.id, amount=Decimal("2.50"), idempotency=key)
        for _ in range(10)
        for book in (first, second)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert all(isinstance(r, (Outcome, IdempotencyInFlight)) for r in results), results
    assert len({o.response for o in outcomes}) == 1
    assert [o.replayed for o in outcomes].count(False) == 1
    balance = await second.balance(tenant=tenant, member=member.id)
    assert balance.accounts[Asset.POINTS].posted == Decimal("2.50")
    assert await second.count_history(tenant=tenant) == 1
    again = await second.credit(tenant=tenant, member=member.id, amount=Decimal("2.50"), idempotency=key)
    assert again.replayed and again.response == outcomes[0].response

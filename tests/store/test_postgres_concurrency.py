"""What two gateway processes writing to one PostgreSQL database see (two stores with writers of their
own stand in for them): a conflict or a deadlock between their transactions is re-run, never shown,
unless it goes on past retry_seconds; inside one store, writes never conflict at all (one writer
groups them); two ledgers sharing an idempotency key apply it once and return the same bytes; two
ledgers creating members with one external code make exactly one."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import pytest

from gateway.ledger import (
    Asset,
    Credential,
    DuplicateIdentity,
    Idempotency,
    IdempotencyInFlight,
    InsufficientFunds,
    Ledger,
    Outcome,
    StoreUnavailable,
    open_store,
)
from gateway.ledger.store.base import Tx
from gateway.ledger.store.postgres import PostgresStore


async def opened(url: str, **options: float) -> PostgresStore:
    store = PostgresStore(url, **options)  # type: ignore[arg-type]
    await store.open()
    return store


@pytest.fixture
async def two_stores(pg_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    first, second = await opened(pg_url), await opened(pg_url)
    await first.write(lambda tx: tx.execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0))"))
    await first.write(lambda tx: tx.execute("INSERT INTO counters VALUES (1, 0), (2, 0)"))
    yield first, second
    await first.close()
    await second.close()


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


async def test_two_processes_reading_then_writing_one_row_both_count(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two_stores
    meeting, a, b = Meeting(2), [], []
    results = await asyncio.gather(first.write(increment(meeting, a)), second.write(increment(meeting, b)))
    assert sorted(results) == [1, 2]  # no lost update: the loser was re-run on the new value
    assert await counter(first) == 2
    assert len(a) + len(b) == 3 and first.retries + second.retries == 1


async def test_a_conflict_past_retry_seconds_is_store_unavailable_and_applies_nothing(
    two_stores: tuple[PostgresStore, PostgresStore], pg_url: str
) -> None:
    first, second = await opened(pg_url, retry_seconds=0), await opened(pg_url, retry_seconds=0)
    try:
        meeting = Meeting(2)
        results = await asyncio.gather(
            first.write(increment(meeting, [])), second.write(increment(meeting, [])), return_exceptions=True
        )
        assert sorted(type(r).__name__ for r in results) == ["StoreUnavailable", "int"]
        lost = next(r for r in results if isinstance(r, StoreUnavailable))
        assert "try again" in lost.message
        assert await counter(first) == 1
    finally:
        await first.close()
        await second.close()


async def test_a_deadlock_between_two_processes_is_resolved_out_of_sight(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    # One takes row 1 then row 2, the other row 2 then row 1: PostgreSQL aborts one (40P01 or 40001);
    # it is re-run and both apply.
    first, second = two_stores
    meeting, a, b = Meeting(2), [], []
    await asyncio.gather(first.write(cross(meeting, a, 1, 2)), second.write(cross(meeting, b, 2, 1)))
    assert await counter(first, 1) == 2 and await counter(first, 2) == 2
    retries = first.retries + second.retries
    assert retries >= 1 and len(a) + len(b) == 2 + retries


async def test_inside_one_process_writes_never_conflict(two_stores: tuple[PostgresStore, PostgresStore]) -> None:
    first, _ = two_stores

    async def bump(tx: Tx) -> None:
        n = await tx.fetchval("SELECT n FROM counters WHERE id = 1")
        await asyncio.sleep(0)
        await tx.execute("UPDATE counters SET n = ? WHERE id = 1", (n + 1,))

    await asyncio.gather(*(first.write(bump) for _ in range(200)))
    assert await counter(first) == 200 and first.retries == 0
    assert first.commits < first.writes  # queued writes shared commits


async def test_a_refused_or_failed_unit_in_a_group_undoes_only_itself(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    first, _ = two_stores

    async def bump(tx: Tx) -> int:
        await tx.execute("UPDATE counters SET n = n + 1 WHERE id = 1")
        return 1

    async def refused(tx: Tx) -> int:  # a domain refusal after a write
        await tx.execute("UPDATE counters SET n = n + 100 WHERE id = 1")
        raise InsufficientFunds("no")

    async def broken(tx: Tx) -> int:  # an error inside PostgreSQL, which fails the statement
        await tx.execute("UPDATE counters SET n = n + 1000 WHERE id = 1")
        await tx.execute("UPDATE counters SET n = -1 WHERE id = 1")
        return 0

    units = [refused if i % 3 == 0 else broken if i % 5 == 0 else bump for i in range(30)]
    results = await asyncio.gather(*(first.write(u) for u in units), return_exceptions=True)
    assert first.commits < first.writes  # they did share transactions
    for unit, result in zip(units, results, strict=True):
        expected = {refused: InsufficientFunds, broken: asyncpg.CheckViolationError, bump: int}[unit]
        assert isinstance(result, expected), (unit.__name__, result)
    assert await counter(first) == units.count(bump)


async def test_a_connection_lost_in_the_middle_of_a_write_is_replaced_and_the_write_run_again(
    two_stores: tuple[PostgresStore, PostgresStore], pg_url: str
) -> None:
    # As in a server restart or a failover: the session dies before COMMIT, so nothing of it stayed.
    first, _ = two_stores
    attempts: list[int] = []

    async def doomed(tx: Tx) -> None:
        attempts.append(1)
        await tx.execute("UPDATE counters SET n = n + 1 WHERE id = 1")
        if len(attempts) == 1:
            admin = await asyncpg.connect(pg_url)
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", await tx.fetchval("SELECT pg_backend_pid()"))
            finally:
                await admin.close()
        await tx.execute("UPDATE counters SET n = n + 1 WHERE id = 2")

    await first.write(doomed)
    assert len(attempts) == 2
    assert await counter(first, 1) == 1 and await counter(first, 2) == 1


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


async def test_two_instances_creating_members_with_one_external_ref_make_exactly_one(
    two_ledgers: tuple[Ledger, Ledger]
) -> None:
    first, second = two_ledgers
    tenant = await first.create_tenant(name="t", credentials=[Credential("imonggo", "tok")])
    await second.reload_tenants()
    calls = [
        book.create_member(tenant=tenant, name=f"M{n}", external_ref="CODE-1")
        for n in range(8)
        for book in (first, second)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    made = [r for r in results if not isinstance(r, BaseException)]
    assert len(made) == 1 and made[0].external_ref == "CODE-1"
    assert all(isinstance(r, DuplicateIdentity) and r.details["identity"] == "external_ref"
               for r in results if isinstance(r, BaseException)), results
    assert await second.count_members(tenant=tenant) == 1

"""The SQLite store runs nothing on the event loop's thread: a slow read holds up only its own caller
while other reads and writes complete, and a unit of work that really suspends on a store thread fails
with an error naming it (never a hang), leaving the other units of its group and the store working."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any
from pathlib import Path

import pytest

from gateway.ledger import open_store
from gateway.ledger.store.drive import UnitSuspended
from gateway.ledger.store.sqlite import SQLiteStore

# About a second of work for SQLite on this machine: a deep page's worth of stepping through rows.
SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) SELECT count(*) FROM c"


async def _open(path: Path, readers: int) -> SQLiteStore:
    store = open_store(f"sqlite:///{path}", readers=readers)
    assert isinstance(store, SQLiteStore)
    await store.open()
    await store.write(lambda tx: tx.execute("CREATE TABLE t (n INTEGER)"))
    return store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = await _open(tmp_path / "threads.db", readers=4)
    yield opened
    await opened.close()


async def _others(store: SQLiteStore, n: int) -> float:
    """n reads and n writes at once; the time the slowest took."""
    start = time.perf_counter()
    await asyncio.gather(
        *(store.read(lambda tx: tx.fetchval("SELECT count(*) FROM t")) for _ in range(n)),
        *(store.write(lambda tx, i=i: tx.execute("INSERT INTO t VALUES (?)", (i,))) for i in range(n)),
    )
    return time.perf_counter() - start


async def test_a_slow_read_in_flight_delays_only_itself(store: SQLiteStore) -> None:
    started = threading.Event()

    async def deep_page(tx):  # type: ignore[no-untyped-def]
        started.set()
        return await tx.fetchval(SLOW)

    slow = asyncio.create_task(store.read(deep_page))
    assert await asyncio.to_thread(started.wait, 10)
    # The loop answers at once and the others all finish while the slow read is still running.
    took = await _others(store, 20)
    assert not slow.done(), f"the slow read ended before 20 reads and 20 writes ({took:.3f} s)"
    assert await slow == 1_500_000
    assert await store.read(lambda tx: tx.fetchval("SELECT count(*) FROM t")) == 20


async def test_a_read_held_open_blocks_no_other_read_or_write(store: SQLiteStore) -> None:
    """The same without timing: a read that holds its reader (and its snapshot) until told."""
    inside, release = threading.Event(), threading.Event()

    async def held(tx):  # type: ignore[no-untyped-def]
        before = await tx.fetchval("SELECT count(*) FROM t")
        inside.set()
        release.wait(10)
        return before, await tx.fetchval("SELECT count(*) FROM t")

    holding = asyncio.create_task(store.read(held))
    assert await asyncio.to_thread(inside.wait, 10)
    try:
        await asyncio.wait_for(_others(store, 10), timeout=10)
        assert not holding.done()
    finally:
        release.set()
    assert await holding == (0, 0)  # one snapshot for the whole unit, whatever committed meanwhile


async def test_with_one_reader_a_slow_read_does_hold_up_the_next(tmp_path: Path) -> None:
    """What the pool buys (and the check above can fail): one reader serves reads one at a time."""
    store = await _open(tmp_path / "one.db", readers=1)
    try:
        inside, release = threading.Event(), threading.Event()

        async def held(tx):  # type: ignore[no-untyped-def]
            inside.set()
            release.wait(10)

        holding = asyncio.create_task(store.read(held))
        assert await asyncio.to_thread(inside.wait, 10)
        waiting = asyncio.create_task(store.read(lambda tx: tx.fetchval("SELECT 1")))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        release.set()
        await holding
        assert await waiting == 1
    finally:
        await store.close()


async def test_a_write_unit_that_suspends_fails_naming_itself_and_its_group_commits(store: SQLiteStore) -> None:
    async def sleeps_inside(tx):  # type: ignore[no-untyped-def]
        await tx.execute("INSERT INTO t VALUES (99)")
        await asyncio.sleep(0.01)  # needs the loop: refused on the writer thread

    async def yields_inside(tx):  # type: ignore[no-untyped-def]
        await tx.execute("INSERT INTO t VALUES (98)")
        await asyncio.sleep(0)  # a bare suspension, no loop asked

    results = await asyncio.gather(
        store.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)")),
        store.write(sleeps_inside),
        store.write(yields_inside),
        store.write(lambda tx: tx.execute("INSERT INTO t VALUES (2)")),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[3] == 1
    assert isinstance(results[1], UnitSuspended) and "sleeps_inside" in str(results[1])
    assert isinstance(results[2], UnitSuspended) and "yields_inside" in str(results[2])
    # Each refused unit undid only itself; the store writes on.
    assert [tuple(r) for r in await store.read(lambda tx: tx.fetchall("SELECT n FROM t ORDER BY n"))] == [(1,), (2,)]
    assert await store.write(lambda tx: tx.execute("INSERT INTO t VALUES (3)")) == 1


async def test_a_read_unit_that_suspends_fails_naming_itself(store: SQLiteStore) -> None:
    async def waits_for_an_event(tx):  # type: ignore[no-untyped-def]
        await asyncio.Event().wait()

    with pytest.raises(UnitSuspended, match="waits_for_an_event"):
        await asyncio.wait_for(store.read(waits_for_an_event), timeout=10)
    assert await store.read(lambda tx: tx.fetchval("SELECT 7")) == 7


async def test_point_reads_run_on_the_calling_thread_and_the_rest_on_the_reader_pool(tmp_path: Path) -> None:
    """A point read (a few unique-index lookups) is cheaper where it is asked than on a reader thread;
    anything else (a listing, a count, an audit) goes to the pool, so a slow one delays only itself."""
    store = open_store(f"sqlite:///{tmp_path}/point.db")
    await store.open()
    try:
        async def where(tx: Any) -> str:
            await tx.fetchval("SELECT 1")
            return threading.current_thread().name

        here = threading.current_thread().name
        assert await store.read(where, point=True) == here
        assert await store.read(where) != here
    finally:
        await store.close()

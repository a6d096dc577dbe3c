"""The SQLite store keeps its promises: WAL with synchronous=FULL, migrations at open, one writer whose
queued writes share commits, a refused write that undoes only itself, and reads that never wait."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from gateway.ledger import StoreOpenError, StoreUnavailable, open_store
from gateway.ledger.store.schema import SQLITE_MIGRATIONS
from gateway.ledger.store.sqlite import SQLiteStore
from tests.support import sqlite_at_version


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    opened = open_store(f"sqlite:///{tmp_path / 's.db'}")
    await opened.open()
    yield opened
    await opened.close()


async def test_durability_pragmas(store: SQLiteStore) -> None:
    assert store.pragmas() == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 5000, "foreign_keys": 1}


async def test_migrations_run_once_and_record_their_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    for _ in range(2):
        s = open_store(url)
        await s.open()
        versions = await s.read(lambda tx: tx.fetchall("SELECT version FROM schema_version"))
        await s.close()
        assert [v[0] for v in versions] == [v for v, _ in SQLITE_MIGRATIONS]


async def test_a_database_from_a_newer_gateway_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    s = open_store(f"sqlite:///{path}")
    await s.open()
    await s.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999)")
    with pytest.raises(StoreOpenError, match="schema version 999"):
        await open_store(f"sqlite:///{path}").open()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///no/such/dir/x.db", "does not exist"),
        ("sqlite://x.db", "must look like"),
        ("mysql://h/db", "not supported"),
        ("x.db", "no scheme"),
    ],
)
async def test_bad_urls_name_the_problem(url: str, message: str) -> None:
    with pytest.raises(StoreOpenError, match=message):
        await open_store(url).open()


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreOpenError, match="not a database"):
        await open_store(f"sqlite:///{junk}").open()


async def test_queued_writes_share_commits(store: SQLiteStore) -> None:
    await store.write(lambda tx: tx.execute("CREATE TABLE t (n INTEGER)"))
    before = store.commits
    await asyncio.gather(*(store.write(lambda tx, n=n: tx.execute("INSERT INTO t VALUES (?)", (n,))) for n in range(200)))
    assert await store.read(lambda tx: tx.fetchval("SELECT count(*) FROM t")) == 200
    assert store.commits - before < 200 / 4  # at least four writes per fsync on average


async def test_a_failing_write_undoes_only_itself(store: SQLiteStore) -> None:
    await store.write(lambda tx: tx.execute("CREATE TABLE t (n INTEGER CHECK (n >= 0))"))

    async def bad(tx):  # type: ignore[no-untyped-def]
        await tx.execute("INSERT INTO t VALUES (5)")
        await tx.execute("INSERT INTO t VALUES (-1)")

    results = await asyncio.gather(
        store.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)")),
        store.write(bad),
        store.write(lambda tx: tx.execute("INSERT INTO t VALUES (2)")),
        return_exceptions=True,
    )
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert [tuple(r) for r in await store.read(lambda tx: tx.fetchall("SELECT n FROM t ORDER BY n"))] == [(1,), (2,)]


async def test_reads_do_not_wait_behind_an_open_write(store: SQLiteStore) -> None:
    await store.write(lambda tx: tx.execute("CREATE TABLE t (n INTEGER)"))
    await store.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)"))
    # A write unit runs whole on the writer thread; this one stays inside its open transaction (holding
    # the write lock) until told, as a long statement would.
    inside, release = threading.Event(), threading.Event()

    async def slow(tx):  # type: ignore[no-untyped-def]
        await tx.execute("INSERT INTO t VALUES (2)")
        inside.set()
        release.wait(10)

    writing = asyncio.create_task(store.write(slow))
    assert await asyncio.to_thread(inside.wait, 10)
    try:
        # The write transaction is open and holds the lock; a read sees committed data at once.
        seen = await asyncio.wait_for(store.read(lambda tx: tx.fetchval("SELECT count(*) FROM t")), timeout=2)
        assert seen == 1
    finally:
        release.set()
    await writing
    assert await store.read(lambda tx: tx.fetchval("SELECT count(*) FROM t")) == 2


async def test_a_second_process_holding_the_lock_makes_writes_unavailable_not_wrong(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    s = open_store(f"sqlite:///{path}", busy_timeout_ms=100)
    await s.open()
    await s.write(lambda tx: tx.execute("CREATE TABLE t (n INTEGER)"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            await s.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    await s.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)"))
    assert await s.read(lambda tx: tx.fetchval("SELECT count(*) FROM t")) == 1
    await s.close()


async def test_writes_after_close_are_refused(tmp_path: Path) -> None:
    s = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    await s.open()
    await s.close()
    with pytest.raises(StoreUnavailable):
        await s.write(lambda tx: tx.execute("SELECT 1"))


async def test_a_full_disk_fails_the_group_and_the_writer_lives_on(store: SQLiteStore) -> None:
    await store.write(lambda tx: tx.execute("CREATE TABLE t (b BLOB)"))
    pages = await store.read(lambda tx: tx.fetchval("PRAGMA page_count"))
    await store.write(lambda tx: tx.execute(f"PRAGMA max_page_count = {pages + 2}"))

    async def big(tx):  # type: ignore[no-untyped-def]
        await tx.execute("INSERT INTO t VALUES (zeroblob(1000000))")

    results = await asyncio.gather(
        store.write(lambda tx: tx.execute("INSERT INTO t VALUES (x'01')")), store.write(big),
        return_exceptions=True,
    )
    # The small write shared the big one's transaction, which SQLite abandoned whole: both failed.
    assert all(isinstance(r, StoreUnavailable) for r in results), results
    assert await store.read(lambda tx: tx.fetchval("SELECT count(*) FROM t")) == 0
    await store.write(lambda tx: tx.execute("PRAGMA max_page_count = 1073741823"))
    await store.write(lambda tx: tx.execute("INSERT INTO t VALUES (x'02')"))
    assert await store.read(lambda tx: tx.fetchval("SELECT count(*) FROM t")) == 1


async def test_a_database_from_before_access_grants_keeps_its_tenants_and_never_reuses_their_ids(
    tmp_path: Path,
) -> None:
    from gateway.ledger import Ledger

    path = tmp_path / "v4.db"
    with sqlite_at_version(path, 4) as conn:
        for name in ("one", "two", "three"):
            conn.execute("INSERT INTO tenants (name, created_at) VALUES (?, '2026-01-01 00:00:00.000000')", (name,))
        conn.execute("DELETE FROM tenants WHERE name = 'two'")
    ledger = Ledger(open_store(f"sqlite:///{path}"))
    await ledger.start()
    try:
        assert [t.name for t in await ledger.tenants()] == ["one", "three"]
        await ledger.delete_tenants(tenants=[await ledger.tenant("three")])
        assert (await ledger.create_tenant(name="four")).id == 4  # not 2 (a gap) nor 3 (gone since migrating)
        assert await ledger.store.read(lambda tx: tx.fetchval("SELECT count(*) FROM access_grants")) == 0
    finally:
        await ledger.close()

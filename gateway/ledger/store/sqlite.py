"""The embedded SQLite store: WAL, synchronous=FULL. Nothing runs on the event loop's thread: reads run on a
pool of reader threads, each with its own connection, so a slow read holds up only its own caller; queued
writes are grouped and the whole group (BEGIN IMMEDIATE, each unit in its own savepoint, COMMIT and its
fsync) runs on the one writer thread in one hop. Knows no ledger rules: units of work are opaque."""
from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import LedgerError, StoreUnavailable
from .base import Observer, R, StoreOpenError, Work
from .drive import drive
from .group import GroupWriter, settle
from .schema import SQLITE_MIGRATIONS


def path_from_url(url: str) -> str:
    rest = url.partition("://")[2]
    if not rest.startswith("/") or rest == "/":
        raise StoreOpenError(f"database URL {url!r} must look like sqlite:///relative.db or sqlite:////abs.db")
    return rest[1:]


class _SQLiteTx:
    """Statements run synchronously on the calling (store) thread; the coroutine wrappers keep the Tx
    protocol shared with asynchronous backends, and never suspend."""

    skip_locked = ""  # one writer at a time: a row read in a write transaction is already ours alone

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, params).fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._conn.execute(sql, params).fetchall()

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        # Already off the loop: the whole unit runs on the writer's thread (drive.py), and sqlite3 lets go of
        # the GIL while it steps, so the loop meanwhile serves others (or makes the next batch).
        self._conn.executemany(sql, rows)


class _ObservedTx(_SQLiteTx):
    """The same, telling an observer each statement (only built while one is set: no cost otherwise)."""

    def __init__(self, conn: sqlite3.Connection, observer: Observer, kind: str) -> None:
        super().__init__(conn)
        self._observer, self._kind = observer, kind

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._observer(self._kind, sql)
        return await super().execute(sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._observer(self._kind, sql)
        return await super().fetchone(sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self._observer(self._kind, sql)
        return await super().fetchall(sql, params)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._observer(self._kind, sql)
        return await super().fetchval(sql, params)


class _GroupFailed(Exception):
    """The group's transaction as a whole was lost; `refused` maps unit positions to their own refusal."""

    def __init__(self, failure: StoreUnavailable, refused: dict[int, BaseException]) -> None:
        super().__init__(str(failure))
        self.failure, self.refused = failure, refused


Outcome = tuple[Any, BaseException | None]


class SQLiteStore:
    kind = "sqlite"
    # One writer: entry ids are handed out in commit order, so a new entry never sorts before one
    # already visible (what history continuations rely on).
    ordered_ids = True

    def __init__(
        self,
        url: str,
        *,
        synchronous: str = "full",
        busy_timeout_ms: int = 5000,
        group_commit_max: int = 64,
        readers: int = 4,
    ) -> None:
        self.url = url
        self.path = path_from_url(url)
        if synchronous.lower() not in ("full", "normal", "extra"):
            raise StoreOpenError(f"sqlite_synchronous must be full, normal or extra, not {synchronous!r}")
        if readers < 1:
            raise StoreOpenError(f"sqlite_readers must be at least 1, not {readers}")
        self.synchronous = synchronous.upper()
        self.busy_timeout_ms = busy_timeout_ms
        self.group_commit_max = max(1, group_commit_max)
        self.readers = readers
        # Called with ("read" | "write", sql) for every statement a unit runs and ("read" | "write",
        # "BEGIN") as each unit starts; for tests that pin how much work an operation does.
        self.observer: Observer | None = None
        self._writer_conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None  # the writer thread
        self._reader_pool: ThreadPoolExecutor | None = None
        self._reader_local = threading.local()  # each reader thread's own connection
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_conns_lock = threading.Lock()
        self._writer: GroupWriter | None = None
        self.commits = 0  # transactions committed; with `writes` it shows how well commits are grouped
        self.writes = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise StoreOpenError(f"cannot open database {self.path!r}: directory {directory!r} does not exist")
        if os.path.isdir(self.path):
            raise StoreOpenError(f"cannot open database {self.path!r}: it is a directory")
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreOpenError(f"cannot open database {self.path!r}: WAL mode refused ({mode})")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise StoreOpenError(f"cannot open database {self.path!r}: {exc}") from None
        return conn

    def _open_sync(self) -> None:
        self._writer_conn = self._connect()
        self._migrate()

    def _migrate(self) -> None:
        conn = self._writer_conn
        assert conn is not None
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
            current = max(applied, default=0)
            newest = max(v for v, _ in SQLITE_MIGRATIONS)
            if current > newest:
                raise StoreOpenError(
                    f"database {self.path!r} has schema version {current}, newer than this gateway ({newest})"
                )
            for version, script in SQLITE_MIGRATIONS:
                if version not in applied:  # by set, not by the highest: a lower number merged later still runs
                    for statement in _statements(script):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise StoreOpenError(f"cannot open database {self.path!r}: {exc}") from None
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._open_sync)
        except BaseException:
            self._executor.shutdown(wait=True)
            self._executor = None
            raise
        self._reader_pool = ThreadPoolExecutor(max_workers=self.readers, thread_name_prefix="sqlite-reader")
        self._writer = GroupWriter(lambda batch, alone: self._run_batch(batch), limit=self.group_commit_max,
                                   name="sqlite-writer")
        self._writer.start()

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        # Reads in flight finish first: each reader connection is closed once no thread can use it.
        for pool in (self._reader_pool, self._executor):
            if pool is not None:
                await asyncio.get_running_loop().run_in_executor(None, pool.shutdown, True)
        self._reader_pool = self._executor = None
        with self._reader_conns_lock:
            conns, self._reader_conns = self._reader_conns, []
        for conn in [*conns, self._writer_conn]:
            if conn is not None:
                conn.close()
        self._writer_conn = None
        self._reader_local = threading.local()

    def pragmas(self) -> dict[str, Any]:
        conn = self._writer_conn
        assert conn is not None
        return {
            "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
            "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
            "busy_timeout": conn.execute("PRAGMA busy_timeout").fetchone()[0],
            "foreign_keys": conn.execute("PRAGMA foreign_keys").fetchone()[0],
        }

    # -- reads -------------------------------------------------------------------------------

    async def read(self, work: Work[R], *, point: bool = False) -> R:
        pool = self._reader_pool
        if pool is None:
            raise StoreUnavailable("the store is closed")
        if point:
            # A few microseconds of index lookups: run here, on this thread's own reader connection. Handing
            # them to a reader thread cost more than the read itself (each result waits for the GIL behind
            # the loop: measured 2,200 against 3,900 customer GETs a second, bench/rows/reads.py).
            return self._read_sync(work)
        return await asyncio.get_running_loop().run_in_executor(pool, self._read_sync, work)

    def _reader(self) -> sqlite3.Connection:
        """This reader thread's connection, opened on its first read: a connection is only ever used by
        the one thread that owns it."""
        conn: sqlite3.Connection | None = getattr(self._reader_local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            with self._reader_conns_lock:
                self._reader_conns.append(conn)
            self._reader_local.conn = conn
        return conn

    def _read_sync(self, work: Work[R]) -> R:
        conn = self._reader()
        observer = self.observer
        tx = _SQLiteTx(conn) if observer is None else _ObservedTx(conn, observer, "read")
        if observer is not None:
            observer("read", "BEGIN")
        conn.execute("BEGIN")  # one snapshot for every statement of the unit
        try:
            return drive(work, tx)  # type: ignore[no-any-return]
        finally:
            conn.execute("COMMIT")

    # -- writes ------------------------------------------------------------------------------

    async def write(self, work: Work[R], *, alone: bool = False) -> R:
        # `alone` needs nothing here: SQLite runs one write transaction at a time, across processes too,
        # so ids are generated in commit order.
        if self._writer is None:
            raise StoreUnavailable("the store is closed")
        return await self._writer.submit(work)

    async def _run_batch(self, batch: list[tuple[Work[Any], asyncio.Future[Any]]]) -> None:
        assert self._executor is not None
        futures = [future for _, future in batch]
        try:
            outcomes = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._group_sync, [work for work, _ in batch]
            )
        except _GroupFailed as failed:
            for i, future in enumerate(futures):
                if not future.done():
                    future.set_exception(failed.refused.get(i, failed.failure))
            return
        self.commits += 1
        self.writes += len(batch)
        settle((future, result, error) for future, (result, error) in zip(futures, outcomes))

    def _group_sync(self, works: list[Work[Any]]) -> list[Outcome]:
        """One group, on the writer thread, start to commit: each unit in a savepoint of its own, so a
        refused unit undoes only itself; the units that succeeded are durable once this returns."""
        conn = self._writer_conn
        assert conn is not None
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _GroupFailed(StoreUnavailable(f"the database could not be locked for writing: {exc}"), {}) from None
        observer = self.observer
        tx = _SQLiteTx(conn) if observer is None else _ObservedTx(conn, observer, "write")
        outcomes: list[Outcome] = []
        try:
            for work in works:
                if observer is not None:
                    observer("write", "BEGIN")
                conn.execute("SAVEPOINT unit")
                try:
                    result = drive(work, tx)
                except Exception as exc:  # a domain refusal or a bug: undo this unit only
                    if not conn.in_transaction:
                        # SQLite gave up the whole transaction (disk full, I/O error): every unit of
                        # the group is gone, including those that had succeeded.
                        raise
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                    outcomes.append((None, exc))
                else:
                    conn.execute("RELEASE unit")
                    outcomes.append((result, None))
            conn.execute("COMMIT")
        except Exception as exc:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            refused = {i: e for i, (_, e) in enumerate(outcomes) if isinstance(e, LedgerError)}
            raise _GroupFailed(StoreUnavailable(f"the write could not be committed: {exc}"), refused) from None
        return outcomes


def _statements(script: str) -> list[str]:
    """A script's statements; a trigger's body holds semicolons, so a statement ends where SQLite says."""
    found, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                found.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        found.append(pending.strip())
    return found

"""The embedded SQLite store: WAL, synchronous=FULL, one writer task that groups queued writes into one
BEGIN IMMEDIATE ... COMMIT (each in its own savepoint), and a separate read connection that never waits
behind a write. The fsync of COMMIT runs off the event loop."""
from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import LedgerError, StoreUnavailable
from .group import GroupWriter, settle
from .base import R, StoreOpenError, Work
from .schema import SQLITE_MIGRATIONS



def path_from_url(url: str) -> str:
    rest = url.partition("://")[2]
    if not rest.startswith("/") or rest == "/":
        raise StoreOpenError(f"database URL {url!r} must look like sqlite:///relative.db or sqlite:////abs.db")
    return rest[1:]


class _SQLiteTx:
    """Statements run synchronously on the calling thread; the coroutine wrappers keep the Tx protocol
    shared with asynchronous backends."""

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
        # Thousands of rows: off the loop, which meanwhile serves others (or makes the next batch); sqlite3
        # lets go of the GIL while it steps. Only this unit uses the writer's connection until it returns.
        await asyncio.to_thread(self._conn.executemany, sql, rows)


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
    ) -> None:
        self.url = url
        self.path = path_from_url(url)
        if synchronous.lower() not in ("full", "normal", "extra"):
            raise StoreOpenError(f"sqlite_synchronous must be full, normal or extra, not {synchronous!r}")
        self.synchronous = synchronous.upper()
        self.busy_timeout_ms = busy_timeout_ms
        self.group_commit_max = max(1, group_commit_max)
        self._writer_conn: sqlite3.Connection | None = None
        self._reader_conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._writer: GroupWriter | None = None
        self._read_lock = asyncio.Lock()
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
        self._reader_conn = self._connect()
        self._reader_conn.execute("PRAGMA query_only = ON")

    def _migrate(self) -> None:
        conn = self._writer_conn
        assert conn is not None
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
            newest = max(v for v, _ in SQLITE_MIGRATIONS)
            if current > newest:
                raise StoreOpenError(
                    f"database {self.path!r} has schema version {current}, newer than this gateway ({newest})"
                )
            for version, script in SQLITE_MIGRATIONS:
                if version > current:
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
        await loop.run_in_executor(self._executor, self._open_sync)
        self._writer = GroupWriter(lambda batch, alone: self._run_batch(batch), limit=self.group_commit_max,
                                   name="sqlite-writer")
        self._writer.start()

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        for conn in (self._reader_conn, self._writer_conn):
            if conn is not None:
                conn.close()
        self._reader_conn = self._writer_conn = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

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

    async def read(self, work: Work[R]) -> R:
        conn = self._reader_conn
        if conn is None:
            raise StoreUnavailable("the store is closed")
        async with self._read_lock:
            conn.execute("BEGIN")
            try:
                return await work(_SQLiteTx(conn))
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
        conn = self._writer_conn
        assert conn is not None and self._executor is not None
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, conn.execute, "BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            error = StoreUnavailable(f"the database could not be locked for writing: {exc}")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        tx = _SQLiteTx(conn)
        try:
            for work, future in batch:
                conn.execute("SAVEPOINT unit")
                try:
                    result = await work(tx)
                except Exception as exc:  # a domain refusal or a bug: undo this unit only
                    if not conn.in_transaction:
                        # SQLite gave up the whole transaction (disk full, I/O error): every unit of
                        # the group is gone, including those that had succeeded.
                        raise
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                    outcomes.append((future, None, exc))
                else:
                    conn.execute("RELEASE unit")
                    outcomes.append((future, result, None))
            await loop.run_in_executor(self._executor, conn.execute, "COMMIT")
        except Exception as exc:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            failure = StoreUnavailable(f"the write could not be committed: {exc}")
            refused = {id(f): e for f, _, e in outcomes if isinstance(e, LedgerError)}
            for _, future in batch:
                if not future.done():
                    future.set_exception(refused.get(id(future), failure))
            return
        self.commits += 1
        self.writes += len(batch)
        settle(outcomes)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]

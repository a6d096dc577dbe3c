"""The PostgreSQL store (asyncpg, imported only for a postgresql:// URL), for several gateway processes
over one database. Like the SQLite store, each process has one writer that groups queued write units
into one SERIALIZABLE transaction (a savepoint each); when PostgreSQL reports a conflict with another
process (40001, 40P01, or a racing unique insert) the whole group runs again, alone, so a client never
sees it. Reads use a pool and one snapshot each. Knows SQL and asyncpg, not the ledger's rules."""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from ..errors import LedgerError, StoreUnavailable
from .group import GroupWriter, settle
from .base import Observer, R, StoreOpenError, Work
from .pg_sql import PostgresTx, Record, one_line, redact
from .schema_pg import postgres_migrations

_RETRY = {"40001", "40P01"}  # serialization_failure, deadlock_detected: re-running the group is safe
_UNIQUE = "23505"  # another process inserted the same key first: a re-run sees its row (once per unit)
_MIGRATION_LOCK = 0x6C67_7077  # pg_advisory_xact_lock key: one process migrates at a time
_NOT_REACHABLE = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                  asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError, asyncpg.AdminShutdownError)
# Durable before acknowledged, whatever the server's default; and a name to find our sessions by.
_SESSION = {"synchronous_commit": "on", "application_name": "loyalty-gateway"}

Unit = tuple[Work[Any], "asyncio.Future[Any]"]
Outcome = tuple[Any, BaseException | None]


class _Conflict(Exception):
    """The group met a concurrent transaction of another process and must run again from the start."""


class PostgresStore:
    kind = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        group_commit_max: int = 64,
        retry_seconds: float = 10.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.pool_size = max(1, pool_size)
        self.group_commit_max = max(1, group_commit_max)
        self.retry_seconds = retry_seconds
        self.connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None
        self._conn: asyncpg.Connection | None = None  # the writer's
        self._writer: GroupWriter | None = None
        self.writes = 0  # write units committed
        self.commits = 0  # transactions committed; with `writes` it shows how well commits are grouped
        self.retries = 0  # groups run again (in the exclusive lane) after a conflict with another process
        self._committing = False  # COMMIT of the current group has been sent
        # Told ("read" | "write", sql) for each statement a unit runs and (kind, "BEGIN") as each unit
        # starts (see base.Observer); for tests that pin how much work an operation does.
        self.observer: Observer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        where = redact(self.url)
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self.pool_size, record_class=Record,
                timeout=self.connect_timeout, server_settings=_SESSION,
            )
            await self._migrate()
        except asyncpg.InvalidCatalogNameError as exc:
            await self.close()
            raise StoreOpenError(f"cannot open database {where}: {exc} (create it first: createdb NAME)") from None
        except (asyncpg.PostgresError, *_NOT_REACHABLE) as exc:
            await self.close()
            raise StoreOpenError(f"cannot open database {where}: {one_line(exc)}") from None
        except ValueError as exc:  # a malformed URL
            await self.close()
            raise StoreOpenError(f"database URL {where} is not valid: {exc}") from None
        except BaseException:
            await self.close()
            raise
        self._writer = GroupWriter(
            lambda group, alone: self._run_group(group, exclusive=alone), limit=self.group_commit_max,
            name="postgres-writer",
        )
        self._writer.start()

    async def _migrate(self) -> None:
        assert self._pool is not None
        migrations = postgres_migrations()
        newest = max(v for v, _ in migrations)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            applied = {row[0] for row in await conn.fetch("SELECT version FROM schema_version")}
            current = max(applied, default=0)
            if current > newest:
                raise StoreOpenError(
                    f"database {redact(self.url)} has schema version {current}, newer than this gateway ({newest})"
                )
            for version, script in migrations:
                if version not in applied:  # by set, not by the highest: a lower number merged later still runs
                    await conn.execute(script)
                    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(*_NOT_REACHABLE):
                await conn.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def settings(self) -> dict[str, str]:
        """The server settings the guarantees rest on, as this store's connections see them."""
        pool = self._require_pool()
        async with pool.acquire() as conn:
            names = ("server_version", "synchronous_commit", "lc_collate", "max_connections")
            return {n: await conn.fetchval(f"SHOW {n}") for n in names}

    # -- reads -------------------------------------------------------------------------------

    async def read(self, work: Work[R], *, point: bool = False) -> R:
        """One snapshot for the whole unit (an audit sees one consistent state). A pooled connection
        found dead (the server restarted) is replaced once; reading again changes nothing."""
        pool = self._require_pool()
        for attempt in (1, 2):
            try:
                async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
                    if self.observer is not None:
                        self.observer("read", "BEGIN")
                    return await work(PostgresTx(conn, self.observer, "read"))
            except _NOT_REACHABLE as exc:
                if attempt == 2:
                    raise StoreUnavailable(f"the database cannot be reached: {one_line(exc)}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("the store is closed")
        return self._pool

    # -- writes ------------------------------------------------------------------------------

    async def write(self, work: Work[R], *, alone: bool = False) -> R:
        """`alone`: run by itself in the exclusive lane, after every writer in flight in any process
        (identity ids are not handed out in commit order; a reader of ids needs this)."""
        if self._writer is None:
            raise StoreUnavailable("the store is closed")
        return await self._writer.submit(work, alone=alone)

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is not None and (self._conn.is_closed() or self._conn.is_in_transaction()):
            await self._drop_connection()  # dead, or left inside a transaction by an interrupted group
        if self._conn is None:
            self._conn = await asyncpg.connect(
                self.url, record_class=Record, timeout=self.connect_timeout, server_settings=_SESSION
            )
        return self._conn

    async def _run_group(self, group: list[Unit], *, exclusive: bool = False) -> None:
        """Commit the group. After a conflict with another process it runs again in the exclusive lane,
        which waits for the other processes' groups in flight and keeps new ones out, so the second
        run cannot conflict: no livelock, no starved instance. A connection lost before COMMIT was sent
        is replaced once and the group run again (the server rolled it back); lost during COMMIT, the
        outcome is unknown and the callers are told to try again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_seconds
        raced: set[int] = set()  # units that already met a racing unique insert once
        reconnected = False
        while True:
            self._committing = False
            try:
                conn = await self._connection()
                outcomes = await self._attempt(conn, group, raced, exclusive, deadline - loop.time())
            except _Conflict:
                if loop.time() >= deadline:
                    _fail(group, StoreUnavailable(
                        f"the write kept conflicting with other writers for {self.retry_seconds:g} s; try again"
                    ))
                    return
                self.retries += 1
                exclusive = True
                continue
            except asyncpg.LockNotAvailableError:
                _fail(group, StoreUnavailable(
                    f"the write waited {self.retry_seconds:g} s for other writers to finish; try again"
                ))
                return
            except _NOT_REACHABLE as exc:
                await self._drop_connection()
                if not self._committing and not reconnected:
                    reconnected = True
                    continue
                _fail(group, StoreUnavailable(f"the database cannot be reached: {one_line(exc)}"))
                return
            except Exception as exc:  # noqa: BLE001 - the commit itself failed: nothing of the group applied
                _fail(group, exc if isinstance(exc, LedgerError) else StoreUnavailable(
                    f"the write could not be committed: {one_line(exc)}"
                ))
                return
            self.commits += 1
            self.writes += len(group)
            settle((future, result, error) for (_, future), (result, error) in zip(group, outcomes, strict=True))
            return

    async def _attempt(
        self, conn: asyncpg.Connection, group: list[Unit], raced: set[int], exclusive: bool, seconds_left: float
    ) -> list[Outcome]:
        # The lane is locked before the snapshot is taken (LOCK TABLE does not take one), so the
        # exclusive run sees everything the groups it waited for committed.
        if exclusive:
            lane = f"SET LOCAL lock_timeout = {max(1, int(seconds_left * 1000))}; LOCK TABLE write_lane IN EXCLUSIVE MODE"
        else:
            lane = "LOCK TABLE write_lane IN ROW SHARE MODE"
        try:
            await conn.execute(f"BEGIN ISOLATION LEVEL SERIALIZABLE; {lane}")
            outcomes = await _run_units(conn, group, raced, self.observer)
            self._committing = True
            await conn.execute("COMMIT")
            return outcomes
        except _Refused as refused:
            await conn.execute("ROLLBACK")
            return refused.outcomes
        except asyncpg.PostgresError as exc:
            await _rollback(conn)
            if exc.sqlstate in _RETRY:  # at COMMIT: SERIALIZABLE found a dangerous structure
                raise _Conflict from exc
            raise
        except BaseException:
            await _rollback(conn)
            raise

    async def _drop_connection(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.terminate()


class _Refused(Exception):
    """A lone unit refused: roll its transaction back and hand the refusal to its caller."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__("refused")
        self.outcomes = outcomes


async def _run_units(
    conn: asyncpg.Connection, group: list[Unit], raced: set[int], observer: Observer | None = None
) -> list[Outcome]:
    tx = PostgresTx(conn, observer, "write")
    if len(group) == 1:  # nothing to keep apart: a refusal rolls the transaction back
        if observer is not None:
            observer("write", "BEGIN")
        try:
            return [(await group[0][0](tx), None)]
        except Exception as exc:
            _raise_if_conflict(exc, 0, raced)
            raise _Refused([(None, exc)]) from None
    outcomes: list[Outcome] = []
    # One savepoint, moved past each unit that succeeds (one round trip per unit).
    await conn.execute("SAVEPOINT unit")
    for index, (work, _) in enumerate(group):
        if observer is not None:
            observer("write", "BEGIN")
        try:
            result = await work(tx)
        except Exception as exc:  # a refusal or a bug: undo this unit only
            _raise_if_conflict(exc, index, raced)
            await conn.execute("ROLLBACK TO SAVEPOINT unit")
            outcomes.append((None, exc))
        else:
            await conn.execute("RELEASE SAVEPOINT unit; SAVEPOINT unit")
            outcomes.append((result, None))
    return outcomes


async def _rollback(conn: asyncpg.Connection) -> None:
    with contextlib.suppress(*_NOT_REACHABLE):
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")


def _raise_if_conflict(exc: BaseException, index: int, raced: set[int]) -> None:
    state = getattr(exc, "sqlstate", None) if isinstance(exc, asyncpg.PostgresError) else None
    if state in _RETRY:
        raise _Conflict from exc
    if state == _UNIQUE and index not in raced:
        raced.add(index)  # once: the re-run sees the other's row; a second time it is a real duplicate
        raise _Conflict from exc


def _fail(group: list[Unit], error: BaseException) -> None:
    for _, future in group:
        if not future.done():
            future.set_exception(error)


__all__ = ["PostgresStore"]

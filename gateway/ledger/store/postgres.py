"""The PostgreSQL store (asyncpg, imported only for a postgresql:// URL): a connection pool; each write
unit runs alone in a SERIALIZABLE transaction and is re-run on a serialization failure or deadlock, so
several gateway processes can share one database. Knows SQL and asyncpg, never the ledger's rules."""
from __future__ import annotations

import asyncio
import functools
import random
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ..errors import StoreUnavailable
from .base import R, StoreOpenError, Work
from .schema_pg import postgres_migrations

# SQLSTATEs after which re-running the whole unit of work is safe and likely to succeed.
_RETRY = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_UNIQUE = "23505"  # two processes inserting the same key at once: the re-run sees the winner's row
_MIGRATION_LOCK = 0x6C67_7077  # pg_advisory_xact_lock key: one process migrates at a time
_NOT_REACHABLE = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                  asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError, asyncpg.AdminShutdownError)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


@functools.lru_cache(maxsize=1024)
def to_numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's $1, $2 ...; question marks inside quotes are left alone."""
    out, n, quote = [], 0, ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(ch)
    return "".join(out)


class _Record(asyncpg.Record):
    """Rows answer row["name"], row[0] and keys() as sqlite3.Row does (asyncpg's keys() is an iterator)."""

    def keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(super().keys())


_INTEGER_TYPES = {"int2", "int4", "int8"}
_TEXT_TYPES = {"text", "varchar", "bpchar", "name"}


def _affinity(value: Any, pg_type: str) -> Any:
    """A parameter converted the way SQLite's column affinity would take it (asyncpg refuses '12' for a
    bigint); a text that is no integer cannot equal an integer column, so it compares as NULL."""
    if value is None or isinstance(value, bool):
        return value
    if pg_type in _INTEGER_TYPES:
        if isinstance(value, int):
            return value
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            return None
        return int(number) if number.is_finite() and number == number.to_integral_value() else None
    if pg_type in _TEXT_TYPES and isinstance(value, (int, float, Decimal)):
        return str(value)
    if pg_type == "bytea" and isinstance(value, str):
        return value.encode()
    return value


class _PostgresTx:
    """One transaction on one pooled connection; SQL arrives with `?` placeholders."""

    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _call(self, method: str, sql: str, params: Sequence[Any]) -> Any:
        query = to_numbered(sql)
        call = getattr(self._conn, method)
        try:
            return await call(query, *params)
        except asyncpg.DataError as exc:
            # Raised before anything reaches the server (the transaction is intact): a parameter of a
            # Python type PostgreSQL's column does not take. Convert it as SQLite would and go again.
            if "invalid input for query argument" not in str(exc):
                raise
            statement = await self._conn.prepare(query)
            types = [t.name for t in statement.get_parameters()]
            return await call(query, *(_affinity(v, t) for v, t in zip(params, types, strict=True)))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        status = await self._call("execute", sql, params)
        last = str(status).rpartition(" ")[2]
        return int(last) if last.isdigit() else 0

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._call("fetchrow", sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._call("fetch", sql, params))

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._call("fetchval", sql, params)


class PostgresStore:
    kind = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_attempts: int = 30,
        backoff_ms: tuple[float, float] = (2.0, 100.0),
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.pool_size = max(1, pool_size)
        self.max_attempts = max(1, max_attempts)
        self.backoff_ms = backoff_ms
        self.connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None
        self.writes = 0  # committed write units
        self.commits = 0  # one transaction per write unit: always equal to writes
        self.retries = 0  # re-runs after a serialization failure, deadlock or racing unique insert

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        where = redact(self.url)
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self.pool_size, record_class=_Record, timeout=self.connect_timeout,
                # Durable before acknowledged, whatever the server's default; a name to find us by.
                server_settings={"synchronous_commit": "on", "application_name": "loyalty-gateway"},
            )
        except asyncpg.InvalidCatalogNameError as exc:
            raise StoreOpenError(f"cannot open database {where}: {exc} (create it first: createdb NAME)") from None
        except (asyncpg.PostgresError, *_NOT_REACHABLE) as exc:
            raise StoreOpenError(f"cannot open database {where}: {_one_line(exc)}") from None
        except ValueError as exc:  # a malformed URL
            raise StoreOpenError(f"database URL {where} is not valid: {exc}") from None
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def _migrate(self) -> None:
        assert self._pool is not None
        migrations = postgres_migrations()
        newest = max(v for v, _ in migrations)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
                if current > newest:
                    raise StoreOpenError(
                        f"database {redact(self.url)} has schema version {current}, newer than this gateway ({newest})"
                    )
                for version, script in migrations:
                    if version > current:
                        await conn.execute(script)
                        await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
        except (asyncpg.PostgresError, *_NOT_REACHABLE) as exc:
            raise StoreOpenError(f"cannot open database {redact(self.url)}: {_one_line(exc)}") from None

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def settings(self) -> dict[str, str]:
        """The server settings the guarantees rest on, as this store's connections see them."""
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            names = ("server_version", "synchronous_commit", "default_transaction_isolation", "lc_collate")
            return {n: await conn.fetchval(f"SHOW {n}") for n in names}

    # -- units of work ---------------------------------------------------------------------------

    async def read(self, work: Work[R]) -> R:
        """One snapshot for the whole unit (an audit sees one consistent state)."""
        pool = self._require_pool()
        try:
            async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
                return await work(_PostgresTx(conn))
        except _NOT_REACHABLE as exc:
            raise StoreUnavailable(f"the database cannot be reached: {_one_line(exc)}") from None

    async def write(self, work: Work[R]) -> R:
        """Run `work` in its own SERIALIZABLE transaction; re-run it from the start when PostgreSQL reports
        a conflict with a concurrent transaction (here or in another process), up to max_attempts."""
        pool = self._require_pool()
        unique_retried = False
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with pool.acquire() as conn, conn.transaction(isolation="serializable"):
                    result = await work(_PostgresTx(conn))
            except _NOT_REACHABLE as exc:
                raise StoreUnavailable(f"the database cannot be reached: {_one_line(exc)}") from None
            except asyncpg.PostgresError as exc:
                state = getattr(exc, "sqlstate", None)
                if state == _UNIQUE and not unique_retried:
                    unique_retried = True  # once: a second one is a real duplicate and a bug
                elif state not in _RETRY:
                    raise
                if attempt == self.max_attempts:
                    raise StoreUnavailable(
                        f"the write kept conflicting with concurrent writes ({attempt} attempts); try again"
                    ) from None
                self.retries += 1
                await asyncio.sleep(self._backoff(attempt))
                continue
            self.writes += 1
            self.commits += 1
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to an exponentially growing cap, so retriers spread out."""
        base, cap = self.backoff_ms
        return random.uniform(0, min(cap, base * 2 ** (attempt - 1))) / 1000

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("the store is closed")
        return self._pool


def _one_line(exc: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(exc)).strip()
    return text or type(exc).__name__


__all__ = ["PostgresStore", "redact", "to_numbered"]

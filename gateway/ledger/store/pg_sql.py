"""How the core's SQL runs on asyncpg: `?` placeholders numbered, parameters given SQLite's type
affinity, rows that answer like sqlite3.Row, and the transaction object the core's units receive."""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg


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


class Record(asyncpg.Record):
    """Rows answer row["name"], row[0] and keys() as sqlite3.Row does (asyncpg's keys() is an iterator)."""

    def keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(super().keys())


_INTEGER_TYPES = {"int2", "int4", "int8"}
_TEXT_TYPES = {"text", "varchar", "bpchar", "name"}


def affinity(value: Any, pg_type: str) -> Any:
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


_PLAIN_INSERT = re.compile(r"\s*INSERT INTO (?P<table>\w+) \((?P<columns>[\w, ]+)\) VALUES \((?P<values>\?(?:, \?)*)\)\s*")


class PostgresTx:
    """One transaction on one pooled connection; SQL arrives with `?` placeholders."""

    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, conn: asyncpg.Connection, observer: Callable[[str, str], None] | None = None,
                 kind: str = "") -> None:
        self._conn = conn
        self._observer, self._kind = observer, kind  # see Store.observer: how tests count statements

    async def _call(self, method: str, sql: str, params: Sequence[Any]) -> Any:
        if self._observer is not None:
            self._observer(self._kind, sql)
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
            return await call(query, *(affinity(v, t) for v, t in zip(params, types, strict=True)))

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

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """A plain `INSERT INTO t (columns) VALUES (?, ...)` goes as COPY (several times faster than
        executemany's statement per row, and the same rows land); anything else as executemany."""
        if not rows:
            return
        plain = _PLAIN_INSERT.fullmatch(sql)
        if plain is not None:
            columns = [c.strip() for c in plain["columns"].split(",")]
            if len(columns) == plain["values"].count("?"):
                await self._conn.copy_records_to_table(plain["table"], records=rows, columns=columns)
                return
        await self._conn.executemany(to_numbered(sql), rows)


def one_line(exc: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(exc)).strip()
    return text or type(exc).__name__

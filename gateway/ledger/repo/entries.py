"""SQL for accounts, entries, resolutions of pending entries, and history queries."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..clock import to_text
from ..models import AccountBalance, Asset, Entry, Kind, Status
from ..money import from_cents
from .. import paging
from ..store.base import Tx
from . import rows


@dataclass(frozen=True)
class Period:
    """A half-open span of time [start, end): a whole day, or one instant (end = start + 1 µs)."""

    start: datetime
    end: datetime

    @classmethod
    def instant(cls, at: datetime) -> Period:
        return cls(at, at + timedelta(microseconds=1))


# How each comparison of an entry's time with a Period reads; `a` = start, `b` = end.
_PERIOD_SQL = {
    "=": ("e.occurred_at >= ? AND e.occurred_at < ?", "ab"),
    "!=": ("(e.occurred_at < ? OR e.occurred_at >= ?)", "ab"),
    "<": ("e.occurred_at < ?", "a"),
    "<=": ("e.occurred_at < ?", "b"),
    ">": ("e.occurred_at >= ?", "b"),
    ">=": ("e.occurred_at >= ?", "a"),
}
PERIOD_OPERATORS = frozenset(_PERIOD_SQL)


@dataclass(frozen=True)
class HistoryQuery:
    """Filters over entries. With `records_only`, a revised record shows once, as its latest entry."""

    member_id: int | None = None
    member_no: int | None = None
    record_id: int | None = None
    asset: Asset | None = None
    kinds: frozenset[Kind] | None = None
    statuses: frozenset[Status] = frozenset({Status.CONFIRMED})
    note: str | None = None
    note_contains: str | None = None
    occurred: tuple[tuple[str, Period], ...] = ()
    occurred_contains: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    records_only: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)


async def account(tx: Tx, member_id: int, asset: Asset) -> Any:
    return await tx.fetchone(
        "SELECT posted, pending, updated_at FROM accounts WHERE member_id = ? AND asset = ?", (member_id, asset.value)
    )


async def accounts(tx: Tx, member_id: int) -> dict[Asset, AccountBalance]:
    found = await tx.fetchall("SELECT asset, posted, pending, updated_at FROM accounts WHERE member_id = ?", (member_id,))
    return {Asset(r["asset"]): to_balance(Asset(r["asset"]), r) for r in found}


def to_balance(asset: Asset, row: Any) -> AccountBalance:
    return AccountBalance(
        asset=asset, posted=from_cents(row["posted"]), pending=from_cents(row["pending"]),
        updated_at=rows.opt_time(row["updated_at"]),
    )


async def move(
    tx: Tx, member_id: int, asset: Asset, *, posted: int = 0, pending: int = 0, now: datetime, touch: bool = True,
    offset: int = 0, floor: bool = False,
) -> Any:
    """Move one account. Unless told not to (an opening balance is part of the record as loaded), the
    member's own updated_at moves too, never backwards: a client syncing members changed `after` a
    time sees one whose points moved. `offset` moves posted by what the tenant's upstream moved besides
    this entry (kept apart, so posted = confirmed entries + upstream_offset); one statement, so the
    CHECK sees only the final figure. `floor`: move only if posted stays at or above zero; None (nothing
    moved, nothing touched) if it would not."""
    text = to_text(now)
    # RETURNING hands back the account as moved: no second read of it.
    if offset:
        row = await tx.fetchone(
            "UPDATE accounts SET posted = posted + ?, pending = pending + ?, upstream_offset = upstream_offset + ?,"
            " updated_at = ? WHERE member_id = ? AND asset = ? RETURNING posted, pending, updated_at",
            (posted + offset, pending, offset, text, member_id, asset.value),
        )
    elif floor:  # a debit checked by the move itself: no row comes back when it would go below zero
        row = await tx.fetchone(
            "UPDATE accounts SET posted = posted + ?, pending = pending + ?, updated_at = ? WHERE member_id = ?"
            " AND asset = ? AND posted + ? >= 0 RETURNING posted, pending, updated_at",
            (posted, pending, text, member_id, asset.value, posted),
        )
        if row is None:
            return None
    else:
        row = await tx.fetchone(
            "UPDATE accounts SET posted = posted + ?, pending = pending + ?, updated_at = ? WHERE member_id = ?"
            " AND asset = ? RETURNING posted, pending, updated_at",
            (posted, pending, text, member_id, asset.value),
        )
    if touch:
        await tx.execute("UPDATE members SET updated_at = ? WHERE id = ? AND updated_at < ?", (text, member_id, text))
    return row


async def insert(tx: Tx, values: Mapping[str, Any], *, member_no: int, customer_no: int) -> Entry:
    """Write an entry and return it as stored (RETURNING *: no re-select). The member's numbers come
    from the caller, who holds the member already."""
    columns = (
        "tenant_id", "member_id", "asset", "amount", "record_id", "record_amount", "kind", "status", "reference",
        "note", "origin", "value", "order_id", "reverses_id", "public_ref", "occurred_at", "created_at", "data",
    )
    params = []
    for column in columns:
        value = values.get(column)
        if column in ("occurred_at", "created_at"):
            value = to_text(value)
        elif column == "data":
            value = rows.dumps(value or {})
        elif column in ("asset", "kind", "status") and value is not None:
            value = value.value
        params.append(value)
    marks = ", ".join("?" for _ in columns)
    row = await tx.fetchone(f"INSERT INTO entries ({', '.join(columns)}) VALUES ({marks}) RETURNING *", tuple(params))
    assert row is not None
    if values.get("record_id") is not None:
        await bump_history(tx, values["tenant_id"])  # a revision replaces a row already listed
    return rows.entry({**dict(row), "member_no": member_no, "customer_no": customer_no})


async def bump_history(tx: Tx, tenant_id: int) -> None:
    """Entries that change rows a listing may already have shown (a revision, a pending entry resolved)
    move the tenant's history version in the same transaction; plain new entries only append."""
    await tx.execute("UPDATE tenants SET history_version = history_version + 1 WHERE id = ?", (tenant_id,))


async def history_version(tx: Tx, tenant_id: int) -> int:
    return await tx.fetchval("SELECT history_version FROM tenants WHERE id = ?", (tenant_id,)) or 0


_SELECT = "SELECT e.*, m.member_no, m.customer_no FROM entries e JOIN members m ON m.id = e.member_id"


async def get(tx: Tx, tenant_id: int, entry_id: int) -> Entry | None:
    row = await tx.fetchone(f"{_SELECT} WHERE e.tenant_id = ? AND e.id = ?", (tenant_id, entry_id))
    return None if row is None else rows.entry(row)


async def by_public_ref(tx: Tx, tenant_id: int, public_ref: str) -> Entry | None:
    row = await tx.fetchone(f"{_SELECT} WHERE e.tenant_id = ? AND e.public_ref = ?", (tenant_id, public_ref))
    return None if row is None else rows.entry(row)


async def record_head(tx: Tx, tenant_id: int, record_id: int) -> Entry | None:
    row = await tx.fetchone(
        f"{_SELECT} WHERE e.tenant_id = ? AND (e.id = ? OR e.record_id = ?) ORDER BY e.id DESC LIMIT 1",
        (tenant_id, record_id, record_id),
    )
    return None if row is None else rows.entry(row)


async def set_status(tx: Tx, entry_id: int, status: Status, outcome: str, now: datetime) -> None:
    await tx.execute("UPDATE entries SET status = ? WHERE id = ?", (status.value, entry_id))
    await bump_history(tx, await tx.fetchval("SELECT tenant_id FROM entries WHERE id = ?", (entry_id,)))
    await tx.execute(
        "INSERT INTO resolutions (entry_id, outcome, resolved_at) VALUES (?, ?, ?)", (entry_id, outcome, to_text(now))
    )


async def reversal_of(tx: Tx, entry_id: int) -> Entry | None:
    row = await tx.fetchone(f"{_SELECT} WHERE e.reverses_id = ?", (entry_id,))
    return None if row is None else rows.entry(row)


def _where(tenant_id: int, q: HistoryQuery) -> tuple[str, list[Any]]:
    where, params = ["e.tenant_id = ?"], [tenant_id]
    if q.member_id is not None:
        where.append("e.member_id = ?")
        params.append(q.member_id)
    if q.member_no is not None:
        where.append("e.member_id IN (SELECT id FROM members WHERE tenant_id = ? AND member_no = ?)")
        params.extend((tenant_id, q.member_no))
    if q.record_id is not None:
        where.append("coalesce(e.record_id, e.id) = ?")
        params.append(q.record_id)
    if q.asset is not None:
        where.append("e.asset = ?")
        params.append(q.asset.value)
    if q.kinds is not None:
        kinds = sorted(k.value for k in q.kinds)
        # no kinds: no rows (PostgreSQL, unlike SQLite, refuses an empty IN list)
        where.append(f"e.kind IN ({','.join('?' for _ in kinds)})" if kinds else "1 = 0")
        params.extend(kinds)
    statuses = sorted(s.value for s in q.statuses)
    where.append(f"e.status IN ({','.join('?' for _ in statuses)})")
    params.extend(statuses)
    if q.note is not None:
        where.append("e.note = ?")
        params.append(q.note)
    if q.note_contains is not None:
        where.append("instr(lower(coalesce(e.note, '')), lower(?)) > 0")
        params.append(q.note_contains)
    for op, period in q.occurred:
        sql, order = _PERIOD_SQL[op]
        where.append(sql)
        params.extend(to_text(period.start if c == "a" else period.end) for c in order)
    if q.occurred_contains is not None:
        where.append("instr(e.occurred_at, ?) > 0")
        params.append(q.occurred_contains)
    if q.after is not None:
        where.append("e.occurred_at >= ?")
        params.append(to_text(q.after))
    if q.before is not None:
        where.append("e.occurred_at < ?")
        params.append(to_text(q.before))
    if q.records_only:
        where.append("NOT EXISTS (SELECT 1 FROM entries n WHERE n.record_id = coalesce(e.record_id, e.id) AND n.id > e.id)")
    return " AND ".join(where), params


async def history(tx: Tx, tenant_id: int, q: HistoryQuery, *, offset: int, limit: int) -> list[Entry]:
    """A page in (record key, id) order from row `offset` on. When the filters are ones the listing counts
    keep apart (asset, kind, status, latest of each record), the counts name the range of record keys
    holding that row and the index is stepped over a few hundred keys at most; other filters step over
    the rows they match (cheap for one member's or one record's history, a walk for a date or note
    filter matching most of a large tenant)."""
    where, params = _where(tenant_id, q)
    categories = _categories(q)
    if offset and categories is not None:
        span = await paging.locate(tx, tenant_id, "entries", categories, offset)
        if span is None:
            return []
        start = await tx.fetchone(
            f"SELECT coalesce(e.record_id, e.id) AS k, e.id FROM entries e WHERE {where}"
            " AND coalesce(e.record_id, e.id) >= ? AND coalesce(e.record_id, e.id) < ?"
            " ORDER BY coalesce(e.record_id, e.id), e.id LIMIT 1 OFFSET ?",
            (*params, span.low, span.high, span.skip),
        )
        if start is None:  # the counts and the rows are read in one snapshot: only a bug gets here
            raise AssertionError(f"listing counts of tenant {tenant_id} disagree with its entries")
        # The plain >= lets the planner seek on the listing index; the row value alone would scan from the start.
        where += " AND coalesce(e.record_id, e.id) >= ? AND (coalesce(e.record_id, e.id), e.id) >= (?, ?)"
        params.extend((start["k"], start["k"], start["id"]))
        offset = 0
    # One member's rows are found on the member index and sorted: the `+ 0` keeps the planner from walking
    # the whole tenant's listing index for its order instead (3.5 s for one member among a million).
    one_member = q.member_id is not None or q.member_no is not None
    order = "coalesce(e.record_id, e.id)" + (" + 0" if one_member else "")
    found = await tx.fetchall(
        f"{_SELECT} WHERE {where} ORDER BY {order}, e.id LIMIT ? OFFSET ?", (*params, limit, offset)
    )
    return [rows.entry(r) for r in found]


def _categories(q: HistoryQuery) -> list[str] | None:
    """The listing-count categories (asset/kind/status) a query's rows fall in, or None when it filters on
    something the counts do not keep apart."""
    unkept = (
        q.member_id, q.member_no, q.record_id, q.note, q.note_contains, q.occurred_contains, q.after, q.before,
    )
    if not q.records_only or q.occurred or any(v is not None for v in unkept):
        return None
    assets = [q.asset] if q.asset is not None else list(Asset)
    kinds = q.kinds if q.kinds is not None else list(Kind)
    return [f"{a.value}/{k.value}/{s.value}" for a in assets for k in kinds for s in q.statuses]


async def history_count(tx: Tx, tenant_id: int, q: HistoryQuery) -> int:
    where, params = _where(tenant_id, q)
    return await tx.fetchval(f"SELECT count(*) FROM entries e WHERE {where}", params)


async def by_reference(tx: Tx, tenant_id: int, reference: str, kind: Kind) -> list[Entry]:
    found = await tx.fetchall(
        f"{_SELECT} WHERE e.tenant_id = ? AND e.reference = ? AND e.kind = ? ORDER BY e.id",
        (tenant_id, reference, kind.value),
    )
    return [rows.entry(r) for r in found]

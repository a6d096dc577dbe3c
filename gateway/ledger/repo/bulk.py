"""SQL for members written in bulk: a batch of members, their cards, accounts, entries and the entries'
creation events, each table in one executemany. Rows arrive ready (ids, integer hundredths, stored
time text); the rules they must keep are checked by the caller (gateway/ledger/bulk.py)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..store.base import Tx
from ..store.listing_counts import LISTING_SHIFTS, SQLITE_ADD_COUNT, SQLITE_ROW_COUNTERS

MEMBER_COLUMNS = (
    "tenant_id", "customer_no", "member_no", "email", "user_ref", "name", "programme_no", "profile",
    "deleted", "created_at", "updated_at", "external_ref",
)
ENTRY_COLUMNS = (
    "tenant_id", "member_id", "asset", "amount", "record_amount", "kind", "status", "note", "origin",
    "occurred_at", "created_at", "data",
)


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


async def insert_members(tx: Tx, tenant_id: int, rows: Sequence[Sequence[Any]], first_no: int, last_no: int) -> dict[int, int]:
    """Insert member rows (MEMBER_COLUMNS) whose customer numbers are first_no..last_no; returns
    {customer number: member id}. The ids are read back rather than chosen, so each store hands them
    out its own way (PostgreSQL's identity sequence stays ahead of them)."""
    await tx.executemany(_insert("members", MEMBER_COLUMNS), rows)
    found = await tx.fetchall(
        "SELECT id, customer_no FROM members WHERE tenant_id = ? AND customer_no BETWEEN ? AND ?",
        (tenant_id, first_no, last_no),
    )
    return {r[1]: r[0] for r in found}  # by position: a row's lookup by name costs more, ten thousand times


async def insert_cards(tx: Tx, rows: Sequence[tuple[int, str, int]]) -> None:
    """(tenant id, card ref, member id) rows."""
    await tx.executemany("INSERT INTO cards (tenant_id, card_ref, member_id) VALUES (?, ?, ?)", rows)


async def insert_entries(tx: Tx, kind: str, tenant_id: int, rows: Sequence[Sequence[Any]], member_ids: Sequence[int]) -> list[int]:
    """Insert entry rows (ENTRY_COLUMNS) of members created in this transaction, in the order of
    `member_ids`; returns the entry ids in the order of the rows."""
    if kind == "sqlite":
        # The one writer hands out AUTOINCREMENT ids one above the sequence, in row order: when the sequence
        # moved by exactly the number of rows, they are its next numbers, with nothing to read back.
        before = await tx.fetchval("SELECT seq FROM sqlite_sequence WHERE name = 'entries'") or 0
        await tx.executemany(_insert("entries", ENTRY_COLUMNS), rows)
        after = await tx.fetchval("SELECT seq FROM sqlite_sequence WHERE name = 'entries'")
        if after == before + len(rows):
            return list(range(before + 1, after + 1))
    else:
        await tx.executemany(_insert("entries", ENTRY_COLUMNS), rows)
    # Only these members' entries are read back: no other transaction can have written one for a member that
    # is not committed yet.
    found = await tx.fetchall(
        "SELECT id, member_id FROM entries WHERE tenant_id = ? AND member_id BETWEEN ? AND ? ORDER BY member_id, id",
        (tenant_id, min(member_ids), max(member_ids)),
    )
    by_member: dict[int, list[int]] = {member_id: [] for member_id in member_ids}
    for entry_id, member_id in found:
        if member_id in by_member:
            by_member[member_id].append(entry_id)
    return [entry_id for member_id in member_ids for entry_id in by_member[member_id]]


async def insert_events(tx: Tx, rows: Sequence[tuple[int, str, int, str, str]]) -> None:
    """(tenant id, topic, entry id, payload, created at) rows for the outbox."""
    await tx.executemany(
        "INSERT INTO outbox (tenant_id, topic, entry_id, payload, created_at) VALUES (?, ?, ?, ?, ?)", rows
    )


async def insert_accounts(tx: Tx, rows: Sequence[tuple[int, str, int, int, str | None]]) -> None:
    """(member id, asset, posted, pending, updated at) rows: every account of the new members."""
    await tx.executemany(
        "INSERT INTO accounts (member_id, asset, posted, pending, updated_at) VALUES (?, ?, ?, ?, ?)", rows
    )


async def taken(tx: Tx, tenant_id: int, column: str, values: Sequence[str]) -> list[str]:
    """Which of `values` a member of the tenant already holds in `column` (user_ref, lower(email),
    external_ref; card_ref in cards), asked in slices the engines' parameter limits allow."""
    table, expression = ("cards", "card_ref") if column == "card_ref" else ("members", column)
    if column == "email":
        table, expression = "members", "lower(email)"
    found: list[str] = []
    for start in range(0, len(values), 500):
        part = values[start:start + 500]
        marks = ",".join("?" for _ in part)
        extra = " AND email IS NOT NULL" if column == "email" else ""  # lets SQLite use the partial index
        rows = await tx.fetchall(
            f"SELECT {expression} AS v FROM {table} WHERE tenant_id = ?{extra} AND {expression} IN ({marks})",
            (tenant_id, *part),
        )
        found.extend(r["v"] for r in rows)
    return found


async def pause_row_counting(tx: Tx, kind: str) -> list[str]:
    """On SQLite, drop the listing counts' insert triggers for the rest of this transaction and return the
    SQL that makes them again (resume_row_counting); elsewhere nothing (listing_counts.py says why)."""
    if kind != "sqlite":
        return []
    names = SQLITE_ROW_COUNTERS
    found = await tx.fetchall(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({', '.join('?' for _ in names)})", names
    )
    if len(found) != len(names):  # not the schema this counts for: leave the triggers to it
        return []
    for name, _ in found:
        await tx.execute(f"DROP TRIGGER {name}")
    return [sql for _, sql in found]


async def resume_row_counting(
    tx: Tx, paused: Sequence[str], tenant_id: int, member_nos: Sequence[int], entries: Sequence[tuple[int, str]],
) -> None:
    """Count the members (their member numbers) and entries ((id, asset/kind/status)) written while the
    triggers were paused, and make the triggers again as they were. A load's entries are each the first
    of its record, so each heads its record and its key is its id: the row triggers would have added one
    to its bucket at every width, as this does, a batch's buckets at once (counted here: grouping them in
    SQL cost ten times as much, a join over the batch's members and entries)."""
    if not paused:
        return
    counts: list[tuple[int, str, int, int, str, int]] = []
    for shift in LISTING_SHIFTS:
        members = Counter(no >> shift for no in member_nos)
        counts += [(tenant_id, "members", shift, bucket, "", n) for bucket, n in members.items()]
        found = Counter((entry_id >> shift, category) for entry_id, category in entries)
        counts += [(tenant_id, "entries", shift, bucket, category, n) for (bucket, category), n in found.items()]
    await tx.executemany(SQLITE_ADD_COUNT, counts)
    for sql in paused:
        await tx.execute(sql)

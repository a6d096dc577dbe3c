"""SQL for members, their cards and programmes (membership types)."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..clock import to_text
from ..models import Asset, Identity, Member, Programme
from .. import paging
from ..store.base import Tx
from . import rows

_COLUMNS = {
    Identity.ID: "id",
    Identity.CUSTOMER_NO: "customer_no",
    Identity.MEMBER_NO: "member_no",
    Identity.USER_REF: "user_ref",
    Identity.EXTERNAL_REF: "external_ref",
    Identity.UPSTREAM_REF: "upstream_ref",
}


async def cards_of(tx: Tx, member_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    if not member_ids:
        return {}
    marks = ",".join("?" for _ in member_ids)
    found = await tx.fetchall(
        f"SELECT member_id, card_ref FROM cards WHERE member_id IN ({marks}) ORDER BY card_ref", tuple(member_ids)
    )
    result: dict[int, list[str]] = {}
    for r in found:
        result.setdefault(r["member_id"], []).append(r["card_ref"])
    return {k: tuple(v) for k, v in result.items()}


async def hydrate(tx: Tx, found: Sequence[Any]) -> list[Member]:
    cards = await cards_of(tx, [r["id"] for r in found])
    return [rows.member(r, cards.get(r["id"], ())) for r in found]


# A member and its cards in one statement: one row per card (one with NULL when it has none), which
# costs less than a second round trip for the cards of the one member a request is about.
_WITH_CARDS = "SELECT m.*, c.card_ref AS card_of_member FROM {source} LEFT JOIN cards c ON c.member_id = m.id"


async def find(tx: Tx, tenant_id: int, identity: Identity, value: object) -> Member | None:
    if identity is Identity.CARD_REF:
        source = "cards k JOIN members m ON m.id = k.member_id"
        where, params = "k.tenant_id = ? AND k.card_ref = ?", (tenant_id, value)
    elif identity is Identity.EMAIL:
        # `email IS NOT NULL` lets SQLite use the partial index members_email (else it scans the tenant)
        source = "members m"
        where, params = "m.tenant_id = ? AND m.email IS NOT NULL AND lower(m.email) = lower(?)", (tenant_id, value)
    else:
        source = "members m"
        where, params = f"m.tenant_id = ? AND m.{_COLUMNS[identity]} = ?", (tenant_id, value)
    found = await tx.fetchall(
        _WITH_CARDS.format(source=source) + f" WHERE {where} ORDER BY m.id, c.card_ref", params
    )
    if not found:
        return None
    first = found[0]["id"]
    cards = tuple(r["card_of_member"] for r in found if r["id"] == first and r["card_of_member"] is not None)
    return rows.member(found[0], cards)


async def next_number(tx: Tx, tenant_id: int) -> int:
    """The next free number, used for both customer and member numbers so they coincide by default."""
    top = await tx.fetchval(
        "SELECT max(n) FROM (SELECT max(customer_no) AS n FROM members WHERE tenant_id = ?"
        " UNION ALL SELECT max(member_no) FROM members WHERE tenant_id = ?) AS t",
        (tenant_id, tenant_id),
    )
    return (top or 0) + 1


async def insert(tx: Tx, tenant_id: int, fields: Mapping[str, Any], now: datetime) -> int:
    member_id = await tx.fetchval(
        "INSERT INTO members (tenant_id, customer_no, member_no, email, user_ref, name, programme_no, profile,"
        " deleted, created_at, updated_at, external_ref, upstream_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)"
        " RETURNING id",
        (
            tenant_id,
            fields["customer_no"],
            fields["member_no"],
            fields.get("email"),
            fields["user_ref"],
            fields.get("name", ""),
            fields.get("programme_no"),
            rows.dumps(fields.get("profile", {})),
            to_text(fields.get("created_at") or now),
            to_text(fields.get("updated_at") or now),
            fields.get("external_ref"),
            fields.get("upstream_ref"),
        ),
    )
    for asset in Asset:
        await tx.execute("INSERT INTO accounts (member_id, asset) VALUES (?, ?)", (member_id, asset.value))
    await bump_roster(tx, tenant_id)
    return member_id


async def bump_roster(tx: Tx, tenant_id: int) -> None:
    """Any change to a tenant's members moves its roster version, in the same transaction, so a page
    continuation remembered under an older version is never used again (in any process)."""
    await tx.execute("UPDATE tenants SET roster_version = roster_version + 1 WHERE id = ?", (tenant_id,))


async def start_versions(tx: Tx, tenant_id: int) -> None:
    """A new tenant's roster and history versions start at random numbers: a tenant deleted and created
    again under a reused id must not meet continuations remembered for its predecessor."""
    await tx.execute(
        "UPDATE tenants SET roster_version = ?, history_version = ? WHERE id = ?",
        (int.from_bytes(os.urandom(6), "big"), int.from_bytes(os.urandom(6), "big"), tenant_id),
    )


async def roster_version(tx: Tx, tenant_id: int) -> int:
    return await tx.fetchval("SELECT roster_version FROM tenants WHERE id = ?", (tenant_id,)) or 0


async def add_card(tx: Tx, tenant_id: int, member_id: int, card_ref: str) -> None:
    await tx.execute(
        "INSERT INTO cards (tenant_id, card_ref, member_id) VALUES (?, ?, ?)", (tenant_id, card_ref, member_id)
    )


async def update(tx: Tx, member_id: int, fields: Mapping[str, Any], now: datetime) -> None:
    allowed = (
        "customer_no", "member_no", "email", "name", "programme_no", "profile", "deleted", "external_ref", "upstream_ref",
    )
    sets, params = [], []
    for key in allowed:
        if key in fields:
            sets.append(f"{key} = ?")
            value = fields[key]
            params.append(rows.dumps(value) if key == "profile" else value)
    sets.append("updated_at = ?")
    params.append(to_text(now))
    await tx.execute(f"UPDATE members SET {', '.join(sets)} WHERE id = ?", (*params, member_id))
    tenant_id = await tx.fetchval("SELECT tenant_id FROM members WHERE id = ?", (member_id,))
    await bump_roster(tx, tenant_id)


def _member_filter(
    tenant_id: int, *, active_only: bool, updated_after: datetime | None, updated_before: datetime | None
) -> tuple[str, list[Any]]:
    where, params = ["tenant_id = ?"], [tenant_id]
    if active_only:
        where.append("deleted = 0")
    if updated_after is not None:
        where.append("updated_at > ?")
        params.append(to_text(updated_after))
    if updated_before is not None:
        where.append("updated_at < ?")
        params.append(to_text(updated_before))
    return " AND ".join(where), params


async def list_page(
    tx: Tx,
    tenant_id: int,
    *,
    offset: int,
    limit: int,
    active_only: bool = False,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    order_by: str = "customer_no",
    after_customer_no: int | None = None,
) -> list[Member]:
    where, params = _member_filter(
        tenant_id, active_only=active_only, updated_after=updated_after, updated_before=updated_before
    )
    if after_customer_no is not None:
        # keyset on UNIQUE (tenant_id, customer_no): the index finds the first row after the last one seen
        # (an OFFSET steps over every row before it; an id range would make SQLite sort the tenant's rows)
        if order_by != "customer_no":
            raise ValueError("after_customer_no pages in customer_no order only")
        where, params = f"{where} AND customer_no > ?", [*params, after_customer_no]
    column = {
        "customer_no": "customer_no", "member_no": "member_no", "id": "id",
        "-updated_at": "updated_at DESC, id DESC",  # the latest change first
    }[order_by]
    found = await tx.fetchall(
        f"SELECT * FROM members WHERE {where} ORDER BY {column} LIMIT ? OFFSET ?", (*params, limit, offset)
    )
    return await hydrate(tx, found)


async def count(
    tx: Tx,
    tenant_id: int,
    *,
    active_only: bool = False,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
) -> int:
    where, params = _member_filter(
        tenant_id, active_only=active_only, updated_after=updated_after, updated_before=updated_before
    )
    return await tx.fetchval(f"SELECT count(*) FROM members WHERE {where}", params)


async def balance_page(
    tx: Tx, tenant_id: int, asset: Asset, *, member_no: int | None, offset: int, limit: int
) -> list[tuple[Member, int]]:
    """Live members by member number from row `offset` on. The listing counts (paging.py) name the range
    of numbers holding that row, so the index is stepped over a few hundred keys at most, at any offset."""
    where, params = ["m.tenant_id = ?", "m.deleted = 0"], [tenant_id]
    if member_no is not None:  # one member at most: nothing to skip over
        where.append("m.member_no = ?")
        params.append(member_no)
    elif offset:
        start = await _roster_start(tx, tenant_id, offset)
        if start is None:
            return []
        where.append("m.member_no >= ?")
        params.append(start)
    found = await tx.fetchall(
        "SELECT m.*, a.posted AS balance FROM members m JOIN accounts a ON a.member_id = m.id AND a.asset = ?"
        f" WHERE {' AND '.join(where)} ORDER BY m.member_no LIMIT ? OFFSET ?",
        (asset.value, *params, limit, offset if member_no is not None else 0),
    )
    members = await hydrate(tx, found)
    return [(m, r["balance"]) for m, r in zip(members, found, strict=True)]


async def _roster_start(tx: Tx, tenant_id: int, offset: int) -> int | None:
    """The member number of live member `offset` (from 0) in member-number order; None past the end."""
    span = await paging.locate(tx, tenant_id, "members", [""], offset)
    if span is None:
        return None
    return await tx.fetchval(
        "SELECT member_no FROM members WHERE tenant_id = ? AND deleted = 0 AND member_no >= ? AND member_no < ?"
        " ORDER BY member_no LIMIT 1 OFFSET ?",
        (tenant_id, span.low, span.high, span.skip),
    )


async def upsert_programme(tx: Tx, tenant_id: int, fields: Mapping[str, Any], now: datetime) -> None:
    exists = await tx.fetchval(
        "SELECT 1 FROM programmes WHERE tenant_id = ? AND number = ?", (tenant_id, fields["number"])
    )
    values = (
        fields["name"],
        fields.get("spend_ratio"),
        fields.get("earn_unit"),
        str(fields.get("discount", "0")),
        rows.dumps(fields.get("data", {})),
        fields.get("status"),
    )
    if exists:
        await tx.execute(
            "UPDATE programmes SET name = ?, spend_ratio = ?, earn_unit = ?, discount = ?, data = ?, status = ?,"
            " updated_at = ? WHERE tenant_id = ? AND number = ?",
            (*values, to_text(fields.get("updated_at") or now), tenant_id, fields["number"]),
        )
    else:
        await tx.execute(
            "INSERT INTO programmes (name, spend_ratio, earn_unit, discount, data, status, created_at, updated_at,"
            " tenant_id, number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *values,
                to_text(fields.get("created_at") or now),
                to_text(fields.get("updated_at") or now),
                tenant_id,
                fields["number"],
            ),
        )


async def get_programme(tx: Tx, tenant_id: int, number: int) -> Programme | None:
    row = await tx.fetchone("SELECT * FROM programmes WHERE tenant_id = ? AND number = ?", (tenant_id, number))
    return None if row is None else rows.programme(row)


async def list_programmes(tx: Tx, tenant_id: int, *, offset: int, limit: int, active_only: bool) -> list[Programme]:
    extra = " AND status IS NULL" if active_only else ""
    found = await tx.fetchall(
        f"SELECT * FROM programmes WHERE tenant_id = ?{extra} ORDER BY number LIMIT ? OFFSET ?",
        (tenant_id, limit, offset),
    )
    return [rows.programme(r) for r in found]

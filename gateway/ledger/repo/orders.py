"""SQL for orders (purchase documents that earn points)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..clock import to_text
from ..models import Order
from ..store.base import Tx
from . import rows


async def insert(tx: Tx, tenant_id: int, values: Mapping[str, Any], now: datetime) -> int:
    number = (await tx.fetchval("SELECT max(number) FROM orders WHERE tenant_id = ?", (tenant_id,)) or 0) + 1
    return await tx.fetchval(
        "INSERT INTO orders (tenant_id, number, reference, member_id, value, earned, data, occurred_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?) RETURNING id",
        (
            tenant_id, number, values.get("reference"), values.get("member_id"), values["value"],
            rows.dumps(values.get("data", {})), to_text(values.get("occurred_at") or now), to_text(now),
        ),
    )


async def set_earned(tx: Tx, order_id: int, earned: int) -> None:
    await tx.execute("UPDATE orders SET earned = ? WHERE id = ?", (earned, order_id))


async def void(tx: Tx, order_id: int, reason: str | None, now: datetime) -> None:
    await tx.execute(
        "UPDATE orders SET voided = 1, void_reason = ?, voided_at = ? WHERE id = ?", (reason, to_text(now), order_id)
    )


async def get(tx: Tx, tenant_id: int, order_id: int) -> Order | None:
    row = await tx.fetchone("SELECT * FROM orders WHERE tenant_id = ? AND id = ?", (tenant_id, order_id))
    return None if row is None else rows.order(row)


async def reference_taken(tx: Tx, tenant_id: int, reference: str) -> bool:
    return await tx.fetchval("SELECT 1 FROM orders WHERE tenant_id = ? AND reference = ?", (tenant_id, reference)) is not None


async def list_page(
    tx: Tx, tenant_id: int, *, offset: int, limit: int, reference: str | None = None,
    after: datetime | None = None, before: datetime | None = None,
) -> list[Order]:
    where, params = ["tenant_id = ?"], [tenant_id]
    if reference is not None:
        where.append("reference = ?")
        params.append(reference)
    if after is not None:
        where.append("coalesce(voided_at, created_at) > ?")
        params.append(to_text(after))
    if before is not None:
        where.append("coalesce(voided_at, created_at) < ?")
        params.append(to_text(before))
    found = await tx.fetchall(
        f"SELECT * FROM orders WHERE {' AND '.join(where)} ORDER BY id LIMIT ? OFFSET ?", (*params, limit, offset)
    )
    return [rows.order(r) for r in found]


async def count(tx: Tx, tenant_id: int) -> int:
    return await tx.fetchval("SELECT count(*) FROM orders WHERE tenant_id = ?", (tenant_id,))

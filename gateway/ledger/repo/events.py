"""SQL for idempotency records and the outbox of events."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..clock import from_text, to_text
from ..commits import note
from ..models import Event
from ..store.base import Tx
from . import rows


async def idempotency_get(tx: Tx, tenant_id: int, scope: str, key: str) -> Any:
    return await tx.fetchone(
        "SELECT fingerprint, state, response FROM idempotency WHERE tenant_id = ? AND scope = ? AND key = ?",
        (tenant_id, scope, key),
    )


async def idempotency_put(
    tx: Tx, tenant_id: int, scope: str, key: str, fingerprint: str, response: bytes, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO idempotency (tenant_id, scope, key, fingerprint, state, response, created_at)"
        " VALUES (?, ?, ?, ?, 'done', ?, ?)",
        (tenant_id, scope, key, fingerprint, response, to_text(now)),
    )


async def publish(
    tx: Tx, tenant_id: int, topic: str, entry_id: int | None, payload: Mapping[str, Any], now: datetime
) -> int:
    note(tx, topic, str(payload.get("kind") or ""))
    return await tx.fetchval(
        "INSERT INTO outbox (tenant_id, topic, entry_id, payload, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        (tenant_id, topic, entry_id, rows.dumps(payload), to_text(now)),
    )


def to_event(row: Any) -> Event:
    return Event(
        id=row["id"], tenant_id=row["tenant_id"], topic=row["topic"], entry_id=row["entry_id"],
        payload=rows.loads(row["payload"]), created_at=from_text(row["created_at"]),
    )


async def events_after(tx: Tx, after_id: int, limit: int, tenant_id: int | None = None) -> list[Event]:
    if tenant_id is None:
        found = await tx.fetchall("SELECT * FROM outbox WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))
    else:
        found = await tx.fetchall(
            "SELECT * FROM outbox WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?", (tenant_id, after_id, limit)
        )
    return [to_event(r) for r in found]


async def newest_id(tx: Tx) -> int:
    """The id of the newest outbox event (0 when there is none)."""
    return int(await tx.fetchval("SELECT COALESCE(MAX(id), 0) FROM outbox") or 0)

"""SQL for outgoing deliveries, their attempts, and the named cursors consumers keep over the outbox."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from .. import clock
from ..models import Attempt, Delivery, NewDelivery
from ..store.base import Tx


# A batch of deliveries shares its timestamps (enqueued together, recorded at one `now`), and turning
# them to and from text was a third of a claim's and of an outcome batch's time: remember the last few.
to_text = lru_cache(maxsize=256)(clock.to_text)
from_text = lru_cache(maxsize=1024)(clock.from_text)


async def cursor(tx: Tx, name: str) -> int:
    value = await tx.fetchval("SELECT position FROM cursors WHERE name = ?", (name,))
    return int(value or 0)


async def advance(tx: Tx, name: str, position: int) -> None:
    await tx.execute(
        "INSERT INTO cursors (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position ="
        " CASE WHEN cursors.position < excluded.position THEN excluded.position ELSE cursors.position END",
        (name, position),
    )


async def insert(tx: Tx, item: NewDelivery, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO deliveries (tenant_id, event_id, channel, label, target, dedupe_key, body, state, attempts,"
        " next_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)"
        " ON CONFLICT (channel, event_id, label) DO NOTHING",
        (item.tenant_id, item.event_id, item.channel, item.label, item.target, item.key, item.body,
         to_text(now), to_text(now), to_text(now)),
    )


async def event_ids(tx: Tx, after_id: int, upto: int) -> list[int]:
    found = await tx.fetchall("SELECT id FROM outbox WHERE id > ? AND id <= ? ORDER BY id", (after_id, upto))
    return [r["id"] for r in found]


async def due(tx: Tx, now: datetime, limit: int) -> list[Any]:
    """Pending deliveries whose time has come (an expired lease included), locked for this claim;
    rows another process is claiming right now are skipped, not waited for."""
    return await tx.fetchall(
        "SELECT * FROM deliveries WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?"
        + tx.skip_locked,
        (to_text(now), limit),
    )


async def lease(tx: Tx, delivery_ids: Sequence[int], next_at: datetime, claim: str) -> None:
    for start in range(0, len(delivery_ids), 500):  # SQLite may refuse more than 999 parameters
        some = delivery_ids[start:start + 500]
        await tx.execute(
            f"UPDATE deliveries SET next_at = ?, claim = ? WHERE id IN ({', '.join('?' * len(some))})",
            (to_text(next_at), claim, *some),
        )


async def reopen(tx: Tx, delivery_id: int, now: datetime) -> None:
    await tx.execute(
        "UPDATE deliveries SET state = 'pending', next_at = ?, updated_at = ? WHERE id = ?",
        (to_text(now), to_text(now), delivery_id),
    )


async def claim_states(tx: Tx, delivery_ids: Sequence[int]) -> dict[int, Any]:
    """id -> (claim, state, attempts) of each delivery named that exists, a few hundred per statement
    (SQLite may refuse more than 999 parameters)."""
    found: dict[int, Any] = {}
    for start in range(0, len(delivery_ids), 500):
        some = tuple(delivery_ids[start:start + 500])
        marks = ", ".join("?" * len(some))
        for row in await tx.fetchall(f"SELECT id, claim, state, attempts FROM deliveries WHERE id IN ({marks})", some):
            found[row["id"]] = row
    return found


async def get(tx: Tx, delivery_id: int) -> Any:
    return await tx.fetchone("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))


async def record_many(
    tx: Tx, now: datetime, tries: Sequence[tuple[int, int, int | None, str | None, str, datetime]]
) -> None:
    """Attempts (delivery id, number, status, error, new state, next try) written a batch per statement:
    one INSERT per 150 attempts, one UPDATE per kind of outcome (usually all alike: delivered, 200)."""
    for start in range(0, len(tries), 150):  # five parameters a row, under SQLite's 999
        some = tries[start:start + 150]
        await tx.execute(
            "INSERT INTO delivery_attempts (delivery_id, number, at, status, error) VALUES "
            + ", ".join("(?, ?, ?, ?, ?)" for _ in some),
            tuple(v for d, number, status, error, _, _ in some for v in (d, number, to_text(now), status, error)),
        )
    alike: dict[tuple[int, int | None, str | None, str, datetime], list[int]] = {}
    for d, number, status, error, state, next_at in tries:
        alike.setdefault((number, status, error, state, next_at), []).append(d)
    for (number, status, error, state, next_at), ids in sorted(alike.items(), key=lambda kv: kv[0][0]):
        for start in range(0, len(ids), 500):  # a later try of the same delivery is written after an earlier
            some = ids[start:start + 500]
            await tx.execute(
                "UPDATE deliveries SET attempts = ?, state = ?, next_at = ?, last_status = ?, last_error = ?,"
                f" updated_at = ? WHERE id IN ({', '.join('?' * len(some))})",
                (number, state, to_text(next_at), status, error, to_text(now), *some),
            )


async def listing(tx: Tx, tenant_id: int | None, offset: int, limit: int) -> list[Delivery]:
    if tenant_id is None:
        found = await tx.fetchall("SELECT * FROM deliveries ORDER BY id LIMIT ? OFFSET ?", (limit, offset))
    else:
        found = await tx.fetchall(
            "SELECT * FROM deliveries WHERE tenant_id = ? ORDER BY id LIMIT ? OFFSET ?", (tenant_id, limit, offset)
        )
    return [await with_history(tx, r) for r in found]


async def with_history(tx: Tx, row: Any) -> Delivery:
    tried = await tx.fetchall(
        "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY number", (row["id"],)
    )
    return to_delivery(row, [Attempt(a["number"], from_text(a["at"]), a["status"], a["error"]) for a in tried])


def to_delivery(row: Any, history: Sequence[Attempt] = (), claim: str | None = None) -> Delivery:
    """The row as a Delivery; `claim`, when given, stands for the row's (a claim just written)."""
    return Delivery(
        id=row["id"], tenant_id=row["tenant_id"], event_id=row["event_id"], channel=row["channel"],
        label=row["label"], target=row["target"], key=row["dedupe_key"], body=row["body"], state=row["state"],
        attempts=row["attempts"], next_at=from_text(row["next_at"]), last_status=row["last_status"],
        last_error=row["last_error"], created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]), history=tuple(history), claim=claim or row["claim"],
    )

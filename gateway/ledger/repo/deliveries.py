"""SQL for outgoing deliveries, their attempts, and the named cursors consumers keep over the outbox."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from .. import clock
from ..models import Attempt, Delivery, NewDelivery
from ..store.base import Tx
from . import rows


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


async def due(tx: Tx, now: datetime, limit: int, channel: str | None = None, in_order: bool = False) -> list[Any]:
    """Pending deliveries whose time has come (an expired lease included), of `channel` only when given,
    locked for this claim; rows another process is claiming right now are skipped, not waited for. In
    order: a delivery is due only when no earlier one of its (channel, label) is still pending."""
    where, params = ["state = 'pending'", "next_at <= ?"], [to_text(now)]
    if channel is not None:
        where.append("channel = ?")
        params.append(channel)
    if in_order:
        where.append(
            "NOT EXISTS (SELECT 1 FROM deliveries AS earlier WHERE earlier.channel = deliveries.channel"
            " AND earlier.label = deliveries.label AND earlier.state = 'pending'"
            " AND earlier.event_id < deliveries.event_id)"
        )
    return await tx.fetchall(
        f"SELECT * FROM deliveries WHERE {' AND '.join(where)} ORDER BY next_at, id LIMIT ?" + tx.skip_locked,
        (*params, limit),
    )


async def any_due(tx: Tx, now: datetime, channel: str) -> bool:
    """Whether some pending delivery of `channel` is due (an expired lease included)."""
    found = await tx.fetchone("SELECT 1 FROM deliveries WHERE state = 'pending' AND next_at <= ? AND channel = ? LIMIT 1",
                              (to_text(now), channel))
    return found is not None


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


Try = tuple[int, int, int | None, str | None, str, datetime, str | None]  # see record_many


async def record_many(tx: Tx, now: datetime, tries: Sequence[Try]) -> None:
    """Attempts (delivery id, number, status, error, new state, next try, outcome JSON or None) written a
    batch per statement: one INSERT per 150 attempts, one UPDATE per kind of outcome (usually all alike:
    delivered, 200); those with an outcome of their own one UPDATE each. No outcome keeps the one before."""
    for start in range(0, len(tries), 150):  # five parameters a row, under SQLite's 999
        some = tries[start:start + 150]
        await tx.execute(
            "INSERT INTO delivery_attempts (delivery_id, number, at, status, error) VALUES "
            + ", ".join("(?, ?, ?, ?, ?)" for _ in some),
            tuple(v for d, number, status, error, *_ in some for v in (d, number, to_text(now), status, error)),
        )
    alike: dict[tuple[int, int | None, str | None, str, datetime, str | None], list[int]] = {}
    for d, number, status, error, state, next_at, outcome in tries:
        alike.setdefault((number, status, error, state, next_at, outcome), []).append(d)
    for (number, status, error, state, next_at, outcome), ids in sorted(alike.items(), key=lambda kv: kv[0][0]):
        for start in range(0, len(ids), 500):  # a later try of the same delivery is written after an earlier
            some = ids[start:start + 500]
            await tx.execute(
                "UPDATE deliveries SET attempts = ?, state = ?, next_at = ?, last_status = ?, last_error = ?,"
                f" outcome = coalesce(?, outcome), updated_at = ? WHERE id IN ({', '.join('?' * len(some))})",
                (number, state, to_text(next_at), status, error, outcome, to_text(now), *some),
            )


async def listing(
    tx: Tx, tenant_id: int | None, offset: int, limit: int, channel: str | Sequence[str] | None = None,
    states: Sequence[str] | None = None,
) -> list[Delivery]:
    where, params = _filters(tenant_id, channel, states)
    found = await tx.fetchall(f"SELECT * FROM deliveries{where} ORDER BY id LIMIT ? OFFSET ?", (*params, limit, offset))
    return [await with_history(tx, r) for r in found]


def _filters(tenant_id: int | None, channel: str | Sequence[str] | None, states: Sequence[str] | None) -> tuple[str, list[Any]]:
    where, params = [], []  # type: ignore[var-annotated]
    if isinstance(channel, str):
        where.append("channel = ?")
        params.append(channel)
    elif channel is not None:  # any of several channels (none: no delivery)
        where.append(f"channel IN ({', '.join('?' * len(channel))})" if channel else "1 = 0")
        params.extend(channel)
    if tenant_id is not None:
        where.append("tenant_id = ?")
        params.append(tenant_id)
    if states is not None:
        where.append(f"state IN ({', '.join('?' * len(states))})" if states else "1 = 0")
        params.extend(states)
    return (" WHERE " + " AND ".join(where) if where else ""), params


async def by_key(tx: Tx, tenant_id: int, channel: str, key: str) -> Delivery | None:
    """The latest delivery on `channel` under the receiver-side key `key`."""
    row = await tx.fetchone(
        "SELECT * FROM deliveries WHERE channel = ? AND tenant_id = ? AND dedupe_key = ? ORDER BY id DESC LIMIT 1",
        (channel, tenant_id, key),
    )
    return None if row is None else await with_history(tx, row)


async def counts(tx: Tx, tenant_id: int, channel: str) -> dict[str, Any]:
    """How many deliveries of the tenant on `channel` are in each state, and when the oldest pending one
    was enqueued."""
    found = await tx.fetchall(
        "SELECT state, count(*) AS n, min(created_at) AS oldest FROM deliveries WHERE channel = ? AND tenant_id = ?"
        " GROUP BY state",
        (channel, tenant_id),
    )
    result: dict[str, Any] = {row["state"]: int(row["n"]) for row in found}
    oldest = next((row["oldest"] for row in found if row["state"] == "pending"), None)
    result["oldest_pending_at"] = None if oldest is None else from_text(oldest)
    return result


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
        outcome=None if row["outcome"] is None else rows.loads(row["outcome"]),
        earlier_claim=row["claim"] if claim else None,
    )

"""SQL for reading one channel's deliveries by label a page at a time: the labels that have any (in natural
order), a given set of labels' deliveries without their attempts, and a tally by state and answer; every
tenant's deliveries counted by channel and state in one query; and for renewing the lease of deliveries
still held under a claim."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .. import clock

from ..models import Delivery
from ..store.base import Tx
from .deliveries import to_delivery

CHUNK = 500  # labels per IN (...) list


async def counts_by_channel(tx: Tx) -> list[tuple[str, str, int, datetime | None]]:
    """(channel, state, how many, when the oldest was enqueued) over every tenant's deliveries: one GROUP BY
    (the deliveries_due index's state leads), however many tenants there are."""
    found = await tx.fetchall(
        "SELECT channel, state, count(*) AS n, min(created_at) AS oldest FROM deliveries GROUP BY channel, state")
    return [(row["channel"], row["state"], int(row["n"]),
             None if row["oldest"] is None else clock.from_text(row["oldest"])) for row in found]


async def labels(tx: Tx, tenant_id: int, channel: str, offset: int, limit: int) -> tuple[list[str], int]:
    """A page of the distinct labels with a delivery on `channel` (shorter first, then by text, so
    numbered labels come in number order) and how many there are in all."""
    found = await tx.fetchall(
        "SELECT label FROM (SELECT DISTINCT label FROM deliveries WHERE channel = ? AND tenant_id = ?) AS l"
        " ORDER BY length(label), label LIMIT ? OFFSET ?", (channel, tenant_id, limit, offset))
    total = await tx.fetchval(
        "SELECT count(DISTINCT label) FROM deliveries WHERE channel = ? AND tenant_id = ?", (channel, tenant_id))
    return [row["label"] for row in found], int(total or 0)


async def of_labels(tx: Tx, tenant_id: int, channel: str, wanted: Sequence[str]) -> list[Delivery]:
    """Every delivery on `channel` of the given labels, oldest first, without attempt history."""
    out: list[Delivery] = []
    for start in range(0, len(wanted), CHUNK):
        some = list(wanted[start:start + CHUNK])
        out += [to_delivery(row) for row in await tx.fetchall(
            f"SELECT * FROM deliveries WHERE channel = ? AND tenant_id = ? AND label IN ({', '.join('?' * len(some))})",
            (channel, tenant_id, *some))]
    return sorted(out, key=lambda d: d.id)


def _answered(kind: str, field: str) -> str:
    """SQL for one text field of the receiver's JSON answer (outcome), NULL when absent."""
    if kind == "postgresql":
        return f"(outcome::jsonb ->> '{field}')"
    return f"json_extract(outcome, '$.{field}')"


async def tally(tx: Tx, kind: str, tenant_id: int, channel: str, field: str,
                differing: Sequence[str]) -> dict[str, Any]:
    """{(state, answered): how many} of the channel's deliveries, where `answered` is `field` of the answer,
    and "labels_differing": how many labels have a delivery whose answered value (or, with none, whose
    state) is one of `differing`."""
    said = _answered(kind, field)
    rows = await tx.fetchall(
        f"SELECT state, {said} AS said, count(*) AS n FROM deliveries WHERE channel = ? AND tenant_id = ?"
        f" GROUP BY state, {said}", (channel, tenant_id))
    marks = ", ".join("?" * len(differing))
    labels_differing = await tx.fetchval(
        f"SELECT count(DISTINCT label) FROM deliveries WHERE channel = ? AND tenant_id = ?"
        f" AND state <> 'pending' AND coalesce({said}, state) IN ({marks})", (channel, tenant_id, *differing))
    counts = {(row["state"], row["said"]): int(row["n"]) for row in rows}
    return {"counts": counts, "labels_differing": int(labels_differing or 0)}


async def renew(tx: Tx, delivery_ids: Sequence[int], claim: str, next_at: datetime) -> int:
    """Move the lease of those of the deliveries still pending under `claim` to `next_at`; how many were."""
    held = 0
    for start in range(0, len(delivery_ids), CHUNK):
        some = list(delivery_ids[start:start + CHUNK])
        held += await tx.execute(
            f"UPDATE deliveries SET next_at = ? WHERE claim = ? AND state = 'pending'"
            f" AND id IN ({', '.join('?' * len(some))})", (clock.to_text(next_at), claim, *some))
    return held

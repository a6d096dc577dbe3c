"""Where a listing's page at offset N starts, found from the listing counts the store keeps (migration 11:
rows per range of sort key, at widths 2^24, 2^16 and 2^8, maintained by triggers in every writing
transaction). Nothing is remembered in a process: the counts are read in the same snapshot as the rows.
Knows SQL for the counts table only; which rows a listing holds is the repo's business."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .store.base import Tx
from .store.listing_counts import LISTING_SHIFTS


@dataclass(frozen=True)
class KeyRange:
    """Sort keys in [low, high): the page starts at the `skip`-th listed row of this range (fewer than
    2^8 distinct keys, so stepping over them on the index costs little whatever the offset)."""

    low: int
    high: int
    skip: int


async def locate(tx: Tx, tenant_id: int, listing: str, categories: Iterable[str], offset: int) -> KeyRange | None:
    """The key range holding row `offset` of the listing (rows of the given categories), or None when the
    listing has `offset` rows or fewer. Each width reads the counts of one range of the wider one only."""
    wanted = sorted(set(categories))
    if not wanted:
        return None
    marks = ",".join("?" for _ in wanted)
    remaining, low, high = offset, None, None
    for shift in sorted(LISTING_SHIFTS, reverse=True):
        where, params = "", []
        if low is not None:
            where, params = " AND bucket >= ? AND bucket < ?", [low >> shift, high >> shift]
        found = await tx.fetchall(
            "SELECT bucket, sum(n) AS n FROM listing_counts WHERE tenant_id = ? AND listing = ? AND level = ?"
            f" AND category IN ({marks}){where} GROUP BY bucket ORDER BY bucket",
            (tenant_id, listing, shift, *wanted, *params),
        )
        for row in found:
            n = int(row["n"])  # PostgreSQL sums bigints as numeric
            if remaining < n:
                low, high = row["bucket"] << shift, (row["bucket"] + 1) << shift
                break
            remaining -= n
        else:
            return None
    assert low is not None and high is not None
    return KeyRange(low, high, remaining)

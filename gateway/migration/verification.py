"""The verification pass (after a run, or alone with --verify-only): per member the source's and the
target's balance now, what the target should hold (the recorded opening plus the source's balance in add
mode, or the opening alone when the target replayed an earlier run's movement; the source's balance in
mirror mode) and a status; written as CSV and JSON, summarised in a few lines."""
from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..ledger import LedgerError, Upstream
from .checkpoint import Checkpoint
from .members import Pair
from .runner import ASSET, Migrator, Unfinished

COLUMNS = ("source_id", "target_id", "source", "target", "expected", "status", "detail")


@dataclass(frozen=True)
class Row:
    source_id: str
    target_id: str
    source: str
    target: str
    expected: str
    status: str  # ok | mismatch | not migrated | unreadable
    detail: str = ""


def expected_of(mode: str, checkpoint: Checkpoint, pair: Pair, source: Decimal) -> Decimal | None:
    if mode == "mirror":
        return source
    plan = checkpoint.plans.get(pair.source_id)
    if plan is not None and checkpoint.done.get(pair.source_id, {}).get("replayed"):
        return plan.target_opening  # an earlier run's movement, already in the opening read
    return None if plan is None else plan.target_opening + plan.source_balance


async def verify(migrator: Migrator, pairs: Sequence[Pair], checkpoint: Checkpoint) -> list[Row]:
    async def row(pair: Pair) -> Row:
        try:
            source, target = await migrator.balances(pair)
        except (LedgerError, Unfinished) as exc:
            return Row(pair.source_id, pair.target_id, "", "", "", "unreadable", getattr(exc, "message", str(exc)))
        expected = expected_of(migrator.mode, checkpoint, pair, source)
        if expected is None:
            status, detail = "not migrated", "no movement recorded in the checkpoint"
        elif expected == target:
            status, detail = "ok", ""
        else:
            status, detail = "mismatch", f"target is {target - expected:+} off"
        plan = checkpoint.plans.get(pair.source_id)
        if status != "ok" and pair.source_id in checkpoint.failed:
            detail = checkpoint.failed[pair.source_id]
        elif migrator.mode == "add" and plan is not None and plan.source_balance != source:
            detail = (detail + "; " if detail else "") + f"the source moved since ({plan.source_balance} then)"
        return Row(pair.source_id, pair.target_id, str(source), str(target),
                   "" if expected is None else str(expected), status, detail)
    return await migrator.each(pairs, row, unit="members verified")


def write_reports(rows: Sequence[Row], directory: Path, meta: dict[str, Any]) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    as_csv, as_json = directory / "migration-verification.csv", directory / "migration-verification.json"
    with as_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([getattr(r, c) for c in COLUMNS] for r in rows)
    counts = Counter(r.status for r in rows)
    as_json.write_text(json.dumps({**meta, "counts": dict(counts), "members": [asdict(r) for r in rows]},
                                  indent=2) + "\n", encoding="utf-8")
    return as_csv, as_json


def summary(rows: Sequence[Row], shown: int = 10) -> list[str]:
    """The console's lines: the counts, then the first members that are not ok."""
    counts = Counter(r.status for r in rows)
    order = ("ok", "mismatch", "not migrated", "unreadable")
    lines = [f"verified {len(rows)} members: " + ", ".join(f"{counts[s]} {s}" for s in order if counts[s])]
    wrong = [r for r in rows if r.status != "ok"]
    for r in wrong[:shown]:
        lines.append(f"  {r.status}: {r.source_id} -> {r.target_id}: source {r.source or '?'}, target "
                     f"{r.target or '?'}, expected {r.expected or '?'}{' (' + r.detail + ')' if r.detail else ''}")
    if len(wrong) > shown:
        lines.append(f"  ... and {len(wrong) - shown} more (see the report)")
    return lines

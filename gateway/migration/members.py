"""Who is migrated: pairs of a member's identity at the source and at the target, read from a CSV file with
the header `source_id,target_id`, or discovered from a source that can list its members (then the target
knows each member by the same identity). A member named twice, at either end, is refused."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..ledger import Upstream
from .endpoints import MigrationError

HEADER = ["source_id", "target_id"]


@dataclass(frozen=True)
class Pair:
    source_id: str
    target_id: str


def read_members(path: str | Path) -> list[Pair]:
    where = Path(path)
    try:
        with where.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise MigrationError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MigrationError(f"{where}: cannot be read as CSV ({exc.__class__.__name__})") from None
    if not rows or [c.strip() for c in rows[0]] != HEADER:
        raise MigrationError(f"{where}: line 1 must be the header {','.join(HEADER)}")
    pairs: list[Pair] = []
    seen: set[str] = set()
    targets: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise MigrationError(f"{where}: line {number} must be source_id,target_id, both non-empty")
        pair = Pair(row[0].strip(), row[1].strip())
        if pair.source_id in seen:
            raise MigrationError(f"{where}: line {number}: source_id {pair.source_id} is listed twice")
        if pair.target_id in targets:  # two balances moved onto one member: add mode doubles, mirror loses one
            raise MigrationError(f"{where}: line {number}: target_id {pair.target_id} is listed twice")
        seen.add(pair.source_id)
        targets.add(pair.target_id)
        pairs.append(pair)
    if not pairs:
        raise MigrationError(f"{where}: no members listed")
    return pairs


async def discover(source: Upstream) -> list[Pair]:
    """Every member the source lists, known by the same identity at the target."""
    if not source.lists_members:
        raise MigrationError(f"{source.name} cannot list its members: give them with --members FILE.csv")
    pairs: list[Pair] = []
    seen: set[str] = set()
    async for member in source.members():
        if member.ref in seen:
            raise MigrationError(f"{source.name} lists member {member.ref} twice: give the members with --members FILE.csv")
        seen.add(member.ref)
        pairs.append(Pair(member.ref, member.ref))
    return pairs

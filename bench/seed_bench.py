"""`seed --generate N` against its floor: the gateway's whole path (generator, dialects' makers, bulk ledger
writes, store) on a fresh SQLite file, alternated in the same run with a raw sqlite3 loop that inserts the
very rows the gateway wrote (read back from its file, untimed) with executemany, batch for batch, under the
same schema and PRAGMAs (WAL, synchronous=FULL), and, as the gateway does, with the listing counts' row
triggers set aside in each transaction and the batch counted with one grouped upsert per listing. Prints each round, the medians and their ratio; with
--postgres URL also the gateway's time on PostgreSQL (no raw reference there). Asserts nothing.

    .venv/bin/python -m bench.seed_bench [--members 1000000] [--rounds 3] [--postgres postgresql://...]
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from gateway.admin.generated import generate_tenant
from gateway.app import DIALECT_LIST
from gateway.ledger import Ledger, open_store
from gateway.ledger.store.listing_counts import SQLITE_COUNT_LOADED, SQLITE_ROW_COUNTERS
from gateway.synthetic import BATCH

# Tables in the order the bulk writer fills them, and how one batch of members' rows is found in each.
_TABLES = {
    "members": "SELECT * FROM members WHERE tenant_id = ? AND id BETWEEN ? AND ? ORDER BY id",
    "cards": "SELECT * FROM cards WHERE tenant_id = ? AND member_id BETWEEN ? AND ? ORDER BY member_id",
    "entries": "SELECT * FROM entries WHERE tenant_id = ? AND member_id BETWEEN ? AND ? ORDER BY id",
    "outbox": "SELECT o.* FROM outbox o JOIN entries e ON e.id = o.entry_id WHERE e.tenant_id = ?"
              " AND e.member_id BETWEEN ? AND ? ORDER BY o.id",
    "accounts": "SELECT a.* FROM accounts a JOIN members m ON m.id = a.member_id WHERE m.tenant_id = ?"
                " AND m.id BETWEEN ? AND ?",
}


async def _gateway(url: str, members: int, seed: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process: every thread, the store's included)."""
    ledger = Ledger(open_store(url))
    await ledger.start()
    try:
        started, cpu = time.perf_counter(), time.process_time()
        await generate_tenant(ledger, count=members, name="bench", seed=seed, dialects=DIALECT_LIST)
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        await ledger.close()


def _empty_database(path: Path) -> None:
    """The gateway's schema, migrated by the store itself, and nothing else."""
    async def migrate() -> None:
        store = open_store(f"sqlite:///{path}")
        await store.open()
        await store.close()

    asyncio.run(migrate())


def _raw(source: Path, target: Path) -> tuple[float, float]:
    """Insert the source's generated rows into a fresh file, a batch of members per transaction; only the
    inserts and commits are timed (wall and CPU seconds)."""
    _empty_database(target)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, isolation_level=None)
    dst.execute("PRAGMA journal_mode = WAL")
    dst.execute("PRAGMA synchronous = FULL")
    tenant = src.execute("SELECT * FROM tenants WHERE name = 'bench'").fetchone()
    dst.execute(f"INSERT INTO tenants VALUES ({','.join('?' * len(tenant))})", tenant)
    low, high = src.execute("SELECT min(id), max(id) FROM members WHERE tenant_id = ?", (tenant[0],)).fetchone()
    elapsed = cpu = 0.0
    for start in range(low, high + 1, BATCH):
        batch = {t: src.execute(sql, (tenant[0], start, start + BATCH - 1)).fetchall() for t, sql in _TABLES.items()}
        numbers = src.execute("SELECT min(member_no), max(member_no) FROM members WHERE tenant_id = ? AND id BETWEEN ? AND ?",
                              (tenant[0], start, start + BATCH - 1)).fetchone()
        began, cpu_began = time.perf_counter(), time.process_time()
        dst.execute("BEGIN IMMEDIATE")
        triggers = dst.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN {SQLITE_ROW_COUNTERS}"
        ).fetchall()
        for name, _ in triggers:
            dst.execute(f"DROP TRIGGER {name}")
        for table, rows in batch.items():
            if rows:
                dst.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)
        for sql in SQLITE_COUNT_LOADED:
            dst.execute(sql, (tenant[0], *numbers))
        for _, sql in triggers:
            dst.execute(sql)
        dst.execute("COMMIT")
        elapsed += time.perf_counter() - began
        cpu += time.process_time() - cpu_began
    src.close()
    dst.close()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=None, help="also time the gateway on this (empty) PostgreSQL database")
    args = parser.parse_args()
    gateway_runs: list[tuple[float, float]] = []
    raw_runs: list[tuple[float, float]] = []
    print(f"seed --generate {args.members:,} on SQLite (WAL, synchronous=FULL), {args.rounds} alternated rounds;"
          " wall and CPU seconds (CPU: every thread of the process, so a busy machine inflates wall time only)")
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        for r in range(args.rounds):
            made = Path(tmp) / f"gateway-{r}.db"
            gateway_runs.append(asyncio.run(_gateway(f"sqlite:///{made}", args.members, args.seed)))
            raw_runs.append(_raw(made, Path(tmp) / f"raw-{r}.db"))
            (gw, gc), (rw, rc) = gateway_runs[-1], raw_runs[-1]
            print(f"  round {r + 1}: gateway {gw:7.1f} s wall {gc:7.1f} s CPU;"
                  f"  raw sqlite3 executemany {rw:7.1f} s wall {rc:7.1f} s CPU")
            for leftover in Path(tmp).glob("*.db*"):
                leftover.unlink()
    gw, gc = (statistics.median(x) for x in zip(*gateway_runs))
    rw, rc = (statistics.median(x) for x in zip(*raw_runs))
    print(f"median: gateway {gw:.1f} s wall ({args.members / gw:,.0f} members/s), {gc:.1f} s CPU;"
          f" raw {rw:.1f} s wall, {rc:.1f} s CPU")
    print(f"raw/gateway: {rw / gw:.2f}x wall, {rc / gc:.2f}x CPU (1.00x: the gateway costs no more than inserting its rows)")
    if args.postgres:
        wall, cpu = asyncio.run(_gateway(args.postgres, args.members, args.seed))
        print(f"PostgreSQL: gateway {wall:.1f} s wall ({args.members / wall:,.0f} members/s), {cpu:.1f} s CPU here"
              " (the server's own work not counted)")


if __name__ == "__main__":
    main()

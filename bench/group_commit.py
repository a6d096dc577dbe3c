"""Durable writes on the SQLite store (WAL, synchronous=FULL): credits per second and writes per commit
(one commit = one fsync) as concurrency rises. Prints figures; asserts nothing.

    .venv/bin/python -m bench.group_commit [--writes 2000] [--synchronous full]
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from gateway.ledger import Ledger, open_store


async def run(concurrency: int, writes: int, synchronous: str, directory: Path) -> tuple[float, float]:
    ledger = Ledger(open_store(f"sqlite:///{directory / f'bench-{concurrency}.db'}", synchronous=synchronous))
    await ledger.start()
    tenant = await ledger.create_tenant(name="bench")
    members = [await ledger.create_member(tenant=tenant, name=f"m{i}") for i in range(concurrency)]
    store = ledger.store
    commits_before, writes_before = store.commits, store.writes  # type: ignore[attr-defined]
    per_worker = writes // concurrency

    async def worker(member) -> None:  # type: ignore[no-untyped-def]
        for _ in range(per_worker):
            await ledger.credit(tenant=tenant, member=member, amount=Decimal("1.00"))

    started = time.perf_counter()
    await asyncio.gather(*(worker(m) for m in members))
    elapsed = time.perf_counter() - started
    done = store.writes - writes_before  # type: ignore[attr-defined]
    commits = store.commits - commits_before  # type: ignore[attr-defined]
    report = await ledger.audit()
    await ledger.close()
    assert report.ok, report.violations
    return done / elapsed, done / max(commits, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--synchronous", default="full")
    args = parser.parse_args()
    print(f"SQLite store, synchronous={args.synchronous}, {args.writes} credits per run")
    print(f"{'concurrent clients':>19} {'credits/s':>10} {'writes per fsync':>17}")
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        for concurrency in (1, 8, 32, 128):
            rate, per_commit = asyncio.run(run(concurrency, args.writes, args.synchronous, Path(tmp)))
            print(f"{concurrency:>19} {rate:>10.0f} {per_commit:>17.1f}")


if __name__ == "__main__":
    main()

"""Write throughput of the ledger on each store: credits spread over many members (no contention) and
debits from one hot balance (every write conflicts), at several concurrencies. Prints figures; asserts
nothing but the audit.

    .venv/bin/python bench/store_throughput.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
                                               [--ops 2000] [--concurrency 1,16,64] [--instances 1]

PostgreSQL runs in a fresh database created (and dropped) beside the one the URL names. With
--instances 2, two Ledger objects with pools of their own (two gateway instances in one process) share
the work, to show what a second instance adds or costs."""
from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from gateway.ledger import InsufficientFunds, Kind, Ledger, open_store


async def admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def run_case(urls: list[str], scenario: str, ops: int, concurrency: int) -> tuple[float, int, int]:
    books = [Ledger(open_store(u)) for u in urls]
    for book in books:
        await book.start()
    try:
        tenant = await books[0].create_tenant(name=f"bench-{scenario}-{concurrency}")
        for book in books[1:]:
            await book.reload_tenants()
        count = 50 if scenario == "spread" else 1
        members = [await books[0].create_member(tenant=tenant, name=f"m{i}") for i in range(count)]
        if scenario == "hot":
            await books[0].credit(tenant=tenant, member=members[0], amount=Decimal(ops), kind=Kind.OPENING)
        gate = asyncio.Semaphore(concurrency)
        failures = 0

        async def one(i: int) -> None:
            nonlocal failures
            book = books[i % len(books)]
            async with gate:
                try:
                    if scenario == "spread":
                        await book.credit(tenant=tenant, member=members[i % count].id, amount=Decimal("1.00"))
                    else:
                        await book.debit(tenant=tenant, member=members[0].id, amount=Decimal("1.00"))
                except InsufficientFunds:
                    failures += 1

        before = sum(getattr(b.store, "retries", 0) for b in books)
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(ops)))
        elapsed = time.perf_counter() - start
        retries = sum(getattr(b.store, "retries", 0) for b in books) - before
        report = await books[0].audit()
        assert report.ok, report.violations
        return ops / elapsed, retries, failures
    finally:
        for book in books:
            await book.close()


async def main(args: argparse.Namespace) -> None:
    levels = [int(c) for c in args.concurrency.split(",")]
    stores: list[tuple[str, list[str], str | None]] = []
    folder = tempfile.mkdtemp(prefix="lg-bench-")
    sqlite_url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
    stores.append(("sqlite (WAL, synchronous=FULL)", [sqlite_url], None))
    cleanup = None
    if args.postgres:
        name = f"lg_pg_bench_{os.getpid()}"
        await admin(args.postgres, f'CREATE DATABASE "{name}"')
        pg_url = urlunsplit(urlsplit(args.postgres)._replace(path=f"/{name}"))
        label = f"postgresql ({args.instances} instance{'s' if args.instances > 1 else ''})"
        stores.append((label, [pg_url] * args.instances, name))
        cleanup = name
    try:
        print(f"{'store':44} {'scenario':8} {'conc':>5} {'writes/s':>9} {'retries':>8} {'refused':>8}")
        for label, urls, _ in stores:
            for scenario in ("spread", "hot"):
                for level in levels:
                    rate, retries, refused = await run_case(urls, scenario, args.ops, level)
                    print(f"{label:44} {scenario:8} {level:5d} {rate:9.0f} {retries:8d} {refused:8d}", flush=True)
    finally:
        if cleanup:
            await admin(args.postgres, f'DROP DATABASE IF EXISTS "{cleanup}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (a database to create beside)")
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--instances", type=int, default=1)
    asyncio.run(main(parser.parse_args()))

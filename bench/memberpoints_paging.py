"""Benchmark: memberpoints deep pages on a tenant of 1,000,000 members (each with one adjustment), through a
real `loyalty-gateway serve` process over HTTP. For each listing (GET memberpointsbalances, GET memberpoints)
it alternates offset 0 and the last page (offset 999,800) twice: as the first request to the listing of a
just-started server (a server each), and repeated on one server; it prints the medians and their ratio
(offset 0's time over the deep page's: 1.0x means as fast, the issue's floor is 0.5x). Checks the deep page
holds the right members. SQLite and PostgreSQL.

The database is built once with bulk SQL and kept (SQLite: a file under --cache; PostgreSQL: a database
named after the member count) and reused by later runs; --rebuild makes it again.

    .venv/bin/python bench/memberpoints_paging.py [--store sqlite|postgres|both] [--members 1000000] [--runs 21]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.ledger import Credential, Ledger, open_store  # noqa: E402
from gateway.ledger.clock import to_text  # noqa: E402

HEADERS = {"apiID": "bench-id", "apiKey": "bench-key"}
PAGE = 200
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
LISTINGS = {"balances": "/webapps/api/memberpointsbalances", "history": "/webapps/api/memberpoints"}
FILTERS = {"mbr_id=500000": {"mbr_id": "500000"}, "after=01/01/2000": {"after": "01/01/2000"},
           "adjustmentnote=welcome": {"adjustmentnote": "welcome"}}


async def build(url: str, members: int) -> None:
    """A tenant `bench` of `members` members numbered 1..N, each with one confirmed points adjustment of
    n % 997 + 1 points (its balance), written in bulk SQL; and a tenant `other` of 1,000 members created
    first, so another tenant's rows share every index. (To be replaced by `loyalty-gateway seed --generate`.)"""
    ledger = Ledger(open_store(url))
    await ledger.start()
    try:
        other = await ledger.create_tenant(name="other", credentials=[Credential("memberpoints", "o-id", "o-key")])
        tenant = await ledger.create_tenant(
            name="bench", credentials=[Credential("memberpoints", *HEADERS.values())], config={"memberpoints": {"cid": 1}}
        )
        now = to_text(datetime.now(timezone.utc))
        numbers = (
            "generate_series(1, ?) AS g(i)" if ledger.kind == "postgres"
            else "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) SELECT i FROM s) AS g"
        )
        statements = [
            f"INSERT INTO members (tenant_id, customer_no, member_no, email, user_ref, name, profile, deleted, created_at,"
            f" updated_at) SELECT ?, i, i, 'm' || i || '@example.com', 'u' || i, 'Member ' || i, '{{}}', 0, ?, ? FROM {numbers}",
            "INSERT INTO accounts (member_id, asset, posted, pending, updated_at) SELECT m.id, a.asset,"
            " CASE WHEN a.asset = 'points' THEN (m.member_no % 997 + 1) * 100 ELSE 0 END, 0, ?"
            " FROM members m, (SELECT 'points' AS asset UNION ALL SELECT 'cashback' UNION ALL SELECT 'miles') AS a"
            " WHERE m.tenant_id = ?",
            "INSERT INTO entries (tenant_id, member_id, asset, amount, record_amount, kind, status, note, occurred_at,"
            " created_at, data) SELECT ?, m.id, 'points', (m.member_no % 997 + 1) * 100, (m.member_no % 997 + 1) * 100,"
            " 'adjustment', 'confirmed', 'welcome', ?, ?, '{}' FROM members m WHERE m.tenant_id = ? ORDER BY m.member_no",
        ]
        for tenant_id, count in ((other.id, 1000), (tenant.id, members)):
            started = time.perf_counter()

            async def work(tx: Any, tenant_id: int = tenant_id, count: int = count) -> None:
                await tx.execute(statements[0], (tenant_id, now, now, count))
                await tx.execute(statements[1], (now, tenant_id))
                await tx.execute(statements[2], (tenant_id, now, now, tenant_id))

            await ledger.store.write(work)
            print(f"  built {count} members of tenant {tenant_id} in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        await ledger.close()


def start_server(url: str) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "gateway", "serve", "--database", url, "--port", "0", "--scenario", "none",
               "--access-log", "false", "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return process, found.group(1)
    raise RuntimeError(f"the server did not start: {process.wait()}")


async def timed(session: aiohttp.ClientSession, base: str, path: str, offset: int) -> tuple[float, Any]:
    started = time.perf_counter()
    async with session.get(base + path, headers=HEADERS, params={"offset": str(offset), "pageSize": str(PAGE)}) as r:
        body = await r.json()
        assert r.status == 200, body
    return (time.perf_counter() - started) * 1000, body


async def measure(url: str, members: int, runs: int, fresh: int) -> None:
    deep = members - PAGE
    print(f"\n{url.split(':')[0]}: {members} members, pageSize {PAGE}, offset 0 vs offset {deep} (ms)")
    print(f"  {'listing':<9} {'':<28} {'offset 0':>9} {'deep':>9} {'ratio':>7}")
    for name, path in LISTINGS.items():
        # The first time: each request is the first one to the listing of a just-started server (a warm-up
        # request elsewhere opens the pools and loads the tenants), alternating offset 0 and the deep page.
        firsts: dict[int, list[float]] = {0: [], deep: []}
        for _ in range(fresh):
            for offset in (0, deep):
                process, base = start_server(url)
                try:
                    async with aiohttp.ClientSession() as session:
                        await session.get(base + LISTINGS["balances"], headers=HEADERS, params={"mbr_id": "1"})
                        firsts[offset].append((await timed(session, base, path, offset))[0])
                finally:
                    process.terminate()
                    process.wait()
        z, f = statistics.median(firsts[0]), statistics.median(firsts[deep])
        print(f"  {name:<9} {f'first request, median of {fresh}':<28} {z:>9.2f} {f:>9.2f} {z / f:>6.2f}x")
        process, base = start_server(url)
        try:
            async with aiohttp.ClientSession() as session:
                _, body = await timed(session, base, path, deep)
                assert [r["mbr_id"] for r in body["data"]] == list(range(deep + 1, members + 1)), f"{name}: wrong deep page"
                zero, far = [], []
                for _ in range(runs):
                    zero.append((await timed(session, base, path, 0))[0])
                    far.append((await timed(session, base, path, deep))[0])
        finally:
            process.terminate()
            process.wait()
        z, f = statistics.median(zero), statistics.median(far)
        print(f"  {name:<9} {f'repeated, median of {runs}':<28} {z:>9.2f} {f:>9.2f} {z / f:>6.2f}x")
    await filtered(url, deep)


async def filtered(url: str, deep: int) -> None:
    """History under filters the counts do not keep apart: one member's rows are few; a date or a note that
    most rows match is stepped over row by row (medians of 3, no ratio target)."""
    process, base = start_server(url)
    try:
        async with aiohttp.ClientSession() as session:
            for label, params in FILTERS.items():
                times: dict[int, list[float]] = {0: [], deep: []}
                for _ in range(3):
                    for offset in (0, deep):
                        started = time.perf_counter()
                        async with session.get(base + LISTINGS["history"], headers=HEADERS,
                                               params={**params, "offset": str(offset), "pageSize": str(PAGE)}) as r:
                            assert r.status == 200, await r.text()
                            await r.read()
                        times[offset].append((time.perf_counter() - started) * 1000)
                z, f = statistics.median(times[0]), statistics.median(times[deep])
                print(f"  history   {label:<28} {z:>9.2f} {f:>9.2f} {z / f:>6.2f}x")
    finally:
        process.terminate()
        process.wait()


async def ensure(store: str, members: int, cache: Path, rebuild: bool) -> str:
    if store == "sqlite":
        cache.mkdir(parents=True, exist_ok=True)
        path = cache / f"memberpoints-paging-{members}.db"
        if rebuild or not path.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            print(f"building {path} ...", flush=True)
            await build(f"sqlite:///{path}", members)
        return f"sqlite:///{path}"
    import asyncpg  # noqa: PLC0415  (PostgreSQL only)

    name = f"loyalty_bench_paging_{members}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if rebuild and exists:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if rebuild or not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    if rebuild or not exists:
        print(f"building PostgreSQL database {name} ...", flush=True)
        await build(url, members)
        vacuum = await asyncpg.connect(url)
        await vacuum.execute("VACUUM ANALYZE")  # what autovacuum would do before long; the planner needs it
        await vacuum.close()
    return url


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=21, help="alternated pairs on one server")
    parser.add_argument("--fresh", type=int, default=5, help="alternated pairs of first requests, a server each")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                        / "loyalty-gateway-bench")
    parser.add_argument("--rebuild", action="store_true", help="build the database again even if it exists")
    args = parser.parse_args()
    for store in (["sqlite", "postgres"] if args.store == "both" else [args.store]):
        url = await ensure(store, args.members, args.cache, args.rebuild)
        await measure(url, args.members, args.runs, args.fresh)


if __name__ == "__main__":
    asyncio.run(main())

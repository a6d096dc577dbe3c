"""Benchmark: memberpoints balances paging on a tenant of 100,000 members. Prints the time of the first
page and of a deep page (offset 99,800), cold (a fresh server: no remembered continuation) and warm (after
a walk), through the ledger and over HTTP, next to the plain OFFSET query the ledger used before; then
walks every page and checks each member came exactly once, in order, with no other tenant's member.
Every member gets one adjustment, so the history (GET memberpoints) is timed and walked at 100,000 rows too.

    .venv/bin/python bench/memberpoints_paging.py [--members 100000] [--db /tmp/mp-bench.db] [--keep]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.keys import LEDGER  # noqa: E402
from gateway.ledger import By, Credential, Identity, Ledger, open_store  # noqa: E402
from gateway.settings import Settings  # noqa: E402

HEADERS = {"apiID": "bench-id", "apiKey": "bench-key"}
PAGE = 200
STEP = 3  # member numbers 3, 6, 9 ...: gaps, so a number is never its position


async def seed(url: str, members: int) -> None:
    ledger = Ledger(open_store(url, synchronous="normal", group_commit_max=512))
    await ledger.start()
    try:
        tenant = await ledger.create_tenant(
            name="bench", credentials=[Credential("memberpoints", *HEADERS.values())], config={"memberpoints": {"cid": 1}}
        )
        other = await ledger.create_tenant(name="other", credentials=[Credential("memberpoints", "o-id", "o-key")])
        started = time.perf_counter()
        batch = 500
        for low in range(1, members + 1, batch):
            numbers = range(low, min(low + batch, members + 1))
            await asyncio.gather(*(
                ledger.create_member(tenant=tenant, member_no=n * STEP, customer_no=n * STEP, name=f"M{n}",
                                     email=f"m{n}@example.com")
                for n in numbers
            ))
            await asyncio.gather(*(
                ledger.credit(tenant=tenant, member=By(Identity.MEMBER_NO, n * STEP), amount=Decimal(n % 997 + 1))
                for n in numbers
            ))
            if low % 20_000 == 1:
                print(f"  seeded {low - 1:>7} members ({time.perf_counter() - started:.0f} s)", flush=True)
        for n in range(1, 2000, 7):  # another tenant's members interleave with ours in every index
            await ledger.create_member(tenant=other, member_no=n, customer_no=n)
        print(f"  seeded {members} members in {time.perf_counter() - started:.1f} s")
    finally:
        await ledger.close()


async def paired(a: Callable[[], Awaitable[Any]], b: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float]:
    """Median milliseconds of a and b, run alternately so that load on the machine hits both alike."""
    ta, tb = [], []
    for _ in range(runs):
        for fn, times in ((a, ta), (b, tb)):
            t = time.perf_counter()
            await fn()
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(ta), statistics.median(tb)


def plain_offset_ms(path: str, tenant_id: int, offset: int, runs: int) -> float:
    """The query balances() ran before keyset continuations: OFFSET over the joined rows."""
    conn = sqlite3.connect(path)
    sql = ("SELECT m.*, a.posted AS balance FROM members m JOIN accounts a ON a.member_id = m.id AND a.asset = ?"
           " WHERE m.tenant_id = ? AND m.deleted = 0 ORDER BY m.member_no LIMIT ? OFFSET ?")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        conn.execute(sql, ("points", tenant_id, PAGE, offset)).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    conn.close()
    return statistics.median(times)


async def measure(url: str, path: str, members: int, runs: int) -> None:
    deep = (members // PAGE - 1) * PAGE
    ledger = Ledger(open_store(url))
    await ledger.start()
    tenant = await ledger.tenant("bench")
    first, cold = await paired(
        lambda: ledger.balances(tenant=tenant, offset=0, limit=PAGE),
        lambda: Ledger.balances(_fresh(ledger), tenant=tenant, offset=deep, limit=PAGE), runs,
    )
    offset = 0
    while (await ledger.balances(tenant=tenant, offset=offset, limit=PAGE)).items:
        offset += PAGE
    _, warm = await paired(lambda: ledger.balances(tenant=tenant, offset=0, limit=PAGE),
                           lambda: ledger.balances(tenant=tenant, offset=deep, limit=PAGE), runs)
    await ledger.close()
    print(f"\nledger.balances, pageSize {PAGE}, median of {runs}:")
    print(f"  first page (offset 0)             {first:8.2f} ms")
    print(f"  deep page (offset {deep}), cold   {cold:8.2f} ms   (index-only skip, nothing remembered)")
    print(f"  deep page (offset {deep}), warm   {warm:8.2f} ms   (keyset continuation from the walk)")
    print(f"  old plain-OFFSET query, SQL only{plain_offset_ms(path, tenant.id, 0, runs):8.2f} ms first,"
          f" {plain_offset_ms(path, tenant.id, deep, runs):8.2f} ms deep")

    settings = Settings.defaults().replace(database=url, scenario="none", access_log=False)
    async with TestClient(TestServer(create_app(settings))) as client:

        async def page(at: int) -> Any:
            response = await client.get("/webapps/api/memberpointsbalances", headers=HEADERS,
                                        params={"offset": str(at), "pageSize": str(PAGE)})
            assert response.status == 200
            return await response.json()

        app_ledger = client.server.app[LEDGER]

        async def cold_deep() -> Any:
            _fresh(app_ledger)
            return await page(deep)

        http_first, http_cold = await paired(lambda: page(0), cold_deep, runs)
        started = time.perf_counter()
        seen: list[int] = []
        at = 0
        while True:
            body = await page(at)
            seen.extend(r["mbr_id"] for r in body["data"])
            if body["resultCount"] < PAGE:
                break
            at += PAGE
        walk_s = time.perf_counter() - started
        http_first_again, http_warm = await paired(lambda: page(0), lambda: page(deep), runs)

        async def history(at: int) -> Any:
            response = await client.get("/webapps/api/memberpoints", headers=HEADERS,
                                        params={"offset": str(at), "pageSize": str(PAGE)})
            assert response.status == 200
            return await response.json()

        entries = await app_ledger.count_history(tenant=await app_ledger.tenant("bench"))
        last = (entries - 1) // PAGE * PAGE

        async def cold_history() -> Any:
            _fresh(app_ledger)
            return await history(last)

        history_first, history_cold = await paired(lambda: history(0), cold_history, runs)
        ids: list[int] = []
        at = 0
        while True:
            body = await history(at)
            ids.extend(r["id"] for r in body["data"])
            if body["resultCount"] < PAGE:
                break
            at += PAGE
        assert len(ids) == entries and ids == sorted(set(ids)), "a history row was lost, repeated or out of order"
        history_first_again, history_warm = await paired(lambda: history(0), lambda: history(last), runs)
    assert seen == [n * STEP for n in range(1, members + 1)], "a member was lost, repeated or out of order"
    print(f"\nGET /webapps/api/memberpointsbalances over HTTP, pageSize {PAGE}:")
    print(f"  first page                        {http_first:8.2f} ms  ({http_first_again:.2f} ms after the walk)")
    print(f"  deep page, cold                   {http_cold:8.2f} ms")
    print(f"  deep page, warm                   {http_warm:8.2f} ms")
    print(f"  walk of all {len(seen) // PAGE + 1} pages             {walk_s:8.2f} s  "
          f"({walk_s * 1000 / (len(seen) // PAGE + 1):.2f} ms a page); every member once, in order, no other tenant's")
    print(f"\nGET /webapps/api/memberpoints (history, {entries} adjustments), pageSize {PAGE}:")
    print(f"  first page                        {history_first:8.2f} ms  ({history_first_again:.2f} ms after the walk)")
    print(f"  last page (offset {last}), cold   {history_cold:8.2f} ms   (offset walked on the listing index)")
    print(f"  last page (offset {last}), warm   {history_warm:8.2f} ms   (keyset continuation from the walk)")
    print("  walk of every history page: every row once, in order")


def _fresh(ledger: Ledger) -> Ledger:
    """The same store with an empty continuation memory: what a just-started server sees."""
    from gateway.ledger.paging import Continuations

    ledger._continuations = Continuations()  # type: ignore[attr-defined]
    return ledger


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--db", default="/tmp/memberpoints-bench.db")
    parser.add_argument("--keep", action="store_true", help="reuse the database if it exists")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    if not (args.keep and os.path.exists(args.db)):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(args.db + suffix):
                os.remove(args.db + suffix)
        print(f"seeding {args.members} members into {args.db} ...")
        await seed(url, args.members)
    await measure(url, args.db, args.members, args.runs)


if __name__ == "__main__":
    asyncio.run(main())

"""Webhooks per second and their lag from a real `loyalty-gateway serve` process: 32 clients make card
transactions (each one holds a reward, so the gateway owes one loyalty-pending webhook) and a receiver
in its own process notes when each webhook arrives. Lag is arrival minus the moment the transaction's
answer reached its client. Reference, alternated in the same run: the same receiver posted to directly
by 32 aiohttp clients, the same count (the ceiling of the receiver and this machine); with --baseline,
another checkout's gateway too (before/after on one noisy machine). Medians.

    .venv/bin/python bench/webhook_throughput.py [--stores sqlite,postgres] [--transactions 3000]
        [--rounds 3] [--concurrency 32] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
        [--baseline /work/main] [--drain 5000]

--drain also times delivery alone: deliveries already queued, drained by this tree's Deliverer.

PostgreSQL runs in a fresh database created (and dropped) beside the one the URL names."""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import statistics
import sys
import tempfile
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import ClientSession, TCPConnector, web

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.store_throughput import admin  # noqa: E402
from gateway.dialects.pomelo import DIALECT  # noqa: E402
from gateway.delivery import SENDERS, Deliverer  # noqa: E402
from gateway.ledger import Ledger, NewDelivery, open_store  # noqa: E402

SECRET = "ZGVtby13ZWJob29rLXNlY3JldA=="

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


def receiver_main(ports: Any) -> None:
    """The receiver, in a process of its own so it never shares a loop with the clients it times:
    POST anything records (monotonic arrival, transaction id); GET /arrivals hands them over and forgets."""
    arrivals: list[tuple[float, str]] = []

    async def take(request: web.Request) -> web.Response:
        body = await request.read()
        detail = json.loads(body).get("event_detail") or {}
        arrivals.append((time.monotonic(), str(detail.get("transaction_id"))))
        return web.json_response({"ok": True})

    async def hand_over(request: web.Request) -> web.Response:
        found = list(arrivals)
        arrivals.clear()
        return web.json_response(found)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/arrivals", hand_over)
        app.router.add_post("/{tail:.*}", take)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ports.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


async def serve(url: str, checkout: str | None = None) -> tuple[asyncio.subprocess.Process, str]:
    """`loyalty-gateway serve` of this tree, or of another checkout's `gateway` package (--baseline)."""
    here = checkout or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--database", url, "--port", "0", "--access-log", "false",
        "--journal", "false", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=here, env={**os.environ, "PYTHONPATH": here},
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        raise SystemExit(f"the gateway did not start: {line}")
    return process, found.group(1)


async def collect(http: ClientSession, receiver: str, expected: int, seconds: float = 60) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    deadline = time.monotonic() + seconds
    while len(got) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        async with http.get(f"{receiver}/arrivals") as response:
            got.extend((float(at), tid) for at, tid in await response.json())
    return got


def figures(begin: float, answered: dict[str, float], arrived: list[tuple[float, str]], count: int) -> dict[str, float]:
    lags = sorted(at - answered[tid] for at, tid in arrived if tid in answered)
    last = max((at for at, _ in arrived), default=begin)
    return {
        "per_second": len(arrived) / (last - begin) if arrived else 0.0,
        "p50_ms": 1000 * lags[len(lags) // 2] if lags else float("nan"),
        "p99_ms": 1000 * lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan"),
        "missing": float(count - len({tid for _, tid in arrived})),
    }


async def through_gateway(http: ClientSession, gateway: str, receiver: str, count: int, concurrency: int) -> dict[str, float]:
    answered: dict[str, float] = {}
    queue = iter(range(count))

    async def client() -> None:
        for _ in queue:
            body = {"card_id": CARD, "amount": "10.00", "currency": "ARS"}
            async with http.post(f"{gateway}/__admin/pomelo/transactions", json=body) as response:
                made = await response.json()
                assert response.status == 201, made
            answered[made["id"]] = time.monotonic()

    begin = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    sent = time.monotonic()
    result = figures(begin, answered, await collect(http, receiver, count), count)
    result["requests_per_second"] = count / (sent - begin)
    return result


async def direct(http: ClientSession, receiver: str, count: int, concurrency: int) -> dict[str, float]:
    """The ceiling: the same receiver, the same count, posted by 32 clients with no gateway between."""
    answered: dict[str, float] = {}
    queue = iter(range(count))

    async def client() -> None:
        for n in queue:
            tid = f"direct-{n}"
            answered[tid] = time.monotonic()  # lag from the send: there is no answer to wait for
            body = json.dumps({"event_id": "loyalty-pending", "event_detail": {"transaction_id": tid}})
            async with http.post(f"{receiver}/loyalty", data=body) as response:
                await response.read()

    begin = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    sent = time.monotonic()
    result = figures(begin, answered, await collect(http, receiver, count), count)
    result["requests_per_second"] = count / (sent - begin)
    return result


async def drain(url: str, receiver: str, count: int, round_no: int) -> dict[str, float]:
    """Delivery's own capacity, apart from how fast card transactions come: `count` deliveries already
    queued in the store, sent by this tree's Deliverer (in this process) until the receiver has all."""
    ledger = Ledger(open_store(url))
    await ledger.start()
    try:
        tenant = await ledger.create_tenant(name=f"drain-{round_no}", config={"pomelo": {"webhook_api_secret": SECRET}})
        keys = [f"drain-{round_no}-{n}" for n in range(count)]
        items = [NewDelivery(tenant.id, None, "bench", key, f"{receiver}/loyalty", key,
                             json.dumps({"event_detail": {"transaction_id": key}})) for key in keys]
        await ledger.enqueue_deliveries(consumer="bench-drain", upto=0, items=items)
        connector = TCPConnector(limit=SENDERS, limit_per_host=SENDERS, keepalive_timeout=30)
        async with ClientSession(connector=connector) as session, ClientSession() as http:
            deliverer = Deliverer(ledger, session, retry_base_seconds=1.0, max_attempts=8,
                                  webhooks=DIALECT.webhooks)
            begin = time.monotonic()
            task = asyncio.create_task(deliverer.run())
            try:
                arrived = await collect(http, receiver, count)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        result = figures(begin, {key: begin for key in keys}, arrived, count)
    finally:
        await ledger.close()
    return result


async def bench_drain(name: str, url: str, receiver: str, options: argparse.Namespace) -> None:
    ours: list[dict[str, float]] = []
    ceiling: list[dict[str, float]] = []
    async with ClientSession(connector=TCPConnector(limit=0)) as http:
        for n in range(options.rounds):
            ceiling.append(await direct(http, receiver, options.drain, options.concurrency))
            ours.append(await drain(url, receiver, options.drain, n))
    rate = statistics.median(r["per_second"] for r in ours)
    top = statistics.median(r["per_second"] for r in ceiling)
    print(f"{name}: {options.drain} queued deliveries drained at {rate:.0f}/s ({rate / top:.2f}x the receiver's"
          f" {top:.0f}/s posted to directly); rounds: " + ", ".join(f"{r['per_second']:.0f}/s" for r in ours)
          + f"; missing {sum(r['missing'] for r in ours):.0f}")


async def bench_store(name: str, url: str, receiver: str, options: argparse.Namespace) -> None:
    """Rounds of: the ceiling, this gateway, and (with --baseline) the other checkout's gateway on its
    own copy of the store, alternated so that a noisy machine weighs on all of them alike."""
    gateways = {"this": await serve(url)}
    if options.baseline:
        gateways["baseline"] = await serve(url.replace("bench", "baseline"), options.baseline)
    runs: dict[str, list[dict[str, float]]] = {"ceiling": [], **{k: [] for k in gateways}}
    try:
        async with ClientSession(connector=TCPConnector(limit=0)) as http:
            for _, address in gateways.values():
                hook = {"url": f"{receiver}/loyalty"}
                async with http.put(f"{address}/__admin/pomelo/webhooks?tenant=demo", json=hook) as response:
                    assert response.status == 200, await response.text()
                await through_gateway(http, address, receiver, min(300, options.transactions), options.concurrency)
            for _ in range(options.rounds):
                runs["ceiling"].append(await direct(http, receiver, options.transactions, options.concurrency))
                for which, (_, address) in gateways.items():
                    runs[which].append(
                        await through_gateway(http, address, receiver, options.transactions, options.concurrency)
                    )
    finally:
        for process, _ in gateways.values():
            process.terminate()
            await process.wait()

    def median(which: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[which])

    top = median("ceiling", "per_second")
    print(f"{name}: the receiver posted to directly: {top:.0f}/s, p99 {median('ceiling', 'p99_ms'):.1f} ms")
    for which in gateways:
        rate = median(which, "per_second")
        print(f"  {which:8} webhooks/s {rate:6.0f} ({rate / top:.2f}x ceiling)  lag p50 {median(which, 'p50_ms'):7.1f} ms"
              f"  p99 {median(which, 'p99_ms'):7.1f} ms  card transactions/s {median(which, 'requests_per_second'):5.0f}"
              f"  missing {sum(r['missing'] for r in runs[which]):.0f}")
        print("           rounds: " + "; ".join(
            f"{r['per_second']:.0f}/s p50 {r['p50_ms']:.0f} p99 {r['p99_ms']:.0f} ms" for r in runs[which]))


async def run(options: argparse.Namespace, receiver: str) -> None:
    for store in options.stores.split(","):
        if store == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                await bench_store("sqlite", f"sqlite:///{folder}/bench.db", receiver, options)
                if options.drain:
                    await bench_drain("sqlite", f"sqlite:///{folder}/drain.db", receiver, options)
        else:
            name = f"lg_pg_bench_webhooks_{os.getpid()}"
            names = [name, name.replace("bench", "baseline")] if options.baseline else [name]
            for each in names:
                await admin(options.postgres, f'CREATE DATABASE "{each}"')
            try:
                url = urlunsplit(urlsplit(options.postgres)._replace(path=f"/{name}"))
                await bench_store("postgres", url, receiver, options)
                if options.drain:
                    await bench_drain("postgres", url, receiver, options)
            finally:
                for each in names:
                    await admin(options.postgres, f'DROP DATABASE IF EXISTS "{each}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--drain", type=int, default=5000, help="queued deliveries to drain per round (0: skip)")
    parser.add_argument("--baseline", help="another checkout (e.g. /work/main) whose gateway runs alternated with this one")
    options = parser.parse_args()
    ports: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=receiver_main, args=(ports,), daemon=True)
    child.start()
    try:
        asyncio.run(run(options, f"http://127.0.0.1:{ports.get(timeout=30)}"))
    finally:
        child.terminate()
        child.join()


if __name__ == "__main__":
    main()

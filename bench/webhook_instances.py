"""Webhook delivery from real `loyalty-gateway serve` processes over one PostgreSQL database: card
transactions through the instances in turn, timed until every webhook has reached a local receiver.
Prints figures and the number of keys received more than once; asserts nothing else.

    .venv/bin/python bench/webhook_instances.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
                                                [--transactions 500] [--instances 2] [--concurrency 16]

Runs in a fresh database (named --prefix + pid) created and dropped beside the one the URL names."""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from aiohttp import ClientSession, web

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.store_throughput import admin  # noqa: E402

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


async def serve(url: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--database", url, "--port", "0", "--access-log", "false",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        raise SystemExit(f"the gateway did not start: {line}")
    return process, found.group(1)


async def run(url: str, transactions: int, instances: int, concurrency: int) -> None:
    received: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        received.append(request.headers["x-idempotency-key"])
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    gateways = [await serve(url) for _ in range(instances)]  # the first loads the demo scenario
    try:
        async with ClientSession() as http:
            hook = {"url": f"http://127.0.0.1:{port}/loyalty"}
            async with http.put(f"{gateways[0][1]}/__admin/pomelo/webhooks?tenant=demo", json=hook) as response:
                assert response.status == 200
            slots = asyncio.Semaphore(concurrency)

            async def one(n: int) -> None:
                body = {"card_id": CARD, "amount": "10.00", "currency": "ARS"}
                async with slots, http.post(f"{gateways[n % instances][1]}/__admin/pomelo/transactions", json=body) as r:
                    assert r.status == 201, await r.text()

            begin = time.monotonic()
            await asyncio.gather(*(one(n) for n in range(transactions)))
            sent = time.monotonic()
            while len(received) < transactions and time.monotonic() - sent < 120:
                await asyncio.sleep(0.01)
            done = time.monotonic()
    finally:
        for process, _ in gateways:
            process.terminate()
            await process.wait()
        await runner.cleanup()
    print(f"{instances} instance(s), {transactions} card transactions at {concurrency} at once: "
          f"{transactions / (sent - begin):.0f} transactions/s; {len(received)} webhooks, the last "
          f"{done - sent:.2f} s after the last transaction ({len(received) / (done - begin):.0f} webhooks/s overall); "
          f"keys received twice: {len(received) - len(set(received))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--transactions", type=int, default=500)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--prefix", default="lg_pg_bench_", help="name prefix of the scratch database")
    options = parser.parse_args()
    name = f"{options.prefix}webhooks_{os.getpid()}"
    parts = urlsplit(options.postgres)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    asyncio.run(admin(options.postgres, f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(run(url, options.transactions, options.instances, options.concurrency))
    finally:
        asyncio.run(admin(options.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()

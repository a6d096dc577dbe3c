"""What the request journal costs: req/s of one server process with the journal on and off, and whether
its memory stays flat under load (entries, bytes and the server's RSS after each batch).

    .venv/bin/python bench/journal_bench.py [--requests 20000] [--concurrency 32] [--path /api/...]

By default it times imonggo's customer read (one balance through the ledger); give --path and --auth to
time another route instead.
Prints figures; asserts nothing."""
from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

DEMO_TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
BENCH_PATH = "/api/customers/1534.json"  # a real imonggo read: one balance through the ledger


def _serve(journal: bool, database: str, ready: Any, stop: Any) -> None:
    from gateway.app import create_app
    from gateway.settings import Settings

    settings = Settings.defaults().replace(
        database=database, port=0, journal=journal, access_log=False, sqlite_synchronous="normal"
    )

    async def main() -> None:
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.put((runner.addresses[0][1], os.getpid()))
        while stop.empty():
            await asyncio.sleep(0.1)
        await runner.cleanup()

    asyncio.run(main())


def _cpu_seconds(pid: int) -> float:
    """User + system CPU the server process has used: steadier than req/s on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _load(url: str, headers: dict[str, str], requests: int, concurrency: int) -> float:
    left = requests
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"{url} answered {response.status}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


async def _journal_stats(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(base + "/__admin/journal") as response:
        return await response.json()  # type: ignore[no-any-return]


def run(journal: bool, args: argparse.Namespace) -> list[tuple[float, float]]:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        proc = ctx.Process(target=_serve, args=(journal, f"sqlite:///{tmp}/bench.db", ready, stop))
        proc.start()
        port, pid = ready.get(timeout=30)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": "Basic " + base64.b64encode(f"{args.auth}:X".encode()).decode()}
        try:
            asyncio.run(_load(base + args.path, headers, 2000, args.concurrency))  # warm-up
            figures = []
            for batch in (1, 2):
                cpu = _cpu_seconds(pid)
                rate = asyncio.run(_load(base + args.path, headers, args.requests, args.concurrency))
                per_request = (_cpu_seconds(pid) - cpu) / args.requests * 1e6
                stats = asyncio.run(_journal_stats(base))
                print(f"journal {'on ' if journal else 'off'} batch {batch}: {rate:6.0f} req/s  "
                      f"server CPU {per_request:5.0f} us/req  "
                      f"entries {stats['entries']:5d}  bytes {stats['bytes']:9d}  dropped {stats['dropped']:6d}  "
                      f"server RSS {_rss_kib(pid) / 1024:6.1f} MiB", flush=True)
                figures.append((rate, per_request))
            return figures
        finally:
            stop.put(True)
            proc.join(timeout=10)


def bookkeeping(n: int = 100_000) -> None:
    """The journal's own work per request (one entry with both bodies copied, caps enforced), alone."""
    from datetime import datetime, timezone

    from gateway.sandbox.journal import Body, Journal, JournalEntry

    journal = Journal(enabled=True, max_entries=1000, max_bytes=8 << 20, body_bytes=4096)
    body, reply = b'{"amount": "10.00"}', b"<customer>" + b"x" * 900 + b"</customer>"
    started = time.perf_counter()
    for _ in range(n):
        now = datetime.now(timezone.utc)
        journal.add(JournalEntry(
            id=journal.next_id(), at=now, ledger_time=now, dialect="imonggo", method="GET",
            path="/api/customers/1534.xml", query="", tenant="demo", status=200, duration_ms=1.0,
            request_body=Body.copy(body, 4096), response_body=Body.copy(reply, 4096),
        ))
    print(f"journal bookkeeping alone: {(time.perf_counter() - started) / n * 1e6:.1f} us per request "
          f"({len(journal)} entries, {journal.bytes} bytes kept)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--path", default=BENCH_PATH)
    parser.add_argument("--auth", default=DEMO_TOKEN, help="imonggo API token for Basic auth")
    parser.add_argument("--rounds", type=int, default=3, help="server starts per side, alternating off and on")
    args = parser.parse_args()
    print(f"{args.requests} GET {args.path} per batch, {args.concurrency} at a time, one server process")
    bookkeeping()
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(args.rounds):  # alternate, so a neighbour's load hits both sides alike
        for journal in (False, True):
            results[journal] += run(journal, args)
    for journal in (False, True):
        rates, cpus = zip(*results[journal])
        print(f"median, journal {'on ' if journal else 'off'}: {statistics.median(rates):6.0f} req/s, "
              f"server CPU {statistics.median(cpus):4.0f} us/req")


if __name__ == "__main__":
    main()

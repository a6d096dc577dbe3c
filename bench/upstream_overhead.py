"""What forwarding costs: one request at a time, a balance read and a small write through the gateway to an
upstream, against the same request sent to the upstream directly, alternating in rounds within one run so
both sides see the same machine. Prints medians per dialect and the p50 overhead in ms (target < 1 ms).

    .venv/bin/python bench/upstream_overhead.py [--rounds 5] [--requests 40] [--dialects pomelo,memberpoints,imonggo]
                                                [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Both processes are real `loyalty-gateway serve`s on SQLite in a temporary directory (the gateway on
PostgreSQL with --postgres, in a fresh database created and dropped beside the one the URL names). Each
dialect is served to itself (the recording proxy), so both sides answer the very same request."""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.upstream_soak import fresh_postgres  # noqa: E402
from tests.gateway_mode.dialects import Person  # noqa: E402
from tests.gateway_mode.harness import JUAN, Pair, make_pair, start_gateway, start_vendor  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def timed(make: object) -> float:
    started = time.perf_counter()
    answer = await make()  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    assert answer.status in (200, 201), answer
    return elapsed


async def measure(pair: Pair, rounds: int, requests: int) -> dict[str, list[float]]:
    """Per side and kind, every request's latency; sides alternate within each round."""
    samples: dict[str, list[float]] = {k: [] for k in ("direct read", "gateway read", "direct write", "gateway write")}
    small = Decimal("2")  # a spend of 0.01 at the Gold ratio, for imonggo; 2 points elsewhere
    direct: Person = pair.at_vendor(JUAN)
    for _ in range(rounds):
        for _ in range(requests):
            samples["direct read"].append(await timed(lambda: pair.vendor.balance(direct)))
            samples["gateway read"].append(await timed(lambda: pair.till.balance(JUAN)))
        for i in range(requests):
            move = "debit" if i % 2 or pair.upstream == "imonggo" else "credit"
            samples["direct write"].append(await timed(lambda: getattr(pair.vendor, move)(direct, small)))
            samples["gateway write"].append(await timed(lambda: getattr(pair.till, move)(JUAN, small)))
    return samples


async def main(args: argparse.Namespace, gateway_database: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        vendor = start_vendor(work, f"sqlite:///{work / 'vendor.db'}")
        gateway = start_gateway(work, gateway_database or f"sqlite:///{work / 'gateway.db'}", timeout=10)
        try:
            print(f"gateway store: {'postgresql' if gateway_database else 'sqlite'}; {args.rounds} rounds x "
                  f"{args.requests} requests of each kind per side, one at a time")
            print(f"{'dialect':<13} {'kind':<6} {'direct p50':>11} {'gateway p50':>12} {'overhead p50':>13}")
            async with aiohttp.ClientSession() as session:
                for dialect in args.dialects.split(","):
                    pair = await make_pair(session, gateway.url, vendor.url, dialect, dialect)
                    await pair.till.balance(JUAN)  # warm: a pomelo upstream's token, the pool's connection
                    samples = await measure(pair, args.rounds, args.requests)
                    for kind in ("read", "write"):
                        d, g = median_ms(samples[f"direct {kind}"]), median_ms(samples[f"gateway {kind}"])
                        print(f"{dialect:<13} {kind:<6} {d:>9.2f}ms {g:>10.2f}ms {g - d:>11.2f}ms")
        finally:
            gateway.stop()
            vendor.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40, help="requests of each kind per side per round")
    parser.add_argument("--dialects", default="pomelo,memberpoints,imonggo")
    parser.add_argument("--postgres", help="run the gateway on PostgreSQL (a server URL)")
    parsed = parser.parse_args()
    with fresh_postgres(parsed.postgres) as database:
        asyncio.run(main(parsed, database))

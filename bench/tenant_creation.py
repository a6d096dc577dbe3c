"""What `POST /__admin/tenants` costs with one tenant in the database and with N: two applications (one
SQLite file each) side by side, creations alternated between them, medians and their ratio. A ratio
near 1 means creating a tenant does not slow down as tenants pile up. Prints figures; asserts nothing.

    .venv/bin/python bench/tenant_creation.py [--tenants 10000] [--rounds 40]

The N tenants are made the way the endpoint makes them (the demo scenario under fresh credentials,
its spec kept in the tenant's configuration), through the ledger rather than HTTP so seeding is quick."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from gateway.admin import tenants as made
from gateway.app import create_app
from gateway.keys import LEDGER
from gateway.settings import Settings


async def _client(database: str) -> TestClient:
    client = TestClient(TestServer(create_app(Settings.defaults().replace(database=database, access_log=False))))
    await client.start_server()
    return client


async def _seed(client: TestClient, count: int) -> None:
    ledger = client.app[LEDGER]
    spec = made.pick_tenant(made.pick_scenario({}), None)
    started = time.perf_counter()
    for i in range(count):
        await made.build(ledger, made.fresh_credentials(spec, f"seed-{i}"), generated=True)
        if (i + 1) % 1000 == 0:
            print(f"  seeded {i + 1} tenants ({time.perf_counter() - started:.0f} s)", flush=True)


async def _create(client: TestClient) -> float:
    started = time.perf_counter()
    response = await client.post("/__admin/tenants", json={})
    elapsed = time.perf_counter() - started
    assert response.status == 201, await response.text()
    return elapsed * 1000


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        small = await _client(f"sqlite:///{Path(directory) / 'one.db'}")
        large = await _client(f"sqlite:///{Path(directory) / 'many.db'}")
        try:
            print(f"seeding {args.tenants} tenants ...", flush=True)
            await _seed(large, args.tenants - 1)  # plus the demo tenant the database starts with
            for client in (small, large):  # warm both (imports, caches, first connections)
                for _ in range(3):
                    await _create(client)
            one: list[float] = []
            many: list[float] = []
            for _ in range(args.rounds):
                one.append(await _create(small))
                many.append(await _create(large))
            a, b = statistics.median(one), statistics.median(many)
            print(f"median create at 1 tenant:   {a:7.1f} ms  ({args.rounds} creations)")
            print(f"median create at {args.tenants} tenants: {b:7.1f} ms  ({args.rounds} creations)")
            print(f"ratio many/one: {b / a:.2f}")
        finally:
            await small.close()
            await large.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000, help="tenants in the large database (up to 10,000)")
    parser.add_argument("--rounds", type=int, default=40, help="creations measured on each side")
    asyncio.run(main(parser.parse_args()))

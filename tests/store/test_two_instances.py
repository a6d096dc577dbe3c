"""Two real `loyalty-gateway serve` processes over one PostgreSQL database, driven over HTTP like a
client would: concurrent imonggo spends from one balance through both never overdraw it and show no
conflict to a client; a pomelo mint whose x-idempotency-key is sent to both at once applies once and
both answers are the same bytes; an instance SIGKILLed in the middle of its writes leaves no half-write
and no lock behind: the other goes on to the end, and every acknowledged spend is there."""
from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import ClientSession

from gateway.ledger import Ledger, open_store
from tests.store.gateways import Gateway, serve

pytestmark = pytest.mark.slow
TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
IMONGGO = {"Authorization": "Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode(), "Accept": "application/xml"}
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"
CLIENT = {"client_id": "demo-client-id", "client_secret": "demo-client-secret",
          "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}
OPENING = 30511  # Juan Cruz's points in the demo scenario; a spend of 1.00 takes 200 of them
SPEND_POINTS = 200


@pytest.fixture
async def two(pg_url: str) -> AsyncIterator[tuple[Gateway, Gateway]]:
    """Two gateways over one fresh database (the first loads the demo scenario); killed at the end."""
    first = await serve(pg_url)
    second = await serve(pg_url)
    yield first, second
    for gateway in (first, second):
        await gateway.kill()


async def spend(http: ClientSession, gateway: Gateway, reference: str) -> int:
    url = f"{gateway.url}/api/rewards.xml?q=spend&customer_id=1534&amount=1.00&reference={reference}"
    async with http.post(url, headers=IMONGGO) as response:
        body = await response.text()
        assert response.status in (200, 422), body
        if response.status == 422:
            assert "Insufficient points" in body
        return response.status


async def pomelo_headers(http: ClientSession, gateway: Gateway) -> dict[str, str]:
    async with http.post(f"{gateway.url}/oauth/token", json=CLIENT) as response:
        assert response.status == 200
        return {"Authorization": f"Bearer {(await response.json())['access_token']}"}


async def card_points(http: ClientSession, gateway: Gateway) -> Decimal:
    headers = await pomelo_headers(http, gateway)
    async with http.get(f"{gateway.url}/loyalty/v1/accounts/balance?card_id={CARD}", headers=headers) as response:
        assert response.status == 200
        return Decimal(str(json.loads(await response.read(), parse_float=Decimal)["points"]))


async def audit_clean(http: ClientSession, gateway: Gateway, url: str) -> None:
    async with http.get(f"{gateway.url}/__admin/audit") as response:
        body = await response.json()
        assert response.status == 200 and body["ok"] is True and body["violations"] == [], body
    ledger = Ledger(open_store(url))
    await ledger.start()
    try:
        assert (await ledger.audit()).ok
    finally:
        await ledger.close()


async def test_two_instances_spending_one_balance_never_overdraw_it(pg_url: str, two: tuple[Gateway, Gateway]) -> None:
    first, second = two
    async with ClientSession() as http:
        async def worker(gateway: Gateway, name: str) -> list[int]:
            return [await spend(http, gateway, f"POS-{name}-{n}") for n in range(25)]

        runs = await asyncio.gather(*(worker(g, f"{i}-{w}") for i, g in enumerate(two) for w in range(4)))
        statuses = [s for run in runs for s in run]
        assert len(statuses) == 200
        assert statuses.count(200) == OPENING // SPEND_POINTS == 152  # exactly what the balance covers ...
        assert statuses.count(422) == 200 - 152  # ... the rest refused, and no conflict reached a client
        assert all(run.count(200) for run in runs[:4]) and all(run.count(200) for run in runs[4:])  # both spent
        left = OPENING - 152 * SPEND_POINTS
        assert await card_points(http, first) == await card_points(http, second) == left

        # The same key and body sent to both at once, ten times over: applied once each, same bytes.
        mint = {"amount": "100", "reason": "Manual adjustment", "card_id": CARD}

        async def mint_via(gateway: Gateway, key: str) -> tuple[int, bytes]:
            headers = {**await pomelo_headers(http, gateway), "x-idempotency-key": key}
            async with http.post(f"{gateway.url}/loyalty/v1/accounts/points/mint", json=mint, headers=headers) as r:
                return r.status, await r.read()

        for n in range(10):
            (one, a), (other, b) = await asyncio.gather(mint_via(first, f"mint-{n}"), mint_via(second, f"mint-{n}"))
            assert one == other == 200 and a == b, (a, b)
        assert await card_points(http, second) == left + 10 * 100
        await audit_clean(http, first, pg_url)


async def test_an_instance_killed_mid_write_loses_no_acknowledged_spend_and_blocks_nobody(
    pg_url: str, two: tuple[Gateway, Gateway]
) -> None:
    doomed, survivor = two
    acked = {"doomed": 0, "survivor": 0}
    killed = asyncio.Event()
    async with ClientSession() as http:
        async def doomed_worker(w: int) -> None:
            n = 0
            while not killed.is_set():
                try:
                    status = await spend(http, doomed, f"D-{w}-{n}")
                except aiohttp.ClientError:
                    return  # it died with this request unanswered: not acknowledged
                n += 1
                if status == 422:
                    return  # the points ran out before it was killed: the assertion below says so
                acked["doomed"] += 1
                if acked["doomed"] >= 20 and not killed.is_set():
                    killed.set()
                    await doomed.kill()  # SIGKILL with writes in flight: no cleanup of any kind runs

        async def survivor_worker(w: int) -> None:
            n = 0
            while True:
                status = await spend(http, survivor, f"S-{w}-{n}")  # any error would fail the test
                n += 1
                if status == 422:
                    return  # only for want of points
                acked["survivor"] += 1

        await asyncio.wait_for(asyncio.gather(
            *(doomed_worker(w) for w in range(4)), *(survivor_worker(w) for w in range(4))
        ), timeout=120)
        assert killed.is_set() and doomed.process.returncode is not None

        # The survivor went on to the end: nothing the dead one held blocked it.
        left = await card_points(http, survivor)
        assert left == OPENING % SPEND_POINTS
        committed = (OPENING - left) / SPEND_POINTS  # every spend committed took exactly 200 points
        acknowledged = acked["doomed"] + acked["survivor"]
        assert acknowledged <= committed <= acknowledged + 4  # committed by the dead one, unreported: one per worker
        await audit_clean(http, survivor, pg_url)

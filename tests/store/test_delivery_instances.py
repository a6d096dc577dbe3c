"""Webhook delivery from two real gateway processes over one PostgreSQL database: every reward event
reaches the receiver signed, exactly once, never sent by both instances at the same time; and an
instance SIGKILLed while the receiver holds its request open leaves that delivery to the other one,
which sends it, with the same idempotency key, once the lease has run out."""
from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from gateway.dialects.pomelo.webhooks import verify
from tests.store.gateways import Gateway, serve

pytestmark = pytest.mark.slow
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"
SECRET = "ZGVtby13ZWJob29rLXNlY3JldA=="
FAST = ("--webhook-retry-base-seconds", "0.05")


class Receiver:
    """Verifies each signature and keeps every arrival; notes any key arriving while a request with the
    same key is still being answered (two senders at once). `hold_first` keeps the first request open."""

    def __init__(self, hold_first: bool = False) -> None:
        self.arrivals: list[dict[str, Any]] = []
        self.in_flight: dict[str, int] = {}
        self.overlaps: list[str] = []
        self.hold_first = hold_first
        self.held = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers.get("x-idempotency-key", "")
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.arrivals.append({"key": key, "valid": verify(SECRET, request.headers, body), "at": time.monotonic(),
                              "port": peer[1] if peer else None})
        if self.in_flight.get(key):
            self.overlaps.append(key)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        try:
            if self.hold_first and len(self.arrivals) == 1:
                self.held.set()
                await asyncio.sleep(60)  # until its sender dies
            await asyncio.sleep(0.02)  # long enough for a second sender to overlap, were there one
            return web.json_response({"ok": True})
        finally:
            self.in_flight[key] -= 1

    def keys(self) -> list[str]:
        return [a["key"] for a in self.arrivals]


@pytest.fixture
async def started() -> AsyncIterator[list[Gateway]]:
    """Gateways a test starts; any still running at the end is killed."""
    gateways: list[Gateway] = []
    yield gateways
    for gateway in gateways:
        await gateway.kill()


async def receiving(aiohttp_server: Any, receiver: Receiver) -> str:
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    server = await aiohttp_server(app)
    return str(server.make_url("/pomelo/loyalty"))


async def call(http: ClientSession, method: str, url: str, **kwargs: Any) -> Any:
    async with http.request(method, url, **kwargs) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()


async def deliveries(http: ClientSession, gateway: Gateway) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await call(http, "GET", f"{gateway.url}/__admin/webhooks/deliveries?limit=1000"))["deliveries"]
    return found


async def settled(http: ClientSession, gateway: Gateway, seconds: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log = await deliveries(http, gateway)
        if log and all(d["state"] != "pending" for d in log):
            return log
        await asyncio.sleep(0.1)
    raise AssertionError(f"deliveries never settled: {log}")


async def test_two_instances_deliver_every_event_once_and_never_at_once(
    pg_url: str, aiohttp_server: Any, started: list[Gateway]
) -> None:
    receiver = Receiver()
    target = await receiving(aiohttp_server, receiver)
    started.append(await serve(pg_url, *FAST))  # loads the demo tenant into the empty database
    started.append(await serve(pg_url, *FAST))
    first, second = started
    async with ClientSession() as http:
        await call(http, "PUT", f"{first.url}/__admin/pomelo/webhooks?tenant=demo", json={"url": target})

        async def purchase(n: int) -> str:
            via = (first, second)[n % 2]
            body = {"card_id": CARD, "amount": f"{100 + n}.00", "currency": "ARS"}
            made = await call(http, "POST", f"{via.url}/__admin/pomelo/transactions", json=body)
            # Resolved through the other instance: presented (confirmed) or reversed (cancelled).
            other = (second, first)[n % 2]
            step = "presentment" if n % 3 else "reversal"
            await call(http, "POST", f"{other.url}/__admin/pomelo/transactions/{made['id']}/{step}")
            return str(made["id"])

        contexts = await asyncio.gather(*(purchase(n) for n in range(40)))
        log = await settled(http, second)

    assert receiver.overlaps == []
    assert all(a["valid"] for a in receiver.arrivals)
    sent = sorted(d["idempotency_key"] for d in log)
    assert sorted(receiver.keys()) == sent  # every delivery arrived, and each exactly once
    assert len(set(sent)) == len(sent) >= 80  # at least one pending and one resolution per purchase
    assert {f"{ctx}-pending" for ctx in contexts} <= set(sent)
    assert all(d["state"] == "delivered" and d["attempts"] == 1 for d in log)


def owner_of(port: int, gateways: list[Gateway]) -> Gateway:
    """The gateway process whose TCP socket has local port `port` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for gateway in gateways:
        for fd in Path(f"/proc/{gateway.process.pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in inodes:
                    return gateway
    raise AssertionError(f"no gateway sends from port {port}")


async def test_an_instance_killed_mid_delivery_leaves_it_to_the_other_after_the_lease(
    pg_url: str, aiohttp_server: Any, started: list[Gateway]
) -> None:
    receiver = Receiver(hold_first=True)
    target = await receiving(aiohttp_server, receiver)
    lease = 3 * 2.0  # three send timeouts
    started.append(await serve(pg_url, *FAST, "--webhook-timeout-seconds", "2"))
    started.append(await serve(pg_url, *FAST, "--webhook-timeout-seconds", "2"))
    async with ClientSession() as http:
        await call(http, "PUT", f"{started[0].url}/__admin/pomelo/webhooks?tenant=demo", json={"url": target})
        made = await call(http, "POST", f"{started[1].url}/__admin/pomelo/transactions",
                          json={"card_id": CARD, "amount": "250.00", "currency": "ARS"})
        await asyncio.wait_for(receiver.held.wait(), timeout=10)
        doomed = owner_of(receiver.arrivals[0]["port"], started)  # whichever instance claimed it
        survivor = next(g for g in started if g is not doomed)
        await doomed.kill()  # mid-delivery: the receiver has the request, no answer was recorded
        (delivery,) = await settled(http, survivor, seconds=30)

    assert [a["key"] for a in receiver.arrivals] == [f"{made['id']}-pending"] * 2  # the same key, again
    # The survivor ran all along, yet left the claimed delivery alone until the lease ran out.
    assert receiver.arrivals[1]["at"] - receiver.arrivals[0]["at"] >= lease - 0.5
    assert all(a["valid"] for a in receiver.arrivals)
    assert delivery["state"] == "delivered" and [a["status"] for a in delivery["history"]] == [200]

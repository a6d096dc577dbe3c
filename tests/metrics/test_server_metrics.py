"""GET /__admin/metrics of a real server process, read with Prometheus's parser: after requests in all
three dialects, a webhook its receiver refuses, a gateway tenant's calls to its upstream (a second real
server, whose own counts say what it was sent) and another's to an upstream nobody serves, each count is
exactly what was done; routes are counted by pattern, never raw path."""
from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway import __version__
from tests.metrics.scrape import grown, scrape, value
from tests.upstream.servers import SHOP_IMONGGO, imonggo_auth, running, shop, start_gateway, start_vendor

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEMO = imonggo_auth("5c4fc5805eb643716bbc17dad456a0c6cf2e23fa")
MP = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"
P = "loyalty_gateway_"
GONE_STATUS = 502  # the upstream could not be reached


@pytest.fixture
async def refusing_receiver() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A webhook receiver that answers every delivery 500; its URL and what it was sent."""
    got: list[bytes] = []

    async def refuse(request: web.Request) -> web.Response:
        got.append(await request.read())
        return web.Response(status=500, text="down for maintenance")

    app = web.Application()
    app.router.add_post("/hooks", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hooks", got
    finally:
        await runner.cleanup()


async def call(http: aiohttp.ClientSession, method: str, url: str, status: int, **kw: Any) -> Any:
    async with http.request(method, url, **kw) as response:
        text = await response.text()
        assert response.status == status, f"{method} {url}: {response.status} {text}"
        return json.loads(text) if "json" in response.content_type else text


async def until(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.05)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dialects_only(counts: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float]:
    """Requests a dialect answered (the admin API's, the scrapes among them, are checked apart)."""
    return {k: v for k, v in counts.items() if k[0] != "none"}


async def test_every_count_is_exactly_what_was_done(tmp_path: Path, refusing_receiver: tuple[str, list[bytes]]) -> None:
    hook_url, hooks = refusing_receiver
    demo = json.loads((ROOT / "gateway" / "data" / "demo.json").read_text(encoding="utf-8"))["tenants"]
    with running(start_vendor(tmp_path / "vendor")) as vendor:
        gone = shop("pomelo", f"http://127.0.0.1:{closed_port()}", name="gone")  # an upstream nobody serves
        with running(start_gateway(tmp_path / "gateway", [*demo, shop("pomelo", vendor.url), gone],
                                   "--webhook-retry-base-seconds", "600")) as gateway:
            base = gateway.url
            async with aiohttp.ClientSession() as http:
                await call(http, "PUT", f"{base}/__admin/pomelo/webhooks?tenant=demo", 200, json={"url": hook_url})
                before, vendor_before = await scrape(base), await scrape(vendor.url)

                # imonggo: one route pattern whatever the id and extension, a 404 under it, a spend
                for path, status in (("1534.xml", 200), ("1534.json", 200), ("99999.xml", 404)):
                    await call(http, "GET", f"{base}/api/customers/{path}", status, headers=DEMO)
                await call(http, "POST", f"{base}/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=M-1",
                           200, headers=DEMO)
                # memberpoints: an adjustment
                await call(http, "POST", f"{base}/webapps/api/memberpoints", 200, headers=MP,
                           json={"mbr_id": 1534, "adjustpoints": "-25"})
                # pomelo: a token, a balance, a path no route has
                token = (await call(http, "POST", f"{base}/oauth/token", 200, json={
                    "client_id": "demo-client-id", "client_secret": "demo-client-secret",
                    "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}))["access_token"]
                bearer = {"Authorization": f"Bearer {token}"}
                await call(http, "GET", f"{base}/loyalty/v1/accounts/balance?card_id={CARD}", 200, headers=bearer)
                await call(http, "GET", f"{base}/loyalty/v1/no/such/route-{time.time_ns()}", 404, headers=bearer)
                # a card transaction: a pending reward, and its webhook, which the receiver refuses
                await call(http, "POST", f"{base}/__admin/pomelo/transactions", 201,
                           json={"card_id": CARD, "amount": 150, "currency": "ARS"})
                # the gateway tenant: its spend goes to its upstream (the vendor server)
                await call(http, "POST", f"{base}/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=U-1",
                           200, headers=imonggo_auth(SHOP_IMONGGO))

                # the other gateway tenant's upstream cannot be reached: its spend fails, nothing sent
                await call(http, "POST", f"{base}/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=G-1",
                           GONE_STATUS, headers=imonggo_auth("gone-imonggo"))

                async def attempted() -> bool:
                    return bool(hooks) and bool(grown(before, await scrape(base), f"{P}webhook_attempts_total"))

                await until(attempted)
                after, vendor_after = await scrape(base), await scrape(vendor.url)

    requests = grown(before, after, f"{P}http_requests_total")
    assert dialects_only(requests) == {  # (dialect, method, route, status)
        ("imonggo", "GET", "/api/customers/{id}{ext}", "200"): 2,
        ("imonggo", "GET", "/api/customers/{id}{ext}", "404"): 1,
        ("imonggo", "POST", "/api/rewards{ext}", "200"): 2,
        ("imonggo", "POST", "/api/rewards{ext}", "502"): 1,
        ("memberpoints", "POST", "/webapps/api/memberpoints", "200"): 1,
        ("pomelo", "POST", "/oauth/token", "200"): 1,
        ("pomelo", "GET", "/loyalty/v1/accounts/balance", "200"): 1,
        ("pomelo", "GET", "unmatched", "404"): 1,
    }
    assert requests[("none", "POST", "/__admin/pomelo/transactions", "201")] == 1
    latency = grown(before, after, f"{P}http_request_duration_seconds_count")
    assert latency[("imonggo", "/api/customers/{id}{ext}")] == 3 and latency[("pomelo", "unmatched")] == 1
    assert grown(before, after, f"{P}http_request_duration_seconds_bucket")[
        ("imonggo", "+Inf", "/api/customers/{id}{ext}")] == 3  # (dialect, le, route)

    assert grown(before, after, f"{P}ledger_writes_total") == {  # (kind, topic)
        ("order_spend", "entry.created"): 2,  # the demo's spend, and the gateway tenant's (mirrored here)
        ("adjustment", "entry.created"): 1,
        ("reward", "entry.created"): 1,  # pending until presentment
        ("", "upstream.applied"): 1,
    }

    assert len(hooks) == 1
    assert grown(before, after, f"{P}webhook_attempts_total") == {("answered_5xx",): 1}
    assert grown(before, after, f"{P}webhook_failures_total") == {("answered_5xx",): 1}
    assert value(after, f"{P}webhook_backlog", dialect="pomelo") == 1  # pending: the retry is 600 s away
    assert value(after, f"{P}webhook_deliveries", dialect="pomelo", state="pending") == 1
    assert value(after, f"{P}webhook_oldest_pending_age_seconds", dialect="pomelo") >= 0

    # every request the gateway made to its upstream, as the upstream itself counted them
    upstream = grown(before, after, f"{P}upstream_requests_total")
    served = dialects_only(grown(vendor_before, vendor_after, f"{P}http_requests_total"))
    # and the one to the upstream nobody serves (a write is never retried: its first exchange failed)
    assert upstream == {("pomelo", "answered_2xx"): sum(served.values()), ("pomelo", "unreachable"): 1}
    assert sum(served.values()) >= 1
    assert all(dialect == "pomelo" and status.startswith("2") for dialect, _, _, status in served)
    assert grown(before, after, f"{P}upstream_request_duration_seconds_count") == {("pomelo",): sum(served.values()) + 1}

    assert value(after, f"{P}workers_reporting") == 1
    assert value(after, f"{P}start_time_seconds") == value(before, f"{P}start_time_seconds") < time.time()
    [(_, labels)] = [k for k in after if k[0] == f"{P}build_info"]
    assert dict(labels)["version"] == __version__ and after[(f"{P}build_info", labels)] == 1


async def raw_get(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    """One GET on a connection of its own, written by hand (an HTTP client would send it again when the
    connection ends without an answer); what came back, b"" for nothing or a reset connection."""
    reader, writer = await asyncio.open_connection(host, port)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        return await reader.read()
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


async def test_a_fault_that_leaves_the_client_without_an_answer_is_counted_by_what_it_did(tmp_path: Path) -> None:
    with running(start_vendor(tmp_path / "server")) as server:  # the demo scenario, nothing else
        base = server.url
        async with aiohttp.ClientSession() as http:
            before = await scrape(base)
            for effect in ("drop", "empty"):
                await call(http, "POST", f"{base}/__admin/faults", 201, json={"dialect": "imonggo", "effect": effect,
                                                                             "times": 1})
                assert await raw_get(server.host, server.port, "/api/customers/1534.xml", DEMO) == b""
            await call(http, "POST", f"{base}/__admin/faults", 201,
                       json={"dialect": "imonggo", "effect": "status", "status": 503, "times": 1})
            await call(http, "GET", f"{base}/api/customers/1534.xml", 503, headers=DEMO)
            await call(http, "GET", f"{base}/api/customers/1534.xml", 200, headers=DEMO)
            after = await scrape(base)
    assert dialects_only(grown(before, after, f"{P}http_requests_total")) == {
        ("imonggo", "GET", "/api/customers/{id}{ext}", "dropped"): 1,
        ("imonggo", "GET", "/api/customers/{id}{ext}", "empty_reply"): 1,
        ("imonggo", "GET", "/api/customers/{id}{ext}", "503"): 1,
        ("imonggo", "GET", "/api/customers/{id}{ext}", "200"): 1,
    }

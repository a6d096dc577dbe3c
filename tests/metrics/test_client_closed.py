"""A request whose handler is cancelled because its client went away is counted as status="client_closed",
never "500" (no 500 was sent): in a dialect's path and in the admin API's, over real HTTP to a server that
cancels handlers on disconnect (aiohttp's handler_cancellation)."""
from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from gateway.app import create_app
from gateway.settings import Settings
from tests.metrics.scrape import grown, samples

P = "loyalty_gateway_"
DEMO = {"Authorization": aiohttp.encode_basic_auth("5c4fc5805eb643716bbc17dad456a0c6cf2e23fa", "X")}


async def _served(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def _scrape(http: aiohttp.ClientSession, base: str) -> Any:
    async with http.get(f"{base}/__admin/metrics") as response:
        assert response.status == 200
        return samples(await response.text())


async def _walk_away(http: aiohttp.ClientSession, url: str, **kw: Any) -> None:
    """Send the request and give up before it is answered."""
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=0.3), **kw):
            raise AssertionError("answered, though the handler should still be waiting")
    except asyncio.TimeoutError:
        pass


async def _counted(base: str, http: aiohttp.ClientSession, before: Any) -> dict[tuple[str, ...], float]:
    for _ in range(100):  # the cancelled handler is counted once the server sees the connection gone
        moved = grown(before, await _scrape(http, base), f"{P}http_requests_total")
        if any("client_closed" in labels for labels in moved):
            return moved
        await asyncio.sleep(0.05)
    return moved


async def test_a_dialect_request_whose_client_left_is_client_closed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.defaults().replace(database=f"sqlite:///{tmp_path / 'c.db'}", scenario="demo")
    runner, base = await _served(create_app(settings))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/__admin/faults", json={"effect": "latency", "latency_ms": 5000,
                                                                  "dialect": "imonggo"}) as response:
                assert response.status == 201, await response.text()
            before = await _scrape(http, base)
            await _walk_away(http, f"{base}/api/customers/1534.xml", headers=DEMO)
            moved = await _counted(base, http, before)
        closed = {labels: n for labels, n in moved.items() if labels[0] == "imonggo"}
        assert closed == {("imonggo", "GET", "/api/customers/{id}{ext}", "client_closed"): 1}, moved
        assert not any(labels[-1] == "500" for labels in moved)
    finally:
        await runner.cleanup()


async def test_an_admin_request_whose_client_left_is_client_closed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.defaults().replace(database=f"sqlite:///{tmp_path / 'c.db'}", scenario="demo")
    app = create_app(settings)
    gate = asyncio.Event()

    async def hold(request: web.Request) -> web.Response:
        await gate.wait()  # never set: only the client leaving ends it
        return web.Response(text="late")

    app.router.add_get("/__admin/held", hold)  # an admin path that waits, as a slow admin call would
    runner, base = await _served(app)
    try:
        async with aiohttp.ClientSession() as http:
            before = await _scrape(http, base)
            await _walk_away(http, f"{base}/__admin/held")
            moved = await _counted(base, http, before)
        held = {labels: n for labels, n in moved.items() if labels[-2] == "/__admin/held"}
        assert held == {("none", "GET", "/__admin/held", "client_closed"): 1}, moved
    finally:
        await runner.cleanup()

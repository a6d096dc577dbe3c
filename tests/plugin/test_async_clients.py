"""An integrator's async tests: pytest-aiohttp (pytest-asyncio's loop, aiohttp's client) and anyio (httpx's
async client) use the same session server, which runs on a loop of its own; waiting for a webhook can be
awaited, so the test's loop goes on meanwhile."""
from __future__ import annotations

import pytest

ASYNC_TESTS = '''
import asyncio
from decimal import Decimal

import aiohttp
import httpx
from aiohttp import web
import pytest

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


@pytest.mark.asyncio
async def test_pomelo_with_aiohttp_and_an_awaited_webhook(loyalty_tenant, loyalty_gateway):
    pomelo = loyalty_tenant.pomelo
    async with aiohttp.ClientSession(headers=pomelo.headers) as session:
        async with session.get(f"{pomelo.base_url}/loyalty/v1/accounts/balance", params={"card_id": CARD}) as answer:
            assert answer.status == 200 and (await answer.json())["points"] == 30511
    await loyalty_gateway.admin_async("POST", "/pomelo/transactions", params={"tenant": loyalty_tenant.name},
                                      json={"card_id": CARD, "amount": "1000"})
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    pending = await loyalty_tenant.webhooks.wait_for_async("loyalty-pending", timeout=5)
    ticker.cancel()
    assert pending.verified and pending.json()["event_detail"]["card_id"] == CARD
    assert ticks >= 1  # this loop ran while the webhook was awaited
    assert loyalty_tenant.balance(CARD, pending=True) == Decimal("1000")


def shop_app(memberpoints):
    """The integrator's own aiohttp app: it shows a member's points, read from memberpoints."""
    async def points(request):
        async with aiohttp.ClientSession(base_url=memberpoints.base_url, headers=memberpoints.headers) as session:
            async with session.get("/webapps/api/memberpointsbalances",
                                   params={"mbr_id": request.match_info["member"]}) as answer:
                found = await answer.json()
        return web.json_response({"points": found["data"][0]["mbr_points_balance"]})

    app = web.Application()
    app.router.add_get("/points/{member}", points)
    return app


@pytest.mark.asyncio
async def test_the_apps_own_server_with_pytest_aiohttp(loyalty_tenant, aiohttp_client):
    client = await aiohttp_client(shop_app(loyalty_tenant.memberpoints))
    answer = await client.get("/points/1534")
    assert answer.status == 200 and Decimal((await answer.json())["points"]) == Decimal("30511")


@pytest.mark.anyio
async def test_imonggo_with_httpx_under_anyio(loyalty_tenant):
    imonggo = loyalty_tenant.imonggo
    async with httpx.AsyncClient(base_url=imonggo.base_url, auth=imonggo.auth) as client:
        answer = await client.post("/api/rewards.xml",
                                   params={"q": "spend", "customer_id": 1534, "amount": 10, "reference": "A-1"})
    assert answer.status_code == 200, answer.text
    assert loyalty_tenant.balance(1534) == Decimal("28511")
    loyalty_tenant.verify(1, dialect="imonggo", status=200)
'''


def test_async_tests_on_any_loop_pass(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_async=ASYNC_TESTS)
    result = integrator.runpytest()
    result.assert_outcomes(passed=3)

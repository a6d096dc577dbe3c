"""The Reward API under load: concurrent spends never take a customer below zero, and exactly the
spends the balance covers succeed."""
from __future__ import annotations

import asyncio

from contract_tests.imonggo.shapes import assert_error, basic
from tests.support import ClientFactory


async def test_concurrent_spends_never_overdraw(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    url = "/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=POS-{n}"
    responses = await asyncio.gather(*(client.post(url.format(n=n), headers=basic()) for n in range(20)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 15 + [422] * 5  # 30511 points cover fifteen spends of 2000
    for r in responses:
        if r.status == 422:
            await assert_error(r, 422, "Insufficient points")
    shown = await (await client.get("/api/customers/1534.json", headers=basic())).json()
    assert shown["available_points"] == "511.0"


async def test_a_json_spend_mirrors_the_xml_hash(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.post("/api/rewards.json?q=spend&customer_id=1534&amount=0.5", headers=basic())
    assert response.status == 200
    assert await response.json() == {"points-spent": "100.0", "amount-spent": "0.5", "points-available": "30411.0"}

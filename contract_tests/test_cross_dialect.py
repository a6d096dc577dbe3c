"""Cross-dialect over HTTP: spend through the Imonggo Reward API, adjust through memberpoints, read every
balance through both (Imonggo `<available_points>`, memberpoints `mbr_points_balance`) and find the same
numbers."""
from __future__ import annotations

import base64
import re
from decimal import Decimal


from tests.support import ClientFactory

MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
IMONGGO = {"Authorization": "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode()}


async def test_spend_via_imonggo_adjust_via_memberpoints_same_numbers_everywhere(app_client: ClientFactory) -> None:
    client = await app_client()
    spend = await client.post(
        "/api/rewards.xml", params={"q": "spend", "customer_id": "1534", "amount": "10", "reference": "X-1"},
        headers=IMONGGO,
    )
    assert spend.status == 200, await spend.text()
    adjust = await client.post(
        "/webapps/api/memberpoints", headers=MEMBERPOINTS, json={"mbr_id": 1534, "adjustpoints": "25.50"}
    )
    assert adjust.status == 200, await adjust.text()

    listed = await (await client.get("/webapps/api/memberpointsbalances", headers=MEMBERPOINTS)).json()
    through_memberpoints = {r["mbr_id"]: Decimal(r["mbr_points_balance"]) for r in listed["data"]}
    through_imonggo = {}
    for customer_id in through_memberpoints:
        response = await client.get(f"/api/customers/{customer_id}.xml", headers=IMONGGO)
        assert response.status == 200
        found = re.search(r"<available_points[^>]*>([^<]*)</available_points>", await response.text())
        assert found is not None
        through_imonggo[customer_id] = Decimal(found.group(1))
    assert through_memberpoints == through_imonggo
    assert through_memberpoints[1534] == Decimal("30511") - Decimal("2000") + Decimal("25.50")

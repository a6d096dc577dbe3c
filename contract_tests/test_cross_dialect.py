"""Cross-dialect over HTTP: spend through the Imonggo Reward API, adjust through memberpoints, read every
balance through both (Imonggo `<available_points>`, memberpoints `mbr_points_balance`) and find the same
numbers. Skipped until the imonggo dialect is mounted (it is built on another branch): the integrator
removes the skip after merging it."""
from __future__ import annotations

import base64
import re
from decimal import Decimal

import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests.support import ClientFactory

MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
IMONGGO = {"Authorization": "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode()}


def _imonggo_rewards_mounted() -> bool:
    """Whether any route of the app (sub-apps included) serves /api/rewards.xml."""
    pending = [create_app(Settings.defaults())]
    while pending:
        app = pending.pop()
        for resource in app.router.resources():
            sub = getattr(resource, "_app", None)  # a mounted sub-app: its routes carry the prefix already
            if sub is not None:
                pending.append(sub)
            elif "/api/rewards" in resource.canonical:
                return True
    return False


@pytest.mark.skipif(
    not _imonggo_rewards_mounted(),
    reason="imonggo dialect not merged yet: /api/rewards.xml is not mounted (remove this skip after the merge)",
)
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

"""The sandbox as the real dialects meet it (tests/admin drives it through stand-in dialects only): a
fault rule for one tenant strikes inside each real dialect, after its auth and before its one ledger
write, in that dialect's own error shape; and fresh tenants made for parallel CI jobs never see each
other's movements in any real dialect."""
from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from lxml import etree

from gateway.keys import LEDGER
from gateway.ledger import Asset, By, Identity
from tests.support import ClientFactory

DEMO = {
    "imonggo": {"api_token": "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"},
    "memberpoints": {"api_id": "demo-api-id", "api_key": "demo-api-key"},
    "pomelo": {"client_id": "demo-client-id", "client_secret": "demo-client-secret"},
}
DIALECTS = ("imonggo", "memberpoints", "pomelo")


async def imonggo_spend(client: TestClient, creds: dict[str, Any], n: int) -> tuple[int, str]:
    """Spend 10.00 of value (2,000 points for a Gold customer) through the Reward API."""
    auth = base64.b64encode(f"{creds['imonggo']['api_token']}:X".encode()).decode()
    response = await client.post(f"/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=F-{n}",
                                 headers={"Authorization": f"Basic {auth}", "Accept": "application/xml"})
    body = await response.read()
    if response.status >= 400:
        root = etree.fromstring(body)
        assert root.tag == "errors", body
        return response.status, "; ".join(e.text or "" for e in root)
    return response.status, ""


async def memberpoints_adjust(client: TestClient, creds: dict[str, Any], n: int) -> tuple[int, str]:
    """Add 10 points with an adjustment."""
    headers = {"apiID": creds["memberpoints"]["api_id"], "apiKey": creds["memberpoints"]["api_key"]}
    response = await client.post("/webapps/api/memberpoints", headers=headers,
                                 json={"mbr_id": 1534, "adjustpoints": 10, "adjustmentnote": f"F-{n}"})
    body = await response.json()
    if response.status >= 400:
        assert list(body) == ["endPoint", "success", "message"] and body["success"] is False, body
        return response.status, body["message"]
    assert body["success"] is True, body
    return response.status, ""


async def pomelo_mint(client: TestClient, creds: dict[str, Any], n: int) -> tuple[int, str]:
    """Mint 10 points onto the member's card."""
    issued = await client.post("/oauth/token", json={**creds["pomelo"], "audience": "https://api.pomelo.la",
                                                      "grant_type": "client_credentials"})
    assert issued.status == 200, await issued.text()
    headers = {"Authorization": f"Bearer {(await issued.json())['access_token']}", "x-idempotency-key": f"F-{n}"}
    response = await client.post("/loyalty/v1/accounts/points/mint", headers=headers,
                                 json={"amount": "10", "reason": "fault test", "card_id": "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"})
    body = json.loads(await response.read())
    if response.status >= 400:
        return response.status, body["error"]["details"][0]["detail"]
    return response.status, ""


WRITE: dict[str, Callable[[TestClient, dict[str, Any], int], Awaitable[tuple[int, str]]]] = {
    "imonggo": imonggo_spend, "memberpoints": memberpoints_adjust, "pomelo": pomelo_mint,
}
MOVES = {"imonggo": Decimal("-2000"), "memberpoints": Decimal("10"), "pomelo": Decimal("10")}


async def points(client: TestClient, tenant: str) -> Decimal:
    ledger = client.app[LEDGER]
    balance = await ledger.balance(tenant=await ledger.tenant(tenant), member=By(Identity.CUSTOMER_NO, 1534))
    return balance[Asset.POINTS].posted


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_tenants_fault_strikes_inside_the_dialect_in_its_own_shape_and_writes_nothing(
    app_client: ClientFactory, dialect: str
) -> None:
    client = await app_client("demo")
    rule = {"effect": "status", "status": 503, "when": "before", "tenant": "demo", "dialect": dialect,
            "method": "POST", "message": "Down for maintenance"}
    assert (await client.post("/__admin/faults", json=rule)).status == 201

    # The rule names a tenant, so it can match only where the dialect's auth has found one: inside it.
    assert await WRITE[dialect](client, DEMO, 1) == (503, "Down for maintenance")
    assert await points(client, "demo") == Decimal("30511.00")
    journal = await (await client.get("/__admin/requests", params={"status": "503"})).json()
    [entry] = journal["requests"]
    assert (entry["tenant"], entry["dialect"], entry["outcome"]) == ("demo", dialect, "fault_status")
    assert entry["fault"]["handler_ran"] is False

    assert (await client.delete("/__admin/faults")).status == 200
    assert await WRITE[dialect](client, DEMO, 2) == (200, "")
    assert await points(client, "demo") == Decimal("30511.00") + MOVES[dialect]


async def test_fresh_tenants_never_see_each_others_movements_in_any_dialect(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    jobs = []
    for name in ("job-1", "job-2"):
        response = await client.post("/__admin/tenants", json={"name": name})
        assert response.status == 201
        jobs.append(await response.json())

    for i, job in enumerate(jobs):
        for dialect in DIALECTS[: i + 1]:  # job-1 moves through one dialect, job-2 through two
            assert await WRITE[dialect](client, job, 10 + i) == (200, "")
        # a credential of one tenant never reaches another's members
        other = jobs[1 - i]
        assert (await WRITE["memberpoints"](client, {"memberpoints": {**other["memberpoints"], "api_key": job["memberpoints"]["api_key"]}}, 99))[0] == 401

    assert await points(client, "demo") == Decimal("30511.00")
    assert await points(client, "job-1") == Decimal("30511.00") + MOVES["imonggo"]
    assert await points(client, "job-2") == Decimal("30511.00") + MOVES["imonggo"] + MOVES["memberpoints"]

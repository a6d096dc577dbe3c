"""Calls through the REAL dialects for the admin API's tests (no stand-ins): one read and one write per
dialect on the demo scenario's member 1534, with a tenant's credentials as POST /__admin/tenants returns
them (the demo tenant's by default). A pomelo token is granted through the ledger, not /oauth/token, so
the journal holds only the request a test makes."""
from __future__ import annotations

import base64
import itertools
from decimal import Decimal
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from gateway.dialects.pomelo.auth import ALL_SCOPES, LIFETIME
from gateway.keys import LEDGER
from gateway.ledger import Asset, By, Credential, Identity

DEMO: dict[str, Any] = {
    "name": "demo",
    "imonggo": {"api_token": "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"},
    "memberpoints": {"api_id": "demo-api-id", "api_key": "demo-api-key"},
    "pomelo": {"client_id": "demo-client-id", "client_secret": "demo-client-secret"},
}
MEMBER = 1534
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"  # member 1534's card
READS = {"imonggo": f"/api/customers/{MEMBER}.json", "memberpoints": "/webapps/api/memberpointsbalances",
         "pomelo": "/loyalty/v1/accounts/balance"}
WRITES = {"imonggo": "/api/rewards.json", "memberpoints": "/webapps/api/memberpoints",
          "pomelo": "/loyalty/v1/accounts/points/mint"}
_keys = itertools.count(1)


def imonggo_auth(token: str = DEMO["imonggo"]["api_token"]) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:X".encode()).decode()}


def memberpoints_auth(api_id: str = "demo-api-id", api_key: str = "demo-api-key") -> dict[str, str]:
    return {"apiID": api_id, "apiKey": api_key}


async def auth(client: TestClient, dialect: str, creds: dict[str, Any] | None = None) -> dict[str, str]:
    """The headers that authenticate as the tenant `creds` names in `dialect`."""
    mine = (creds or DEMO)[dialect]
    if dialect == "imonggo":
        return imonggo_auth(mine["api_token"])
    if dialect == "memberpoints":
        return memberpoints_auth(mine["api_id"], mine["api_key"])
    grant = await client.app[LEDGER].grant_access(
        credential=Credential("pomelo", mine["client_id"], mine["client_secret"]), scopes=ALL_SCOPES, lifetime=LIFETIME)
    assert grant is not None
    return {"Authorization": f"Bearer {grant.token}"}


async def read(client: TestClient, dialect: str, creds: dict[str, Any] | None = None, *,
               headers: dict[str, str] | None = None) -> ClientResponse:
    """Member 1534's balance through the dialect (any answer: the caller checks it)."""
    params = {"card_id": CARD} if dialect == "pomelo" else None
    return await client.get(READS[dialect], params=params, headers=headers or await auth(client, dialect, creds))


async def write(client: TestClient, dialect: str, amount: str = "10", creds: dict[str, Any] | None = None, *,
                headers: dict[str, str] | None = None, note: str = "admin test") -> ClientResponse:
    """One ledger write through the dialect on member 1534: memberpoints and pomelo credit `amount`
    points; imonggo spends `amount` of value through the Reward API (200 points per 1.00 for this member)."""
    sent = headers or await auth(client, dialect, creds)
    if dialect == "imonggo":
        query = {"q": "spend", "customer_id": str(MEMBER), "amount": amount, "reference": note[:40]}
        return await client.post(WRITES[dialect], params=query, headers=sent)
    if dialect == "memberpoints":
        body = {"mbr_id": MEMBER, "adjustpoints": int(amount), "adjustmentnote": note}
        return await client.post(WRITES[dialect], json=body, headers=sent)
    sent = {"x-idempotency-key": f"admin-test-{next(_keys)}", **sent}
    return await client.post(WRITES[dialect], json={"amount": amount, "reason": note, "card_id": CARD}, headers=sent)


async def points(client: TestClient, tenant: str = "demo") -> str:
    """Member 1534's posted points, read from the ledger (no request, so the journal is left alone)."""
    ledger = client.app[LEDGER]
    balance = await ledger.balance(tenant=await ledger.tenant(tenant), member=By(Identity.CUSTOMER_NO, MEMBER))
    return str(balance[Asset.POINTS].posted)


def points_moved(dialect: str, amount: int) -> Decimal:
    """What `write(client, dialect, str(amount))` does to member 1534's points."""
    return Decimal(-200 * amount) if dialect == "imonggo" else Decimal(amount)


async def seen_points(client: TestClient, dialect: str, creds: dict[str, Any] | None = None) -> Decimal:
    """Member 1534's points as the dialect's own balance read shows them."""
    response = await read(client, dialect, creds)
    assert response.status == 200, await response.text()
    body = await response.json()
    if dialect == "imonggo":
        return Decimal(body["available_points"])
    if dialect == "memberpoints":
        return Decimal(next(m["mbr_points_balance"] for m in body["data"] if m["mbr_id"] == MEMBER))
    return Decimal(body["points"])

"""Shared bits of the memberpoints tests: the demo credentials and small scenarios."""
from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from gateway.keys import LEDGER
from gateway.ledger import Ledger, Tenant

DEMO = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
POINTS = "/webapps/api/memberpoints"
BALANCES = "/webapps/api/memberpointsbalances"


def tenant_spec(name: str, api_id: str, cid: int, members: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "memberpoints": {"api_id": api_id, "api_key": f"{api_id}-key", "cid": cid},
        "imonggo": {"api_token": f"{api_id}-token"},
        "customer_types": [{"id": 8, "name": "Gold", "point_to_amount_ratio": "200", "amount_per_point": "10"}],
        "members": members,
    }


def headers(api_id: str) -> dict[str, str]:
    return {"apiID": api_id, "apiKey": f"{api_id}-key"}


def ledger_of(client: TestClient) -> Ledger:
    return client.app[LEDGER]


async def demo_tenant(client: TestClient) -> Tenant:
    return await ledger_of(client).tenant("demo")


async def get(client: TestClient, path: str, *, auth: dict[str, str] = DEMO, **params: Any) -> tuple[int, Any]:
    response = await client.get(path, headers=auth, params={k: str(v) for k, v in params.items()})
    return response.status, await response.json()


async def post(client: TestClient, body: Any, *, auth: dict[str, str] = DEMO, **kwargs: Any) -> tuple[int, Any]:
    response = await client.post(POINTS, headers=auth, json=body, **kwargs)
    return response.status, await response.json()

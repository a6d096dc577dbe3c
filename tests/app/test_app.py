"""The server skeleton over real HTTP: health, the demo scenario on an empty database, body limits."""
from __future__ import annotations

from tests.support import ClientFactory


async def test_health_answers_with_the_store_kind(app_client: ClientFactory, store_url: str) -> None:
    client = await app_client()
    response = await client.get("/__admin/health")
    assert response.status == 200
    kind = "postgresql" if store_url.startswith("postgresql://") else "sqlite"
    assert await response.json() == {"status": "ok", "store": kind}


async def test_an_empty_database_gets_the_demo_scenario(app_client: ClientFactory) -> None:
    from gateway.keys import LEDGER

    client = await app_client()
    ledger = client.app[LEDGER]
    assert [t.name for t in await ledger.tenants()] == ["demo"]
    assert await ledger.count_members(tenant=await ledger.tenant("demo")) == 3


async def test_scenario_none_starts_empty(app_client: ClientFactory) -> None:
    from gateway.keys import LEDGER

    client = await app_client("none")
    assert await client.app[LEDGER].tenants() == []


async def test_admin_errors_are_json(app_client: ClientFactory) -> None:
    client = await app_client("none")
    response = await client.get("/__admin/no-such-thing")
    assert response.status == 404
    assert await response.json() == {"error": {"status": 404, "message": "Not Found"}}
    response = await client.post("/__admin/health")
    assert response.status == 405 and "GET" in response.headers["Allow"]

"""The pipeline's request check (a dialect's Documents.check_request): it runs after the credentials, the
rate limit and the before-fault, just before the handler; its refusal is the answer, and is journaled
like any other."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp import web

import gateway.app
from gateway.dialects.descriptor import Documents
from gateway.keys import LEDGER
from tests.admin.real import imonggo_auth, points, read
from tests.support import ClientFactory


@pytest.fixture
def refusing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """imonggo's descriptor with a check that refuses any request whose query has refuse=1 (418, plain)."""
    seen: list[str] = []

    async def check(request: web.Request) -> web.StreamResponse | None:
        seen.append(request.path)
        return web.Response(status=418, text="refused by the document") if "refuse" in request.query else None

    dialects = tuple(dataclasses.replace(d, documents=Documents((), check_request=check)) if d.name == "imonggo" else d
                     for d in gateway.app.DIALECT_LIST)
    monkeypatch.setattr(gateway.app, "DIALECT_LIST", dialects)
    return seen


async def journal(client: Any, path: str) -> dict[str, Any]:
    body = await (await client.get("/__admin/requests", params={"path": path})).json()
    return body["requests"][0]  # type: ignore[no-any-return]


async def test_a_refused_request_never_reaches_the_handler_and_is_journaled(
        app_client: ClientFactory, refusing: list[str]) -> None:
    client = await app_client("demo")
    before = await points(client)
    response = await client.post("/api/rewards.xml?q=spend&customer_id=1534&amount=10&refuse=1", headers=imonggo_auth())
    assert response.status == 418 and await response.text() == "refused by the document"
    assert "X-Request-Id" in response.headers
    assert await points(client) == before  # the handler did not run
    entry = await journal(client, "/api/rewards.xml")
    assert entry["status"] == 418 and entry["outcome"] == "answered" and entry["tenant"] == "demo"

    assert (await read(client, "imonggo")).status == 200  # allowed: the handler answers
    assert refusing[-1].startswith("/api/customers/")


async def test_the_credentials_and_the_before_fault_come_first(app_client: ClientFactory, refusing: list[str]) -> None:
    client = await app_client("demo")
    response = await client.get("/api/customers/1534.json?refuse=1", headers=imonggo_auth("wrong"))
    assert response.status == 401 and refusing == []
    added = await client.post("/__admin/faults", json={"effect": "status", "status": 503, "dialect": "imonggo"})
    assert added.status == 201
    response = await client.get("/api/customers/1534.json?refuse=1", headers=imonggo_auth())
    assert response.status == 503 and refusing == []


async def test_other_dialects_are_not_checked(app_client: ClientFactory, refusing: list[str]) -> None:
    client = await app_client("demo")
    assert client.app[LEDGER] is not None
    assert (await read(client, "memberpoints")).status == 200 and refusing == []

"""Shared steps of the pomelo contract tests: tokens, the OpenAPI schemas, the fixture files, and a
receiver that checks every webhook signature."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.dialects.pomelo.webhooks import verify

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pomelo"
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"
USER = "usr-2ay34WhGUtCeoewakpeJTRuVWlx"
SECRET = "ZGVtby13ZWJob29rLXNlY3JldA=="
CLIENT = {"client_id": "demo-client-id", "client_secret": "demo-client-secret",
          "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def parse(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


async def token(client: TestClient, scope: str | None = None) -> str:
    body = dict(CLIENT) if scope is None else {**CLIENT, "scope": scope}
    response = await client.post("/oauth/token", json=body)
    assert response.status == 200, await response.text()
    value: str = (await response.json())["access_token"]
    return value


async def bearer(client: TestClient, scope: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token(client, scope)}"}


async def check_schema(client: TestClient, name: str, instance: Any) -> None:
    """Validate against the component schema served by the app's own OpenAPI document."""
    response = await client.get("/__admin/openapi/pomelo.json")
    document = await response.json()
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)


async def points(client: TestClient, headers: dict[str, str], card: str = CARD) -> Any:
    response = await client.get(f"/loyalty/v1/accounts/balance?card_id={card}", headers=headers)
    assert response.status == 200
    return parse(await response.read())


class Receiver:
    """A webhook endpoint for tests: verifies each signature, keeps what arrived, and can fail the
    first N attempts with a status."""

    def __init__(self, secret: str = SECRET, fail_first: int = 0, fail_status: int = 503) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.calls: list[dict[str, Any]] = []

    @property
    def received(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["answered"] == 200]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        call = {"path": request.path_qs, "headers": dict(request.headers), "raw": body,
                "body": parse(body), "valid": verify(self.secret, request.headers, body)}
        self.calls.append(call)
        if len(self.calls) <= self.fail_first:
            call["answered"] = self.fail_status
            return web.Response(status=self.fail_status)
        call["answered"] = 200 if call["valid"] else 403
        return web.json_response({"ok": call["valid"]}, status=call["answered"])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        return app

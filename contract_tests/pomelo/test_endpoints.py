"""Every documented pomelo endpoint behaviour, one case per row of fixtures/pomelo/cases.json, replayed
against the demo scenario: status, Pomelo's error envelope, the OpenAPI schema, the SDK fixture keys."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gateway.contracts.cases import fill
from gateway.dialects.pomelo import DIALECT as POMELO
from gateway.dialects.pomelo.contract_cases import DEFAULTS
from tests.support import ClientFactory

from .helpers import CARD, CLIENT, FIXTURES, bearer, check_schema, fixture, parse, points

CASES = fixture("cases.json")["cases"]
SDK = fixture("sdk_fixtures.json")


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal)):
        return "number"
    return type(value).__name__


# The request each case sends, as verify's loader reads it (one reading of token, idempotency_key,
# content_type and the json | form | raw body for the contract tests and verify alike).
LOADED = {c.id: c for c in POMELO.cases.load(FIXTURES / "cases.json")}


async def _auth(client: Any, word: str) -> dict[str, str]:
    if word in ("none", "bogus"):
        return {} if word == "none" else {"Authorization": "Bearer not-a-token"}
    return await bearer(client, None if word == "default" else word.removeprefix("scope:"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
async def test_documented_case(app_client: ClientFactory, case: dict[str, Any]) -> None:
    client = await app_client("demo")
    step = LOADED[case["id"]].steps[0]
    body = None if step.request.body is None else fill(step.request.body.decode(), DEFAULTS).encode()
    headers = {**step.request.headers, **await _auth(client, step.auth)}
    response = await client.request(step.request.method, step.request.path, headers=headers, data=body)
    body = parse(await response.read())
    assert response.status == case["status"], body
    assert response.content_type == "application/json"
    if "error_code" in case:
        await check_schema(client, "Error", body)
        assert body["error"]["error_code"] == case["error_code"]
        assert body["error"]["details"][0]["detail"]
    if "schema" in case:
        await check_schema(client, case["schema"], body)
    for key, value in case.get("expect", {}).items():
        assert body[key] == value, key
    if "sdk" in case:
        for key, value in SDK[case["sdk"]].items():
            assert json_type(body[key]) == json_type(value), f"{key} is not a JSON {json_type(value)}"
    if "balance_after" in case:
        assert (await points(client, await bearer(client), CARD))["points"] == case["balance_after"]


REQUEST_KEYS = {"id", "method", "path", "status", "token", "idempotency_key", "content_type", "json", "form", "raw"}
CHECK_KEYS = {"error_code", "schema", "expect", "sdk", "balance_after"}


def test_every_case_says_only_what_the_replay_reads_and_checks_the_body() -> None:
    """A misspelt expectation ("eror_code") would otherwise be skipped without a word."""
    assert len(CASES) >= 37
    for case in CASES:
        assert set(case) <= REQUEST_KEYS | CHECK_KEYS, (case["id"], sorted(set(case) - REQUEST_KEYS - CHECK_KEYS))
        assert len({"json", "form", "raw"} & set(case)) <= 1 and set(case) & CHECK_KEYS, case["id"]


async def test_the_same_token_comes_back_until_it_is_revoked(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    first = await (await client.post("/oauth/token", json=CLIENT)).json()
    again = await (await client.post("/oauth/v1/token", data=CLIENT)).json()
    assert again["access_token"] == first["access_token"]
    revoked = await client.post("/oauth/token/revoke", json=CLIENT)
    assert revoked.status == 200
    old = {"Authorization": f"Bearer {first['access_token']}"}
    assert (await client.get(f"/loyalty/v1/accounts/balance?card_id={CARD}", headers=old)).status == 401
    fresh = await (await client.post("/oauth/token", json=CLIENT)).json()
    assert fresh["access_token"] != first["access_token"]


async def test_a_token_expires_on_the_sandbox_clock(app_client: ClientFactory) -> None:
    from datetime import timedelta

    from gateway.keys import LEDGER

    client = await app_client("demo")
    headers = await bearer(client)
    client.app[LEDGER].clock.shift(timedelta(seconds=86399))
    assert (await client.get(f"/loyalty/v1/accounts/balance?card_id={CARD}", headers=headers)).status == 200
    client.app[LEDGER].clock.shift(timedelta(seconds=86400))
    response = await client.get(f"/loyalty/v1/accounts/balance?card_id={CARD}", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    renewed = await (await client.post("/oauth/token", json=CLIENT)).json()
    assert renewed["access_token"] != headers["Authorization"].split()[1] and renewed["expires_in"] == 86400


async def test_the_openapi_document_is_openapi_3_1(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    document = await (await client.get("/__admin/openapi/pomelo.json")).json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) >= {"/oauth/token", "/oauth/v1/token", "/oauth/token/revoke",
                                      "/loyalty/v1/accounts/balance", "/loyalty/v1/accounts/{account_type}/mint",
                                      "/loyalty/v1/accounts/{account_type}/burn"}
    for name, schema in document["components"]["schemas"].items():
        import jsonschema

        jsonschema.Draft202012Validator.check_schema(schema)
    for name, sample in SDK["webhooks"].items():
        assert sample["event_id"] == f"loyalty-{name}"

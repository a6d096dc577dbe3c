"""Pomelo's document is held to the server both ways: a request it does not allow is refused with the
dialect's 400 INVALID_REQUEST before the handler, in the handlers' words, and the answers the server gives
fit it (DIALECT.documents.check_answer)."""
from __future__ import annotations

import json

import pytest

from contract_tests.pomelo.helpers import CARD, CLIENT, bearer, parse
from gateway.dialects.pomelo import DIALECT
from tests.admin.real import points
from tests.support import ClientFactory

MINT = "/loyalty/v1/accounts/points/mint"
assert DIALECT.documents is not None and DIALECT.documents.check_answer is not None
CHECK = DIALECT.documents.check_answer


async def detail(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status == 400, await response.text()
    error = parse(await response.read())["error"]
    assert error["error_code"] == "INVALID_REQUEST"
    return error["details"][0]["detail"]  # type: ignore[no-any-return]


async def test_a_body_the_document_does_not_allow_is_refused_in_the_dialects_words(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    auth = {**await bearer(client), "x-idempotency-key": "doc-1"}
    before = await points(client)
    bad = await client.post(MINT, json={"amount": "1.001", "reason": " ", "card_id": CARD}, headers=auth)
    assert await detail(bad) == ("amount must be a positive decimal number below 10^12 with at most two decimal "
                                 "places; reason is required")
    both = await client.post(MINT, json={"amount": 1, "reason": "r", "card_id": CARD, "user_id": "u"}, headers=auth)
    assert await detail(both) == "the request body must name exactly one of card_id or user_id"
    not_json = await client.post(MINT, data=b"amount=1", headers={**auth, "Content-Type": "text/plain"})
    assert (await detail(not_json)).startswith("request body is not valid JSON: ")  # the handler's words
    assert await points(client) == before


async def test_a_parameter_the_document_does_not_allow_is_refused(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    auth = await bearer(client)
    response = await client.post("/loyalty/v1/accounts/stars/mint", json={"amount": 1, "reason": "r", "card_id": CARD},
                                 headers={**auth, "x-idempotency-key": "doc-2"})
    assert (await detail(response)).startswith("account_type: 'stars' is not one of")
    response = await client.post(MINT, json={"amount": 1, "reason": "r", "card_id": CARD}, headers=auth)
    assert await detail(response) == "the x-idempotency-key header is required"


async def test_the_servers_answers_fit_the_document(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    token = await client.post("/oauth/token", data=CLIENT)  # a form body, as the document allows
    assert CHECK("POST", "/oauth/token", token.status, token.headers["Content-Type"], await token.read()) == []
    auth = {"Authorization": f"Bearer {json.loads(await token.read())['access_token']}"}
    for method, path, kwargs in [
        ("GET", f"/loyalty/v1/accounts/balance?card_id={CARD}", {}),
        ("GET", "/loyalty/v1/accounts/balance?card_id=crd-nobody", {}),
        ("POST", MINT, {"json": {"amount": "2.50", "reason": "r", "card_id": CARD}, "headers": {"x-idempotency-key": "a"}}),
        ("POST", "/loyalty/v1/accounts/points/burn", {"json": {"amount": 10**11, "reason": "r", "card_id": CARD},
                                                      "headers": {"x-idempotency-key": "b"}}),
        ("POST", MINT, {"json": {"amount": "1"}, "headers": {"x-idempotency-key": "c"}}),
    ]:
        headers = {**auth, **kwargs.pop("headers", {})}
        response = await client.request(method, path, headers=headers, **kwargs)
        body = await response.read()
        assert CHECK(method, path, response.status, response.headers["Content-Type"], body) == [], (path, body)


def test_an_answer_that_does_not_fit_is_named() -> None:
    body = json.dumps({"access_token": "short", "scope": "s", "expires_in": 1, "token_type": "Bearer"}).encode()
    assert CHECK("POST", "/oauth/token", 200, "application/json", body) == ["/access_token: 'short' is too short"]
    assert CHECK("POST", "/oauth/token", 418, "application/json", b"{}")[0].startswith("status 418: not listed")


CURL_TYPES = ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream"]  # -d's is the form


@pytest.mark.parametrize("content_type", CURL_TYPES)
async def test_json_under_another_content_type_is_read_as_json(app_client: ClientFactory, content_type: str) -> None:
    """The handlers read a mint's body as JSON whatever its Content-Type says (curl -d labels it a form), as
    the server did before the document's check: so does the check, and the document says so."""
    client = await app_client("demo")
    auth = {**await bearer(client), "x-idempotency-key": f"curl-{content_type}", "Content-Type": content_type}
    body = json.dumps({"amount": "2", "reason": "Manual adjustment", "card_id": CARD}).encode()
    minted = await client.post(MINT, data=body, headers=auth)
    assert minted.status == 200, await minted.text()
    assert parse(await minted.read())["operation"] == "MINT"
    bad = json.dumps({"amount": "1.001", "reason": "r", "card_id": CARD}).encode()
    refused = await client.post(MINT, data=bad, headers={**auth, "x-idempotency-key": f"bad-{content_type}"})
    assert (await detail(refused)).startswith("amount must be a positive decimal number")


async def test_a_token_request_in_json_labelled_text_is_read_as_json(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    token = await client.post("/oauth/token", data=json.dumps(CLIENT).encode(), headers={"Content-Type": "text/plain"})
    assert token.status == 200, await token.text()
    assert parse(await token.read())["token_type"] == "Bearer"


def test_the_document_says_which_bodies_are_read_as_json() -> None:
    document = json.loads(DIALECT.documents.documents[0].content())  # type: ignore[union-attr]
    for path in (MINT.replace("points", "{account_type}"), "/oauth/token", "/oauth/token/revoke"):
        operation = document["paths"][path]["post"]
        assert operation["requestBody"]["x-read-other-media-as"] == "application/json", path
        assert "read as JSON" in operation["description"], path

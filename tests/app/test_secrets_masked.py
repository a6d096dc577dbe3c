"""Secrets are masked wherever the gateway keeps or prints a request: an OAuth client's `client_secret`
and the `access_token` it gets (pomelo's POST /oauth/token, JSON or form-encoded), the imonggo Token API's
`password` and the `api_token` it answers, in the request journal's query, request and response bodies;
and a malformed request's log line, which quotes the request line, never shows a password. Everything
else in a journaled body stays as it was sent."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from gateway.sandbox.redact import MASK, redact_body, redact_line
from tests import process
from tests.support import ClientFactory

DEMO_SECRET = "demo-client-secret"
IMONGGO_TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
TOKEN_REQUEST = {"client_id": "demo-client-id", "client_secret": DEMO_SECRET,
                 "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}


async def journaled(client: Any, path: str) -> list[dict[str, Any]]:
    listing = await client.get("/__admin/requests", params={"path": path})
    assert listing.status == 200
    return (await listing.json())["requests"]


async def test_the_oauth_token_request_and_reply_are_journaled_without_secret_or_token(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.post("/oauth/token", json=TOKEN_REQUEST)
    assert response.status == 200
    token = (await response.json())["access_token"]

    [entry] = await journaled(client, "/oauth/token")
    sent = json.loads(entry["request_body"]["text"])
    assert sent == {**TOKEN_REQUEST, "client_secret": MASK}
    assert entry["request_body"]["size"] == len(json.dumps(TOKEN_REQUEST))  # what the client sent
    answered = json.loads(entry["response_body"]["text"])
    assert answered["access_token"] == MASK
    assert (answered["token_type"], answered["expires_in"]) == ("Bearer", 86400)
    everything = await (await client.get("/__admin/requests")).text()
    assert DEMO_SECRET not in everything and token not in everything


async def test_a_form_encoded_token_request_and_a_revoke_keep_the_secret_out_of_the_journal(
    app_client: ClientFactory,
) -> None:
    client = await app_client("demo")
    form = "client_id=demo-client-id&client_secret=demo-client-secret&audience=https%3A%2F%2Fapi.pomelo.la" \
           "&grant_type=client_credentials"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post("/oauth/token", data=form, headers=headers)
    assert response.status == 200
    revoked = await client.post("/oauth/token/revoke", data="client_id=demo-client-id&client_secret=demo-client-secret",
                                headers=headers)
    assert revoked.status == 200

    revoke, issue = await journaled(client, "/oauth/token")
    assert issue["request_body"]["text"] == form.replace(DEMO_SECRET, MASK)
    assert revoke["request_body"]["text"] == f"client_id=demo-client-id&client_secret={MASK}"
    assert (await response.json())["access_token"] not in issue["response_body"]["text"]


async def test_a_refused_token_request_keeps_the_wrong_secret_out_of_the_journal(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.post("/oauth/token", json={**TOKEN_REQUEST, "client_secret": "my-other-secret"})
    assert response.status == 401
    [entry] = await journaled(client, "/oauth/token")
    assert "my-other-secret" not in entry["request_body"]["text"]
    assert json.loads(entry["request_body"]["text"])["client_id"] == "demo-client-id"


@pytest.mark.parametrize("suffix", ["xml", "json"])
async def test_the_token_api_reply_is_journaled_without_the_api_token(app_client: ClientFactory, suffix: str) -> None:
    client = await app_client("demo")
    response = await client.get(f"/api/tokens.{suffix}?email=demo@example.com&password=demo-password")
    assert response.status == 200 and IMONGGO_TOKEN in await response.text()

    [entry] = await journaled(client, "/api/tokens")
    assert entry["query"] == f"email=demo@example.com&password={MASK}"
    text = entry["response_body"]["text"]
    assert IMONGGO_TOKEN not in text
    if suffix == "xml":
        assert f"<hash>\n  <api_token>{MASK}</api_token>\n</hash>" in text
    else:
        assert json.loads(text) == {"api_token": MASK}


async def test_a_secret_across_the_journals_cut_is_not_half_kept(app_client: ClientFactory) -> None:
    before = '{"client_id": "demo-client-id", "client_secret": "'
    client = await app_client("demo", journal_body_bytes=len(before) + 5)  # the cut falls in the secret
    body = json.dumps({"client_id": "demo-client-id", "client_secret": "x" * 60, "audience": "a",
                       "grant_type": "client_credentials"})
    assert (await client.post("/oauth/token", data=body, headers={"Content-Type": "application/json"})).status == 401
    [entry] = await journaled(client, "/oauth/token")
    assert entry["request_body"] == {"text": before + MASK[:5], "size": len(body), "truncated": True}


@pytest.mark.parametrize(
    "kind,sent,kept",
    [
        ("application/json", b'{"pass\\u0077ord": "s3cret", "note": "password"}',
         b'{"pass\\u0077ord": "[FILTERED]", "note": "password"}'),
        ("application/json", b'[{"user": {"api_token": "s3cret"}}]', b'[{"user": {"api_token": "[FILTERED]"}}]'),
        ("application/json", b'{"access_token": "s3cr', b'{"access_token": "[FILTERED]"'),  # cut or broken
        ("text/plain", b' {"client_secret":"s3cret"}', b' {"client_secret":"[FILTERED]"}'),
        ("application/xml", b'<hash><api-token type="string">s3cret</api-token><id>7</id></hash>',
         b'<hash><api-token type="string">[FILTERED]</api-token><id>7</id></hash>'),
        ("application/xml", b"<user><password><![CDATA[s<3cret]]></password></user>",
         b"<user><password>[FILTERED]</password></user>"),
        ("", b"client_secret=s3cret&client_id=abc", b"client_secret=[FILTERED]&client_id=abc"),
        ("application/x-www-form-urlencoded", b"CLIENT%5Fsecret=s3cret", b"CLIENT%5Fsecret=[FILTERED]"),
        ("application/json", b'{"amount": "10.00"}', b'{"amount": "10.00"}'),
    ],
)
def test_bodies_are_masked_in_their_own_format_and_otherwise_kept(kind: str, sent: bytes, kept: bytes) -> None:
    assert redact_body(sent, kind) == kept


def test_log_lines_lose_every_spelling_of_a_password() -> None:
    for line, kept in [
        ("b'GET /api/tokens.xml?email=a@b.c&password=hunter2\\x01 HTTP/1.1' ^",
         "b'GET /api/tokens.xml?email=a@b.c&password=[FILTERED] HTTP/1.1' ^"),
        ("b'GET /api/tokens.xml?pass%77ord=hunter 2 HTTP/1.1' ^", "b'GET /api/tokens.xml?pass%77ord=[FILTERED] HTTP/1.1' ^"),
        ('"GET /api/tokens.json?password=hunter2&email=a@b.c HTTP/1.1" 404 28 "-"',
         '"GET /api/tokens.json?password=[FILTERED]&email=a@b.c HTTP/1.1" 404 28 "-"'),
        ("b'GET /x?password=hun\\'ter2' ^", "b'GET /x?password=[FILTERED]' ^"),
    ]:
        assert redact_line(line) == kept


@pytest.mark.slow
def test_a_malformed_token_request_is_logged_without_its_password(tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", f"sqlite:///{tmp_path / 'gw.db'}"], tmp_path)
    try:
        for line in (b"GET /api/tokens.xml?email=a@b.c&password=hunter2\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /api/tokens.xml?email=a@b.c&password=hunter2 still HTTP/1.1\r\nHost: x\r\n\r\n"):
            with socket.create_connection((server.host, server.port), timeout=10) as sock:
                sock.sendall(line)
                assert sock.recv(100).split(b" ")[1] == b"400"
    finally:
        server.stop()
    refused = [line for line in server.output.splitlines() if "refused a malformed request" in line]
    assert len(refused) == 2 and all("password=[FILTERED]" in line for line in refused), refused
    assert "hunter2" not in server.output and "still" not in server.output

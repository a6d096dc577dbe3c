"""A gateway whose tenant "shop" keeps its points at a pomelo sandbox (a second real process): the imonggo
seed's two calls are answered from the upstream, the journal entry of each lists what it exchanged with
the upstream (method, URL, status, duration, capped bodies), and the upstream's secrets (the client
secret, the access token it hands out) are in no journal entry, no admin reply and no log line."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import process
from tests.upstream.servers import (
    JUAN_USER,
    SHOP_IMONGGO,
    call,
    imonggo_auth,
    no_secret_in,
    shop,
    start_gateway,
    start_vendor,
)

pytestmark = pytest.mark.slow
SPEND = "/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=X-1"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[process.Server, process.Server]]:
    base = tmp_path_factory.mktemp("journal")
    vendor = start_vendor(base / "vendor")
    gateway = start_gateway(base / "gateway", [shop("pomelo", vendor.url)], "--journal-body-bytes", "100")
    try:
        yield vendor, gateway
    finally:
        gateway.stop()
        vendor.stop()


async def journal(server: process.Server, path: str) -> list[dict[str, Any]]:
    status, body, _ = await call("GET", f"{server.url}/__admin/requests", params={"path": path})
    assert status == 200
    return body["requests"]  # type: ignore[no-any-return]


async def test_the_seed_calls_are_answered_from_the_upstream_and_journaled_with_their_exchanges(
    servers: tuple[process.Server, process.Server],
) -> None:
    vendor, gateway = servers
    status, _, customer = await call("GET", f"{gateway.url}/api/customers/1534.xml", headers=imonggo_auth())
    assert status == 200 and "<available_points>30511.0</available_points>" in customer
    status, _, spent = await call("POST", gateway.url + SPEND, headers=imonggo_auth())
    assert status == 200 and "<points-spent type=\"decimal\">2000.0</points-spent>" in spent

    [read] = await journal(gateway, "/api/customers/1534.xml")
    calls = [(x["method"], x["url"].removeprefix(vendor.url), x["status"]) for x in read["upstream"]]
    assert ("POST", "/oauth/token", 200) in calls
    assert ("GET", f"/loyalty/v1/accounts/balance?user_id={JUAN_USER}", 200) in calls
    token = next(x for x in read["upstream"] if x["url"].endswith("/oauth/token"))
    assert '"client_secret":"[FILTERED]"' in token["request_body"]["text"]
    assert token["response_body"]["text"].startswith('{"access_token":"[FILTERED]"')
    assert all(x["duration_ms"] > 0 and x["error"] is None for x in read["upstream"])

    [spend] = await journal(gateway, "/api/rewards.xml")
    [burn] = [x for x in spend["upstream"] if x["method"] == "POST"]
    assert burn["url"] == f"{vendor.url}/loyalty/v1/accounts/points/burn" and burn["status"] == 200
    assert json.loads(burn["request_body"]["text"])["amount"] == "2000"
    reply = burn["response_body"]  # cut at journal_body_bytes, as the journal cuts the client's own bodies
    assert reply["truncated"] is True and len(reply["text"]) == 100 and reply["size"] > 100

    vendor_side = await journal(vendor, "/loyalty/v1/accounts/points/burn")
    assert [e["status"] for e in vendor_side] == [200]  # burned once, at the upstream


async def test_a_request_of_a_tenant_without_upstream_lists_no_exchange(
    servers: tuple[process.Server, process.Server],
) -> None:
    vendor, _ = servers
    status, _, _ = await call("GET", f"{vendor.url}/api/customers/1534.xml",
                              headers=imonggo_auth("5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"))
    assert status == 200
    [entry, *_] = await journal(vendor, "/api/customers/1534.xml")
    assert entry["upstream"] == []


async def test_no_admin_reply_shows_an_upstream_secret(servers: tuple[process.Server, process.Server]) -> None:
    vendor, gateway = servers
    status, one, text = await call("GET", f"{gateway.url}/__admin/tenants/shop")
    assert status == 200 and not no_secret_in(text)
    assert one["upstream"] == {"dialect": "pomelo", "base_url": vendor.url, "record": False, "credentials": {
        "client_id": "demo-client-id", "client_secret": "[FILTERED]", "audience": "https://api.pomelo.la"}, "shadow": None}
    status, listing, text = await call("GET", f"{gateway.url}/__admin/tenants")
    assert status == 200 and not no_secret_in(text) and listing["tenants"][0]["upstream"] == one["upstream"]
    status, _, text = await call("GET", f"{gateway.url}/__admin/upstream")
    assert status == 200 and not no_secret_in(text)
    status, _, text = await call("GET", f"{gateway.url}/__admin/requests")
    assert status == 200 and not no_secret_in(text) and "[FILTERED]" in text

    # A copy of a scenario tenant with an upstream: the reply shows the copy's fresh credentials for its
    # own clients, and the upstream's without the secret.
    document = {"tenants": [shop("memberpoints", vendor.url, name="branch")]}
    status, made, text = await call("POST", f"{gateway.url}/__admin/tenants", json={"scenario": document, "name": "b2"})
    assert status == 201, text
    assert not no_secret_in(text) and made["upstream"]["credentials"] == {"api_id": "demo-api-id", "api_key": "[FILTERED]"}
    status, added, text = await call("POST", f"{gateway.url}/__admin/scenarios",
                                     json={"tenants": [shop("imonggo", vendor.url, name="outlet")]})
    assert status == 201 and added == {"tenants": ["outlet"]} and not no_secret_in(text)
    status, outlet, text = await call("GET", f"{gateway.url}/__admin/tenants/outlet")
    assert outlet["upstream"]["credentials"] == {"api_token": "[FILTERED]"} and not no_secret_in(text)


async def test_a_refused_declaration_names_the_field_and_never_the_secret(
    servers: tuple[process.Server, process.Server],
) -> None:
    vendor, gateway = servers
    bad = shop("pomelo", vendor.url, name="bad")
    bad["upstream"]["credentials"]["api_key"] = "demo-api-key"
    status, body, text = await call("POST", f"{gateway.url}/__admin/scenarios", json={"tenants": [bad]})
    assert status == 400 and not no_secret_in(text)
    assert body["error"]["message"] == ("scenario request body: field tenants[0].upstream.credentials: 'api_key' is not"
                                        " a pomelo credential (it takes client_id, client_secret, audience)")
    bad = shop("pomelo", "https://demo-client-id:demo-client-secret@api.example", name="bad")
    status, body, text = await call("POST", f"{gateway.url}/__admin/tenants", json={"scenario": {"tenants": [bad]}})
    assert status == 400 and "field tenants[0].upstream.base_url: must not carry a user or password" in text
    assert not no_secret_in(text)
    bad = shop("pomelo", vendor.url, name="bad")
    bad["upstream"]["dialect"] = "square"
    status, body, _ = await call("POST", f"{gateway.url}/__admin/scenarios", json={"tenants": [bad]})
    assert status == 400 and "field tenants[0].upstream.dialect: 'square' is no upstream dialect" in body["error"]["message"]


def test_the_gateways_log_never_shows_an_upstream_secret(
    servers: tuple[process.Server, process.Server], tmp_path: Path,
) -> None:
    """Last in this module: it stops the gateway to read everything it logged (at debug level)."""
    _, gateway = servers
    gateway.stop()
    assert "GET /__admin/tenants/shop" in gateway.output  # the log was captured, at all
    assert not no_secret_in(gateway.output, SHOP_IMONGGO), gateway.output[-3000:]


def test_a_scenario_file_with_a_bad_upstream_stops_the_server_with_one_line_and_no_secret(tmp_path: Path) -> None:
    bad = shop("memberpoints", "http://127.0.0.1:9", name="shop")
    bad["upstream"]["credentials"] = {"api_id": "demo-api-id"}
    (tmp_path / "bad.json").write_text(json.dumps({"tenants": [bad]}), encoding="utf-8")
    done = process.run(["serve", "--port", "0", "--database", f"sqlite:///{tmp_path / 'db.sqlite'}",
                        "--scenario", str(tmp_path / "bad.json")], tmp_path)
    assert done.returncode == 1
    assert ("field tenants[0].upstream.credentials.api_key: required (the memberpoints upstream takes api_id, api_key)"
            in done.stderr), done.stderr

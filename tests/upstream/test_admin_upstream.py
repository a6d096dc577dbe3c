"""The admin API over upstream tenants, against a gateway process whose tenant "shop" keeps its points at
an imonggo sandbox process: GET /__admin/upstream (reachable, calls, errors, latency, intent counts), an
imonggo spend whose answer the upstream dropped (never resent: listed at /upstream/unsettled and settled
by a person), and discovering which local member is which upstream customer (by id, then e-mail)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import process
from tests.upstream.servers import call, imonggo_auth, shop, start_gateway, start_vendor

pytestmark = pytest.mark.slow
SPEND = "/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=X-1"
MEMBERS = [
    {"customer_id": 1534, "name": "Juan Cruz", "customer_type_id": 8},  # the upstream's customer 1534: same id
    {"customer_id": 9, "name": "Johnson, here", "email": "TEST@example.com"},  # the upstream's 442531 by e-mail
    {"customer_id": 10, "name": "Nobody", "email": "nobody@example.com"},  # unknown upstream
]
PLAIN = {"name": "plain", "imonggo": {"api_token": "plain-token"}, "members": [{"customer_id": 1}]}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[process.Server, process.Server]]:
    base = tmp_path_factory.mktemp("admin")
    vendor = start_vendor(base / "vendor")
    tenants = [shop("imonggo", vendor.url, members=MEMBERS), shop("pomelo", vendor.url, name="cards"), PLAIN]
    gateway = start_gateway(base / "gateway", tenants)
    try:
        yield vendor, gateway
    finally:
        gateway.stop()
        vendor.stop()


async def upstreams(gateway: process.Server) -> dict[str, dict[str, Any]]:
    status, body, _ = await call("GET", f"{gateway.url}/__admin/upstream")
    assert status == 200
    return {row["tenant"]: row for row in body["upstreams"]}


async def test_each_upstream_tenant_is_listed_with_its_health_and_intents(
    servers: tuple[process.Server, process.Server],
) -> None:
    vendor, gateway = servers
    before = await upstreams(gateway)
    assert set(before) == {"shop", "cards"}  # "plain" keeps its points here
    assert before["cards"] == {
        "tenant": "cards", "dialect": "pomelo", "base_url": vendor.url, "record": False, "reachable": None, "calls": 0,
        "errors": 0, "last_error": None, "latency_ms": {"p50": None, "p95": None, "p99": None},
        "intents": {"open": 0, "unsettled": 0}, "shadow": None}

    status, _, text = await call("GET", f"{gateway.url}/api/customers/1534.xml", headers=imonggo_auth())
    assert status == 200 and "<available_points>30511.0</available_points>" in text
    shop_now = (await upstreams(gateway))["shop"]
    assert shop_now["reachable"] is True and shop_now["calls"] >= 1 and shop_now["errors"] == 0
    assert 0 < shop_now["latency_ms"]["p50"] <= shop_now["latency_ms"]["p95"] <= shop_now["latency_ms"]["p99"]


async def test_an_unclear_imonggo_spend_is_listed_unsettled_and_a_person_settles_it(
    servers: tuple[process.Server, process.Server],
) -> None:
    vendor, gateway = servers
    rule = {"effect": "drop", "when": "after", "dialect": "imonggo", "path": "/api/rewards*", "times": 1}
    assert (await call("POST", f"{vendor.url}/__admin/faults", json=rule))[0] == 201
    status, _, text = await call("POST", gateway.url + SPEND, headers=imonggo_auth())
    assert status == 503 and "<errors>" in text and "not resent" in text  # unavailable, in imonggo's shape

    status, body, _ = await call("GET", f"{gateway.url}/__admin/upstream/unsettled", params={"tenant": "shop"})
    assert status == 200
    [intent] = body["unsettled"]
    assert {k: intent[k] for k in ("tenant", "upstream_id", "direction", "asset", "points", "cause", "value",
                                   "reference", "state", "answered", "settled_by")} == {
        "tenant": "shop", "upstream_id": "1534", "direction": "debit", "asset": "points", "points": "2000.00",
        "cause": "spend", "value": "10.00", "reference": "X-1", "state": "unsettled", "answered": "unavailable",
        "settled_by": None}
    assert intent["key"] and intent["created_at"].endswith("Z")
    assert (await call("GET", f"{gateway.url}/__admin/upstream/unsettled", params={"tenant": "cards"}))[1] == {
        "unsettled": []}
    assert (await call("GET", f"{gateway.url}/__admin/upstream/unsettled", params={"tenant": "nope"}))[0] == 404
    health = (await upstreams(gateway))["shop"]
    assert health["intents"] == {"open": 0, "unsettled": 1} and health["errors"] == 1 and health["reachable"] is False
    assert health["last_error"].startswith(f"POST {vendor.url}/api/rewards.xml?q=spend") and "connection" in health["last_error"]

    settle = f"{gateway.url}/__admin/upstream/unsettled/{intent['id']}/settle"
    for bad, words in [({"applied": "yes", "by": "ops"}, "applied must be true"), ({"applied": True}, "by must name"),
                       ({"applied": True, "by": " "}, "by must name"), ({"applied": True, "by": "ops", "x": 1}, "unknown field 'x'")]:
        status, body, _ = await call("POST", settle, json=bad)
        assert (status, words in body["error"]["message"]) == (400, True), body
    assert (await call("POST", settle, data="not json"))[0] == 400
    for unknown in ("999999", "abc", "0"):
        status, body, _ = await call("POST", f"{gateway.url}/__admin/upstream/unsettled/{unknown}/settle",
                                     json={"applied": True, "by": "ops"})
        assert status == 404 and body["error"]["message"].startswith("no intent"), body

    # The vendor's journal shows the spend did arrive and apply: the person says so.
    status, settled, _ = await call("POST", settle, json={"applied": True, "by": "ops on call"})
    assert status == 200 and (settled["state"], settled["settled_by"]) == ("applied", "ops on call")
    status, again, _ = await call("POST", settle, json={"applied": False, "by": "someone else"})
    assert status == 409 and "not unsettled" in again["error"]["message"]
    assert (await call("GET", f"{gateway.url}/__admin/upstream/unsettled"))[1] == {"unsettled": []}
    assert (await upstreams(gateway))["shop"]["intents"] == {"open": 0, "unsettled": 0}


async def test_discover_links_members_by_id_then_email_and_names_what_it_could_not(
    servers: tuple[process.Server, process.Server],
) -> None:
    _, gateway = servers
    status, found, text = await call("POST", f"{gateway.url}/__admin/tenants/shop/upstream/discover")
    assert status == 200, text
    assert sorted(found["linked"], key=lambda x: x["member"]) == [
        {"member": 1, "upstream_id": "1534", "by": "id"}, {"member": 2, "upstream_id": "442531", "by": "email"}]
    assert found["unmatched_local"] == [{"member": 3, "name": "Nobody", "email": "nobody@example.com"}]
    assert found["unmatched_upstream"] == [{"upstream_id": "445123", "name": "Jason", "email": "Jason@exmapleemail.com"}]

    status, listing, _ = await call("GET", f"{gateway.url}/__admin/members", params={"tenant": "shop"})
    assert status == 200
    assert {m["name"]: m["upstream_id"] for m in listing["members"]} == {
        "Juan Cruz": "1534", "Johnson, here": "442531", "Nobody": None}
    nobody = next(m for m in listing["members"] if m["name"] == "Nobody")
    assert nobody["balances"] == {}  # the upstream does not know this member: listed, without a balance
    johnson = next(m for m in listing["members"] if m["name"] == "Johnson, here")
    assert johnson["balances"]["points"]["posted"] == "120.00"  # the upstream's balance of its customer 442531

    status, again, _ = await call("POST", f"{gateway.url}/__admin/tenants/shop/upstream/discover")
    assert status == 200 and again["linked"] == [] and again["unmatched_upstream"] == found["unmatched_upstream"]


async def test_discover_is_refused_where_it_cannot_be_done(servers: tuple[process.Server, process.Server]) -> None:
    vendor, gateway = servers
    status, body, _ = await call("POST", f"{gateway.url}/__admin/tenants/cards/upstream/discover")
    assert status == 409
    assert body["error"]["message"] == (f"the pomelo upstream at {vendor.url} cannot list its members, so they cannot"
                                        " be discovered; give each member its upstream_id instead")
    status, body, _ = await call("POST", f"{gateway.url}/__admin/tenants/plain/upstream/discover")
    assert status == 400 and body["error"]["message"] == "tenant plain has no upstream to discover members at"
    status, body, _ = await call("POST", f"{gateway.url}/__admin/tenants/nope/upstream/discover")
    assert status == 404 and body["error"]["message"] == "no tenant named 'nope'"

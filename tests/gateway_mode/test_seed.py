"""Issue 11's "done when": the Imonggo seed's two curl commands, sent to a gateway tenant whose points live
at a Pomelo sandbox, answer the seed's own documents (customer 1534 with the upstream's balance; the spend's
<hash>), and the Pomelo sandbox holds the 2000 points burned under the key the gateway derived."""
from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from contract_tests.imonggo.shapes import basic, canonical, fixture
from tests import process
from tests.gateway_mode.dialects import call
from tests.gateway_mode.harness import DEMO, JUAN, Pair, gateway_scenario, new_vendor_tenant, upstream_credentials

pytestmark = pytest.mark.slow

CUSTOMER = "/api/customers/1534.xml"  # the seed's first curl, host changed
SPEND = "/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=X-1"  # its second


@pytest.fixture
async def seeded(session: aiohttp.ClientSession, gateway: process.Server, vendor: process.Server) -> AsyncIterator[Pair]:
    """The demo tenant, under the demo's own imonggo token, declared on the gateway with its points at a
    fresh Pomelo sandbox tenant (a copy of the demo: Juan Cruz has 30511 points there)."""
    vendor_name, vendor_credentials = await new_vendor_tenant(session, vendor.url)
    scenario = gateway_scenario("pomelo", vendor.url, upstream_credentials("pomelo", vendor_credentials))
    tenant = scenario["tenants"][0]
    tenant["name"] = "demo"
    tenant["imonggo"] = copy.deepcopy(DEMO["imonggo"])  # the seed's token, 5c4fc58...
    loaded = await call(session, "POST", f"{gateway.url}/__admin/scenarios", json=scenario)
    assert loaded.status == 201, loaded
    yield Pair("imonggo", "pomelo", session, gateway.url, vendor.url, "demo", vendor_name,
               {"imonggo": {"api_token": DEMO["imonggo"]["api_token"]}}, vendor_credentials, scenario)
    gone = await call(session, "DELETE", f"{gateway.url}/__admin/tenants/demo")
    assert gone.status in (200, 204), gone


async def test_the_seeds_two_curl_commands_through_a_pomelo_upstream(seeded: Pair) -> None:
    p = seeded
    customer = await call(p.session, "GET", p.gateway_url + CUSTOMER, headers=basic())
    assert customer.status == 200, customer
    # The seed's document, with the upstream's balance: the Pomelo sandbox's 30511 points for Juan Cruz.
    assert canonical(customer.text.encode()) == canonical(fixture("customer-1534.xml"))
    assert await p.vendor_points(JUAN) == Decimal("30511")

    spent = await call(p.session, "POST", p.gateway_url + SPEND, headers=basic())

    assert spent.status == 200, spent
    assert canonical(spent.text.encode()) == canonical(fixture("seed-spend-10-X-1.xml"))  # points-spent 2000.0
    assert await p.vendor_points(JUAN) == Decimal("28511")

    # The Pomelo sandbox's journal: one burn of 2000 points for Juan's user, no mint, nothing else written.
    burns = [r for r in await p.vendor_requests(method="POST") if r["path"].startswith("/loyalty/v1/accounts/")]
    assert [r["path"] for r in burns] == ["/loyalty/v1/accounts/points/burn"], burns
    body = burns[0]["request_body"]["text"]
    assert '"2000' in body and (str(JUAN.user_id) in body or str(JUAN.card_id) in body), body
    assert burns[0]["status"] == 200

    # The sandbox's journal names the key the gateway derived for the spend, and the sandbox holds the burn
    # under it: the same burn sent again under that key is answered from its record and moves nothing.
    key = burns[0]["idempotency_key"]
    assert key and "X-1" not in key, burns[0]  # the gateway's own key, not the till's reference
    again = await call(p.session, "POST", f"{p.vendor_url}/loyalty/v1/accounts/points/burn",
                       data=body.encode(), headers={**await p.vendor.auth(), "x-idempotency-key": key,
                                                    "Content-Type": "application/json"})
    assert again.status == 200, again
    assert Decimal(str(again.json()["updated_balance"])) == Decimal("28511")
    assert await p.vendor_points(JUAN) == Decimal("28511")
    assert len([r for r in await p.vendor_requests(method="POST") if r["idempotency_key"] == key]) == 2

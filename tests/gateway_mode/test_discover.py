"""Discovering which gateway member is which upstream member, where the upstream can list its members
(imonggo customers, memberpoints balances): by the id the gateway would use, else by e-mail; what could not
be matched is reported on both sides. Pomelo cannot list its members, and the answer says so."""
from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from tests import process
from tests.gateway_mode.dialects import call, client
from tests.gateway_mode.harness import (
    JOHNSON,
    declare_gateway_tenant,
    gateway_scenario,
    new_vendor_tenant,
    upstream_credentials,
)

pytestmark = pytest.mark.slow


async def declare_without_links(session: aiohttp.ClientSession, gateway: process.Server, vendor: process.Server,
                                upstream: str) -> tuple[str, dict]:
    """Johnson is known to the gateway as member 9001, with the e-mail the vendor has for its 442531, and
    no upstream_id; Juan Cruz has the vendor's own ids."""
    _, vendor_credentials = await new_vendor_tenant(session, vendor.url)
    scenario = gateway_scenario(upstream, vendor.url, upstream_credentials(upstream, vendor_credentials))
    members = scenario["tenants"][0]["members"]
    johnson = next(m for m in members if m["customer_id"] == JOHNSON.customer_id)
    del johnson["upstream_id"]
    johnson["email"] = "test@example.com"
    name, answer = await declare_gateway_tenant(session, gateway.url, scenario)
    assert answer.status == 201, answer
    return name, answer.json()


@pytest.mark.parametrize("upstream", ["imonggo", "memberpoints"])
async def test_discover_links_members_by_id_then_e_mail(
    session: aiohttp.ClientSession, gateway: process.Server, vendor: process.Server, upstream: str
) -> None:
    name, credentials = await declare_without_links(session, gateway, vendor, upstream)

    found = await call(session, "POST", f"{gateway.url}/__admin/tenants/{name}/upstream/discover")

    assert found.status == 200, found
    report = found.json()
    linked = {row["upstream_id"]: row["by"] for row in report["linked"]}
    assert linked.get("442531") == "email", report  # Johnson, by his e-mail
    assert "445123" in {row["upstream_id"] for row in report["unmatched_upstream"]}, report  # Jason: nobody here
    # From now on Johnson's balance is the vendor's 120 for 442531.
    till = client("memberpoints", session, gateway.url, credentials)
    assert till.points(await till.balance(JOHNSON)) == Decimal("120")


async def test_a_pomelo_upstream_cannot_list_its_members(
    session: aiohttp.ClientSession, gateway: process.Server, vendor: process.Server
) -> None:
    name, _ = await declare_without_links(session, gateway, vendor, "pomelo")

    found = await call(session, "POST", f"{gateway.url}/__admin/tenants/{name}/upstream/discover")

    assert found.status == 409, found
    assert "cannot list its members" in found.text and "upstream_id" in found.text, found

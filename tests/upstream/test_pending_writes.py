"""A tenant whose upstream writes are not settled cannot be deleted or reset (the writes would vanish with
it): against a gateway process whose tenant "shop" keeps its points at an imonggo sandbox process, a spend
whose answer the upstream dropped stays unsettled; DELETE /__admin/tenants/shop, a reset of the tenant and
a reset of everything are each refused with a 409 that says how many and where to see them, and change
nothing; once a person has settled the write, the tenant is deleted."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.upstream.servers import call, imonggo_auth, shop, start_gateway, start_vendor

pytestmark = pytest.mark.slow
SPEND = "/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=P-1"
WHERE = "see them with GET /__admin/upstream/unsettled"


async def test_a_tenant_with_an_unsettled_write_is_neither_deleted_nor_reset_until_it_is_settled(
    tmp_path: Path,
) -> None:
    vendor = start_vendor(tmp_path / "vendor")
    gateway = start_gateway(tmp_path / "gateway", [shop("imonggo", vendor.url)])
    try:
        drop = {"effect": "drop", "when": "after", "dialect": "imonggo", "path": "/api/rewards*", "times": 1}
        assert (await call("POST", f"{vendor.url}/__admin/faults", json=drop))[0] == 201
        status, _, text = await call("POST", gateway.url + SPEND, headers=imonggo_auth())
        assert status == 503, text
        # A fault rule of the gateway's own sandbox: a refused reset of everything must not clear it either.
        slow = {"effect": "latency", "when": "before", "dialect": "memberpoints", "path": "/nowhere", "latency_ms": 1}
        assert (await call("POST", f"{gateway.url}/__admin/faults", json=slow))[0] == 201

        refusals = [
            await call("DELETE", f"{gateway.url}/__admin/tenants/shop"),
            await call("POST", f"{gateway.url}/__admin/reset", json={"tenant": "shop"}),
            await call("POST", f"{gateway.url}/__admin/reset"),
        ]
        for status, body, text in refusals:
            assert status == 409, text
            message = body["error"]["message"]
            assert "tenant shop: 0 open, 1 unsettled" in message and WHERE in message, message
            assert "would lose them" in message
        _, rules, _ = await call("GET", f"{gateway.url}/__admin/faults")
        assert len(rules["faults"]) == 1
        _, entries, _ = await call("GET", f"{gateway.url}/__admin/upstream/unsettled", params={"tenant": "shop"})
        [intent] = entries["unsettled"]

        settle = f"{gateway.url}/__admin/upstream/unsettled/{intent['id']}/settle"
        assert (await call("POST", settle, json={"applied": True, "by": "ops"}))[0] == 200
        status, body, text = await call("DELETE", f"{gateway.url}/__admin/tenants/shop")
        assert (status, body) == (200, {"deleted": "shop"}), text
    finally:
        gateway.stop()
        vendor.stop()

"""POST /__admin/provider-states: a contract case's state set up through its dialect (the demo scenario,
or a memberpoints seed with dated movements and a frozen clock), answered with the tenant's credentials;
a bad request refused whole in the admin error shape, with nothing made, deleted or moved."""
from __future__ import annotations

from typing import Any

import pytest

from gateway.contracts.cases import PINNED
from gateway.dialects.memberpoints import DIALECT as MEMBERPOINTS

SEED = {"cid": 1234, "clock": "2021-12-20 16:00:30.834896",
        "members": [{"mbr_id": 1234, "name": "Member 1234", "email": "m1234@example.com", "balance": "5.00"}],
        "adjustments": [{"mbr_id": 1234, "points": "50.00", "note": "test note", "date": "2021-12-20 16:00:30.834896"}],
        "order_movements": [{"mbr_id": 1234, "type": "earned", "points": "0.90", "value": "9.00", "note": "order",
                             "date": "2021-12-23 07:08:34.512266"}]}


async def _tenants(client: Any) -> list[str]:
    return sorted(t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"])


async def test_a_seed_becomes_a_tenant_with_its_movements_and_a_frozen_clock(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.post("/__admin/provider-states", json={"dialect": "memberpoints", "state": SEED,
                                                                    "tenant": "case-1"})
    assert response.status == 200, await response.text()
    made = await response.json()
    assert made["name"] == "case-1" and made["members"] == 1 and made["memberpoints"]["cid"] == 1234
    auth = {"apiID": made["memberpoints"]["api_id"], "apiKey": made["memberpoints"]["api_key"]}
    history = await (await client.get("/webapps/api/memberpoints?includeOrders=1&mbr_id=1234", headers=auth)).json()
    assert [row["adjustmentnote"] for row in history["data"]] == ["Opening balance", "test note", "order"]
    assert history["data"][1]["adjustdate"] == "2021-12-20 16:00:30.834896"
    clock = await (await client.get("/__admin/clock")).json()
    assert clock["frozen_at"] == "2021-12-20T16:00:30.834896Z"


async def test_the_named_tenant_is_replaced_and_the_clock_is_real_again(sandbox_client) -> None:
    client = await sandbox_client()
    first = await (await client.post("/__admin/provider-states", json={
        "dialect": "memberpoints", "state": SEED, "tenant": "case-1"})).json()
    again = await client.post("/__admin/provider-states", json={
        "dialect": "imonggo", "state": {"scenario": "demo"}, "tenant": "case-1"})
    assert again.status == 200
    body = await again.json()
    assert body["imonggo"]["api_token"] and body["memberpoints"]["api_id"] != first["memberpoints"]["api_id"]
    assert await _tenants(client) == ["case-1", "demo"]
    assert (await (await client.get("/__admin/clock")).json())["frozen_at"] is None
    token = {"Authorization": "Basic " + __import__("base64").b64encode(f"{body['imonggo']['api_token']}:X".encode()).decode()}
    assert (await client.get("/api/customers/1534.xml", headers=token)).status == 200


async def test_without_a_tenant_name_a_fresh_one_is_made(sandbox_client) -> None:
    client = await sandbox_client()
    made = await (await client.post("/__admin/provider-states", json={"dialect": "pomelo",
                                                                       "state": {"scenario": "demo"}})).json()
    assert made["name"].startswith("demo-") and made["pomelo"]["client_id"] != "demo-client-id"


@pytest.mark.parametrize(("body", "message"), [
    ({"dialect": "nobody", "state": {}}, "dialect must be one of imonggo, memberpoints, pomelo"),
    ({"state": {"scenario": "demo"}}, "dialect must be one of"),
    ({"dialect": "imonggo"}, "state must be an object"),
    ({"dialect": "imonggo", "state": ["demo"]}, "state must be an object"),
    ({"dialect": "imonggo", "state": {"scenario": "other"}}, "imonggo cases know one state"),
    ({"dialect": "pomelo", "state": {"scenario": "demo"}, "tenants": "x"}, "unknown field(s) tenants"),
    ({"dialect": "pomelo", "state": {"scenario": "demo"}, "tenant": 7}, "tenant must be a tenant name"),
    ({"dialect": "memberpoints", "state": {"members": []}}, "state.cid"),
    ({"dialect": "memberpoints", "state": {**SEED, "colour": "red"}}, "unknown field(s) colour"),
    ({"dialect": "memberpoints", "state": {**SEED, "clock": "yesterday"}}, "state.clock: not a UTC time"),
    ({"dialect": "memberpoints", "state": {**SEED, "adjustments": [{"mbr_id": 99, "points": "1", "date": SEED["clock"]}]}},
     "state.adjustments[0].mbr_id: not one of the state's members"),
    ({"dialect": "memberpoints", "state": {**SEED, "order_movements": [{**SEED["order_movements"][0], "type": "gift"}]}},
     "state.order_movements[0].type"),
    ({"dialect": "memberpoints", "state": {**SEED, "members": [{**SEED["members"][0], "balance": "lots"}]}},
     "state.members[0].balance: not a decimal"),
])
async def test_a_bad_request_is_refused_whole(sandbox_client, body: dict[str, Any], message: str) -> None:
    client = await sandbox_client()
    await client.post("/__admin/provider-states", json={"dialect": "memberpoints", "state": SEED, "tenant": "kept"})
    await client.put("/__admin/clock", json={"frozen_at": "2030-01-01T00:00:00Z"})
    before = await _tenants(client)
    response = await client.post("/__admin/provider-states", json={**body, "tenant": "kept"} if "tenant" not in body
                                 else body)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["status"] == 400 and message in error["message"], error
    assert await _tenants(client) == before  # "kept" is not deleted: the state was refused first
    assert (await (await client.get("/__admin/clock")).json())["frozen_at"] == "2030-01-01T00:00:00Z"


async def test_a_movement_the_ledger_refuses_takes_the_tenant_down_again(sandbox_client) -> None:
    client = await sandbox_client()
    state = {**SEED, "order_movements": [{**SEED["order_movements"][0], "type": "redeemed", "points": "999999.00"}]}
    response = await client.post("/__admin/provider-states", json={"dialect": "memberpoints", "state": state,
                                                                    "tenant": "overdrawn"})
    assert response.status == 400, await response.text()
    assert (await response.json())["error"]["message"].startswith("state: ")
    assert "overdrawn" not in await _tenants(client)


async def test_a_body_that_is_not_json_is_refused(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.post("/__admin/provider-states", data=b"{", headers={"Content-Type": "application/json"})
    assert response.status == 400 and "error" in await response.json()


def test_every_pinned_memberpoints_seed_is_a_valid_state() -> None:
    assert MEMBERPOINTS.cases is not None
    cases = MEMBERPOINTS.cases.load(PINNED / "memberpoints" / "cases.json")
    for case in cases:
        assert MEMBERPOINTS.cases.provider_state(case.state).scenario["tenants"][0]["memberpoints"]["cid"] == case.state["cid"]


@pytest.mark.parametrize("where", ["create_member", "adjust"])
async def test_any_failure_half_way_leaves_nothing_half_made(sandbox_client, monkeypatch: pytest.MonkeyPatch,
                                                             where: str) -> None:
    """A failure inside the scenario's build (a member) or the state's follow-up (a dated movement), of any
    kind, takes the new tenant down again and answers in the admin error shape."""
    from gateway.ledger import Ledger

    client = await sandbox_client()
    real = getattr(Ledger, where)
    calls = 0

    async def fails_once_started(self: Ledger, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 1 or where == "adjust":
            raise RuntimeError("the store went away")
        return await real(self, **kwargs)

    monkeypatch.setattr(Ledger, where, fails_once_started)
    state = {**SEED, "members": [*SEED["members"], {**SEED["members"][0], "mbr_id": 99, "email": "m99@example.com"}]}
    response = await client.post("/__admin/provider-states", json={"dialect": "memberpoints", "state": state,
                                                                    "tenant": "half"})
    assert response.status == 500, await response.text()
    assert "error" in await response.json()
    assert calls >= 1
    assert "half" not in await _tenants(client)


async def test_two_set_ups_of_one_name_at_once_both_finish(sandbox_client) -> None:
    import asyncio

    client = await sandbox_client()
    body = {"dialect": "memberpoints", "state": SEED, "tenant": "raced"}
    first, second = await asyncio.gather(client.post("/__admin/provider-states", json=body),
                                         client.post("/__admin/provider-states", json=body))
    assert (first.status, second.status) == (200, 200), (await first.text(), await second.text())
    assert (await _tenants(client)).count("raced") == 1

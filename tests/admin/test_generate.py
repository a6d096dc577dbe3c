"""POST /__admin/tenants {"generate": N, "name": ..., "seed": S}: a tenant of N synthetic members whose
credentials come back as for any fresh tenant; N bounded on this path; every mistake a 400 in the
admin's shape that makes nothing."""
from __future__ import annotations

import dataclasses

import base64
from typing import Any

import pytest

from gateway.app import DIALECT_LIST

from gateway.admin.generated import HTTP_LIMIT, generate_tenant
from gateway.ledger import UnknownTenant


async def refused(response: Any, words: str, status: int = 400) -> None:
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["error"]["status"] == status and words in body["error"]["message"], body


async def tenant_names(client: Any) -> list[str]:
    return [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]]


async def test_a_generated_tenant_answers_with_its_credentials(app_client: Any) -> None:
    client = await app_client()
    response = await client.post("/__admin/tenants", json={"generate": 40, "name": "synth", "seed": 5})
    assert response.status == 201, await response.text()
    made = await response.json()
    assert made["name"] == "synth" and made["members"] == 40
    assert set(made) >= {"imonggo", "memberpoints", "pomelo"}
    shown = await (await client.get("/__admin/tenants/synth")).json()
    assert shown["members"] == 40
    token = base64.b64encode(f"{made['imonggo']['api_token']}:X".encode()).decode()
    listed = await client.get("/api/customers.json", headers={"Authorization": f"Basic {token}"})
    assert listed.status == 200, await listed.text()
    assert len(await listed.json()) > 0
    audit = await (await client.get("/__admin/audit")).json()
    assert audit["ok"] is True, audit


async def test_the_same_seed_makes_the_same_members(app_client: Any) -> None:
    client = await app_client()
    for name in ("a", "b"):
        assert (await client.post("/__admin/tenants", json={"generate": 5, "name": name, "seed": 9})).status == 201
    listed = [(await (await client.get("/__admin/members", params={"tenant": n})).json())["members"] for n in ("a", "b")]
    same = [[{k: v for k, v in m.items() if k not in ("tenant", "id")} for m in members] for members in listed]
    assert same[0] == same[1] and len(same[0]) == 5


@pytest.mark.parametrize(("body", "words"), [
    ({"generate": 0}, "positive whole number"),
    ({"generate": -5}, "positive whole number"),
    ({"generate": "10"}, "positive whole number"),
    ({"generate": True}, "positive whole number"),
    ({"generate": 2.5}, "positive whole number"),
    ({"generate": HTTP_LIMIT + 1}, f"at most {HTTP_LIMIT}"),
    ({"generate": 3, "seed": "x"}, "seed must be a whole number"),
    ({"seed": 3}, "seed goes with generate"),
    ({"generate": 3, "scenario": "demo"}, "scenario and tenant do not go with it"),
    ({"generate": 3, "name": 7}, "name must be a string"),
    ({"generate": 3, "members": []}, "unknown field(s) members"),
])
async def test_a_bad_request_is_a_400_and_makes_nothing(app_client: Any, body: dict[str, Any], words: str) -> None:
    client = await app_client()
    before = await tenant_names(client)
    await refused(await client.post("/__admin/tenants", json=body), words)
    assert await tenant_names(client) == before


async def test_a_name_taken_is_a_409(app_client: Any) -> None:
    client = await app_client()
    await refused(await client.post("/__admin/tenants", json={"generate": 3, "name": "demo"}), "exists already", 409)


async def test_a_generation_that_fails_part_way_leaves_no_tenant_behind(ledger: Any) -> None:
    def failing(rng: Any, person: Any) -> dict[str, Any]:
        if person.number == 3:
            raise RuntimeError("the maker broke")
        return {}

    with pytest.raises(RuntimeError, match="the maker broke"):
        await generate_tenant(ledger, count=10, name="half", seed=1,
                              dialects=[dataclasses.replace(d, synthetic=failing) for d in DIALECT_LIST])
    with pytest.raises(UnknownTenant):
        await ledger.tenant("half")


async def test_a_reset_makes_the_same_members_again(app_client: Any) -> None:
    client = await app_client()
    made = await (await client.post("/__admin/tenants", json={"generate": 12, "name": "again", "seed": 4})).json()
    before = (await (await client.get("/__admin/members", params={"tenant": "again"})).json())["members"]
    token = base64.b64encode(f"{made['imonggo']['api_token']}:X".encode()).decode()
    extra = await client.post("/api/customers.json", json={"customer": {"name": "Extra"}},
                              headers={"Authorization": f"Basic {token}"})
    assert extra.status in (200, 201), await extra.text()
    assert (await (await client.get("/__admin/tenants/again")).json())["members"] == 13
    reset = await client.post("/__admin/reset", json={"tenant": "again"})
    assert reset.status == 200, await reset.text()
    after = (await (await client.get("/__admin/members", params={"tenant": "again"})).json())["members"]
    same = [[{k: v for k, v in m.items() if k not in ("id", "updated_at")} for m in ms] for ms in (before, after)]
    assert same[0] == same[1] and len(same[0]) == 12
    audit = await (await client.get("/__admin/audit")).json()
    assert audit["ok"] is True, audit

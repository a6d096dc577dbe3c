"""GET /__admin/members as the console pages it at a million members: a page reads only its own rows (one
count per tenant), member= reads only the members one identity names, q still scans; each member's balance
as each dialect's own read shows it; and GET /__admin/members/actions, the requests a client sends to credit,
debit or reward a member, which work when sent as given."""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from gateway.keys import LEDGER
from tests.admin.real import DEMO as DEMO_CREDENTIALS, imonggo_auth, points, seen_points
from tests.support import FIXTURES

DEMO = json.loads((FIXTURES / "scenarios" / "demo.json").read_text(encoding="utf-8"))


def copy_of_demo(name: str, **members: dict[str, Any]) -> dict[str, Any]:
    """The demo's tenant under another name and credentials; `members` replace its members (by name)."""
    spec = copy.deepcopy(DEMO["tenants"][0])
    spec.update(name=name, imonggo={"api_token": f"{name}-token"}, pomelo={"client_id": f"{name}-client", "client_secret": "s"},
                memberpoints={"api_id": f"{name}-id", "api_key": f"{name}-key", "cid": 7})
    if members:
        spec["members"] = [{"name": who, **fields} for who, fields in members.items()]
    return {"tenants": [spec]}


def record_pages(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Every ledger.members call the app makes from now on: (tenant, offset, limit)."""
    ledger = client.app[LEDGER]
    calls: list[tuple[Any, ...]] = []
    real = ledger.members

    async def members(*, tenant: Any, offset: int = 0, limit: int = 100, **kw: Any) -> Any:
        after = kw.get("after_customer_no")
        calls.append((tenant.name, offset, limit, *([after] if after is not None else [])))
        return await real(tenant=tenant, offset=offset, limit=limit, **kw)

    monkeypatch.setattr(ledger, "members", members)
    return calls


async def listing(client: Any, **params: str) -> tuple[int, Any]:
    response = await client.get("/__admin/members", params=params)
    return response.status, await response.json()


async def test_a_page_reads_its_own_rows_only_across_tenants(sandbox_client, monkeypatch) -> None:
    client = await sandbox_client()
    assert (await client.post("/__admin/scenarios", json=copy_of_demo("shop"))).status == 201
    calls = record_pages(client, monkeypatch)

    status, page = await listing(client, tenant="demo", offset="1", limit="1")
    assert status == 200 and [m["name"] for m in page["members"]] == ["Johnson"] and page["total"] == 3
    assert calls == [("demo", 1, 1)]

    calls.clear()
    status, page = await listing(client, offset="2", limit="2")  # the last of demo's, the first of shop's
    assert [(m["tenant"], m["name"]) for m in page["members"]] == [("demo", "Jason"), ("shop", "Juan Cruz")]
    assert page["total"] == 6 and calls == [("demo", 2, 1), ("shop", 0, 1)]

    calls.clear()
    status, page = await listing(client, offset="6")
    assert (status, page["members"], page["total"], calls) == (200, [], 6, [])
    status, page = await listing(client, limit="0")
    assert (page["members"], page["total"], calls) == ([], 6, [])


async def test_after_pages_by_the_index_across_tenants_without_counting(sandbox_client, monkeypatch) -> None:
    client = await sandbox_client()
    assert (await client.post("/__admin/scenarios", json=copy_of_demo("shop"))).status == 201
    calls = record_pages(client, monkeypatch)
    counts: list[str] = []
    ledger = client.app[LEDGER]
    real_count = ledger.count_members

    async def count_members(*, tenant: Any, **kw: Any) -> int:
        counts.append(tenant.name)
        return await real_count(tenant=tenant, **kw)

    monkeypatch.setattr(ledger, "count_members", count_members)
    status, page = await listing(client, limit="2")
    assert status == 200 and "total" not in page and page["next"] == "demo:442531"
    assert [m["name"] for m in page["members"]] == ["Juan Cruz", "Johnson"]
    status, page = await listing(client, after=page["next"], limit="2")  # the last of demo's, the first of shop's
    assert [(m["tenant"], m["name"]) for m in page["members"]] == [("demo", "Jason"), ("shop", "Juan Cruz")]
    assert page["next"] == "shop:1534"
    status, page = await listing(client, after=page["next"], limit="2")
    assert [m["name"] for m in page["members"]] == ["Johnson", "Jason"] and page["next"] == "shop:445123"
    status, page = await listing(client, after=page["next"], limit="2")
    assert (page["members"], page["next"]) == ([], None)
    assert counts == [] and all(offset == 0 for _, offset, *_ in calls)
    assert calls[:2] == [("demo", 0, 2), ("demo", 0, 2, 442531)] and calls[2] == ("shop", 0, 1)

    status, page = await listing(client, tenant="demo", after="1534")  # one tenant: a plain customer id
    assert [m["name"] for m in page["members"]] == ["Johnson", "Jason"] and page["next"] is None
    status, page = await listing(client, tenant="demo", limit="1")
    assert page["next"] == "1534"
    status, page = await listing(client, tenant="demo", count="true", limit="1")
    assert page["total"] == 3 and counts == ["demo"]


@pytest.mark.parametrize("params, says", [
    ({"after": "x"}, "after must be a customer id"),
    ({"after": "demo:-1"}, "after must be a customer id"),
    ({"after": "nobody:12"}, "which this listing does not list"),
    ({"after": "1534", "offset": "1"}, "not with member, q or offset"),
    ({"after": "1534", "q": "juan"}, "not with member, q or offset"),
    ({"count": "maybe"}, "count must be true or false"),
])
async def test_a_bad_cursor_is_refused(sandbox_client, params, says) -> None:
    client = await sandbox_client()
    got, answer = await listing(client, **params)
    assert got == 400 and says in answer["error"]["message"], answer


async def test_member_reads_only_the_members_one_identity_names(sandbox_client, monkeypatch) -> None:
    client = await sandbox_client()
    assert (await client.post("/__admin/scenarios", json=copy_of_demo("shop"))).status == 201
    calls = record_pages(client, monkeypatch)
    for identity in ("1534", " 1534 ", "usr-2ay34WhGUtCeoewakpeJTRuVWlx", "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"):
        status, found = await listing(client, tenant="demo", member=identity)
        assert status == 200 and [m["name"] for m in found["members"]] == ["Juan Cruz"] and found["total"] == 1, identity
    status, found = await listing(client, tenant="demo", member="test@example.com")
    assert [m["imonggo"]["customer_id"] for m in found["members"]] == [442531]
    _, juan = await listing(client, tenant="demo", member="1534")
    status, found = await listing(client, tenant="demo", member=f"id:{juan['members'][0]['id']}")
    assert status == 200 and [m["name"] for m in found["members"]] == ["Juan Cruz"]
    status, found = await listing(client, member="1534")  # no tenant named: each tenant's, one point read each
    assert [(m["tenant"], m["name"]) for m in found["members"]] == [("demo", "Juan Cruz"), ("shop", "Juan Cruz")]
    assert calls == []  # never a page of the ledger

    status, found = await listing(client, tenant="demo", member="9999")
    assert (status, found["members"], found["total"]) == (200, [], 0)
    status, found = await listing(client, member="nobody@example.com")
    assert (status, found["members"], found["total"]) == (200, [], 0)


async def test_a_number_is_a_customer_id_or_an_mbr_id(sandbox_client) -> None:
    client = await sandbox_client()
    scenario = copy_of_demo("numbers", Ann={"customer_id": 10, "mbr_id": 20}, Bob={"customer_id": 20, "mbr_id": 30})
    response = await client.post("/__admin/scenarios", json=scenario)
    assert response.status == 201, await response.text()
    status, found = await listing(client, tenant="numbers", member="20")
    assert [m["name"] for m in found["members"]] == ["Bob", "Ann"]  # customer id 20 first, then mbr_id 20
    status, found = await listing(client, tenant="numbers", member="30")
    assert [m["name"] for m in found["members"]] == ["Bob"]
    status, found = await listing(client, tenant="numbers", member="20", offset="1", limit="1")
    assert [m["name"] for m in found["members"]] == ["Ann"] and found["total"] == 2


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"member": "not an identity"}, 400, "member must be a customer id"),
    ({"member": "9" * 30}, 400, "member must be a customer id"),
    ({"member": "id:x"}, 400, "member must be a customer id"),
    ({"member": "1534", "q": "juan"}, 400, "not both"),
    ({"member": "1534", "tenant": "nobody"}, 404, "no tenant named 'nobody'"),
    ({"tenant": "nobody"}, 404, "no tenant named 'nobody'"),
    ({"offset": "-1"}, 400, "offset must be a whole number"),
    ({"limit": "10001"}, 400, "limit must be a whole number"),
])
async def test_a_bad_listing_is_refused_in_the_admin_shape(sandbox_client, params, status, says) -> None:
    client = await sandbox_client()
    got, answer = await listing(client, **params)
    assert got == status and says in answer["error"]["message"] and answer["error"]["status"] == status


async def test_q_still_scans_names_emails_and_ids(sandbox_client) -> None:
    client = await sandbox_client()
    status, found = await listing(client, q="EXAMPLE.com")
    assert [m["name"] for m in found["members"]] == ["Johnson"] and found["total"] == 1
    status, found = await listing(client, q="usr-2ay34", offset="1", limit="1")  # every member's user id
    assert [m["name"] for m in found["members"]] == ["Johnson"] and found["total"] == 3


async def test_q_walks_the_members_by_keyset_not_by_offset(sandbox_client, monkeypatch) -> None:
    client = await sandbox_client()
    made = await client.post("/__admin/tenants", json={"name": "big", "generate": 2001})
    assert made.status == 201, await made.text()
    calls = record_pages(client, monkeypatch)
    status, found = await listing(client, tenant="big", q="@", limit="5")
    scan = list(calls)
    assert status == 200 and len(found["members"]) == 5
    every = [m async for m in _every(client, "big")]
    assert found["total"] == sum(1 for m in every if m["memberpoints"]["mbr_email"]) and len(every) == 2001
    numbers = [m["imonggo"]["customer_id"] for m in every]
    assert scan == [("big", 0, 1000), ("big", 0, 1000, numbers[999]), ("big", 0, 1000, numbers[1999])]


async def _every(client: Any, tenant: str) -> Any:
    """The tenant's members as the listing pages them (by customer id)."""
    for offset in range(0, 2001, 1000):
        _, page = await listing(client, tenant=tenant, offset=str(offset), limit="1000")
        for member in page["members"]:
            yield member


async def test_a_keyset_page_is_in_customer_number_order_only(sandbox_client) -> None:
    client = await sandbox_client()
    ledger = client.app[LEDGER]
    demo = await ledger.tenant("demo")
    first = await ledger.members(tenant=demo, limit=2)
    rest = await ledger.members(tenant=demo, limit=2, after_customer_no=first.items[-1].customer_no)
    assert [m.name for m in [*first.items, *rest.items]] == ["Juan Cruz", "Johnson", "Jason"]
    assert (await ledger.members(tenant=demo, after_customer_no=445123)).items == []
    with pytest.raises(ValueError, match="customer_no order only"):
        await ledger.members(tenant=demo, order_by="id", after_customer_no=1)


async def test_each_dialects_balance_is_what_its_own_read_shows(sandbox_client) -> None:
    client = await sandbox_client()
    _, found = await listing(client, tenant="demo", member="1534")
    (juan,) = found["members"]
    assert juan["dialect_balances"] == {"imonggo": {"available_points": "30511.0"},
                                        "memberpoints": {"mbr_points_balance": "30511.00"},
                                        "pomelo": {"points": "30511", "cashback": "0", "miles": "0"}}
    for dialect, fields in juan["dialect_balances"].items():
        first = next(iter(fields.values()))
        assert Decimal(first) == await seen_points(client, dialect)


async def actions_of(client: Any, **params: str) -> tuple[int, Any]:
    response = await client.get("/__admin/members/actions", params=params)
    return response.status, await response.json()


async def send(client: Any, action: dict[str, Any], amount: str) -> Any:
    """The action's request as the console sends it: the amount (and a reference) put in, headers as given."""
    path = action["path"].replace("{amount}", amount).replace("{reference}", "test-ref")
    body = None if action["body"] is None else action["body"].replace("{amount}", amount).encode()
    return await client.request(action["method"], ("/__admin" if action["admin"] else "") + path,
                                data=body, headers=action["headers"])


async def test_the_actions_offered_are_requests_a_client_makes_and_they_work(sandbox_client) -> None:
    client = await sandbox_client()
    status, answer = await actions_of(client, tenant="demo", member="1534")
    assert status == 200 and answer["tenant"] == "demo"
    offered = {(a["dialect"], a["kind"]): a for a in answer["actions"]}
    assert set(offered) == {("imonggo", "debit"), ("memberpoints", "credit"), ("memberpoints", "debit"), ("pomelo", "purchase")}
    assert offered[("memberpoints", "debit")]["headers"]["apiKey"] == DEMO_CREDENTIALS["memberpoints"]["api_key"]
    assert not any(a["admin"] for a in answer["actions"] if a["dialect"] != "pomelo")

    before = Decimal(await points(client))
    response = await send(client, offered[("memberpoints", "debit")], "25")
    assert response.status == 200, await response.text()
    response = await send(client, offered[("memberpoints", "credit")], "5.50")
    assert response.status == 200, await response.text()
    response = await send(client, offered[("imonggo", "debit")], "1")  # 200 points a 1.00 for Juan
    assert response.status == 200, await response.text()
    assert Decimal(await points(client)) == before - 25 + Decimal("5.50") - 200

    refused = await send(client, offered[("imonggo", "debit")], "999999999")
    assert refused.status == 422 and "Insufficient points" in await refused.text()
    purchase = await send(client, offered[("pomelo", "purchase")], "1500.50")
    assert purchase.status == 201, await purchase.text()
    assert (await purchase.json())["rewards"][0]["status"] == "PENDING"


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"tenant": "demo"}, 400, "name the member"),
    ({"tenant": "demo", "member": ""}, 400, "name the member"),
    ({"tenant": "demo", "member": "not an identity"}, 400, "member must be a customer id"),
    ({"tenant": "demo", "member": "9999"}, 404, "9999"),
    ({"tenant": "nobody", "member": "1534"}, 404, "no tenant named 'nobody'"),
])
async def test_bad_actions_requests_are_refused(sandbox_client, params, status, says) -> None:
    client = await sandbox_client()
    got, answer = await actions_of(client, **params)
    assert got == status and says in answer["error"]["message"], answer


async def test_actions_need_a_tenant_named_among_several_and_a_live_member(sandbox_client) -> None:
    client = await sandbox_client()
    assert (await client.post("/__admin/scenarios", json=copy_of_demo("shop"))).status == 201
    status, answer = await actions_of(client, member="1534")
    assert status == 400 and "name the tenant" in answer["error"]["message"]
    status, answer = await actions_of(client, tenant="shop", member="1534")
    assert status == 200 and {a["headers"].get("apiID") for a in answer["actions"]} >= {"shop-id"}

    deleted = await client.delete("/api/customers/442531.json", headers=imonggo_auth("shop-token"))
    assert deleted.status == 200, await deleted.text()
    status, answer = await actions_of(client, tenant="shop", member="442531")
    assert status == 404
    _, listed = await listing(client, tenant="shop", member="442531")  # the listing still shows it, deleted
    assert [m["deleted"] for m in listed["members"]] == [True]

"""GET /webapps/api/memberpointsbalances ("the points balances of all members or ... a single mbr_id") and
offset/pageSize paging on both GET endpoints: every row of the tenant exactly once, in order, never another
tenant's rows; pageSize defaults to 200 and is clamped to 200."""
from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient

from gateway.ledger import By, Identity
from tests.support import ClientFactory

from .helpers import BALANCES, DEMO, POINTS, get, headers, ledger_of, tenant_spec

NUMBERS = [3, 17, 5, 250, 8, 1000, 42, 99, 12, 7, 64, 31, 2, 600, 45, 77, 18, 19, 20, 21, 22, 23, 24]


@pytest.fixture
async def client(app_client: ClientFactory) -> TestClient:
    ours = [{"mbr_id": n, "customer_id": n, "name": f"M{n}", "email": f"m{n}@example.com",
             "balances": {"points": f"{n}.50"}} for n in NUMBERS]
    theirs = [{"mbr_id": n, "customer_id": n, "name": f"Other{n}", "balances": {"points": "1"}} for n in (1, 4, 6, 9, 500)]
    return await app_client({"tenants": [tenant_spec("ours", "ours", 101, ours), tenant_spec("theirs", "theirs", 202, theirs)]})


async def walk(client: TestClient, path: str, size: int, api_id: str = "ours") -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    offset = 0
    while True:
        status, body = await get(client, path, auth=headers(api_id), offset=offset, pageSize=size)
        assert status == 200, body
        assert (body["offset"], body["pageSize"], body["resultCount"]) == (offset, size, len(body["data"]))
        rows.extend(body["data"])
        if body["resultCount"] < size:
            return rows
        offset += size


async def test_the_documented_envelope_and_rows(client: TestClient) -> None:
    status, body = await get(client, BALANCES, auth=headers("ours"), mbr_id=42)
    assert status == 200
    assert body == {"endPoint": "memberpointsbalances", "resultCount": 1, "offset": 0,
                    "data": [{"mbr_email": "m42@example.com", "mbr_name": "M42", "mbr_id": 42, "mbr_points_balance": "42.50"}],
                    "success": True, "pageSize": 200}
    assert list(body) == ["endPoint", "resultCount", "offset", "data", "success", "pageSize"]
    status, body = await get(client, BALANCES, auth=headers("ours"), mbr_id=4)  # another tenant's member
    assert status == 200 and body["data"] == [] and body["resultCount"] == 0


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 22, 23, 24, 200])
async def test_walking_balances_with_any_page_size(client: TestClient, size: int) -> None:
    rows = await walk(client, BALANCES, size)
    assert [r["mbr_id"] for r in rows] == sorted(NUMBERS)
    assert all(r["mbr_points_balance"] == f"{r['mbr_id']}.50" for r in rows)
    assert [r["mbr_id"] for r in await walk(client, BALANCES, size, "theirs")] == [1, 4, 6, 9, 500]


@pytest.mark.parametrize("size", [1, 4, 10, 23, 200])
async def test_walking_the_history_with_any_page_size(client: TestClient, size: int) -> None:
    ledger = ledger_of(client)
    tenant = await ledger.tenant("ours")
    for n in NUMBERS[:6]:
        await ledger.adjust(tenant=tenant, member=By(Identity.MEMBER_NO, n), amount=Decimal("1"), note=f"extra {n}")
    whole = await walk(client, POINTS, 200)
    assert len(whole) == len(NUMBERS) + 6 and {r["cid"] for r in whole} == {101}
    ids = [r["id"] for r in whole]
    assert ids == sorted(set(ids))
    assert await walk(client, POINTS, size) == whole
    assert all(r["cid"] == 202 for r in await walk(client, POINTS, size, "theirs"))


async def test_page_size_is_clamped_to_200_and_says_so(app_client: ClientFactory) -> None:
    members = [{"mbr_id": n, "customer_id": n, "name": f"M{n}"} for n in range(1, 206)]
    client = await app_client({"tenants": [tenant_spec("big", "big", 7, members)]})
    status, body = await get(client, BALANCES, auth=headers("big"), pageSize=1000)
    assert status == 200 and body["pageSize"] == 200 and body["resultCount"] == 200
    assert body["data"][0]["mbr_points_balance"] == "0.00"  # members without movements are listed at zero
    status, body = await get(client, BALANCES, auth=headers("big"))
    assert body["pageSize"] == 200 and body["resultCount"] == 200
    status, body = await get(client, BALANCES, auth=headers("big"), offset=200)
    assert [r["mbr_id"] for r in body["data"]] == list(range(201, 206))
    status, body = await get(client, BALANCES, auth=headers("big"), offset=5000)
    assert status == 200 and body["data"] == [] and body["offset"] == 5000


async def test_the_demo_balances(app_client: ClientFactory) -> None:
    client = await app_client()
    status, body = await get(client, BALANCES, auth=DEMO)
    assert [(r["mbr_id"], r["mbr_points_balance"]) for r in body["data"]] == [
        (1534, "30511.00"), (442531, "120.00"), (445123, "50.00")
    ]


async def test_another_tenants_members_and_adjustments_are_out_of_reach(client: TestClient) -> None:
    theirs = await ledger_of(client).tenant("theirs")
    made = await ledger_of(client).adjust(tenant=theirs, member=By(Identity.MEMBER_NO, 500), amount=Decimal("3"))
    status, body = await get(client, POINTS, auth=headers("ours"), id=made.entry.id)
    assert status == 404 and body["success"] is False
    response = await client.post(POINTS, headers=headers("ours"), json={"mbr_id": 500, "adjustpoints": 1})
    assert response.status == 400 and (await response.json())["message"] == "Member not found"
    response = await client.post(POINTS, headers=headers("ours"), json={"id": made.entry.id, "adjustpoints": 0})
    assert response.status == 404
    status, body = await get(client, POINTS, auth=headers("ours"), mbr_id=500)
    assert status == 200 and body["data"] == []
    (row,) = (await ledger_of(client).balances(tenant=theirs, member_no=500)).items
    assert row.balance == Decimal("4.00")

"""POST /webapps/api/memberpoints: "To create a new entry use POST method and you must include the mbr_id
[or mbr_email] ... You can also provide negative values". With `id` it updates that adjustment."""
from __future__ import annotations

from decimal import Decimal

from gateway.ledger import Asset, By, Identity
from tests.support import ClientFactory

from .helpers import DEMO, POINTS, demo_tenant, get, ledger_of, post


async def balance_of(client, member_no: int) -> Decimal:  # type: ignore[no-untyped-def]
    tenant = await demo_tenant(client)
    found = await ledger_of(client).balance(tenant=tenant, member=By(Identity.MEMBER_NO, member_no))
    return found[Asset.POINTS].posted


async def test_the_documented_example_adds_ten_points_and_returns_the_saved_row(app_client: ClientFactory) -> None:
    client = await app_client()
    status, body = await post(client, {"mbr_id": 442531, "adjustpoints": 10, "adjustmentnote": "Product refund through points"})
    assert status == 200
    row = body["data"]
    assert list(body) == ["endPoint", "resultCount", "data", "success"]
    assert (body["endPoint"], body["resultCount"], body["success"]) == ("memberpoints", 1, True)
    assert list(row) == ["adjustmentnote", "pointsadjustid", "mbr_id", "adjustpoints", "id", "adjustdate", "cid"]
    assert row["adjustmentnote"] == "Product refund through points" and row["adjustpoints"] == "10.00"
    assert row["mbr_id"] == 442531 and row["cid"] == 1111112 and row["id"] == row["pointsadjustid"]
    assert await balance_of(client, 442531) == Decimal("130.00")
    status, fetched = await get(client, POINTS, id=row["id"])
    assert status == 200 and fetched["data"] == row


async def test_by_email_negative_and_with_a_date(app_client: ClientFactory) -> None:
    client = await app_client()
    status, body = await post(
        client, {"mbr_email": "TEST@example.com", "adjustpoints": "-5.50", "adjustmentnote": "Redeemed voucher",
                 "adjustdate": "21/02/2021 09:30"},
    )
    assert status == 200
    assert body["data"]["adjustpoints"] == "-5.50" and body["data"]["adjustdate"] == "2021-02-21 09:30:00.000000"
    assert await balance_of(client, 442531) == Decimal("114.50")


async def test_the_json_may_come_as_a_data_field(app_client: ClientFactory) -> None:
    client = await app_client()
    doc = '{"mbr_id": 445123, "adjustpoints": 1.25}'
    response = await client.post(POINTS, headers=DEMO, data={"data": doc})
    assert response.status == 200 and (await response.json())["data"]["adjustpoints"] == "1.25"
    response = await client.post(POINTS, headers=DEMO, params={"data": doc})
    assert response.status == 200
    assert await balance_of(client, 445123) == Decimal("52.50")


async def test_an_update_moves_the_balance_by_the_difference(app_client: ClientFactory) -> None:
    client = await app_client()
    _, made = await post(client, {"mbr_id": 445123, "adjustpoints": 20, "adjustmentnote": "first"})
    record = made["data"]["id"]
    status, body = await post(client, {"id": record, "adjustpoints": 5, "adjustmentnote": "corrected"})
    assert status == 200
    assert body["data"]["id"] == record and body["data"]["adjustpoints"] == "5.00"
    assert body["data"]["adjustmentnote"] == "corrected" and body["data"]["adjustdate"] == made["data"]["adjustdate"]
    assert await balance_of(client, 445123) == Decimal("55.00")
    _, listed = await get(client, POINTS, mbr_id=445123)
    assert [(r["id"], r["adjustpoints"]) for r in listed["data"]][-1] == (record, "5.00")
    assert len([r for r in listed["data"] if r["id"] == record]) == 1  # an edited adjustment shows once


async def test_an_update_can_move_an_adjustment_to_another_member(app_client: ClientFactory) -> None:
    client = await app_client()
    _, made = await post(client, {"mbr_id": 445123, "adjustpoints": 20})
    status, body = await post(client, {"id": made["data"]["id"], "mbr_email": "test@example.com"})
    assert status == 200 and body["data"]["mbr_id"] == 442531 and body["data"]["adjustpoints"] == "20.00"
    assert (await balance_of(client, 445123), await balance_of(client, 442531)) == (Decimal("50.00"), Decimal("140.00"))


async def test_the_opening_balance_is_an_adjustment_and_can_be_corrected(app_client: ClientFactory) -> None:
    client = await app_client()
    _, listed = await get(client, POINTS, mbr_id=442531)
    (opening,) = listed["data"]
    assert (opening["adjustmentnote"], opening["adjustpoints"]) == ("Opening balance", "120.00")
    status, body = await post(client, {"id": opening["id"], "adjustpoints": "100"})
    assert status == 200 and await balance_of(client, 442531) == Decimal("100.00")


async def test_no_balance_ever_goes_below_zero(app_client: ClientFactory) -> None:
    client = await app_client()
    status, body = await post(client, {"mbr_id": 445123, "adjustpoints": -50.01})
    assert status == 400 and body["success"] is False and "below zero" in body["message"]
    _, made = await post(client, {"mbr_id": 445123, "adjustpoints": -50})
    assert await balance_of(client, 445123) == 0
    _, gift = await post(client, {"mbr_id": 445123, "adjustpoints": 10})
    await post(client, {"mbr_id": 445123, "adjustpoints": -10})
    status, _ = await post(client, {"id": gift["data"]["id"], "adjustpoints": 0})  # would leave -10
    assert status == 400 and await balance_of(client, 445123) == 0
    del made

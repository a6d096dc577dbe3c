"""GET /webapps/api/memberpoints: "view the history of member points for your site", filtered by id (one
object), mbr_id, adjustmentnote, adjustdate with matchType, before and after; includeOrders=1 with mbr_id
adds the points earned and redeemed through orders."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient

from gateway.ledger import Asset, By, Identity, Kind
from tests.support import ClientFactory

from .helpers import POINTS, demo_tenant, get, ledger_of


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)


JOHNSON = By(Identity.MEMBER_NO, 442531)
JASON = By(Identity.MEMBER_NO, 445123)


@pytest.fixture
async def client(app_client: ClientFactory) -> TestClient:
    """The demo plus four dated adjustments (two per member) after the opening balances."""
    client = await app_client()
    ledger, tenant = ledger_of(client), await demo_tenant(client)
    for member, amount, note, when in (
        (JOHNSON, "50", "test note", "2021-12-20 16:00:30.834896"),
        (JASON, "-20", "example note", "2021-12-20 16:27:24.343733"),
        (JOHNSON, "5.25", "Product refund through points", "2022-01-05 09:12:44.100000"),
        (JASON, "7", "test note", "2022-02-21 00:00:00.000000"),
    ):
        await ledger.adjust(tenant=tenant, member=member, amount=Decimal(amount), note=note, occurred_at=at(when))
    return client


async def notes(client: TestClient, **params: object) -> list[str]:
    status, body = await get(client, POINTS, **params)
    assert status == 200, body
    assert body["resultCount"] == len(body["data"])
    return [row["adjustmentnote"] for row in body["data"]]


async def test_the_whole_history_in_adjustment_order_with_opening_balances(client: TestClient) -> None:
    status, body = await get(client, POINTS)
    assert status == 200
    assert list(body) == ["endPoint", "resultCount", "offset", "data", "success", "pageSize"]
    assert [r["adjustmentnote"] for r in body["data"]] == [
        "Opening balance", "Opening balance", "Opening balance",
        "test note", "example note", "Product refund through points", "test note",
    ]
    ids = [r["pointsadjustid"] for r in body["data"]]
    assert ids == sorted(ids) and all(r["id"] == r["pointsadjustid"] and r["cid"] == 1111112 for r in body["data"])
    row = body["data"][3]
    assert row == {"adjustmentnote": "test note", "pointsadjustid": row["id"], "mbr_id": 442531,
                   "adjustpoints": "50.00", "id": row["id"], "adjustdate": "2021-12-20 16:00:30.834896",
                   "cid": 1111112}
    assert body["data"][4]["adjustpoints"] == "-20.00"


async def test_id_returns_one_object_and_an_unknown_id_is_404(client: TestClient) -> None:
    _, listed = await get(client, POINTS, mbr_id=445123)
    wanted = listed["data"][1]
    status, body = await get(client, POINTS, id=wanted["id"])
    assert status == 200 and body == {"endPoint": "memberpoints", "resultCount": 1, "data": wanted, "success": True}
    status, body = await get(client, POINTS, id=999999)
    assert status == 404
    assert body == {"endPoint": "memberpoints", "success": False, "message": "No member points adjustment with id 999999"}


async def test_filters_by_member_and_note(client: TestClient) -> None:
    assert await notes(client, mbr_id=445123) == ["Opening balance", "example note", "test note"]
    assert await notes(client, adjustmentnote="test note") == ["test note", "test note"]
    assert await notes(client, adjustmentnote="REFUND", matchType="like") == ["Product refund through points"]
    assert await notes(client, adjustmentnote="test note", mbr_id=442531) == ["test note"]
    assert await notes(client, mbr_id=999) == []  # a filter that matches nothing is an empty list


@pytest.mark.parametrize(
    ("value", "match", "expected"),
    [
        ("20/12/2021", "=", ["test note", "example note"]),
        ("2021-12-20", None, ["test note", "example note"]),
        ("01/01/2022", ">", ["Product refund through points", "test note"]),  # the vendor's own example
        ("20/12/2021", ">", ["Product refund through points", "test note"]),
        ("20/12/2021", ">=", ["test note", "example note", "Product refund through points", "test note"]),
        ("05/01/2022", "<", ["test note", "example note"]),
        ("05/01/2022", "<=", ["test note", "example note", "Product refund through points"]),
        ("2021-12-20 16:00:30", "=", ["test note"]),
        ("2021-12-20 16:27", "=", ["example note"]),
        ("2021-12-20 16:27:24.343733", "=", ["example note"]),
        ("2021-12-20 16:27:24.343733", "<", ["test note"]),
        ("2021-12", "like", ["test note", "example note"]),
        ("21/02/2022", "like", ["test note"]),
    ],
)
async def test_adjustdate_with_match_type(client: TestClient, value: str, match: str | None, expected: list[str]) -> None:
    params: dict[str, object] = {"adjustdate": value}
    if match is not None:
        params["matchType"] = match
    got = await notes(client, **params)
    assert [n for n in got if n != "Opening balance"] == expected


async def test_not_equal_keeps_everything_outside_the_day(client: TestClient) -> None:
    got = await notes(client, adjustdate="20/12/2021", matchType="!=", mbr_id=442531)
    assert got == ["Opening balance", "Product refund through points"]


async def test_before_and_after_are_day_starts_never_month_first(client: TestClient) -> None:
    # (the demo's opening balances are dated when the scenario was loaded, i.e. today)
    assert await notes(client, after="21/02/2022", before="01/01/2025") == ["test note"]  # 21 February, inclusive
    assert await notes(client, after="05/01/2022", before="21/02/2022") == ["Product refund through points"]
    assert await notes(client, after="2021-12-20", before="2021-12-21", mbr_id=445123) == ["example note"]
    status, body = await get(client, POINTS, after="02/21/2022")  # mm/dd is refused, not guessed
    assert status == 400 and "after" in body["message"]


async def test_include_orders_adds_earned_and_redeemed_rows(client: TestClient) -> None:
    ledger, tenant = ledger_of(client), await demo_tenant(client)
    await ledger.update_member(tenant=tenant, member=JOHNSON, changes={"programme_no": 8})
    earned = await ledger.record_order(tenant=tenant, member=JOHNSON, value=Decimal("9.00"), reference="INV-1",
                                       occurred_at=at("2021-12-23 07:08:34.512266"))
    spent = await ledger.spend_value(tenant=tenant, member=JOHNSON, value=Decimal("0.10"), reference="X-1")
    await ledger.hold(tenant=tenant, member=JOHNSON, amount=Decimal("3"), kind=Kind.REWARD)  # pending: not shown
    await ledger.credit(tenant=tenant, member=JOHNSON, amount=Decimal("4"), asset=Asset.CASHBACK)  # not points
    card = await ledger.hold(tenant=tenant, member=JOHNSON, amount=Decimal("1.50"), kind=Kind.REWARD,
                             value=Decimal("15.00"), note="card purchase")  # a Pomelo card reward ...
    await ledger.confirm(tenant=tenant, entry=card.entry.id)  # ... once presented
    status, body = await get(client, POINTS, mbr_id=442531, includeOrders=1)
    assert status == 200
    rows = body["data"]
    assert [r.get("adjusttype") for r in rows] == [None, None, None, "earned", "redeemed", "earned"]
    assert (rows[5]["adjustvalue"], rows[5]["adjustpoints"], rows[5]["adjustmentnote"]) == ("15.00", "1.50", "card purchase")
    assert rows[3] == {"adjustvalue": "9.00", "adjusttype": "earned", "adjustmentnote": "INV-1",
                       "adjustpoints": "0.90", "id": earned.movement.entry.id,
                       "adjustdate": "2021-12-23 07:08:34.512266"}
    assert (rows[4]["adjustvalue"], rows[4]["adjustpoints"], rows[4]["id"]) == ("0.10", "-20.00", spent.movement.entry.id)
    balance = (await ledger.balance(tenant=tenant, member=JOHNSON))[Asset.POINTS].posted
    assert sum(Decimal(r["adjustpoints"]) for r in rows) == balance == Decimal("157.65")  # the rows add up
    assert len(await notes(client, mbr_id=442531)) == 3  # without the flag: adjustments only

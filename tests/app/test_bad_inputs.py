"""Inputs that once produced a 500 (found in review): each now gets a 4xx in the dialect's own shape
and changes nothing."""
from __future__ import annotations

import pytest

from gateway.keys import LEDGER
from tests.support import ClientFactory

IMONGGO = {"Authorization": "Basic NWM0ZmM1ODA1ZWI2NDM3MTZiYmMxN2RhZDQ1NmEwYzZjZjJlMjNmYTpY"}  # token:X
MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}


async def entries(client) -> int:  # type: ignore[no-untyped-def]
    return (await client.app[LEDGER].audit()).checked["entries"]


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


async def test_deeply_nested_json_is_refused_in_every_dialect(app_client: ClientFactory) -> None:
    client = await app_client()
    body = '{"customer":' + deep(900) + "}"
    imonggo = await client.post("/api/customers.json", data=body, headers={**IMONGGO, "Content-Type": "application/json"})
    assert imonggo.status == 400 and "nested" in (await imonggo.json())["error"]
    mp = await client.post("/webapps/api/memberpoints", data=deep(900),
                           headers={**MEMBERPOINTS, "Content-Type": "application/json"})
    assert mp.status == 400 and (await mp.json())["success"] is False


@pytest.mark.parametrize("field", ["mbr_id", "id", "pointsadjustid"])
async def test_memberpoints_ids_in_other_scripts_digits_are_bad_parameters(app_client: ClientFactory, field: str) -> None:
    client = await app_client()
    before = await entries(client)
    response = await client.post("/webapps/api/memberpoints", headers=MEMBERPOINTS,
                                 json={field: "²", "mbr_id": 1534, "adjustpoints": 1} if field != "mbr_id"
                                 else {"mbr_id": "²", "adjustpoints": 1})
    assert response.status == 400 and (await response.json())["success"] is False
    assert await entries(client) == before


@pytest.mark.parametrize(
    ("query", "named"),
    [("adjustdate=9999-12-31&matchType=>", "adjustdate"), ("after=31/12/9999 23:59:59", "after"),
     ("before=9999-12-31", "before")],
)
async def test_memberpoints_dates_at_the_end_of_time_are_bad_parameters(
    app_client: ClientFactory, query: str, named: str
) -> None:
    client = await app_client()
    response = await client.get(f"/webapps/api/memberpoints?{query}", headers=MEMBERPOINTS)
    assert response.status == 400
    body = await response.json()
    assert (body["endPoint"], body["success"]) == ("memberpoints", False)
    assert body["message"].startswith(f"{named} is out of range"), body


async def test_memberpoints_adjustdate_at_the_end_or_start_of_time(app_client: ClientFactory) -> None:
    client = await app_client()
    before = await entries(client)
    late = await client.post("/webapps/api/memberpoints", headers=MEMBERPOINTS,
                             json={"mbr_id": 1534, "adjustpoints": 1, "adjustdate": "9999-12-31"})
    assert late.status == 400 and (await late.json())["message"].startswith("adjustdate is out of range")
    assert await entries(client) == before
    early = await client.post("/webapps/api/memberpoints", headers=MEMBERPOINTS,
                              json={"mbr_id": 1534, "adjustpoints": 1, "adjustdate": "0001-01-01"})
    assert early.status == 200
    saved = (await early.json())["data"]
    assert saved["adjustdate"].startswith("0001-01-01")


@pytest.mark.parametrize("query", ["after=0001-01-01T00:00:00%2B01:00", "before=9999-12-31T23:59:59-01:00"])
async def test_imonggo_times_pushed_past_the_calendar_are_refused(app_client: ClientFactory, query: str) -> None:
    client = await app_client()
    response = await client.get(f"/api/customers.json?{query}", headers=IMONGGO)
    assert response.status == 422 and "out of range" in (await response.json())["error"]


async def test_imonggo_listing_after_an_early_year_still_counts_everyone(app_client: ClientFactory) -> None:
    client = await app_client()
    response = await client.get("/api/customers.json?after=0900-01-01&q=count", headers=IMONGGO)
    assert response.status == 200 and (await response.json())["count"] == 3


async def test_an_invoice_too_large_to_compute_is_refused(app_client: ClientFactory) -> None:
    client = await app_client()
    before = await entries(client)
    invoice = {"invoice": {"reference": "HUGE-1", "customer_id": 1534, "invoice_lines": [
        {"product_id": 1, "quantity": "1000", "retail_price": "999999999999"}],
        "invoice_tax_rates": [{"rate": "999999999999"}]}}
    response = await client.post("/api/invoices.json", json=invoice, headers=IMONGGO)
    assert response.status == 422 and (await response.json())["error"]
    assert await entries(client) == before


async def test_amounts_in_other_scripts_digits_are_refused(app_client: ClientFactory) -> None:
    client = await app_client()
    response = await client.post("/api/rewards.xml?q=spend&customer_id=1534&amount=%D9%A1%D9%A0&reference=A",
                                 headers=IMONGGO)
    assert response.status == 422 and b"<errors>" in await response.read()
    customer = await client.get("/api/customers/1534.json", headers=IMONGGO)
    assert (await customer.json())["available_points"] == "30511.0"

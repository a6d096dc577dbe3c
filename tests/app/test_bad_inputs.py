"""Inputs that once produced a 500 (found in review): each now gets a 4xx in the dialect's own shape
and changes nothing."""
from __future__ import annotations

import json

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


HUGE = ["1e1000000", "-1e1000000", "1e-1000000", "9" * 5000, "NaN", "Infinity", "-0.00001"]


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("field", ["quantity", "retail_price", "subtotal", "discount_text", "rate"])
@pytest.mark.parametrize("ext", [".xml", ".json"])
async def test_an_invoice_number_beyond_any_bound_is_a_422_that_applies_nothing(
    app_client: ClientFactory, value: str, field: str, ext: str
) -> None:
    client = await app_client()
    before = await entries(client)
    line = {"product_id": "1", "quantity": "1", "retail_price": "10"}
    tax = {"rate": "0.12"}
    (tax if field == "rate" else line)[field] = value
    if ext == ".json":
        literal = value if value[0] in "-0123456789" else json.dumps(value)  # a JSON number where JSON has one

        def fields(values: dict[str, str]) -> str:
            return "{" + ", ".join(f'"{k}": {literal if k == field else json.dumps(v)}' for k, v in values.items()) + "}"

        body = ('{"invoice": {"reference": "BIG", "customer_id": 1534, "invoice_lines": [%s], "invoice_tax_rates": [%s]}}'
                % (fields(line), fields(tax)))
    else:
        body = ("<invoice><reference>BIG</reference><customer_id>1534</customer_id><invoice_lines type=\"array\"><invoice_line>"
                + "".join(f"<{k}>{v}</{k}>" for k, v in line.items()) + "</invoice_line></invoice_lines>"
                "<invoice_tax_rates type=\"array\"><invoice_tax_rate>"
                + "".join(f"<{k}>{v}</{k}>" for k, v in tax.items()) + "</invoice_tax_rate></invoice_tax_rates></invoice>")
    response = await client.post(f"/api/invoices{ext}", data=body, headers=IMONGGO)
    assert response.status == 422
    if ext == ".json":
        assert (await response.json())["error"]
    else:
        assert b"<errors>\n  <error>" in await response.read()
    assert await entries(client) == before
    assert (await (await client.get("/api/invoices.json?q=count", headers=IMONGGO)).json())["count"] == 0


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", "/api/customers.xml?page=" + "9" * 5000),
        ("GET", "/api/invoices.json?per_page=" + "1" * 5000),
        ("POST", "/api/rewards.xml?q=spend&customer_id=" + "1" * 5000 + "&amount=1"),
        ("POST", "/api/rewards.xml?q=spend&customer_id=1534&amount=" + "1" * 5000),
        ("POST", "/api/rewards.xml?q=spend&customer_id=1534&amount=1e1000000"),
    ],
)
async def test_imonggo_numbers_of_5000_digits_in_the_query_are_refused(app_client: ClientFactory, method: str, url: str) -> None:
    client = await app_client()
    response = await client.request(method, url, headers=IMONGGO)
    body = await response.read()
    assert response.status in (404, 422)
    assert (await response.json())["error"] if url.split("?")[0].endswith(".json") else b"<errors>" in body


async def test_an_imonggo_customer_type_of_5000_digits_is_refused(app_client: ClientFactory) -> None:
    client = await app_client()
    body = "<customer><first_name>Ana</first_name><customer_type_id>" + "8" * 5000 + "</customer_type_id></customer>"
    response = await client.post("/api/customers.xml", data=body, headers=IMONGGO)
    assert response.status == 422 and b"<error>Customer type is invalid</error>" in await response.read()


@pytest.mark.parametrize(
    "method, url, body",
    [
        ("GET", "/__admin/entries?tenant=demo&offset=%C2%B2", None),
        ("GET", "/__admin/members?limit=" + "9" * 5000, None),
        ("GET", "/__admin/requests?since=%C2%B2", None),
        ("GET", "/__admin/entries?tenant=demo&member=%C2%B2", None),
        ("GET", "/__admin/webhooks/deliveries?offset=-1", None),
        ("GET", "/__admin/webhooks/deliveries?limit=" + "9" * 40, None),
        ("POST", "/__admin/webhooks/deliveries/" + "9" * 40 + "/redeliver", None),
        ("PUT", "/__admin/clock", '{"offset_seconds": ' + "9" * 400 + "}"),
        ("PUT", "/__admin/clock", '{"offset_seconds": 1e1000000}'),
        ("PUT", "/__admin/rate-limits", '{"imonggo": {"limit": 1, "window_seconds": ' + "9" * 400 + "}}"),
        ("POST", "/__admin/pomelo/transactions", '{"card_id": "crd-2ay34Uk2fseMY5l3OwddSRX8iR4", "amount": 1e1000000}'),
    ],
)
async def test_admin_numbers_beyond_any_bound_are_a_400_in_the_admin_shape(
    app_client: ClientFactory, method: str, url: str, body: str | None
) -> None:
    client = await app_client()
    response = await client.request(method, url, data=body)
    assert 400 <= response.status < 500 and (await response.json())["error"]["message"]
    # and the dialects still answer (a limit with an endless window would have broken them)
    assert (await client.get("/api/customers/1534.xml", headers=IMONGGO)).status == 200
    assert (await client.get("/api/customers/1534.xml", headers=IMONGGO)).status == 200


@pytest.mark.parametrize("field, value", [("rewards", '{"points": "1' + "0" * 30 + '"}'), ("customer_id", "1" + "0" * 30)])
async def test_a_scenario_with_numbers_beyond_any_bound_is_refused_whole(
    app_client: ClientFactory, field: str, value: str
) -> None:
    client = await app_client()
    tenant = {"name": "big", "pomelo": {"client_id": "big", "client_secret": "big"},
              "members": [{"name": "B", "customer_id": 7, "card_ids": ["crd-big"]}]}
    scenario = json.dumps({"tenants": [tenant]})
    if field == "rewards":
        scenario = scenario.replace('"client_secret": "big"}', '"client_secret": "big", "rewards": ' + value + "}")
    else:
        scenario = scenario.replace('"customer_id": 7', '"customer_id": ' + value)
    response = await client.post("/__admin/scenarios", data=scenario)
    assert response.status == 400 and (await response.json())["error"]["message"]
    assert "big" not in {t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]}

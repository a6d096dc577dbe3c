"""Invoices earn points for members of an earning customer type in the invoice's own transaction;
voiding reverses them. Earnings and reward spends are the ledger's order movements, the ones the
memberpoints dialect shows with includeOrders."""
from __future__ import annotations

import json
from decimal import Decimal

from contract_tests.imonggo.shapes import basic
from gateway.keys import LEDGER
from gateway.ledger import ORDER_KINDS, By, HistoryQuery, Identity, Kind
from tests.support import ClientFactory


def invoice(reference: str, customer: object = 1534, lines: str = "", extra: str = "") -> bytes:
    lines = lines or "<invoice_line><product_id>54</product_id><retail_price>100</retail_price></invoice_line>"
    return (
        f"<invoice><reference>{reference}</reference><customer_id>{customer}</customer_id>{extra}"
        f'<invoice_lines type="array">{lines}</invoice_lines></invoice>'
    ).encode()


async def points(client, customer: int = 1534) -> str:  # type: ignore[no-untyped-def]
    return (await (await client.get(f"/api/customers/{customer}.json", headers=basic())).json())["available_points"]


async def test_an_invoice_earns_amount_with_tax_over_amount_per_point_rounded_down(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    lines = (
        "<invoice_line><product_id>1</product_id><quantity>3</quantity><retail_price>33.33</retail_price></invoice_line>"
        "<invoice_line><product_id>2</product_id><retail_price>50</retail_price><discount_text>10%</discount_text></invoice_line>"
        "<invoice_line><product_id>3</product_id><quantity>2</quantity><subtotal>9.99</subtotal></invoice_line>"
    )
    taxes = '<invoice_tax_rates type="array"><invoice_tax_rate><name>VAT</name><rate>0.12</rate></invoice_tax_rate></invoice_tax_rates>'
    response = await client.post("/api/invoices.json", headers=basic(), data=invoice("INV-9", lines=lines, extra=taxes))
    assert response.status == 201
    shown = await response.json()
    # 99.99 + 45.00 + 9.99 = 154.98; tax 12% = 18.60 (half up); with tax 173.58 -> 17.35 points (down)
    assert (shown["amount"], shown["tax"], shown["amount_with_tax"]) == ("154.98", "18.6", "173.58")
    assert [x["price"] for x in shown["invoice_lines"]] == ["33.33", "45.0", "5.0"]
    assert shown["quantity"] == "6.0" and shown["status"] == "S" and shown["customer_name"] == "Juan Cruz"
    assert await points(client) == "30528.35"

    voided = await client.delete(f"/api/invoices/{shown['id']}.json?reason=Customer%20returned", headers=basic())
    body = await voided.json()
    assert (body["status"], body["voided_reason"]) == ("V", "Customer returned")
    assert await points(client) == "30511.0"


async def test_an_invoice_for_an_unknown_or_non_earning_customer_earns_nothing(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    unknown = await (await client.post("/api/invoices.json", headers=basic(), data=invoice("A", 999))).json()
    assert (unknown["customer_id"], unknown["customer_name"]) == (None, "")
    huge = await (await client.post("/api/invoices.json", headers=basic(), data=invoice("H", "9" * 30))).json()
    assert huge["customer_id"] is None
    plain = await (await client.post("/api/invoices.json", headers=basic(), data=invoice("B", 442531))).json()
    assert (plain["customer_id"], plain["customer_name"]) == (442531, "Johnson")
    assert await points(client, 442531) == "120.0"
    anonymous = await client.post("/api/invoices.xml", headers=basic(), data=invoice("C", "").replace(b"<customer_id></customer_id>", b""))
    assert anonymous.status == 201


async def test_voiding_after_the_points_were_spent_clamps_at_zero(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    lines = "<invoice_line><product_id>1</product_id><retail_price>10000</retail_price></invoice_line>"
    made = await (await client.post("/api/invoices.json", headers=basic(), data=invoice("BIG", lines=lines))).json()
    assert await points(client) == "31511.0"
    spent = await client.post("/api/rewards.xml?q=spend&customer_id=1534&amount=155&reference=BIG", headers=basic())
    assert spent.status == 200 and await points(client) == "511.0"
    await client.delete(f"/api/invoices/{made['id']}.xml", headers=basic())
    assert await points(client) == "0.0"


async def test_json_invoice_with_wrapped_items_and_lists_by_reference(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    body = {"invoice": {"reference": "J-1", "customer_id": 1534, "invoice_date": "2013-07-13T10:00:00Z",
                        "invoice_lines": [{"invoice_line": {"product_id": 7, "retail_price": 20.5, "quantity": 2}}],
                        "payments": [{"payment": {"payment_type_id": 2, "amount": 41, "tender": 50}}]}}
    made = await client.post("/api/invoices.xml", headers=basic(), data=json.dumps(body).encode())
    assert made.status == 201
    found = await (await client.get("/api/invoices.json?reference=J-1", headers=basic())).json()
    assert len(found) == 1 and found[0]["utc_invoice_date"] == "2013/07/13 10:00:00 +0000"
    assert found[0]["payments"] == [{"payment_type_id": 2, "payment_type_name": "Credit Card", "amount": "41.0", "tender": "50.0"}]
    assert await (await client.get("/api/invoices.json?reference=nope", headers=basic())).json() == []


async def test_earnings_and_spends_are_order_movements_for_the_other_dialects(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    await client.post("/api/invoices.xml", headers=basic(), data=invoice("INV-1"))
    await client.post("/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=X-1", headers=basic())
    ledger = client.app[LEDGER]
    tenant = await ledger.tenant("demo")
    juan = await ledger.find_member(tenant=tenant, member=By(Identity.CUSTOMER_NO, 1534))
    history = await ledger.history(tenant=tenant, query=HistoryQuery(member_id=juan.id, kinds=ORDER_KINDS))
    rows = sorted((e.kind, e.amount, e.value, e.reference) for e in history.items)
    assert rows == [
        (Kind.ORDER_EARN, Decimal("10.00"), Decimal("100.00"), "INV-1"),
        (Kind.ORDER_SPEND, Decimal("-2000.00"), Decimal("10.00"), "X-1"),
    ]

"""The endpoints a real client calls before it gets to points: products, branches, users, payment types,
customer groups and the tax settings, read-only from the tenant's scenario, in the vendor's shapes: a
list (`<products type="array">`, empty `<products/>`), one record, paging, `q=count`,
`q=last_updated_at`, `after`/`before` on utc_updated_at and `active_only`; and invoices priced from them."""
from __future__ import annotations

import pytest
from lxml import etree

from contract_tests.imonggo.shapes import assert_error, basic
from tests.support import ClientFactory


def ids(document: bytes, item: str) -> list[int]:
    return [int(x.findtext("id")) for x in etree.fromstring(document).iter(item)]


async def test_the_product_list_in_the_product_api_shape(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.get("/api/products.xml", headers=basic())
    assert response.status == 200 and response.content_type == "application/xml"
    root = etree.fromstring(await response.read())
    assert (root.tag, root.get("type")) == ("products", "array")
    assert ids(await response.read(), "product") == [1, 2, 3, 4, 5, 6, 7, 54]  # deleted ones included, by id
    beans = root.find("product[id='54']")
    assert beans is not None
    assert [(x.tag, x.text) for x in beans if x.tag in ("stock_no", "name", "retail_price", "cost", "tax_exempt")] == [
        ("stock_no", "COF-054"), ("name", "Arabica Coffee Beans 250g"), ("cost", "62.5"), ("retail_price", "100.0"),
        ("tax_exempt", "false")]
    assert beans.find("status").get("nil") == "true" and beans.findtext("utc_updated_at") == "2013-07-12T16:45:00Z"
    listed = await (await client.get("/api/products.json", headers=basic())).json()
    assert [p["id"] for p in listed] == [1, 2, 3, 4, 5, 6, 7, 54]
    assert {k: listed[-1][k] for k in ("name", "retail_price", "status", "utc_updated_at")} == {
        "name": "Arabica Coffee Beans 250g", "retail_price": "100.0", "status": None,
        "utc_updated_at": "2013/07/12 16:45:00 +0000"}


async def test_products_come_fifty_a_page_at_most_and_a_page_past_the_end_is_empty(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    pages = [await (await client.get(f"/api/products.xml?per_page=3&page={n}", headers=basic())).read() for n in (1, 3, 4)]
    assert [ids(p, "product") for p in pages] == [[1, 2, 3], [7, 54], []]
    assert etree.fromstring(pages[2]).tag == "products" and etree.fromstring(pages[2]).get("type") is None
    assert await (await client.get("/api/products.json?per_page=3&page=4", headers=basic())).json() == []
    assert len(await (await client.get("/api/products.json?per_page=50", headers=basic())).json()) == 8
    await assert_error(await client.get("/api/products.json?per_page=51", headers=basic()), 422, "Per page must be at most 50")


async def test_count_and_last_updated_at_follow_the_filters(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    count = etree.fromstring(await (await client.get("/api/products.xml?q=count", headers=basic())).read())
    assert (count.tag, count.findtext("count"), count.find("count").get("type")) == ("hash", "8", "integer")
    assert await (await client.get("/api/products.json?q=count&active_only=1", headers=basic())).json() == {"count": 7}
    latest = etree.fromstring(await (await client.get("/api/products.xml?q=last_updated_at", headers=basic())).read())
    assert (latest.tag, latest.findtext("last_updated_at")) == ("hash", "2013-07-12T16:45:00Z")
    assert latest.find("last_updated_at").get("type") == "datetime"
    before = await client.get("/api/products.json?q=last_updated_at&before=2013-07-01", headers=basic())
    assert await before.json() == {"last_updated_at": "2013/06/01 09:30:00 +0000"}
    none = await client.get("/api/products.json?q=last_updated_at&after=2014-01-01", headers=basic())
    assert await none.json() == {"last_updated_at": None}


async def test_after_and_before_are_exclusive_bounds_on_utc_updated_at(app_client: ClientFactory) -> None:
    client = await app_client("demo")

    async def listed(query: str) -> list[int]:
        return [p["id"] for p in await (await client.get(f"/api/products.json?{query}", headers=basic())).json()]

    assert await listed("after=2013-06-01T09:30:00Z") == [6, 7, 54]
    assert await listed("after=2013-06-01 09:29:59") == [3, 4, 6, 7, 54]
    assert await listed("before=2013-06-01T09:30:00Z") == [1, 2, 5]
    assert await listed("after=2013-06-01&before=2013-07-11&active_only=1") == [3, 4, 6]
    await assert_error(await client.get("/api/products.xml?after=yesterday", headers=basic()), 422, "After is not a valid time")


@pytest.mark.parametrize(
    "resource,root,item,expected",
    [
        ("branches", "branches", "branch", {1: "Head Office", 2: "Quezon City Branch"}),
        ("users", "users", "user", {1: "Demo Cashier"}),
        ("payment_types", "payment-types", "payment_type",
         {1: "Cash", 2: "Credit Card", 3: "Debit Card", 4: "Gift Certificate", 5: "Check", 6: "Others"}),
        ("customer_groups", "customer-groups", "customer_group", {1: "Wholesale"}),
    ],
)
async def test_every_catalogue_list_and_record_in_xml_and_json(
    app_client: ClientFactory, resource: str, root: str, item: str, expected: dict[int, str]
) -> None:
    client = await app_client("demo")
    document = etree.fromstring(await (await client.get(f"/api/{resource}.xml", headers=basic())).read())
    assert (document.tag, document.get("type")) == (root, "array")
    assert {int(x.findtext("id")): x.findtext("name") for x in document.iter(item)} == expected
    listed = await (await client.get(f"/api/{resource}.json", headers=basic())).json()
    assert {x["id"]: x["name"] for x in listed} == expected
    first = min(expected)
    one = etree.fromstring(await (await client.get(f"/api/{resource}/{first}.xml", headers=basic())).read())
    assert (one.tag, one.findtext("name")) == (item, expected[first])
    shown = await client.get(f"/api/{resource}/{first}.json", headers=basic())
    assert (await shown.json())["utc_created_at"] == "2013/05/01 00:00:00 +0000"
    counted = await client.get(f"/api/{resource}.json?q=count", headers=basic())
    assert await counted.json() == {"count": len(expected)}
    await assert_error(await client.get(f"/api/{resource}/999.json", headers=basic()), 404, "Not Found")
    await assert_error(await client.post(f"/api/{resource}.xml", headers=basic()), 405, "Method Not Allowed")


async def test_a_user_shows_its_login_but_never_its_password(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    for path in ("/api/users.xml", "/api/users/1.json", "/api/users.json"):
        body = await (await client.get(path, headers=basic())).read()
        assert b"demo@example.com" in body and b"password" not in body and b"scrypt" not in body, path
    user = await (await client.get("/api/users/1.json", headers=basic())).json()
    assert (user["role_code"], user["home_branch_id"]) == ("cashier", 2)


async def test_the_tax_settings_are_one_document_with_its_rates(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    document = etree.fromstring(await (await client.get("/api/tax_settings.xml", headers=basic())).read())
    assert (document.tag, document.findtext("compute_tax"), document.findtext("tax_inclusive")) == (
        "tax_setting", "true", "false")
    rates = document.find("tax_rates")
    assert rates.get("type") == "array" and [(r.findtext("name"), r.findtext("value")) for r in rates] == [("VAT", "12.0")]
    shown = await (await client.get("/api/tax_settings.json", headers=basic())).json()
    assert shown["tax_rates"][0]["value"] == "12.0" and shown["compute_tax"] is True
    await assert_error(await client.get("/api/tax_settings.xml?q=count", headers=basic()), 422,
                       "Invalid query: q=count is not supported here")


async def test_customers_answer_q_last_updated_at(app_client: ClientFactory) -> None:
    scenario = {"tenants": [{"name": "t", "imonggo": {"api_token": "0" * 39 + "1"}, "members": [
        {"customer_id": 1, "name": "A", "created_at": "2013-01-01T00:00:00Z", "updated_at": "2013-02-01T00:00:00Z"},
        {"customer_id": 2, "name": "B", "created_at": "2013-01-01T00:00:00Z", "updated_at": "2013-03-01T00:00:00Z"}]}]}
    client = await app_client(scenario)
    auth = basic("0" * 39 + "1")
    latest = etree.fromstring(await (await client.get("/api/customers.xml?q=last_updated_at", headers=auth)).read())
    assert latest.findtext("last_updated_at") == "2013-03-01T00:00:00Z"
    earlier = await client.get("/api/customers.json?q=last_updated_at&before=2013-03-01", headers=auth)
    assert await earlier.json() == {"last_updated_at": "2013/02/01 00:00:00 +0000"}
    nothing = await client.get("/api/customers.json?q=last_updated_at&after=2013-03-01", headers=auth)
    assert await nothing.json() == {"last_updated_at": None}
    # an empty catalogue: the lists are empty, no record is found, the tax settings are the defaults
    empty = await client.get("/api/products.xml", headers=auth)
    assert await empty.read() == b'<?xml version="1.0" encoding="UTF-8"?>\n<products/>\n'
    assert await (await client.get("/api/users.json?q=count", headers=auth)).json() == {"count": 0}
    await assert_error(await client.get("/api/products/54.xml", headers=auth), 404, "Not Found")
    assert (await (await client.get("/api/tax_settings.json", headers=auth)).json())["tax_rates"] == []


INVOICE = ('<invoice><reference>{ref}</reference><customer_id>1534</customer_id>'
           '<invoice_lines type="array">{lines}</invoice_lines></invoice>')


async def test_an_invoice_line_takes_its_name_stock_number_and_price_from_the_product(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    lines = ("<invoice_line><product_id>54</product_id><quantity>2</quantity></invoice_line>"
             "<invoice_line><product_id>3</product_id><retail_price>80</retail_price></invoice_line>"
             "<invoice_line><product_id>2</product_id><discount_text>10%</discount_text></invoice_line>")
    response = await client.post("/api/invoices.json", headers=basic(), data=INVOICE.format(ref="P-1", lines=lines))
    assert response.status == 201
    shown = await response.json()
    assert [(x["product_name"], x["product_stock_no"], x["retail_price"], x["price"], x["subtotal"])
            for x in shown["invoice_lines"]] == [
        ("Arabica Coffee Beans 250g", "COF-054", "100.0", "100.0", "200.0"),  # no price given: the product's
        ("Blueberry Muffin", "BKR-001", "80.0", "80.0", "80.0"),  # a given retail price wins
        ("Cafe Latte 12oz", "BEV-002", "120.0", "108.0", "108.0"),  # the product's price less the discount
    ]
    assert shown["amount_with_tax"] == "388.0"
    again = etree.fromstring(await (await client.get(f"/api/invoices/{shown['id']}.xml", headers=basic())).read())
    assert again.findtext("invoice_lines/invoice_line/product_name") == "Arabica Coffee Beans 250g"


async def test_an_unknown_product_is_the_vendors_422_and_records_nothing(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    for suffix in ("xml", "json"):
        body = INVOICE.format(ref="U-1", lines="<invoice_line><product_id>999</product_id></invoice_line>")
        await assert_error(await client.post(f"/api/invoices.{suffix}", headers=basic(), data=body), 422,
                           "Product can't be blank")
    wrapped = {"invoice": {"reference": "U-2", "invoice_lines": [{"product_id": 55, "retail_price": "1"}]}}
    await assert_error(await client.post("/api/invoices.json", headers=basic(), json=wrapped), 422, "Product can't be blank")
    assert await (await client.get("/api/invoices.json?q=count", headers=basic())).json() == {"count": 0}


async def test_a_tenant_without_a_product_catalogue_takes_any_product_id(app_client: ClientFactory) -> None:
    client = await app_client({"tenants": [{"name": "t", "imonggo": {"api_token": "f" * 40}}]})
    body = INVOICE.format(ref="A-1", lines="<invoice_line><product_id>777</product_id><retail_price>5</retail_price></invoice_line>")
    response = await client.post("/api/invoices.json", headers=basic("f" * 40), data=body)
    assert response.status == 201
    line = (await response.json())["invoice_lines"][0]
    assert (line["product_id"], line["product_name"], line["price"]) == (777, "", "5.0")

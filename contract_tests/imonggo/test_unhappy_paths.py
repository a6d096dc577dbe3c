"""Every unhappy path of the imonggo dialect, each checked by the error-shape helper: the status,
Rails' `<errors><error>` document (or `{"error": ..., "errors": {"base": [...]}}` for .json) and the
message, and that nothing was applied."""
from __future__ import annotations

import base64

import pytest
from aiohttp.test_utils import TestClient

from tests.support import ClientFactory

from .shapes import TOKEN, assert_error, basic, check_xml

SPEND = "/api/rewards.xml?q=spend&customer_id=1534&reference=X-1&amount="


async def points(client: TestClient, customer: int = 1534) -> str:
    response = await client.get(f"/api/customers/{customer}.json", headers=basic())
    return (await response.json())["available_points"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-authorization"),
        pytest.param(basic(user="0" * 40), id="wrong-token"),
        pytest.param({"Authorization": "Basic !!!not-base64"}, id="garbage"),
        pytest.param({"Authorization": "Bearer " + TOKEN}, id="bearer-instead-of-basic"),
        pytest.param({"Authorization": "Basic " + base64.b64encode(b":" + TOKEN.encode()).decode()}, id="token-as-password"),
    ],
)
async def test_without_the_token_every_route_is_401(app_client: ClientFactory, headers: dict[str, str]) -> None:
    client = await app_client("demo")
    routes = [("GET", "/api/customers/1534.xml"), ("POST", SPEND + "10"), ("GET", "/api/invoices.json"),
              ("GET", "/api/no/such/route.xml"), ("DELETE", "/api/customers/1534"), ("PUT", "/api/customers/1534.json"),
              ("GET", "/api/products.xml"), ("GET", "/api/users/1.json"), ("GET", "/api/tax_settings.xml"),
              ("POST", "/api/tokens.xml")]
    for method, path in routes:
        response = await client.request(method, path, headers=headers)
        assert response.status == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == 'Basic realm="Application"'
        assert await response.text() == "HTTP Basic: Access denied."
    assert await points(client) == "30511.0"


async def test_any_password_is_accepted(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    for password in ("X", "x", "password", ""):
        response = await client.get("/api/customers/1534.xml", headers=basic(password=password))
        assert response.status == 200


@pytest.mark.parametrize(
    "query,status,message",
    [
        ("q=spend&customer_id=1534&amount=200", 422, "Insufficient points"),
        ("q=spend&customer_id=999999&amount=10", 404, "Not Found"),
        ("q=spend&customer_id=abc&amount=10", 404, "Not Found"),
        ("q=spend&customer_id=%C2%B2&amount=10", 404, "Not Found"),
        ("q=spend&customer_id=99999999999999999999999&amount=10", 404, "Not Found"),
        ("q=spend&customer_id=&amount=10", 422, "Customer can't be blank"),
        ("q=spend&customer_id=1534", 422, "Amount can't be blank"),
        ("q=spend&customer_id=1534&amount=ten", 422, "Amount must be a decimal number"),
        ("q=spend&customer_id=1534&amount=0", 422, "Amount must not be zero"),
        ("q=spend&customer_id=1534&amount=-5", 422, "Amount must be positive"),
        ("q=spend&customer_id=1534&amount=1.005", 422, "Amount has more than two decimal places"),
        ("q=spend&customer_id=1534&amount=NaN", 422, "Amount must be a finite number"),
        ("q=earn&customer_id=1534&amount=10", 422, "Invalid query: q must be spend, not 'earn'"),
        ("customer_id=1534&amount=10", 422, "Invalid query: q must be spend, not ''"),
        ("q=spend&customer_id=442531&amount=1", 422, "Customer has no points membership"),
        ("q=spend&customer_id=1534&amount=1&reference=a%00b", 422, "Reference holds characters XML cannot carry"),
        ("q=sp%01end&customer_id=1534&amount=1", 422, "Invalid query: q must be spend, not 'sp\\x01end'"),
    ],
)
async def test_a_refused_spend_applies_nothing(app_client: ClientFactory, query: str, status: int, message: str) -> None:
    client = await app_client("demo")
    for suffix in (".xml", ".json", ""):
        response = await client.post(f"/api/rewards{suffix}?{query}", headers=basic())
        await assert_error(response, status, message)
    assert await points(client) == "30511.0"
    assert await points(client, 442531) == "120.0"


async def test_spending_down_to_the_last_point_then_refusing(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.post(SPEND + "152.55", headers=basic())  # 30510 of 30511 points
    check_xml(await response.read(), "hash/points-spent")
    assert await points(client) == "1.0"
    await assert_error(await client.post(SPEND + "0.01", headers=basic()), 422, "Insufficient points")


@pytest.mark.parametrize(
    "method,path,status,message",
    [
        ("GET", "/api/customers/999999.xml", 404, "Not Found"),
        ("GET", "/api/customers/999999.json", 404, "Not Found"),
        ("PUT", "/api/customers/999999.xml", 404, "Not Found"),
        ("DELETE", "/api/customers/999999.xml", 404, "Not Found"),
        ("GET", "/api/customers/abc.xml", 404, "Not Found"),
        ("GET", "/api/customer_types/99.xml", 404, "Not Found"),
        ("GET", "/api/invoices/99.json", 404, "Not Found"),
        ("DELETE", "/api/invoices/99.xml", 404, "Not Found"),
        ("GET", "/api/inventories.xml", 404, "Not Found"),
        ("GET", "/api/products/999.xml", 404, "Not Found"),
        ("GET", "/api/branches/3.json", 404, "Not Found"),
        ("GET", "/api/users/2.xml", 404, "Not Found"),
        ("GET", "/api/payment_types/7.json", 404, "Not Found"),
        ("GET", "/api/customer_groups/2.xml", 404, "Not Found"),
        ("GET", "/api/tax_settings/1.xml", 404, "Not Found"),
        ("POST", "/api/products.xml", 405, "Method Not Allowed"),
        ("PUT", "/api/products/54.json", 405, "Method Not Allowed"),
        ("DELETE", "/api/branches/1.xml", 405, "Method Not Allowed"),
        ("POST", "/api/payment_types.json", 405, "Method Not Allowed"),
        ("PUT", "/api/tax_settings.xml", 405, "Method Not Allowed"),
        ("GET", "/api/products.xml?per_page=51", 422, "Per page must be at most 50"),
        ("GET", "/api/users.json?per_page=1001", 422, "Per page must be at most 1000"),
        ("GET", "/api/branches.xml?page=0", 422, "Page must be a whole number from 1 to 1000000000"),
        ("GET", "/api/customer_groups.json?after=yesterday", 422, "After is not a valid time"),
        ("GET", "/api/payment_types.xml?q=units", 422, "Invalid query: q=units is not supported here"),
        ("GET", "/api/tax_settings.json?q=count", 422, "Invalid query: q=count is not supported here"),
        ("GET", "/api/customers.xml?page=%C2%B2", 422, "Page must be a whole number from 1 to 1000000000"),
        ("GET", "/api/customers.xml?page=0", 422, "Page must be a whole number from 1 to 1000000000"),
        ("GET", "/api/customers.json?per_page=x", 422, "Per page must be a whole number from 1 to 1000000000"),
        ("GET", "/api/customers.xml?per_page=5000", 422, "Per page must be at most 1000"),
        ("GET", "/api/customers.xml?after=yesterday", 422, "After is not a valid time"),
        ("GET", "/api/invoices.xml?before=13/07/2013", 422, "Before is not a valid time"),
        ("GET", "/api/invoices.xml?q=%00", 422, "Invalid query: q=\ufffd is not supported here"),
        ("DELETE", "/api/invoices/1.xml?reason=" + "x" * 256, 422, "Reason is too long (maximum is 255 characters)"),
        ("GET", "/api/customers.xml?q=checkin_count", 422, "Invalid query: q=checkin_count is not supported here"),
        ("GET", "/api/customer_types.xml?q=count", 422, "Invalid query: q=count is not supported here"),
        ("PATCH", "/api/customers/1534.xml", 405, "Method Not Allowed"),
        ("GET", "/api/rewards.xml", 405, "Method Not Allowed"),
    ],
)
async def test_reads_and_routes_that_fail(
    app_client: ClientFactory, method: str, path: str, status: int, message: str
) -> None:
    client = await app_client("demo")
    await assert_error(await client.request(method, path, headers=basic()), status, message)


@pytest.mark.parametrize(
    "body,status,message",
    [
        ("<customer><first_name></first_name></customer>", 422, "Name can't be blank"),
        ("", 422, "Name can't be blank"),
        ("<customer><name>A</name><customer_type_id>x</customer_type_id></customer>", 422, "Customer type is invalid"),
        ("<customer><name>A</name><customer_type_id>77</customer_type_id></customer>", 404, "Not Found"),
        ("<customer><name>A</name><customer_type_id>99999999999999999999</customer_type_id></customer>", 422,
         "Customer type is invalid"),
        ("<customer><name>A</name><email>test@example.com</email></customer>", 422, "Email has already been taken"),
        ("<customer><name><b>x</b></name></customer>", 422, "Name is invalid"),
        ("<product><name>A</name></product>", 400, "XML body must be a <customer> document"),
        ("<customer><name>A</name>", 400, None),
        ("{\"customer\": [1]}", 400, "JSON body's \"customer\" must be an object"),
        ("{\"customer\": ", 400, None),
        ('{"customer": {"name": "A\\u0000"}}', 400,
         "JSON body holds characters XML cannot carry (control characters or lone surrogates)"),
        ('{"name": "\\ud800"}', 400, "JSON body holds characters XML cannot carry (control characters or lone surrogates)"),
        ("name=A", 400, "Body must be an XML or JSON customer document"),
    ],
)
async def test_a_refused_customer_is_not_created(
    app_client: ClientFactory, body: str, status: int, message: str | None
) -> None:
    client = await app_client("demo")
    for suffix in (".xml", ".json"):
        response = await client.post(f"/api/customers{suffix}", headers=basic(), data=body.encode())
        assert await assert_error(response, status, message)
    count = await client.get("/api/customers.json?q=count", headers=basic())
    assert await count.json() == {"count": 3}


async def test_a_refused_update_changes_nothing(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.put("/api/customers/1534.xml", headers=basic(), data=b"<customer><first_name/><last_name/><name> </name></customer>")
    await assert_error(response, 422, "Name can't be blank")
    response = await client.put("/api/customers/1534.xml", headers=basic(), data=b"<customer><email>Jason@exmapleemail.com</email></customer>")
    await assert_error(response, 422, "Email has already been taken")
    shown = await (await client.get("/api/customers/1534.json", headers=basic())).json()
    assert shown["name"] == "Juan Cruz" and shown["email"] == ""


INVOICE = (
    "<invoice><reference>{ref}</reference><customer_id>1534</customer_id><invoice_lines type=\"array\">{lines}"
    "</invoice_lines></invoice>"
)
LINE = "<invoice_line><product_id>54</product_id><retail_price>100</retail_price></invoice_line>"


@pytest.mark.parametrize(
    "body,status,message",
    [
        (INVOICE.format(ref="R", lines="<invoice_line><quantity>1</quantity></invoice_line>"), 422, "Product can't be blank"),
        (INVOICE.format(ref="R", lines=""), 422, "Invoice lines can't be blank"),
        # A product id the catalogue does not hold: Rails' presence check on the line's product finds none.
        (INVOICE.format(ref="R", lines=LINE.replace(">54<", ">999<")), 422, "Product can't be blank"),
        (INVOICE.format(ref="R", lines=LINE.replace(">54<", ">coffee<")), 422, "Product can't be blank"),
        (INVOICE.format(ref="R", lines=LINE + LINE.replace(">54<", ">" + "9" * 30 + "<")), 422, "Product can't be blank"),
        (INVOICE.format(ref="R", lines=LINE.replace("100", "abc")), 422, "Retail price must be a decimal number"),
        (INVOICE.format(ref="R", lines=LINE.replace("100", "-1")), 422, "Retail price must not be negative"),
        (INVOICE.format(ref="R", lines=LINE + "<invoice_line><product_id>1</product_id><quantity>0</quantity></invoice_line>"),
         422, "Quantity must be greater than 0"),
        (INVOICE.format(ref="R", lines=LINE).replace("</invoice>", "<invoice_date>someday</invoice_date></invoice>"),
         422, "Invoice date is not a valid time"),
        (INVOICE.format(ref="TAKEN", lines=LINE), 422, "Reference has already been taken"),
        (INVOICE.format(ref="R", lines=LINE.replace("</product_id>", "</product_id><quantity>0.00001</quantity>")),
         422, "Quantity has more than 4 decimal places"),
        (INVOICE.format(ref="R", lines="<invoice_line><product_id>1</product_id><quantity>0.0001</quantity>"
                                       "<subtotal>999999999999</subtotal></invoice_line>"),
         422, "Subtotal is too large for the quantity"),
        ("<customer/>", 400, "XML body must be a <invoice> document"),
    ],
)
async def test_a_refused_invoice_records_and_earns_nothing(
    app_client: ClientFactory, body: str, status: int, message: str
) -> None:
    client = await app_client("demo")
    first = await client.post("/api/invoices.xml", headers=basic(), data=INVOICE.format(ref="TAKEN", lines=LINE).encode())
    assert first.status == 201
    assert await points(client) == "30521.0"
    await assert_error(await client.post("/api/invoices.xml", headers=basic(), data=body.encode()), status, message)
    assert await points(client) == "30521.0"
    count = await client.get("/api/invoices.json?q=count", headers=basic())
    assert await count.json() == {"count": 1}


async def test_voiding_twice_is_refused(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    made = await client.post("/api/invoices.json", headers=basic(), data=INVOICE.format(ref="V", lines=LINE).encode())
    number = (await made.json())["id"]
    assert (await client.delete(f"/api/invoices/{number}.xml?reason=Returned", headers=basic())).status == 200
    await assert_error(await client.delete(f"/api/invoices/{number}.json", headers=basic()), 422, "Invoice is already voided")
    assert await points(client) == "30511.0"


async def test_a_body_over_the_limit_is_413_in_the_dialect_shape(app_client: ClientFactory) -> None:
    client = await app_client("demo", max_body_bytes=1024)
    body = b"<customer><name>" + b"A" * 2048 + b"</name></customer>"
    await assert_error(await client.post("/api/customers.xml", headers=basic(), data=body), 413)

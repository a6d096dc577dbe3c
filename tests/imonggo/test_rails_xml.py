"""XML bodies read the way Imonggo's Rails server reads params (ActiveSupport `Hash.from_xml`): dashed
element names are the underscored fields, `type=` attributes are cast, `nil="true"` is null unless the
element still carries text. ActiveResource clients (and their ports) write documents this way."""
from __future__ import annotations

import base64

import pytest

from contract_tests.imonggo.shapes import assert_error, basic
from gateway.dialects.common import BodyError
from gateway.dialects.imonggo import xml_in
from tests.support import ClientFactory

# What an ActiveResource client sends for `Customer(first_name="Maria", last_name="Santos", ...)`.
DASHED_CUSTOMER = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b"<customer><first-name>Maria</first-name><last-name>Santos</last-name>"
    b'<alternate-code>MS-1</alternate-code><zipcode>1200</zipcode><tax-exempt type="boolean">true</tax-exempt>'
    b'<customer-type-id type="integer">8</customer-type-id><birthdate type="date">1990-02-03</birthdate>'
    b'<company-name nil="true"/></customer>'
)


def test_dashed_names_become_the_underscored_fields_at_every_depth() -> None:
    fields = xml_in.document(
        b'<invoice><customer-id type="integer">1534</customer-id><invoice-lines type="array">'
        b'<invoice-line><product-id type="integer">54</product-id><retail-price type="decimal">100.50</retail-price>'
        b"</invoice-line></invoice-lines></invoice>",
        "invoice",
    )
    assert fields == {"customer_id": "1534", "invoice_lines": [{"product_id": "54", "retail_price": "100.50"}]}


def test_a_dashed_root_is_the_underscored_resource() -> None:
    assert xml_in.document(b"<customer-type><name>Gold</name></customer-type>", "customer_type") == {"name": "Gold"}


@pytest.mark.parametrize(
    ("element", "read"),
    [
        pytest.param(b'<n type="integer"> +0042 </n>', "42", id="integer"),
        pytest.param(b'<n type="decimal">30511.50</n>', "30511.50", id="decimal-kept-as-sent"),
        pytest.param(b'<n type="float">1.5e2</n>', "1.5e2", id="float-never-a-float"),
        pytest.param(b'<n type="double">2.25</n>', "2.25", id="double"),
        pytest.param(b'<n type="boolean">true</n>', "true", id="boolean-true"),
        pytest.param(b'<n type="boolean"> 1 </n>', "true", id="boolean-one"),
        pytest.param(b'<n type="boolean">yes</n>', "false", id="boolean-anything-else-is-false"),
        pytest.param(b'<n type="date">2011-04-01</n>', "2011-04-01", id="date"),
        pytest.param(b'<n type="datetime">2011-04-01T08:00:00+08:00</n>', "2011-04-01T00:00:00+00:00", id="datetime-in-utc"),
        pytest.param(b'<n type="dateTime">2011-04-01T00:00:00Z</n>', "2011-04-01T00:00:00+00:00", id="dateTime"),
        pytest.param(b'<n type="datetime">2011-04-01 00:00:00</n>', "2011-04-01T00:00:00+00:00", id="datetime-no-zone-is-utc"),
        pytest.param(b'<n type="string">007</n>', "007", id="string"),
        pytest.param(b'<n type="string"></n>', "", id="empty-string"),
        pytest.param(b'<n type="integer"></n>', None, id="typed-and-empty-is-nil"),
        pytest.param(b'<n type="integer" nil="true"/>', None, id="typed-nil"),
        pytest.param(b'<n nil="true"></n>', None, id="nil"),
        pytest.param(b'<n nil="true">123</n>', "123", id="nil-with-text-text-wins"),
        pytest.param(b'<n type="integer" nil="true">123</n>', "123", id="typed-nil-with-text-text-wins"),
        pytest.param(b"<n></n>", "", id="untyped-empty"),
        pytest.param(b'<n type="whatever">x</n>', "x", id="unknown-type-is-text"),
        pytest.param(b'<n type="base64Binary">' + base64.b64encode("Peña".encode()) + b"</n>", "Peña", id="base64"),
        pytest.param(b'<n type="binary" encoding="base64">SnVhbg==</n>', "Juan", id="binary-base64"),
    ],
)
def test_type_attributes_are_cast_as_rails_casts_them(element: bytes, read: str | None) -> None:
    assert xml_in.document(b"<customer>" + element + b"</customer>", "customer") == {"n": read}


@pytest.mark.parametrize(
    ("element", "words"),
    [
        pytest.param(b'<n type="integer">abc</n>', "not an integer", id="integer"),
        pytest.param(b'<n type="integer">12abc</n>', "not an integer", id="integer-with-a-tail"),
        pytest.param(b'<n type="integer">1.5</n>', "not an integer", id="integer-with-a-fraction"),
        pytest.param(b'<n type="decimal">ten</n>', "not a number", id="decimal"),
        pytest.param(b'<n type="float">1,5</n>', "not a number", id="float"),
        pytest.param(b'<n type="date">2011-02-30</n>', "not a date", id="date"),
        pytest.param(b'<n type="datetime">yesterday</n>', "not a time", id="datetime"),
        pytest.param(b'<n type="base64Binary">!!!</n>', "base64", id="base64"),
        pytest.param(b'<n type="base64Binary">AAE=</n>', "text a field can hold", id="base64-control-bytes"),
        pytest.param(b'<n type="yaml">--- !ruby/object:Kernel {}</n>', "Disallowed type", id="yaml"),
        pytest.param(b'<n type="symbol">admin</n>', "Disallowed type", id="symbol"),
        pytest.param(b'<n type="file" name="x.txt">SnVhbg==</n>', "file", id="file"),
    ],
)
def test_a_value_that_is_not_its_type_is_refused_not_guessed(element: bytes, words: str) -> None:
    with pytest.raises(BodyError, match=words):
        xml_in.document(b"<customer>" + element + b"</customer>", "customer")


def test_arrays_take_one_group_and_repeated_names_make_a_list() -> None:
    fields = xml_in.document(
        b'<invoice><payments type="array"><payment><amount>1</amount></payment><note>x</note>'
        b"<payment><amount>2</amount></payment></payments><remark>a</remark><remark>b</remark></invoice>",
        "invoice",
    )
    assert fields == {"payments": [{"amount": "1"}, {"amount": "2"}], "remark": ["a", "b"]}


async def test_creating_a_customer_from_dashed_typed_elements_keeps_every_field(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.post("/api/customers.json", headers=basic(), data=DASHED_CUSTOMER)
    assert response.status == 201, await response.text()
    made = await response.json()
    assert (made["first_name"], made["last_name"], made["name"]) == ("Maria", "Santos", "Maria Santos")
    assert (made["alternate_code"], made["zipcode"], made["tax_exempt"]) == ("MS-1", "1200", True)
    assert (made["customer_type_id"], made["customer_type_name"], made["birthdate"]) == (8, "Gold", "1990-02-03")
    assert made["company_name"] == ""


async def test_updating_with_dashed_elements_changes_the_customer(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    body = (
        b"<customer><id type=\"integer\">445123</id><last-name>Reyes</last-name><first-name>Jason</first-name>"
        b"<street>1 Ayala Ave</street><tax-exempt type=\"boolean\">1</tax-exempt>"
        b"<available-points>999999.0</available-points><utc-updated-at>2000-01-01T00:00:00Z</utc-updated-at>"
        b"</customer>"
    )
    response = await client.put("/api/customers/445123.xml", headers=basic(), data=body)
    assert response.status == 200, await response.text()
    shown = await (await client.get("/api/customers/445123.json", headers=basic())).json()
    assert (shown["name"], shown["last_name"], shown["street"], shown["tax_exempt"]) == (
        "Jason Reyes", "Reyes", "1 Ayala Ave", True,
    )
    # Read-only fields sent back by a client (as ActiveResource sends every attribute) change nothing.
    assert shown["available_points"] == "50.0" and shown["utc_updated_at"] != "2000/01/01 00:00:00 +0000"


async def test_an_invoice_with_dashed_typed_lines_is_recorded_and_earns(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    body = (
        b'<invoice><reference>AR-1</reference><customer-id type="integer">1534</customer-id>'
        b'<invoice-date type="datetime">2011-04-01T00:00:00Z</invoice-date>'
        b'<invoice-lines type="array"><invoice-line><product-id type="integer">54</product-id>'
        b'<quantity type="decimal">2.0</quantity><retail-price type="decimal">100.0</retail-price></invoice-line>'
        b'</invoice-lines><payments type="array"><payment><payment-type-id type="integer">1</payment-type-id>'
        b'<amount type="decimal">200.0</amount></payment></payments><invoice-tax-rates type="array"/></invoice>'
    )
    response = await client.post("/api/invoices.json", headers=basic(), data=body)
    assert response.status == 201, await response.text()
    made = await response.json()
    assert (made["reference"], made["customer_id"], made["amount_with_tax"]) == ("AR-1", 1534, "200.0")
    assert made["utc_invoice_date"] == "2011/04/01 00:00:00 +0000"
    assert [(x["product_id"], x["quantity"]) for x in made["invoice_lines"]] == [(54, "2.0")]
    assert [(p["payment_type_id"], p["amount"]) for p in made["payments"]] == [(1, "200.0")]
    juan = await (await client.get("/api/customers/1534.json", headers=basic())).json()
    assert juan["available_points"] == "30531.0"  # 200.00 at 10.00 a point


@pytest.mark.parametrize("suffix", [".xml", ".json"])
async def test_a_bad_typed_value_is_a_400_in_the_dialects_shape_and_nothing_is_made(
    app_client: ClientFactory, suffix: str
) -> None:
    client = await app_client("demo")
    invoice = (
        b'<invoice><reference>AR-2</reference><invoice-lines type="array"><invoice-line>'
        b'<product-id type="integer">abc</product-id></invoice-line></invoice-lines></invoice>'
    )
    response = await client.post(f"/api/invoices{suffix}", headers=basic(), data=invoice)
    said = await assert_error(response, 400)
    assert "<product-id" in said and "not an integer" in said
    customer = b'<customer><first-name>Eve</first-name><customer-type-id type="yaml">8</customer-type-id></customer>'
    await assert_error(await client.post(f"/api/customers{suffix}", headers=basic(), data=customer), 400,
                       'Disallowed type attribute: "yaml" (<customer-type-id>)')
    count = await (await client.get("/api/invoices.json?q=count", headers=basic())).json()
    listed = await (await client.get("/api/customers.json", headers=basic())).json()
    assert count == {"count": 0} and [c["id"] for c in listed] == [1534, 442531, 445123]


async def test_a_json_422_carries_error_for_the_sdk_and_errors_base_for_activeresource(app_client: ClientFactory) -> None:
    """Imonggo's SDK checks has("error"); ActiveResource's Errors#from_json reads `errors` as attribute ->
    messages, `base` holding whole messages (see fixtures/imonggo/README.md for the sources)."""
    client = await app_client("demo")
    response = await client.post("/api/customers.json", headers=basic(), data=b'{"customer": {"city": "Cebu"}}')
    assert response.status == 422
    assert await response.json() == {"error": "Name can't be blank", "errors": {"base": ["Name can't be blank"]}}

"""The hardened XML parser: billion laughs, external entities, any DTD, oversized and malformed bodies
are refused with a 400 in the dialect's shape, never a 500 and never an expanded entity."""
from __future__ import annotations

import pytest

from contract_tests.imonggo.shapes import assert_error, basic
from gateway.dialects.common import BodyError
from gateway.dialects.imonggo import xml_in
from tests.support import ClientFactory

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<customer><name>&lol9;</name></customer>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE customer [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<customer><name>&xxe;</name></customer>"""

NETWORK_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE customer SYSTEM "http://127.0.0.1:9/evil.dtd">
<customer><name>A</name></customer>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE customer [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]>
<customer><name>A</name></customer>"""

XINCLUDE = b"""<customer xmlns:xi="http://www.w3.org/2001/XInclude"><name><xi:include href="/etc/passwd" parse="text"/></name></customer>"""

HOSTILE = [
    pytest.param(BILLION_LAUGHS, id="billion-laughs"),
    pytest.param(EXTERNAL_ENTITY, id="external-entity"),
    pytest.param(NETWORK_DTD, id="network-dtd"),
    pytest.param(PARAMETER_ENTITY, id="parameter-entity"),
    pytest.param(BILLION_LAUGHS.replace(b"DOCTYPE", b"doctype"), id="lowercase-doctype"),
]


@pytest.mark.parametrize("body", HOSTILE)
def test_the_parser_refuses_any_dtd(body: bytes) -> None:
    with pytest.raises(BodyError, match="DTD|well-formed"):
        xml_in.parse(body)


def test_an_undeclared_entity_is_refused_not_expanded() -> None:
    with pytest.raises(BodyError, match="well-formed"):
        xml_in.parse(b"<customer><name>&lol;</name></customer>")


def test_the_five_predefined_entities_still_read_as_text() -> None:
    assert xml_in.document(b"<customer><name>Tom &amp; Jerry &lt;3</name></customer>", "customer") == {
        "name": "Tom & Jerry <3"
    }


def test_xinclude_is_left_as_an_element_never_followed() -> None:
    fields = xml_in.document(XINCLUDE, "customer")
    assert fields == {"name": {"include": ""}}


def test_a_body_over_the_xml_limit_is_refused() -> None:
    body = b"<customer><name>" + b"A" * xml_in.MAX_XML_BYTES + b"</name></customer>"
    with pytest.raises(BodyError, match="larger than"):
        xml_in.parse(body)


def test_a_deep_tree_is_refused_by_libxml2s_limits() -> None:
    body = b"<customer>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</customer>"
    with pytest.raises(BodyError):
        xml_in.parse(body)


def test_non_utf8_is_refused() -> None:
    with pytest.raises(BodyError, match="UTF-8"):
        xml_in.parse("<customer><name>Peña</name></customer>".encode("latin-1"))


def test_rails_reading_of_nil_and_arrays() -> None:
    fields = xml_in.document(
        b'<invoice><customer_id nil="true">123</customer_id><remark nil="true"></remark>'
        b'<invoice_lines type="array"><invoice_line><product_id>54</product_id></invoice_line></invoice_lines>'
        b'<payments type="array"/></invoice>',
        "invoice",
    )
    assert fields == {
        "customer_id": "123", "remark": None, "invoice_lines": [{"product_id": "54"}], "payments": [],
    }


@pytest.mark.parametrize("body", [*HOSTILE, pytest.param(b"<customer><name>A</name", id="malformed")])
@pytest.mark.parametrize("path", ["/api/customers.xml", "/api/customers/1534.xml", "/api/invoices.json"])
async def test_over_http_a_hostile_body_is_a_400_and_changes_nothing(
    app_client: ClientFactory, body: bytes, path: str
) -> None:
    client = await app_client("demo")
    method = "PUT" if "1534" in path else "POST"
    response = await client.request(method, path, headers=basic(), data=body)
    message = await assert_error(response, 400)
    assert "lol" not in message and "root:" not in message
    shown = await (await client.get("/api/customers/1534.json", headers=basic())).json()
    assert shown["name"] == "Juan Cruz"
    count = await (await client.get("/api/customers.json?q=count", headers=basic())).json()
    assert count == {"count": 3}

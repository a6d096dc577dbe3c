"""Helpers the imonggo contract tests share: the seed's credentials, XML canonicalization, the dialect's
published documents (imonggo.xsd, imonggo.openapi.json: the files the server serves) and the error-shape
check every unhappy path goes through."""
from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from lxml import etree

from gateway.dialects.imonggo import published
from tests.support import FIXTURES

HERE = FIXTURES / "imonggo"
TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"


def basic(user: str = TOKEN, password: str = "X") -> dict[str, str]:
    """The headers of the seed's `curl -u TOKEN:X -H Accept... -H Content-Type...`."""
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", "Accept": "application/xml", "Content-Type": "application/xml"}


def canonical(document: bytes) -> bytes:
    """C14N of a document with whitespace-only text between elements dropped, so indentation and
    `<x/>` versus `<x></x>` do not matter, and everything else (order, attributes, text) does."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(document, parser=parser)
    for element in root.iter():
        if element.text is not None and not element.text.strip() and len(element):
            element.text = None
    return etree.tostring(root, method="c14n")


XSD = published.ANSWERS_XSD
SCHEMAS = f"{published.OPENAPI}#/components/schemas/"


def check_xml(body: bytes, root: str) -> etree._Element:
    """The body fits imonggo.xsd with `root` as its root element (`hash/count`: a <hash> holding <count>)."""
    element = etree.fromstring(body)
    problems = published.xml_problems(published.xml_schema(XSD), element)
    assert not problems, f"{XSD}: {problems}\n{body.decode()}"
    name, _, first = root.partition("/")
    assert element.tag == name and (not first or element[0].tag == first), (root, body.decode())
    return element


@cache
def _json_validator(name: str) -> Any:
    return published.openapi_schemas().validator({"$ref": f"#/components/schemas/{name}"})


def check_json(value: Any, name: str) -> None:
    """The value fits the OpenAPI document's components/schemas/`name`."""
    _json_validator(name).validate(value)


def check(body: bytes, schema: str) -> None:
    """`imonggo.xsd#customer` validates XML with that root; `imonggo.openapi.json#/components/schemas/customer`
    validates JSON against that schema."""
    if schema.startswith(XSD + "#"):
        check_xml(body, schema.removeprefix(XSD + "#"))
    else:
        assert schema.startswith(SCHEMAS), schema
        check_json(json.loads(body), schema.removeprefix(SCHEMAS))


async def assert_error(response: ClientResponse, status: int, message: str | None = None) -> str:
    """Every unhappy path: the status, Rails' `<errors><error>...</error></errors>` (or `{"error": ..., "errors":
    {"base": [...]}}` for a .json URL) checked against its schema, and the message when given. Returns the message."""
    body = await response.read()
    assert response.status == status, (response.status, body)
    if response.url.path.endswith(".json"):
        assert response.content_type == "application/json"
        value = json.loads(body)
        check_json(value, "error")
        said = value["error"]
        # What ActiveResource clients read: the same messages, whole, under errors.base.
        assert "; ".join(value["errors"]["base"]) == said, value
    else:
        assert response.content_type == "application/xml"
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n'), body
        root = check_xml(body, "errors")
        said = "; ".join(e.text or "" for e in root)
    if message is not None:
        assert said == message, (said, message)
    return said


def fixture(name: str) -> bytes:
    return (HERE / name).read_bytes()


def cases() -> list[dict[str, Any]]:
    return json.loads((HERE / "cases.json").read_text(encoding="utf-8"))["cases"]


def path_of(name: str) -> Path:
    return HERE / name

"""Helpers the imonggo contract tests share: the seed's credentials, XML canonicalization, the XSDs and
JSON Schemas of fixtures/imonggo/schemas, and the error-shape check every unhappy path goes through."""
from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from aiohttp import ClientResponse
from lxml import etree

from tests.support import FIXTURES

HERE = FIXTURES / "imonggo"
SCHEMAS = HERE / "schemas"
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


@cache
def xsd(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


@cache
def _json_defs() -> dict[str, Any]:
    return json.loads((SCHEMAS / "imonggo.schema.json").read_text(encoding="utf-8"))


def check_xml(body: bytes, schema: str) -> etree._Element:
    root = etree.fromstring(body)
    validator = xsd(schema)
    assert validator.validate(root), f"{schema}: {validator.error_log}\n{body.decode()}"
    return root


def check_json(value: Any, definition: str) -> None:
    defs = _json_defs()
    schema = {"$schema": defs["$schema"], "$defs": defs["$defs"], "$ref": f"#/$defs/{definition}"}
    jsonschema.Draft202012Validator(schema).validate(value)


def check(body: bytes, schema: str) -> None:
    """An `.xsd` name validates XML; any other name is a $defs entry of the JSON Schema."""
    if schema.endswith(".xsd"):
        check_xml(body, schema)
    else:
        check_json(json.loads(body), schema)


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
        root = check_xml(body, "errors.xsd")
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

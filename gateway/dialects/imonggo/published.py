"""The imonggo dialect's published contract documents, read from documents/ (the one copy the server serves,
the wheel ships, the contract tests and verify read): imonggo.xsd (XML answers), imonggo-requests.xsd (XML
request bodies) and imonggo.openapi.json (the JSON side). Their parsed forms are made once, here."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from ..descriptor import Document
from ..request_schema import Schemas
from . import xml_in

HERE = Path(__file__).with_name("documents")
ANSWERS_XSD = "imonggo.xsd"
REQUESTS_XSD = "imonggo-requests.xsd"
OPENAPI = "imonggo.openapi.json"


@cache
def content(name: str) -> bytes:
    return (HERE / name).read_bytes()


@cache
def xml_schema(name: str) -> etree.XMLSchema:
    """An XSD of documents/, read through the dialect's hardened parser (no DTD, no entities, no network)."""
    return etree.XMLSchema(xml_in.parse(content(name)))


@cache
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(content(OPENAPI))
    return document


@cache
def openapi_schemas() -> Schemas:
    """Validators for the OpenAPI document's schemas, its $refs resolved (the neutral request_schema code)."""
    return Schemas(openapi())


DOCUMENTS = (
    Document(OPENAPI, "openapi", "application/json", "Imonggo-style API, JSON side: every /api/*.json route",
             lambda: content(OPENAPI)),
    Document(ANSWERS_XSD, "xsd", "application/xml", "Imonggo-style API, XML side: every answer of /api/*.xml",
             lambda: content(ANSWERS_XSD)),
    Document(REQUESTS_XSD, "xsd", "application/xml",
             "Imonggo-style API, XML side: the <customer> and <invoice> request bodies", lambda: content(REQUESTS_XSD)),
)


def xml_problems(schema: etree.XMLSchema, root: etree._Element) -> list[str]:
    """What `schema` refuses in the document, one line each: `/customer/email: Element content is not allowed`."""
    if schema.validate(root):
        return []
    return [f"{error.path}: {_plain(error.message)}" for error in schema.error_log]


def _plain(message: str) -> str:
    """libxml2's message without its `Element 'x': ` lead (the path already names the element)."""
    lead, _, rest = message.partition("': ")
    return rest if lead.startswith("Element '") and rest else message

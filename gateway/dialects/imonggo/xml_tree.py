"""Records as lxml element trees, serialized by lxml: the reference that xml_out's text writer must equal
byte for byte (the equivalence tests and bench/render_bench.py compare the two), and where xml_out learns
each tag's exact text once. Knows records and lxml; nothing of requests."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from .scalars import percent, ruby_decimal, utc_xml, xml_safe
from .views import Many, Percent, Record, Typed

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return ruby_decimal(value)
    if isinstance(value, datetime):
        return utc_xml(value)
    if isinstance(value, Percent):
        return percent(value)
    return xml_safe(str(value))


def _field(parent: etree._Element, name: str, value: Any) -> None:
    element = etree.SubElement(parent, name)
    if isinstance(value, Typed):
        element.set("type", value.type)
        value = value.value
    if value is None:
        element.set("nil", "true")
        element.text = ""
    elif isinstance(value, Many):
        element.set("type", "array")
        for record in value.records:
            fill(etree.SubElement(element, value.item), record)
    else:
        element.text = text(value)


def fill(element: etree._Element, record: Record) -> None:
    for name, value in record:
        _field(element, name, value)


def serialize(root: etree._Element) -> bytes:
    return DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)


def document(root: str, record: Record) -> bytes:
    element = etree.Element(root)
    fill(element, record)
    return serialize(element)


def listing(root: str, item: str, records: Sequence[Record]) -> bytes:
    element = etree.Element(root)
    if records:
        element.set("type", "array")
    for record in records:
        fill(etree.SubElement(element, item), record)
    return serialize(element)


def errors(messages: Sequence[str]) -> bytes:
    element = etree.Element("errors")
    for message in messages:
        etree.SubElement(element, "error").text = xml_safe(message)
    return serialize(element)

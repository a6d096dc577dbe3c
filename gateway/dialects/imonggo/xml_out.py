"""Records to XML the way Rails 2 `to_xml` writes them: the declaration with double quotes, two-space
indentation, `nil="true"` for nulls, `<x></x>` for empty text, `type="array"` lists. Built with lxml
elements, never string formatting."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from .scalars import percent, ruby_decimal, utc_xml, xml_safe
from .views import Many, Percent, Record, Typed

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
CONTENT_TYPE = "application/xml"


def _text(value: Any) -> str:
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
            _fill(etree.SubElement(element, value.item), record)
    else:
        element.text = _text(value)


def _fill(element: etree._Element, record: Record) -> None:
    for name, value in record:
        _field(element, name, value)


def _bytes(root: etree._Element) -> bytes:
    return DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)


def document(root: str, record: Record) -> bytes:
    """One record: `<customer>...</customer>`, `<hash>...</hash>`."""
    element = etree.Element(root)
    _fill(element, record)
    return _bytes(element)


def listing(root: str, item: str, records: Sequence[Record]) -> bytes:
    """A list: `<customers type="array"><customer>...` or, when empty, `<customers/>` as the vendor shows."""
    element = etree.Element(root)
    if records:
        element.set("type", "array")
    for record in records:
        _fill(etree.SubElement(element, item), record)
    return _bytes(element)


def errors(messages: Sequence[str]) -> bytes:
    """Rails' validation error document: `<errors><error>Message</error></errors>`."""
    element = etree.Element("errors")
    for message in messages:
        etree.SubElement(element, "error").text = xml_safe(message)
    return _bytes(element)

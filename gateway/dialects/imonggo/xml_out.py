"""Records to XML the way Rails 2 `to_xml` writes them: the declaration with double quotes, two-space
indentation, `nil="true"` for nulls, `<x></x>` for empty text, `type="array"` lists.

Written as text, because building an lxml tree per response cost most of a render, but never by
formatting names or text ourselves: every tag is text lxml wrote (once per element name, see _tags), and
element text is escaped exactly as libxml2 escapes it (escape). tests/imonggo/test_xml_equivalence.py
proves the bytes equal lxml's serialization of the same records (an lxml tree per response, as this module
was before: bench/render_reference.py) for hostile text. Knows records and XML, nothing of requests."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from lxml import etree

from .scalars import NOT_XML, percent, ruby_decimal, utc_xml, xml_safe
from .views import Many, Percent, Record, Typed

CONTENT_TYPE = "application/xml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_PADS = tuple("\n" + "  " * depth for depth in range(16))  # the views nest four deep at most


def _markup(text: str) -> str:
    """What libxml2 escapes in element content: `&`, `<`, `>` and carriage return (as `&#13;`)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def escape(text: str) -> str:
    """Element text as lxml writes it; ValueError, as lxml raises, for text XML 1.0 cannot carry."""
    if NOT_XML.search(text) is not None:
        raise ValueError("All strings must be XML compatible: no NULL bytes or control characters")
    return _markup(text)


@cache  # element names and type attributes are the views' constants: a few dozen entries, ever
def _tags(name: str, kind: str | None, nil: bool) -> tuple[str, str, str]:
    """(opening tag, closing tag, empty element) exactly as lxml writes them; lxml refuses a bad name here."""
    element = etree.Element(name)
    if kind is not None:
        element.set("type", kind)
    if nil:
        element.set("nil", "true")
    empty = etree.tostring(element, encoding="unicode")
    element.text = "x"
    whole = etree.tostring(element, encoding="unicode")
    close = f"</{name}>"
    if not whole.endswith("x" + close):
        raise ValueError(f"unexpected serialization of <{name}>: {whole}")
    return whole[: -len(close) - 1], close, empty


def _text_by_isinstance(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return ruby_decimal(value)
    if isinstance(value, datetime):
        return utc_xml(value)
    if isinstance(value, Percent):
        return percent(value)
    return xml_safe(str(value))


def _text_of_string(value: str) -> str:
    if value.isascii() and value.isprintable():  # most text: nothing XML refuses, no carriage return
        return _markup(value)
    return _markup(xml_safe(value))


# Text for each exact type but str (escaped in the loop), decided once; the digits, dates and percentages these
# write need no escaping. Any other type (a str or Decimal subclass, a date from a profile) takes the
# reference's isinstance path.
_TEXT: dict[type, Callable[[Any], str]] = {
    bool: lambda value: "true" if value else "false",
    int: int.__repr__,
    Decimal: ruby_decimal,
    datetime: utc_xml,
    Percent: percent,
}

# For each depth, by element name: (newline, indentation and opening tag, closing tag) of a plain text element
# and the whole line of its nil form. Filled on first use; the names are the views' constants.
_LEAVES: tuple[dict[str, tuple[str, str]], ...] = tuple({} for _ in _PADS)
_NILS: tuple[dict[str, str], ...] = tuple({} for _ in _PADS)


def _leaf(depth: int, name: str) -> tuple[str, str]:
    opening, closing, _ = _tags(name, None, False)
    leaf = _LEAVES[depth][name] = (_PADS[depth] + opening, closing)
    return leaf


def _nil(depth: int, name: str) -> str:
    opening, closing, _ = _tags(name, None, True)
    line = _NILS[depth][name] = _PADS[depth] + opening + closing
    return line


def _element(out: list[str], name: str, record: Record, depth: int) -> None:
    pad = _PADS[depth]
    opening, closing, empty = _tags(name, None, False)
    if not record:
        out += (pad, empty)
        return
    out += (pad, opening)
    _fields(out, record, depth + 1)
    out += (pad, closing)


def _fields(out: list[str], record: Record, depth: int) -> None:
    leaves, nils, append = _LEAVES[depth], _NILS[depth], out.append
    for name, value in record:
        kind = type(value)
        if kind is str:
            if not (value.isascii() and value.isprintable()):  # the rare text XML refuses or with a return
                value = xml_safe(value)
            if "&" in value or "<" in value or ">" in value or "\r" in value:
                value = _markup(value)
        elif value is None:
            append(nils.get(name) or _nil(depth, name))
            continue
        elif kind is Typed or kind is Many:
            _typed_or_many(out, name, value, depth)
            continue
        else:
            to_text = _TEXT.get(kind)
            value = to_text(value) if to_text is not None else _markup(_text_by_isinstance(value))
        opening, closing = leaves.get(name) or _leaf(depth, name)
        append(opening + value + closing)


def _typed_or_many(out: list[str], name: str, value: Typed | Many, depth: int) -> None:
    pad, kind = _PADS[depth], None
    if type(value) is Typed:
        kind, value = value.type, value.value
    if value is None:
        opening, closing, _ = _tags(name, kind, True)
        out += (pad, opening, closing)
    elif type(value) is Many:
        opening, closing, empty = _tags(name, "array", False)  # lxml keeps a Typed type's place
        if not value.records:
            out += (pad, empty)
            return
        out += (pad, opening)
        for item in value.records:
            _element(out, value.item, item, depth + 1)
        out += (pad, closing)
    else:
        to_text = _text_of_string if type(value) is str else _TEXT.get(type(value))
        text = to_text(value) if to_text is not None else _markup(_text_by_isinstance(value))
        opening, closing, _ = _tags(name, kind, False)
        out += (pad, opening, text, closing)


def _bytes(out: list[str]) -> bytes:
    # out starts with the root's pad, a newline: the one that follows the declaration.
    return (_DECLARATION + "".join(out) + "\n").encode()


def document(root: str, record: Record) -> bytes:
    """One record: `<customer>...</customer>`, `<hash>...</hash>`."""
    out: list[str] = []
    _element(out, root, record, 0)
    return _bytes(out)


def listing(root: str, item: str, records: Sequence[Record]) -> bytes:
    """A list: `<customers type="array"><customer>...` or, when empty, `<customers/>` as the vendor shows."""
    if not records:
        return _bytes([_PADS[0], _tags(root, None, False)[2]])
    opening, closing, _ = _tags(root, "array", False)
    out = [_PADS[0], opening]
    for record in records:
        _element(out, item, record, 1)
    out += (_PADS[0], closing)
    return _bytes(out)


def errors(messages: Sequence[str]) -> bytes:
    """Rails' validation error document: `<errors><error>Message</error></errors>`."""
    return document("errors", [("error", message) for message in messages])

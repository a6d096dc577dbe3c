"""The one way XML enters the imonggo dialect: a hardened lxml parser (no DTD at all, no entity
expansion, no network, no huge trees, a size limit) and Rails' `Hash.from_xml` reading of the tree
(dashes to underscores, `type=` casts, `nil="true"`), as the vendor's Rails server reads params."""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from ... import safe_xml
from ..common import BodyError
from .scalars import NOT_XML

MAX_XML_BYTES = safe_xml.MAX_XML_BYTES


def parse(raw: bytes) -> etree._Element:
    """The root element of a small, plain XML document (the gateway's one hardened parser), or BodyError."""
    try:
        return safe_xml.parse(raw)
    except safe_xml.XmlRefused as exc:
        raise BodyError(str(exc)) from None


def plain(element: etree._Element) -> Any:
    """Rails' `Hash.from_xml` reading of an element (ActiveSupport's XMLConverter and XmlMini::PARSING):

    - element names lose their dashes (`<first-name>` is `first_name`), at every depth;
    - `type="array"` is a list of its children (those named like the first, as Rails takes one group);
    - children make a dict; a name that repeats makes a list, as Rails merges repeats;
    - `nil="true"` on an element with no text is None. With text the text wins: Rails reads content
      before it looks at `nil`, and Imonggo's clients send `<customer_id nil="true">123</customer_id>`;
    - `type=` casts the text (integer, decimal, float/double, boolean, date, datetime/dateTime, string,
      base64Binary, binary) and the result is handed on as the text the dialect's field readers take
      (JSON bodies are text too), so a typed field and an untyped one read alike. Rails refuses
      `symbol` and `yaml`; so do we. Where Rails would silently read garbage as 0 (`"abc".to_i`) we
      refuse the body: inventing a value is worse than a clear 400;
    - a typed element with no text is None (Rails' "garbage" rule), `type="string"` with none is "".
    An untyped element with no text stays "" (Rails says nil; every field reader here treats both as
    "not given", and "" keeps an empty element visibly sent)."""
    children = [c for c in element if isinstance(c.tag, str)]
    kind = element.get("type")
    if kind in DISALLOWED:
        raise BodyError(f'Disallowed type attribute: "{kind}" (<{_sent(element)}>)')
    if kind == "array":
        group = [c for c in children if c.tag == children[0].tag] if children else []
        return [plain(c) for c in group]
    if children:
        if element.get("nil") == "true":
            return None
        fields: dict[str, Any] = {}
        for child in children:
            name, value = _name(child.tag), plain(child)
            if name not in fields:
                fields[name] = value
            elif isinstance(fields[name], _Repeated):
                fields[name].append(value)
            else:
                fields[name] = _Repeated([fields[name], value])
        return {k: list(v) if isinstance(v, _Repeated) else v for k, v in fields.items()}
    text = element.text or ""
    if kind is not None and kind in PARSING:
        if not text.strip():
            return "" if kind == "string" and element.get("nil") != "true" else None
        return PARSING[kind](text, element)
    if element.get("nil") == "true" and not text.strip():
        return None
    return text


class _Repeated(list):  # type: ignore[type-arg]
    """A name that came more than once under one parent (a plain list value could be an array)."""


def _name(tag: str) -> str:
    """A tag as a Rails params key: no namespace, dashes as underscores."""
    return tag.rpartition("}")[2].replace("-", "_")


def _sent(element: etree._Element) -> str:
    """The tag as the client wrote it (for messages)."""
    return element.tag.rpartition("}")[2]


def _refuse(element: etree._Element, text: str, what: str) -> BodyError:
    shown = text.strip()[:40]
    return BodyError(f'<{_sent(element)} type="{element.get("type")}"> holds "{shown}", which is not {what}')


def _integer(text: str, element: etree._Element) -> str:
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise _refuse(element, text, "an integer")
    return str(int(stripped))


def _decimal(text: str, element: etree._Element) -> str:
    """Kept as the text sent (never a float): the field reader bounds and rounds it."""
    stripped = text.strip()
    try:
        Decimal(stripped)
    except InvalidOperation:
        raise _refuse(element, text, "a number") from None
    return stripped


def _boolean(text: str, element: etree._Element) -> str:
    """Rails: `%w(1 true).include?(text.strip)`; anything else is false."""
    return "true" if text.strip() in ("1", "true") else "false"


def _date(text: str, element: etree._Element) -> str:
    stripped = text.strip()
    try:
        return date.fromisoformat(stripped[:10]).isoformat()
    except ValueError:
        raise _refuse(element, text, "a date (YYYY-MM-DD)") from None


def _datetime(text: str, element: etree._Element) -> str:
    """Rails' `Time.xmlschema(text).utc`: an ISO 8601 time, UTC when it names no zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
        moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise _refuse(element, text, "a time (YYYY-MM-DDTHH:MM:SSZ)") from None
    return moment.isoformat()


def _string(text: str, element: etree._Element) -> str:
    return text


def _base64(text: str, element: etree._Element) -> str:
    """Decoded, and only if it is text a field can hold (no field here takes bytes)."""
    if element.get("type") == "binary" and element.get("encoding") != "base64":
        return text
    try:
        decoded = base64.b64decode("".join(text.split()), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _refuse(element, text, "base64-encoded UTF-8 text") from None
    if NOT_XML.search(decoded):
        raise _refuse(element, text, "text a field can hold")
    return decoded


def _file(text: str, element: etree._Element) -> str:
    raise BodyError(f'<{_sent(element)} type="file">: no Imonggo field takes a file')


_INTEGER = re.compile(r"[+-]?[0-9]{1,40}")
DISALLOWED = ("symbol", "yaml")
PARSING: dict[str, Callable[[str, etree._Element], str]] = {
    "integer": _integer, "decimal": _decimal, "float": _decimal, "double": _decimal, "boolean": _boolean,
    "date": _date, "datetime": _datetime, "dateTime": _datetime, "string": _string,
    "base64Binary": _base64, "binary": _base64, "file": _file,
}


def document(raw: bytes, root: str) -> dict[str, Any]:
    """The fields of a `<root>...</root>` document (`<customer-type>` counts as `customer_type`)."""
    element = parse(raw)
    if _name(element.tag) != root:
        raise BodyError(f"XML body must be a <{root}> document")
    fields = plain(element)
    return fields if isinstance(fields, dict) else {}

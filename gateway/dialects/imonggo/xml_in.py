"""The one way XML enters the imonggo dialect: a hardened lxml parser (no DTD at all, no entity
expansion, no network, no huge trees, a size limit) and Rails' `Hash.from_xml` reading of the tree."""
from __future__ import annotations

import re
from typing import Any

from lxml import etree

from ..common import BodyError

MAX_XML_BYTES = 256 * 1024
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True, collect_ids=False, recover=False,
    )


def parse(raw: bytes) -> etree._Element:
    """The root element of a small, plain XML document, or BodyError. A document type declaration of
    any kind is refused before the parser sees it, so no entity can ever be declared or expanded."""
    if len(raw) > MAX_XML_BYTES:
        raise BodyError(f"XML body is larger than {MAX_XML_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("XML body must be UTF-8") from None
    if _DTD.search(text):
        raise BodyError("XML body must not contain a DTD or entity declarations")
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise BodyError(f"XML body is not well-formed: {exc.msg}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BodyError("XML body must not contain a DTD or entity declarations")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise BodyError("XML body must not contain entity references")
    return root


def plain(element: etree._Element) -> Any:
    """Rails' reading of an element: `type="array"` -> a list of its children, children -> a dict,
    `nil="true"` without text -> None (with text the text wins, as clients send both), else the text."""
    children = [c for c in element if isinstance(c.tag, str)]
    if element.get("type") == "array":
        return [plain(c) for c in children]
    if children:
        return {_name(c.tag): plain(c) for c in children}
    text = element.text or ""
    if element.get("nil") == "true" and not text.strip():
        return None
    return text


def _name(tag: str) -> str:
    return tag.rpartition("}")[2]


def document(raw: bytes, root: str) -> dict[str, Any]:
    """The fields of a `<root>...</root>` document."""
    element = parse(raw)
    if _name(element.tag) != root:
        raise BodyError(f"XML body must be a <{root}> document")
    fields = plain(element)
    return fields if isinstance(fields, dict) else {}

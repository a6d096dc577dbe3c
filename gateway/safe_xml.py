"""The one hardened way XML is read anywhere in the gateway: lxml with no DTD at all, no entity expansion, no
network, no huge trees and a size limit. A dialect turns XmlRefused into its own error; verify's comparison
reads answers through it too. Knows no vendor and no HTTP."""
from __future__ import annotations

import re

from lxml import etree

MAX_XML_BYTES = 256 * 1024
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


class XmlRefused(ValueError):
    """A document the hardened parser will not read; the message says why, in one line."""


def parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True, collect_ids=False, recover=False,
    )


def parse(raw: bytes, *, limit: int = MAX_XML_BYTES) -> etree._Element:
    """The root element of a small, plain XML document, or XmlRefused. A document type declaration of
    any kind is refused before the parser sees it, so no entity can ever be declared or expanded."""
    if len(raw) > limit:
        raise XmlRefused(f"XML body is larger than {limit} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise XmlRefused("XML body must be UTF-8") from None
    if _DTD.search(text):
        raise XmlRefused("XML body must not contain a DTD or entity declarations")
    try:
        root = etree.fromstring(raw, parser=parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(f"XML body is not well-formed: {exc.msg}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlRefused("XML body must not contain a DTD or entity declarations")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise XmlRefused("XML body must not contain entity references")
    return root

"""Request bodies of the imonggo dialect as plain fields: XML through xml_in, or JSON wrapped in the
singular root (`{"customer": {...}}`) or flat. Decided by the body itself, since clients send XML to
`.json` URLs and the reverse. Values become text, as Rails params are."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..common import BodyError, parsed_json
from . import xml_in
from .scalars import NOT_XML


def as_params(value: Any) -> Any:
    """A JSON body's values as Rails params hold them (text), or BodyError for text XML cannot carry."""
    if isinstance(value, dict):
        return {str(k): as_params(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_params(v) for v in value]
    if isinstance(value, str):
        if NOT_XML.search(value):
            raise BodyError("JSON body holds characters XML cannot carry (control characters or lone surrogates)")
        return value
    if value is None:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)  # int, Decimal


def _json(data: Any, root: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BodyError(f"JSON body must be an object, like {{\"{root}\": {{...}}}}")
    if set(data) == {root}:
        data = data[root]
        if not isinstance(data, dict):
            raise BodyError(f"JSON body's \"{root}\" must be an object")
    fields = as_params(data)
    assert isinstance(fields, dict)
    return fields


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


async def read_fields(request: web.Request, root: str) -> dict[str, Any]:
    """The fields of the `root` document in the body; an empty body has none."""
    raw = await request.read()
    start = raw.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    if not start:
        return {}
    if start == b"<":
        return xml_in.document(raw, root)
    if start in (b"{", b"["):
        return _json(parsed_json(request, raw), root)
    raise BodyError(f"body must be an XML or JSON {root} document")

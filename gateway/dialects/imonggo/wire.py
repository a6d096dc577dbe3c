"""Responses in the format the URL asks for: the `.json` suffix means JSON, `.xml` or none means XML
(the vendor decides by suffix, never by Accept or Content-Type)."""
from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from . import json_out, xml_out
from .views import Record


def wants_json(request: web.Request) -> bool:
    return request.path.endswith(".json")


# The Content-Type header as aiohttp writes content_type= and charset=, made once instead of per response.
_JSON_HEADERS = {"Content-Type": f"{json_out.CONTENT_TYPE}; charset=utf-8"}
_XML_HEADERS = {"Content-Type": f"{xml_out.CONTENT_TYPE}; charset=utf-8"}


def _send(request: web.Request, body: bytes, status: int) -> web.Response:
    return web.Response(body=body, status=status, headers=_JSON_HEADERS if wants_json(request) else _XML_HEADERS)


def one(request: web.Request, root: str, record: Record, *, status: int = 200) -> web.Response:
    """One record: XML `<root>...</root>`, JSON a flat object."""
    body = json_out.document(record) if wants_json(request) else xml_out.document(root, record)
    return _send(request, body, status)


def many(request: web.Request, root: str, item: str, records: Sequence[Record]) -> web.Response:
    """A list: XML `<root type="array"><item>...`, JSON a bare array."""
    body = json_out.listing(records) if wants_json(request) else xml_out.listing(root, item, records)
    return _send(request, body, 200)


def errors(request: web.Request, status: int, messages: Sequence[str]) -> web.Response:
    body = json_out.errors(messages) if wants_json(request) else xml_out.errors(messages)
    return _send(request, body, status)

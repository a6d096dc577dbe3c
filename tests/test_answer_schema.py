"""The neutral answer check (gateway/dialects/answer_schema.py): an answer's status, content type and JSON
body against a small document; a literal path wins over a template; each misfit is one readable line; a
request outside the document is answered right only by a 405 (a method it does not describe) or a 404."""
from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.dialects.answer_schema import AnswerSchema

OK = {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}
DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "servers": [{"url": "/v1"}],
    "paths": {
        "/items/{item_id}": {"get": {"responses": {"200": OK, "4XX": {"$ref": "#/components/responses/Error"}}}},
        "/items/new": {"get": {"responses": {"204": {"description": "nothing"}}}},
        "/other": {"get": {"responses": {"default": {"description": "text", "content": {"text/plain": {}}}}}},
    },
    "components": {
        "schemas": {"Item": {"type": "object", "required": ["name", "price"], "additionalProperties": False,
                             "properties": {"name": {"type": "string"}, "price": {"type": "number"}}},
                    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}},
        "responses": {"Error": {"description": "refused", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    },
}
CHECK = AnswerSchema(DOCUMENT)


def check(path: str, status: int, body: Any, content_type: str = "application/json; charset=utf-8") -> list[str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return CHECK.check("GET", path, status, content_type, raw)


def test_an_answer_that_fits() -> None:
    assert check("/v1/items/3?x=1", 200, {"name": "n", "price": 1.5}) == []
    assert check("/v1/items/3", 404, {"error": "gone"}) == []  # through the 4XX range
    assert check("/v1/items/new", 204, b"") == []  # the literal path, not the template
    assert check("/v1/other", 500, b"boom", "text/plain") == []  # default, a media type not parsed


@pytest.mark.parametrize(("path", "status", "body", "content_type", "expected"), [
    ("/v1/items/3", 200, {"name": 5, "price": "1"}, "application/json",
     ["/name: 5 is not of type 'string'", "/price: '1' is not of type 'number'"]),
    ("/v1/items/3", 200, {"name": "n", "price": 1, "x": 1}, "application/json",
     ["/: Additional properties are not allowed ('x' was unexpected)"]),
    ("/v1/items/3", 200, b"{", "application/json", ["body: request body is not valid JSON: "
                                                   "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]),
    ("/v1/items/3", 200, {"name": "n", "price": 1}, "text/html",
     ["content type text/html: not one of application/json for status 200"]),
    ("/v1/items/3", 500, {"error": "x"}, "application/json", ["status 500: not listed for GET /items/{item_id} (listed: 200, 4XX)"]),
    ("/v1/items/new", 204, b"x", "", ["status 204: a body where the document lists none"]),
    ("/v1/nowhere", 200, {}, "application/json", ["GET /v1/nowhere: no such operation in the document"]),
], ids=["wrong-types", "extra-key", "not-json", "content-type", "status-not-listed", "body-not-listed", "unknown-path"])
def test_what_does_not_fit(path: str, status: int, body: Any, content_type: str, expected: list[str]) -> None:
    assert check(path, status, body, content_type) == expected


def test_a_method_the_path_has_not() -> None:
    assert CHECK.check("DELETE", "/v1/items/3", 200, "application/json", b"{}") == [
        "DELETE /v1/items/3: no such operation in the document"]


def test_outside_the_document_only_a_405_or_a_404_fits() -> None:
    assert CHECK.check("DELETE", "/v1/items/3", 405, "application/json", b'{"any": "shape"}') == []
    assert CHECK.check("GET", "/v1/nowhere", 404, "text/plain", b"Not Found") == []
    assert CHECK.check("GET", "/v1/nowhere", 405, "text/plain", b"") == ["GET /v1/nowhere: no such operation in the document"]
    assert CHECK.check("DELETE", "/v1/items/3", 404, "text/plain", b"") == [
        "DELETE /v1/items/3: no such operation in the document"]

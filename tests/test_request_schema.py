"""The neutral request validator (gateway/dialects/request_schema.py) against a small document: what it
refuses (missing and ill-typed parameters, bad and non-JSON bodies, extra keys) and what it lets through."""
from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.dialects.request_schema import Problem, RequestSchema

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "servers": [{"url": "/v1"}],
    "paths": {
        "/items/{item_id}": {
            "parameters": [{"$ref": "#/components/parameters/ItemId"}],
            "get": {"parameters": [
                {"name": "limit", "in": "query", "required": True, "schema": {"type": "integer", "maximum": 50}},
                {"name": "ratio", "in": "query", "schema": {"type": "number", "exclusiveMinimum": 0}},
                {"name": "deep", "in": "query", "schema": {"type": "boolean"}},
                {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
                {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}},
                # read as the handler reads them: spaces around the text stripped, a blank one as none sent
                {"name": "page", "in": "query", "x-strip-spaces": True, "x-blank-is-absent": True,
                 "schema": {"type": "integer", "minimum": 1}},
                {"name": "size", "in": "query", "x-strip-spaces": True,
                 "schema": {"type": "integer", "minimum": 1, "x-problem": "must be a whole number of at least 1"}},
            ], "responses": {"200": {"description": "ok"}}},
            "post": {"requestBody": {"$ref": "#/components/requestBodies/Item"},
                     "responses": {"200": {"description": "ok"}}},
        },
        "/free": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/login": {"post": {"requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Login"}},
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Login"}}}},
            "responses": {"200": {"description": "ok"}}}},
        # the handler reads a body of any other media type as JSON, so the check does too
        "/sniffed": {"post": {"requestBody": {"required": True, "x-read-other-media-as": "application/json", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Login"}},
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Login"}}}},
            "responses": {"200": {"description": "ok"}}}},
    },
    "components": {
        "parameters": {"ItemId": {"name": "item_id", "in": "path", "required": True,
                                  "schema": {"type": "integer", "minimum": 1}}},
        "requestBodies": {"Item": {"required": True, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}},
        "schemas": {
            "Item": {"type": "object", "required": ["name", "price"], "additionalProperties": False,
                     "properties": {"name": {"type": "string", "minLength": 1, "x-problem": {"minLength": "must not be empty"}},
                                    "price": {"$ref": "#/components/schemas/Money"}}},
            "Money": {"type": "number", "minimum": 0, "x-problem": "must be a number, 0 or more"},
            "Login": {"type": "object", "required": ["user"], "properties": {"user": {"type": "string"},
                                                                             "days": {"type": "integer"}}},
        },
    },
}


@pytest.fixture
async def client(aiohttp_client: Any) -> TestClient:
    schema = RequestSchema(DOCUMENT)

    async def answer(request: web.Request) -> web.Response:
        problems = await schema.check(request)
        body = await request.read()  # the handler still reads the body the check read
        return web.json_response({"problems": [[p.location, p.name, p.message] for p in problems],
                                  "read": len(body)})

    app = web.Application()
    for path in ("/v1/items/{item_id}", "/v1/free", "/v1/login", "/v1/sniffed", "/v1/unknown"):
        app.router.add_route("*", path, answer)
    return await aiohttp_client(app)


async def problems(client: TestClient, method: str, path: str, **kwargs: Any) -> list[list[str]]:
    response = await client.request(method, path, **kwargs)
    assert response.status == 200
    return (await response.json())["problems"]


GOOD_HEADERS = {"X-Trace": "t"}


async def test_a_request_the_document_allows_has_no_problems(client: TestClient) -> None:
    query = [("limit", "5"), ("ratio", "0.5"), ("deep", "true"), ("tag", "1"), ("tag", "2"), ("other", "x")]
    assert await problems(client, "GET", "/v1/items/3", params=query, headers=GOOD_HEADERS) == []
    assert await problems(client, "POST", "/v1/items/3", json={"name": "n", "price": 1.25}) == []


async def test_missing_required_parameters(client: TestClient) -> None:
    assert await problems(client, "GET", "/v1/items/3") == [["query", "limit", "is required"],
                                                            ["header", "x-trace", "is required"]]


@pytest.mark.parametrize(("query", "expected"), [
    ({"limit": "five"}, ["query", "limit", "must be an integer"]),
    ({"limit": "51"}, ["query", "limit", "51 is greater than the maximum of 50"]),
    ({"limit": "1", "ratio": "abc"}, ["query", "ratio", "must be a number"]),
    ({"limit": "1", "ratio": "NaN"}, ["query", "ratio", "must be a number"]),
    ({"limit": "1", "ratio": "0"}, ["query", "ratio", "0 is less than or equal to the minimum of 0"]),
    ({"limit": "1", "deep": "yes"}, ["query", "deep", "must be true or false"]),
    ({"limit": "1", "tag": "x"}, ["query", "tag", "must be an integer"]),
], ids=["not-integer", "over-maximum", "not-number", "nan", "exclusive-minimum", "not-boolean", "array-item"])
async def test_wrong_types_of_query_parameters(client: TestClient, query: dict[str, str], expected: list[str]) -> None:
    assert await problems(client, "GET", "/v1/items/3", params=query, headers=GOOD_HEADERS) == [expected]


async def test_path_parameter_from_a_shared_ref(client: TestClient) -> None:
    found = await problems(client, "GET", "/v1/items/0", params={"limit": "1"}, headers=GOOD_HEADERS)
    assert found == [["path", "item_id", "0 is less than the minimum of 1"]]
    found = await problems(client, "GET", "/v1/items/abc", params={"limit": "1"}, headers=GOOD_HEADERS)
    assert found == [["path", "item_id", "must be an integer"]]


@pytest.mark.parametrize(("body", "expected"), [
    ({"name": "n"}, [["body", "/price", "is required"]]),
    ({"name": "", "price": -1}, [["body", "/name", "must not be empty"],
                                 ["body", "/price", "must be a number, 0 or more"]]),
    ({"name": "n", "price": "1"}, [["body", "/price", "must be a number, 0 or more"]]),
    ({"name": 5, "price": 1}, [["body", "/name", "5 is not of type 'string'"]]),
    ({"name": "n", "price": 1, "extra": True},
     [["body", "", "Additional properties are not allowed ('extra' was unexpected)"]]),
    ([1], [["body", "", "[1] is not of type 'object'"]]),
], ids=["missing-key", "x-problem-per-keyword-and-whole", "x-problem-through-ref", "keyword-without-x-problem",
        "extra-key", "not-an-object"])
async def test_bad_json_bodies(client: TestClient, body: Any, expected: list[list[str]]) -> None:
    assert await problems(client, "POST", "/v1/items/3", json=body) == expected


async def test_a_body_that_is_not_json(client: TestClient) -> None:
    found = await problems(client, "POST", "/v1/items/3", data=b"{nope", headers={"Content-Type": "application/json"})
    assert [p[:2] for p in found] == [["body", ""]] and found[0][2].startswith("request body is not valid JSON")


async def test_a_missing_required_body_and_a_media_type_not_listed(client: TestClient) -> None:
    assert await problems(client, "POST", "/v1/items/3") == [["body", "", "is required"]]
    found = await problems(client, "POST", "/v1/items/3", data=b"<x/>", headers={"Content-Type": "text/xml"})
    assert found == [["header", "content-type", "must be one of application/json, not text/xml"]]


async def test_no_content_type_is_taken_as_the_first_listed(client: TestClient) -> None:
    found = await problems(client, "POST", "/v1/items/3", data=json.dumps({"name": "n"}).encode(),
                           skip_auto_headers=["Content-Type"])
    assert found == [["body", "/price", "is required"]]


async def test_form_bodies_are_coerced_and_checked(client: TestClient) -> None:
    assert await problems(client, "POST", "/v1/login", data={"user": "u", "days": "3"}) == []
    assert await problems(client, "POST", "/v1/login", data={"days": "3"}) == [
        ["body", "/user", "is required"]]
    found = await problems(client, "POST", "/v1/login", data={"user": "u", "days": "x"})
    assert found == [["body", "", "is not a form: must be an integer"]]


async def test_unknown_routes_and_operations_with_nothing_to_check(client: TestClient) -> None:
    assert await problems(client, "GET", "/v1/unknown", params={"limit": "x"}) == []
    assert await problems(client, "GET", "/v1/free", params={"limit": "x"}) == []
    assert await problems(client, "DELETE", "/v1/items/abc") == []  # the document has no delete


async def test_the_body_is_not_read_for_an_operation_without_one(client: TestClient) -> None:
    response = await client.get("/v1/free", data=b"12345")
    assert (await response.json()) == {"problems": [], "read": 5}


def test_operations_with_nothing_to_check_are_not_kept() -> None:
    schema = RequestSchema(DOCUMENT)
    assert set(schema.operations) == {("GET", "/v1/items/{item_id}"), ("POST", "/v1/items/{item_id}"),
                                      ("POST", "/v1/login"), ("POST", "/v1/sniffed")}


def test_a_problem_reads_as_a_line() -> None:
    assert str(Problem("query", "limit", "is required")) == "query limit: is required"
    assert str(Problem("body", "", "not JSON")) == "body: not JSON"


@pytest.mark.parametrize(("query", "expected"), [
    ({"page": ""}, []),
    ({"page": "   "}, []),
    ({"page": " 2"}, []),
    ({"page": "+2"}, []),  # a + in a query string is a space
    ({"page": "x"}, [["query", "page", "must be an integer"]]),
    ({"page": " 0 "}, [["query", "page", "0 is less than the minimum of 1"]]),
    ({"size": " 5 "}, []),
    ({"size": ""}, [["query", "size", "must be a whole number of at least 1"]]),
    ({"size": "five"}, [["query", "size", "must be a whole number of at least 1"]]),
    ({"limit": " 5"}, [["query", "limit", "must be an integer"]]),
], ids=["blank-is-absent", "spaces-are-absent", "leading-space", "plus-is-space", "still-refused", "stripped-then-checked",
        "stripped", "blank-is-a-value-without-the-flag", "x-problem-for-the-type", "no-flag-no-stripping"])
async def test_parameters_read_as_the_handler_reads_them(client: TestClient, query: dict[str, str],
                                                         expected: list[list[str]]) -> None:
    found = await problems(client, "GET", "/v1/items/3", params={"limit": "1", **query}, headers=GOOD_HEADERS)
    assert found == expected
    if "limit" in query:
        return
    url = "/v1/items/3?limit=1&" + "&".join(f"{k}={v.replace(' ', '+')}" for k, v in query.items())
    assert await problems(client, "GET", url, headers=GOOD_HEADERS) == expected


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded; charset=utf-8",
                                          "application/octet-stream"])
async def test_a_body_of_another_media_type_is_read_as_the_document_says(client: TestClient, content_type: str) -> None:
    headers = {"Content-Type": content_type}
    if content_type.startswith("application/x-www-form-urlencoded"):  # listed: read as a form
        assert await problems(client, "POST", "/v1/sniffed", data=b"user=u&days=3", headers=headers) == []
        return
    assert await problems(client, "POST", "/v1/sniffed", data=b'{"user": "u", "days": 3}', headers=headers) == []
    assert await problems(client, "POST", "/v1/sniffed", data=b'{"days": 3}', headers=headers) == [
        ["body", "/user", "is required"]]
    found = await problems(client, "POST", "/v1/sniffed", data=b"user=u", headers=headers)
    assert [p[:2] for p in found] == [["body", ""]] and found[0][2].startswith("request body is not valid JSON")


async def test_a_whole_json_number_is_an_integer(client: TestClient) -> None:
    """JSON Schema's integer is a number with no fraction: 8.0 is one; bodies are read with Decimals."""
    assert await problems(client, "POST", "/v1/login", data=b'{"user": "u", "days": 8.0}',
                          headers={"Content-Type": "application/json"}) == []
    assert await problems(client, "POST", "/v1/login", data=b'{"user": "u", "days": 8E1}',
                          headers={"Content-Type": "application/json"}) == []
    found = await problems(client, "POST", "/v1/login", data=b'{"user": "u", "days": 8.5}',
                           headers={"Content-Type": "application/json"})
    assert found == [["body", "/days", "Decimal('8.5') is not of type 'integer'"]]


def test_decimals_are_numbers_and_whole_ones_integers() -> None:
    from decimal import Decimal

    from gateway.dialects.request_schema import Schemas
    schemas = Schemas(DOCUMENT)
    integer, number = schemas.validator({"type": "integer"}), schemas.validator({"type": "number"})
    assert integer.is_valid(Decimal("8")) and integer.is_valid(Decimal("8.000")) and integer.is_valid(Decimal("1E+3"))
    assert not integer.is_valid(Decimal("8.5")) and not integer.is_valid(True) and not integer.is_valid("8")
    assert not integer.is_valid(Decimal("Infinity")) and not integer.is_valid(Decimal("NaN"))
    assert number.is_valid(Decimal("8.5")) and not number.is_valid(True)


def test_multiple_of_judges_a_decimal_of_any_size_and_never_raises() -> None:
    """A body's number is a Decimal however large: 1E+100 is a whole multiple of 1, 0.001 is no multiple of
    0.01, and a number a thousand digits past the step is refused rather than divided (jsonschema's own
    check raised DivisionImpossible there, which the server answered with a 500)."""
    from decimal import Decimal

    from gateway.dialects.request_schema import Schemas
    schemas = Schemas(DOCUMENT)
    whole, cents = schemas.validator({"multipleOf": 1}), schemas.validator({"multipleOf": 0.01})
    assert whole.is_valid(Decimal("1E+100")) and whole.is_valid(Decimal("12345678901234567890123456789012"))
    assert not whole.is_valid(Decimal("1" + "0" * 100 + ".5"))  # exact: not rounded to 28 digits
    assert cents.is_valid(Decimal("10.25")) and cents.is_valid(Decimal("1E+50")) and not cents.is_valid(Decimal("0.001"))
    assert [e.message for e in whole.iter_errors(Decimal("1E+999999999"))] == [
        "1E+999999999 is too large to be a multiple of 1"]
    assert whole.is_valid(8) and not whole.is_valid(8.5)  # non-Decimals keep jsonschema's own check

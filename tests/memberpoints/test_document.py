"""memberpoints.openapi.json against the server: every webapps/api route has an operation and every operation
a route; what the document does not allow is refused over real HTTP in the dialect's envelope, naming the
parameter or body field, while what it allows (the vendor's own example) goes through."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from gateway.dialects.memberpoints import DIALECT
from gateway.dialects.memberpoints.document import NAME, PATH, component, document
from gateway.dialects.memberpoints.routes import PREFIX, add_routes
from tests import process

from .helpers import BALANCES, DEMO, POINTS


def routes_of(router: web.UrlDispatcher) -> set[tuple[str, str]]:
    """(method, path) of every route the dialect adds; HEAD goes with each GET (aiohttp adds it)."""
    return {(route.method, route.resource.canonical) for route in router.routes()
            if route.resource is not None and route.resource.canonical.startswith(PREFIX) and route.method != "HEAD"}


def operations_of(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


def dialect_router() -> web.UrlDispatcher:
    router = web.UrlDispatcher()
    add_routes(router)
    return router


def test_every_route_has_an_operation_and_every_operation_a_route() -> None:
    assert routes_of(dialect_router()) == operations_of(document())


def test_a_route_added_without_an_operation_is_named() -> None:
    router = dialect_router()

    async def handler(request: web.Request) -> web.Response:
        raise AssertionError("never called")

    router.add_get(PREFIX + "/memberpointsrules", handler)
    assert routes_of(router) - operations_of(document()) == {("GET", PREFIX + "/memberpointsrules")}


def test_the_descriptor_publishes_the_document_as_strict_openapi_3_1() -> None:
    assert DIALECT.documents is not None
    (published,) = DIALECT.documents.documents
    assert (published.name, published.kind, published.media_type) == (NAME, "openapi", "application/json")
    doc = json.loads(published.content())
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert doc == document()


def test_each_trailing_slash_path_is_its_twin_but_for_the_operation_ids() -> None:
    paths = document()["paths"]
    for path, item in paths.items():
        if path.endswith("/"):
            twin = paths[path.rstrip("/")]
            assert {m: {**op, "operationId": None} for m, op in item.items()} == \
                   {m: {**op, "operationId": None} for m, op in twin.items()}, path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    started = process.start(["--port", "0", "--database", "sqlite:///refusals.db", "--access-log", "off"],
                            tmp_path_factory.mktemp("memberpoints-document"))
    yield started
    started.stop()


def send(server: process.Server, method: str, path: str, body: bytes | None = None,
         content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    headers = {**DEMO, **({"Content-Type": content_type} if body is not None else {})}
    request = urllib.request.Request(server.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


MULTIPART = (b'--XX\r\nContent-Disposition: form-data; name="data"\r\n\r\n\xb5\xcb\xf1\r\n--XX--\r\n',
             "multipart/form-data; boundary=XX")
REFUSED = [
    # (method, path, body, content type, what the message starts with: the handlers' words, `name must be ...`)
    ("GET", POINTS + "?adjustdate=yesterday", None, "", "adjustdate must be a date as dd/mm/yyyy or yyyy-mm-dd"),
    ("GET", POINTS + "/?matchType=~&adjustdate=01/01/2021", None, "", "matchType must be one of =, >, <, >=, <=, != (<>) or like"),
    ("GET", POINTS + "?includeOrders=yes&mbr_id=442531", None, "", "includeOrders must be 1 or 0"),
    ("GET", POINTS + "?id=0", None, "", "id must be a whole number of at least 1"),
    ("GET", BALANCES + "?pageSize=ten", None, "", "pageSize must be a whole number of at least 1"),
    ("GET", BALANCES + "/?mbr_id=1.5", None, "", "mbr_id must be a whole number of at least 1"),
    ("GET", BALANCES + "?mbr_id=", None, "", "mbr_id must be a whole number of at least 1"),  # blank is no number
    ("GET", POINTS + "?offset=%2B1", None, "", "offset must be a whole number"),
    ("POST", POINTS, b'{"mbr_id": 442531, "adjustpoints": "ten"}', "application/json", "adjustpoints must be a decimal number"),
    ("POST", POINTS, b'{"mbr_id": "\\u0664", "adjustpoints": 1}', "application/json", "mbr_id must be a positive whole number"),
    ("POST", POINTS + "/", b'{"mbr_email": 12, "adjustpoints": 1}', "application/json", "mbr_email must be an e-mail address"),
    ("POST", POINTS, b'{"mbr_id": 442531, "adjustpoints": 1, "adjustdate": "12/31/2021"}', "application/json",
     "adjustdate must be a date as dd/mm/yyyy or yyyy-mm-dd"),
    # the same document in the other carriers the vendor allows, checked the same way
    ("POST", POINTS, b"data=%7B%22mbr_id%22%3A442531%2C%22adjustpoints%22%3Atrue%7D",
     "application/x-www-form-urlencoded", "adjustpoints must be a decimal number"),
    ("POST", POINTS + "?data=%7B%22mbr_id%22%3A442531%2C%22adjustmentnote%22%3A5%2C%22adjustpoints%22%3A1%7D", None,
     "", "adjustmentnote must be text of at most 2000 characters"),
    ("POST", POINTS, b'{"mbr_id": 442531, "adjustpoints": 1, "adjustmentnote": 7}', "application/x-www-form-urlencoded",
     "adjustmentnote must be text of at most 2000 characters"),  # raw JSON labelled as a form, as curl -d sends it
    # what the parser words better is left to it: which fields go together, an unreadable form
    ("POST", POINTS, b'{"mbr_id": 442531}', "application/json", "adjustpoints is required"),
    ("POST", POINTS, MULTIPART[0], MULTIPART[1], "the form is not readable"),
]


@pytest.mark.parametrize(("method", "path", "body", "content_type", "says"), REFUSED,
                         ids=[f"{r[0]} {r[1]} {(r[2] or b'')[:40]!r}" for r in REFUSED])
def test_what_the_document_refuses_is_a_400_in_the_envelope(
    server: process.Server, method: str, path: str, body: bytes | None, content_type: str, says: str
) -> None:
    status, answer = send(server, method, path, body, content_type)
    assert status == 400, answer
    end_point = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    assert list(answer) == ["endPoint", "success", "message"]
    assert answer["endPoint"] == end_point and answer["success"] is False
    assert answer["message"].startswith(says), answer["message"]


def test_what_the_document_allows_goes_through(server: process.Server) -> None:
    example = document()["components"]["schemas"]["AdjustmentRequest"]["examples"][0]
    status, saved = send(server, "POST", POINTS, json.dumps(example).encode())
    assert status == 200, saved
    status, listed = send(server, "GET", f"{POINTS}?id={saved['data']['id']}&includeOrders=False&matchType=%20like%20")
    assert status == 200 and listed["data"] == saved["data"]
    status, page = send(server, "GET", f"{BALANCES}/?mbr_id=442531&offset=0&pageSize=500")
    assert status == 200 and page["pageSize"] == 200



@pytest.mark.parametrize("query", ["mbr_id=%20442531", "pageSize=+5", "offset=%200%20&pageSize=5", "id=+1"])
def test_spaces_around_a_whole_number_are_read_as_the_handler_reads_them(server: process.Server, query: str) -> None:
    """The handlers strip the text before reading it (as the server did before the document's check)."""
    status, answer = send(server, "GET", f"{POINTS}?{query}")
    assert status in (200, 404) and answer["success"] is (status == 200), answer  # id=1 may name no adjustment
    assert "message" not in answer or answer["message"].startswith("No member points adjustment"), answer


def test_the_served_bytes_are_the_shipped_file() -> None:
    """The file is written as documents.json_bytes writes, so the index's sha256 is the file's."""
    assert DIALECT.documents is not None
    assert DIALECT.documents.documents[0].content() == PATH.read_bytes()


FIXTURES = Path(__file__).parents[2] / "fixtures" / "memberpoints" / "samples"
VENDOR_REPLIES = [  # (sample, the request the vendor's page shows it answering)
    ("balances.json", "GET", BALANCES),
    ("history.json", "GET", POINTS),
    ("history_include_orders.json", "GET", POINTS + "?includeOrders=1&mbr_id=123123"),
    ("post_response.json", "POST", POINTS),
]


@pytest.mark.parametrize(("sample", "method", "path"), VENDOR_REPLIES, ids=[r[0] for r in VENDOR_REPLIES])
def test_every_vendor_reply_fits_the_document(sample: str, method: str, path: str) -> None:
    assert DIALECT.documents is not None and DIALECT.documents.check_answer is not None
    body = (FIXTURES / sample).read_bytes()
    assert DIALECT.documents.check_answer(method, path, 200, "application/json", body) == []


def test_every_sample_is_a_reply_checked_above_or_the_request_checked_below() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == {r[0] for r in VENDOR_REPLIES} | {"post_request.json"}
    example = json.loads((FIXTURES / "post_request.json").read_bytes())
    assert list(component("AdjustmentRequest").iter_errors(example)) == []


@pytest.mark.parametrize(("status", "body", "says"), [
    (200, b'{"endPoint":"memberpointsbalances","resultCount":1,"offset":0,"data":[{"mbr_email":"","mbr_name":"J",'
          b'"mbr_id":1,"mbr_points_balance":120}],"success":true,"pageSize":200}', "/data/0/mbr_points_balance"),
    (200, b'{"endPoint":"memberpointsbalances","resultCount":0,"data":[],"success":true}', "offset"),
    (400, b'{"endPoint":"memberpointsbalances","success":false}', "message"),
    (418, b'{"endPoint":"memberpointsbalances","success":false,"message":"teapot"}', "status 418"),
])
def test_a_drifted_answer_is_named(status: int, body: bytes, says: str) -> None:
    assert DIALECT.documents is not None and DIALECT.documents.check_answer is not None
    problems = DIALECT.documents.check_answer("GET", BALANCES + "?mbr_id=1", status, "application/json", body)
    assert problems and says in problems[0], problems


def test_the_document_shows_every_vendor_reply_and_its_examples_fit_it() -> None:
    assert DIALECT.documents is not None and DIALECT.documents.check_answer is not None
    shown = []
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                answer = component_ref(answer)
                for example in answer.get("content", {}).get("application/json", {}).get("examples", {}).values():
                    body = json.dumps(example["value"]).encode()
                    code = 200 if status == "200" else int(status.replace("X", "0"))
                    assert DIALECT.documents.check_answer(method.upper(), path, code, "application/json", body) == []
                    shown.append(example["value"])
    for sample, _, _ in VENDOR_REPLIES:
        assert json.loads((FIXTURES / sample).read_bytes()) in shown, sample


def component_ref(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        return document()["components"][kind][name]  # type: ignore[no-any-return]
    return node

"""The imonggo documents, read as a client reads the vendor's API pages: imonggo.openapi.json describes every
.json route, imonggo.xsd every XML answer and imonggo-requests.xsd the XML bodies, and the server holds its
answers and the requests it takes to them. A body the documents refuse is refused in Rails' shape, with
nothing applied."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from lxml import etree
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from contract_tests.imonggo.shapes import TOKEN, basic, cases, fixture
from gateway.dialects.imonggo import DIALECT, answers, published
from gateway.dialects.imonggo.routes import add_routes
from tests import process
from tests.support import ClientFactory

XSD_NS = "{http://www.w3.org/2001/XMLSchema}"
assert DIALECT.documents is not None
DOCUMENTS = DIALECT.documents


def routes() -> set[tuple[str, str]]:
    """(method, path template) of every route the dialect answers, `{ext}` for its .xml/.json suffix."""
    router = web.UrlDispatcher()
    add_routes(router)
    return {(r.method, r.resource.canonical) for r in router.routes() if r.resource is not None and r.method != "HEAD"}


def operations() -> set[tuple[str, str]]:
    """(method, path template) of every operation of the OpenAPI document, as the route that serves it."""
    return {(method.upper(), path.removesuffix(".json") + "{ext}")
            for path, item in published.openapi()["paths"].items() for method in item if method != "parameters"}


def example(template: str) -> str:
    return template.replace("{id}", "1").replace("{ext}", ".xml")


def test_the_dialect_publishes_its_three_documents() -> None:
    assert [(d.name, d.kind, d.media_type) for d in DOCUMENTS.documents] == [
        ("imonggo.openapi.json", "openapi", "application/json"),
        ("imonggo.xsd", "xsd", "application/xml"),
        ("imonggo-requests.xsd", "xsd", "application/xml"),
    ]
    for document in DOCUMENTS.documents:
        assert document.content() == (published.HERE / document.name).read_bytes()


def test_every_json_route_is_an_operation_of_the_document_and_every_operation_a_route() -> None:
    assert routes() - operations() == set(), "a route the OpenAPI document does not describe"
    assert operations() - routes() == set(), "an operation of the document that no route serves"


def test_every_route_answers_xml_the_answers_schema_declares() -> None:
    declared = {e.get("name") for e in etree.parse(str(published.HERE / published.ANSWERS_XSD)).getroot()
                if e.tag == XSD_NS + "element"}
    for method, template in sorted(routes()):
        root = answers.expected_root(method, example(template), {})
        assert root is not None and root[0] in declared, (method, template, root)
    for q, first in (("count", "count"), ("last_updated_at", "last_updated_at")):
        assert answers.expected_root("GET", "/api/products.xml", {"q": [q]}) == ("hash", first)


def test_every_route_that_reads_a_body_has_its_xml_root_declared_for_requests() -> None:
    declared = {e.get("name") for e in etree.parse(str(published.HERE / published.REQUESTS_XSD)).getroot()
                if e.tag == XSD_NS + "element"}
    bodies = {(method.upper(), path) for path, item in published.openapi()["paths"].items()
              for method, operation in item.items() if method != "parameters" and "requestBody" in operation}
    assert bodies == {("POST", "/api/customers.json"), ("PUT", "/api/customers/{id}.json"), ("POST", "/api/invoices.json")}
    assert {"customer", "invoice"} <= declared


def test_the_json_document_is_strict_openapi_3_1_with_http_basic_and_real_schemas() -> None:
    document = published.openapi()
    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["components"]["securitySchemes"]["apiToken"] == {
        "type": "http", "scheme": "basic", "description": document["components"]["securitySchemes"]["apiToken"]["description"]}
    assert document["paths"]["/api/tokens.json"]["get"]["security"] == [], "the Token API's query is the login"
    text = json.dumps(document)
    assert '"type": "object"}' not in text, "a placeholder schema"
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        published.openapi_schemas().pointer(ref)  # every reference resolves


@pytest.mark.parametrize("name", ["customer-1534.xml", "customer-1534-after-spend.xml", "seed-spend-10-X-1.xml"])
def test_every_fixture_reply_fits_the_answers_schema(name: str) -> None:
    root = etree.fromstring(fixture(name))
    assert published.xml_problems(published.xml_schema(published.ANSWERS_XSD), root) == []


def test_both_spellings_of_every_request_field_are_declared() -> None:
    names = {str(e.get("name")) for e in etree.parse(str(published.HERE / published.REQUESTS_XSD)).getroot()
             if e.tag == XSD_NS + "element"}
    for name in names:
        assert name.replace("-", "_") in names and name.replace("_", "-") in names, name
    assert {"first_name", "first-name", "available_points"} & names == {"first_name", "first-name"}


async def test_every_documented_exchange_fits_the_documents(app_client: ClientFactory) -> None:
    """Each pinned case's answers, XML and JSON, held to the documents as verify's shape mode holds them."""
    assert DOCUMENTS.check_answer is not None
    checked = 0
    for case in cases():
        client = await app_client("demo")
        latest = ""
        for step in case["steps"]:
            path = step["path"].replace("{id}", latest)
            response = await client.request(step["method"], path, headers=basic(), data=step.get("body", "").encode())
            body = await response.read()
            if step["method"] == "POST" and response.status == 201:
                latest = str(json.loads(body)["id"]) if path.split("?")[0].endswith(".json") else \
                    etree.fromstring(body).findtext("id") or ""
            problems = DOCUMENTS.check_answer(step["method"], path, response.status,
                                              response.headers["Content-Type"], body)
            assert problems == [], (case["id"], path, problems)
            checked += 1
    assert checked >= 50


@pytest.mark.parametrize(
    ("method", "path", "status", "content_type", "body", "words"),
    [
        pytest.param("GET", "/api/customers/1.xml", 200, "application/xml",
                     b"<customer-record><id>1</id></customer-record>", "No matching global declaration", id="unknown-root"),
        pytest.param("GET", "/api/customers.xml", 200, "application/xml",
                     b"<hash><count type=\"integer\">3</count></hash>", "expected <customers>", id="count-without-q"),
        pytest.param("GET", "/api/customers/1.json", 200, "application/json",
                     b'{"id": "1"}', "is not of type 'integer'", id="json-id-as-text"),
        pytest.param("GET", "/api/customers/1.json", 418, "application/json", b"{}", "not listed", id="status"),
        pytest.param("GET", "/api/customers/1.xml", 401, "application/xml", b"<errors/>", "text/plain", id="401"),
    ],
)
def test_an_answer_off_the_documents_is_named(method: str, path: str, status: int, content_type: str, body: bytes,
                                              words: str) -> None:
    assert DOCUMENTS.check_answer is not None
    problems = DOCUMENTS.check_answer(method, path, status, content_type, body)
    assert any(words in p for p in problems), problems


# Bodies the documents refuse, each with the message Rails' full messages give it.
REFUSED = [
    pytest.param("/api/customers.xml", b"<customer><name>Ana</name><email><b>x</b></email></customer>", "Email is invalid",
                 id="xml-field-holding-elements"),
    pytest.param("/api/customers.xml", b"<customer><name>Ana</name><customer-type-id>gold</customer-type-id></customer>",
                 "Customer type is invalid", id="xml-dashed-whole-number"),
    pytest.param("/api/invoices.xml", b'<invoice><invoice-lines type="array"><invoice-line><product-id>54</product-id>'
                 b"<quantity>two</quantity></invoice-line></invoice-lines></invoice>", "Quantity must be a decimal number",
                 id="xml-line-quantity"),
    pytest.param("/api/invoices.xml", b"<invoice><invoice_lines>lines</invoice_lines></invoice>", "Invoice lines is invalid",
                 id="xml-list-holding-text"),
    pytest.param("/api/customers.json", b'{"customer": {"name": "Ana", "email": {"a": 1}}}', "Email is invalid",
                 id="json-field-holding-an-object"),
    pytest.param("/api/invoices.json", b'{"invoice_lines": [{"product_id": 54, "quantity": "two"}]}',
                 "Quantity must be a decimal number", id="json-line-quantity"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    started = process.start(["--port", "0", "--database", "sqlite:///documents.db", "--access-log", "off"],
                            tmp_path_factory.mktemp("documents"))
    yield started
    started.stop()


def call(server: process.Server, method: str, path: str, body: bytes | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(server.url + path, data=body, method=method, headers=basic(TOKEN))
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers["Content-Type"], refused.read()


def counts(server: process.Server) -> tuple[Any, Any]:
    return tuple(json.loads(call(server, "GET", f"/api/{what}.json?q=count")[2])["count"]
                 for what in ("customers", "invoices"))


@pytest.mark.parametrize(("path", "body", "message"), REFUSED)
def test_a_body_the_documents_refuse_is_a_422_over_http_and_nothing_is_applied(
    server: process.Server, path: str, body: bytes, message: str
) -> None:
    before = counts(server)
    status, content_type, answer = call(server, "POST", path, body)
    assert status == 422, answer
    assert DOCUMENTS.check_answer is not None
    assert DOCUMENTS.check_answer("POST", path, status, content_type, answer) == []
    said = json.loads(answer)["error"] if path.endswith(".json") else etree.fromstring(answer).findtext("error")
    assert said == message
    assert counts(server) == before


@pytest.fixture
async def documents_only(aiohttp_client: Any) -> Any:
    """The dialect's routes behind its check_request alone: a request the documents let through is answered
    204 by a stand-in, never by the handler (so a refusal here is the documents', not a handler's)."""
    assert DOCUMENTS.check_request is not None
    check = DOCUMENTS.check_request

    @web.middleware
    async def documents(request: web.Request, handler: Any) -> web.StreamResponse:
        refused = await check(request)
        return refused if refused is not None else web.Response(status=204)

    app = web.Application(middlewares=[documents])
    add_routes(app.router)
    return await aiohttp_client(app)


@pytest.mark.parametrize(("path", "body", "message"), REFUSED)
async def test_the_refusal_is_the_documents_before_any_handler(documents_only: Any, path: str, body: bytes,
                                                                message: str) -> None:
    answer = await documents_only.post(path, data=body, headers=basic(TOKEN))
    assert answer.status == 422
    assert message in await answer.text()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/api/customers.xml", b"<customer><first-name>Ana</first-name><middle-name>B</middle-name>"
                     b'<id type="integer">9</id><tax-exempt type="boolean">true</tax-exempt>'
                     b'<customer-type-id type="integer" nil="true"/></customer>',
                     id="xml-dashed-with-fields-rails-ignores"),
        pytest.param("/api/customers.json", b'{"customer": {"name": "Ana", "customer_type_id": 8, "tax_exempt": true}}',
                     id="json-wrapped-with-json-types"),
        pytest.param("/api/customers.xml", b'{"name": "Ana", "remark": 12.5, "birthdate": null}', id="json-flat-to-an-xml-url"),
        pytest.param("/api/customers.json", b"<customer><name>Ana</name></customer>", id="xml-to-a-json-url"),
        pytest.param("/api/invoices.xml", b'<invoice><invoice-lines type="array"><invoice-line><product-id>54</product-id>'
                     b'<quantity type="decimal"> 2.5 </quantity><retail-price>1e2</retail-price></invoice-line>'
                     b'</invoice-lines><payments><payment><amount>10</amount></payment></payments></invoice>',
                     id="xml-invoice-typed-and-untyped-lists"),
    ],
)
async def test_what_rails_accepts_the_documents_accept(documents_only: Any, path: str, body: bytes) -> None:
    answer = await documents_only.post(path, data=body, headers=basic(TOKEN))
    assert answer.status == 204, await answer.text()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("/api/customers.json?per_page=1001", "Per page must be at most 1000", id="per-page"),
        pytest.param("/api/products.xml?per_page=51", "Per page must be at most 50", id="products-per-page"),
        pytest.param("/api/invoices.xml?page=0", "Page must be a whole number from 1 to 1000000000", id="page"),
        pytest.param("/api/customers.xml?q=sum", "Invalid query: q=sum is not supported here", id="q"),
        pytest.param("/api/tokens.json?password=x", "Email can't be blank", id="required"),
    ],
)
async def test_a_query_the_document_refuses_is_refused_before_any_handler(documents_only: Any, path: str,
                                                                         message: str) -> None:
    answer = await documents_only.get(path, headers=basic(TOKEN))
    assert answer.status == 422
    assert message in await answer.text()


def test_documents_dir_holds_only_published_documents() -> None:
    assert sorted(p.name for p in Path(published.HERE).iterdir()) == sorted(d.name for d in DOCUMENTS.documents)


def test_the_routes_hold_record_ids_to_the_documents_id() -> None:
    """check_request leaves path parameters to the routes' patterns: they must allow exactly the document's ids."""
    from gateway.dialects.imonggo.routes import ID

    assert ID == r"{id:\d{1,18}}"
    for item in published.openapi()["paths"].values():
        for parameter in item.get("parameters", []):
            assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}


def test_a_whole_json_number_is_a_whole_number_as_the_document_promises(server: process.Server) -> None:
    """JSON Schema's integer counts 8.0; so does the server (Rails' to_i reads "8.0" as 8)."""
    status, _, answer = call(server, "POST", "/api/customers.json",
                             b'{"customer": {"name": "Whole", "customer_type_id": 8.0}}')
    assert status == 201, answer
    assert json.loads(answer)["customer_type_id"] == 8


RAILS_TO_I = [  # what Rails' params[:page].to_i reads, and the server before the documents' check answered 200
    pytest.param("/api/customers.xml?page=", id="blank-page-is-the-first"),
    pytest.param("/api/customers.xml?page=%201", id="page-with-a-space"),
    pytest.param("/api/customers.xml?page=+2", id="page-with-a-plus"),
    pytest.param("/api/customers.json?per_page=%2010%20&page=", id="per-page-with-spaces"),
    pytest.param("/api/products.xml?per_page=", id="blank-per-page-is-the-default"),
]


@pytest.mark.parametrize("path", RAILS_TO_I)
async def test_a_page_rails_reads_the_documents_let_through(documents_only: Any, path: str) -> None:
    answer = await documents_only.get(path, headers=basic(TOKEN))
    assert answer.status == 204, await answer.text()


@pytest.mark.parametrize("path", RAILS_TO_I)
def test_a_page_rails_reads_is_answered(server: process.Server, path: str) -> None:
    status, _, answer = call(server, "GET", path)
    assert status == 200, answer


def test_the_page_parameters_say_they_are_read_as_rails_reads_them() -> None:
    for item in published.openapi()["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["name"] in ("page", "per_page"):
                    assert parameter.get("x-strip-spaces") is True and parameter.get("x-blank-is-absent") is True

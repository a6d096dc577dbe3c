"""check_request for the imonggo dialect: the server holds each request to the documents it publishes before
the handler runs. Query parameters against imonggo.openapi.json (through the neutral request_schema,
for .xml and .json URLs alike: one handler serves both); a body as the handler would read it (decided by its
first byte, as clients send XML to .json URLs and the reverse): XML against imonggo-requests.xsd, parsed only
by the hardened parser, JSON against the operation's requestBody schema. A refusal is a 422 in Rails' error
shape, in the words the handlers' own readers use; a body that is not XML or JSON at all is the handler's."""
from __future__ import annotations

import copy
from functools import cache
from typing import Any

from aiohttp import web

from ...ledger import InvalidAmount, parse_number
from ...whole_numbers import whole_number
from ..common import BodyError, parsed_json
from ..request_schema import Problem, RequestSchema
from . import params, published, rewards, xml_in
from .body import as_params
from .errors import refuse, render_error
from .routes import EXT
from .scalars import NOT_XML

_EXT_NAME = EXT[1:].split(":")[0]  # "ext", the route's suffix parameter


def _template(json_path: str) -> str:
    """The aiohttp route template (resource.canonical) that serves a .json path of the document."""
    return json_path.removesuffix(".json") + "{" + _EXT_NAME + "}"


@cache
def _parameters() -> RequestSchema:
    """The document's query parameters re-keyed by the routes' templates (`/api/customers{ext}`). Left out:
    bodies (checked below, by what the body is rather than by its Content-Type) and path parameters, which
    the routes' own patterns hold to exactly the document's ({id}: 1 to 18 digits), so that a read of one
    record costs one dictionary lookup here (issue 12)."""
    document = copy.deepcopy(published.openapi())
    paths = {}
    for path, item in document["paths"].items():
        item.pop("parameters", None)
        for method, operation in item.items():
            operation.pop("requestBody", None)
            operation["parameters"] = [p for p in operation.get("parameters", []) if p["in"] != "path"]
        paths[_template(path)] = item
    document["paths"] = paths
    return RequestSchema(document)


@cache
def _bodies() -> dict[tuple[str, str], tuple[str, Any]]:
    """(method, route template) -> (the XML root, the JSON body's validator) for every operation with a body."""
    schemas = published.openapi_schemas()
    out = {}
    for path, item in published.openapi()["paths"].items():
        for method, operation in item.items():
            if method != "parameters" and "requestBody" in operation:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                root = schema["$ref"].rpartition("/")[2].removesuffix("_request")  # customer_request: <customer>
                out[(method.upper(), _template(path))] = (root, schemas.validator(schema))
    return out


def label(name: str) -> str:
    """A field or parameter as Rails' humanize writes it: `customer_type_id` -> `Customer type`."""
    words = name.replace("-", "_").removesuffix("_id").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _query_words(request: web.Request, problem: Problem) -> str:
    name, value = problem.name, request.query.get(problem.name, "")
    if problem.location == "query" and name == "q":
        return rewards.not_spend(value) if request.match_info.route.handler is rewards.spend else params.unsupported_query(value)
    if problem.message.endswith("required") or "non-empty" in problem.message or "too short" in problem.message:
        return params.blank(label(name))
    if name in ("page", "per_page"):
        most = _most(request, name)
        number = whole_number(value)
        if most < params.MAX_PAGE and number is not None and number > most:
            return params.too_many(label(name), most)
        return params.not_whole(label(name))
    if name in ("reference", "reason"):
        return params.not_xml(label(name)) if NOT_XML.search(value) else params.too_long(label(name), params.TEXT_LIMIT)
    return f"{label(name)} is invalid"


def _most(request: web.Request, name: str) -> int:
    """The maximum the matched operation's document gives the parameter."""
    resource = request.match_info.route.resource
    item = _parameters().schemas.document["paths"].get(resource.canonical if resource else "", {})
    operation = item.get(request.method.lower(), {})
    schema = next((p["schema"] for p in operation.get("parameters", []) if p["name"] == name), {})
    return int(schema.get("maximum", params.MAX_PAGE))


XS_ELEMENT = "{http://www.w3.org/2001/XMLSchema}element"


@cache
def _decimal_fields() -> frozenset[str]:
    """The fields imonggo-requests.xsd declares as decimals (and the JSON document as decimal_field)."""
    root = xml_in.parse(published.content(published.REQUESTS_XSD))
    return frozenset(str(e.get("name")).replace("-", "_") for e in root.iter(XS_ELEMENT) if e.get("type") == "decimal")


def invalid(field: str) -> str:
    """The words for a field the documents refuse: a number in the ledger's words, anything else as Rails'
    `is invalid`."""
    if field.replace("-", "_") in _decimal_fields():
        try:
            parse_number("", field=label(field))
        except InvalidAmount as exc:
            return exc.message
    return f"{label(field)} is invalid"


def _field(path: str) -> str:
    """The field a body problem is about: the last named step of its path (`/invoice/invoice_lines/0/quantity`)."""
    steps = [s for s in path.split("/") if s and not s.isdigit()]
    return steps[-1] if steps else "body"


async def check_request(request: web.Request) -> web.StreamResponse | None:
    problems = [_query_words(request, p) for p in await _parameters().check(request)]
    resource = request.match_info.route.resource
    body = _bodies().get((request.method, resource.canonical if resource else ""))
    if not problems and body is not None and request.body_exists:
        try:
            problems = _body_words(request, await request.read(), *body)
        except BodyError as exc:
            return refuse(request, exc)
    if not problems:
        return None
    return render_error(request, 422, "; ".join(dict.fromkeys(problems)), None)


def _deepest(error: Any) -> str:
    """The body path of the deepest cause of an error: an anyOf (wrapped or flat body, text or number) fails as
    a whole at its top, while the field at fault is below."""
    leaves = list(error.context or ())
    while leaves:
        error = max(leaves, key=lambda e: len(e.absolute_path))
        leaves = list(error.context or ())
    return "/" + "/".join(map(str, error.absolute_path))


def _body_words(request: web.Request, raw: bytes, root: str, validator: Any) -> list[str]:
    start = raw.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    if start == b"<":
        element = xml_in.parse(raw)
        if element.tag != root:
            return []  # the handler refuses another root (400) and reads a namespaced one as its own
        found = published.xml_problems(published.xml_schema(published.REQUESTS_XSD), element)
        return [invalid(_field(line.partition(":")[0])) for line in found]
    if start == b"{":
        value = parsed_json(request, raw)
        as_params(value)  # text XML cannot carry is the handler's 400 (BodyError), whatever the document says
        if set(value) == {root} and not isinstance(value[root], dict):
            return []  # a wrapper around no document: the handler's 400, as for a body that is no document
        return [invalid(_field(_deepest(error))) for error in validator.iter_errors(value)]
    return []  # not a document: the handler says so

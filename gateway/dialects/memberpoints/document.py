"""The memberpoints contract: documents/memberpoints.openapi.json, the one source of truth, served and shipped
as it is; incoming requests are checked against it (refused in the dialect's envelope) and answers too.
Knows no handler: the adjustment document is found where the vendor allows it by body.read_document."""
from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from ..documents import openapi_documents
from ..request_schema import Problem, RequestSchema, Schemas, problems_of
from .body import read_document
from .errors import render_error

NAME = "memberpoints.openapi.json"
PATH = Path(__file__).with_name("documents") / NAME
ADJUSTMENT = "AdjustmentRequest"  # the component every carrier of a POST's document must fit


@cache
def document() -> dict[str, Any]:
    return json.loads(PATH.read_bytes())  # type: ignore[no-any-return]


@cache
def _schemas() -> Schemas:
    return Schemas(document())


@cache
def component(name: str) -> Any:
    """A validator of the named component schema ("HistoryList"): the contract tests read the same ones."""
    return _schemas().validator({"$ref": f"#/components/schemas/{name}"})


def _without_bodies(doc: dict[str, Any]) -> dict[str, Any]:
    """The document less its request bodies: the POST's JSON may come as the body, a form field or a query
    parameter (and raw JSON labelled as a form, as `curl -d` sends it), so it is checked once found."""
    paths = {template: {method: {k: v for k, v in op.items() if k != "requestBody"} for method, op in item.items()}
             for template, item in doc["paths"].items()}
    return {**doc, "paths": paths}


@cache
def _parameters() -> RequestSchema:
    return RequestSchema(_without_bodies(document()))


@cache
def _adjusting() -> frozenset[str]:
    return frozenset(t for t, item in document()["paths"].items() if "requestBody" in item.get("post", {}))


async def check_request(request: web.Request) -> web.StreamResponse | None:
    """400 in the envelope for what the document does not allow. A body that fails only as a whole (which
    fields go together, or not one object) is left to the parser, which refuses the same bodies in words
    that name the fields; unreadable bodies are refused here with the parser's own words."""
    problems = await _parameters().check(request)
    resource = request.match_info.route.resource
    if request.method == "POST" and resource is not None and resource.canonical in _adjusting():
        found = problems_of(component(ADJUSTMENT), await read_document(request), "body")
        problems += [p for p in found if p.name]
    return refusal(request, problems) if problems else None


def refusal(request: web.Request, problems: list[Problem]) -> web.StreamResponse:
    return render_error(request, 400, "; ".join(words(p) for p in problems[:5]))


def words(problem: Problem) -> str:
    """A problem as the handlers word theirs: `mbr_id must be a whole number of at least 1` (the document's
    x-problem), naming the parameter or body field, never where the validator found it."""
    name = problem.name.lstrip("/")
    return f"{name} {problem.message}" if name else problem.message


# Served and shipped as the file's bytes (written as documents.json_bytes writes, which a test holds), answers
# checked by the neutral answer check; requests by check_request above.
DOCUMENTS = replace(openapi_documents(NAME, "memberpoints dialect: /webapps/api member points and balances (OpenAPI 3.1)", document, refusal),
                    check_request=check_request)

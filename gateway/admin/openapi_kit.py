"""The words the admin API's OpenAPI document is written in: closed objects, lists and references, the
shared scalar schemas, operations with the statuses every admin call may answer, and KIT, the same words handed
to each dialect for its part of the document. Names no vendor."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ..dialects.common import ABSOLUTE_URL as WEBHOOK_URL


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: str = "", **properties: Any) -> dict[str, Any]:
    """A closed object; `required` names its always-present fields, space-separated."""
    return {"type": "object", "required": required.split(), "additionalProperties": False, "properties": properties}


def _list(items: Any) -> dict[str, Any]:
    return {"type": "array", "items": items}


STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
TEXT = {"type": "string", "minLength": 1}
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME, MAYBE_STR, MAYBE_INT = {"type": ["string", "null"]}, {"type": ["string", "null"]}, {"type": ["integer", "null"]}
AMOUNT = {"type": ["string", "null"], "pattern": "^-?[0-9]+\\.[0-9]{2}$", "description": "exact decimal, two places"}
NUMBER = {"type": "number", "description": "exact decimal (two places at most)"}
ASSET = {"enum": ["points", "cashback", "miles"]}
TENANT_NAME = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}
# a positive amount below 10^12 with at most two places, as a string or a whole number (money.parse_amount)
POSITIVE_AMOUNT = {"oneOf": [
    {"type": "string", "pattern": "^([1-9][0-9]{0,11}(\\.[0-9]{1,2})?|0\\.([1-9][0-9]?|0[1-9]))$"},
    {"type": "integer", "minimum": 1, "maximum": 999_999_999_999}]}
URL = {"type": "string", "pattern": WEBHOOK_URL.pattern, "description": "an absolute http(s) URL"}

_RESPONSES = {
    "BadRequest": (400, "bad input; the message names the field"),
    "Unauthorized": (401, "admin_token is set and the Bearer token is missing or wrong"),
    "Forbidden": (403, "no admin_token is set and the caller is not local (Host or Origin names a non-loopback host)"),
    "NotFound": (404, "no such tenant, member, transaction, delivery, rule or intent"),
    "Conflict": (409, "a tenant name or credential is taken, the transaction or intent is already resolved, or the "
                      "upstream cannot list its members"),
    "TooLarge": (413, "the body is larger than max_body_bytes"),
    "Unavailable": (503, "the store cannot be reached"),
}
_BY_STATUS = {status: name for name, (status, _) in _RESPONSES.items()}


def _q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or STR}


def _p(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema or STR}


def _op(summary: str, answer: str, *, ok: int = 200, errors: tuple[int, ...] = (), body: str | None = None,
        optional_body: bool = False, params: list[dict[str, Any]] | None = None, store: bool = True) -> dict[str, Any]:
    """An operation answering `answer` (a schema name) on success; every admin operation may also be refused by
    the admin guard (401/403), one with a body may be too large (413), one that reads the ledger may find the
    store down (503)."""
    statuses = set(errors) | {401, 403} | ({400, 413} if body else set()) | ({503} if store else set())
    op: dict[str, Any] = {"summary": summary, "responses": {
        str(ok): {"description": "done", "content": {"application/json": {"schema": _ref(answer)}}},
        **{str(s): {"$ref": f"#/components/responses/{_BY_STATUS[s]}"} for s in sorted(statuses)}}}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": not optional_body, "content": {"application/json": {"schema": _ref(body)}}}
    return op


PAGING = [_q("offset", "rows to skip", {"type": "integer", "minimum": 0, "maximum": 10**9}),
          _q("limit", "rows to return; 0 counts without listing", {"type": "integer", "minimum": 0, "maximum": 10_000})]


def _linked(op: dict[str, Any], operation_id: str, **links: dict[str, str]) -> dict[str, Any]:
    """`op` named `operation_id`, its success answer linked to the operations it feeds (operationId ->
    parameters from the answer), for clients and schemathesis's stateful phase."""
    ok = next(status for status in op["responses"] if status.startswith("2"))
    op["responses"][ok]["links"] = {f"{target}Link": {"operationId": target, "parameters": parameters}
                                    for target, parameters in links.items()}
    return {**op, "operationId": operation_id}


KIT = SimpleNamespace(  # what a dialect builds its part of the document with
    obj=_obj, list=_list, ref=_ref, op=_op, q=_q, p=_p, STR=STR, INT=INT, BOOL=BOOL, NUM=NUM, TEXT=TEXT, TIME=TIME,
    MAYBE_STR=MAYBE_STR, MAYBE_INT=MAYBE_INT, MAYBE_TIME=MAYBE_TIME, AMOUNT=AMOUNT, NUMBER=NUMBER, ASSET=ASSET,
    POSITIVE_AMOUNT=POSITIVE_AMOUNT, URL=URL,
)

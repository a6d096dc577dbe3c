"""Pomelo's error envelope {"error": {"error_code", "details": [{"code", "detail"}]}} and the table
mapping every ledger error to a status and an error code."""
from __future__ import annotations

from aiohttp import web

from ...ledger import (
    AlreadyResolved,
    DuplicateIdentity,
    DuplicateReference,
    IdempotencyConflict,
    IdempotencyInFlight,
    InsufficientFunds,
    InvalidAmount,
    InvalidArgument,
    LedgerError,
    NotInProgramme,
    NotReversible,
    OrderVoided,
    PendingUpstreamWrites,
    StoreUnavailable,
    UpstreamError,
    UpstreamTimeout,
    UpstreamFailed,
    UpstreamCredentialsRefused,
    UpstreamRateLimited,
    UpstreamUnavailable,
    UpstreamCannotExpress,
    UnknownEntry,
    UnknownMember,
    UnknownOrder,
    UnknownProgramme,
    UnknownTenant,
)
from ..common import ErrorSpec, ErrorTable
from .wire import dumps

ERRORS: ErrorTable = {
    InvalidAmount: ErrorSpec(400, code="INVALID_REQUEST"),
    InvalidArgument: ErrorSpec(400, code="INVALID_REQUEST"),
    UnknownTenant: ErrorSpec(404, code="NOT_FOUND"),
    UnknownMember: ErrorSpec(404, code="NOT_FOUND"),
    UnknownProgramme: ErrorSpec(404, code="NOT_FOUND"),
    UnknownEntry: ErrorSpec(404, code="NOT_FOUND"),
    UnknownOrder: ErrorSpec(404, code="NOT_FOUND"),
    NotInProgramme: ErrorSpec(400, code="INVALID_REQUEST"),
    InsufficientFunds: ErrorSpec(400, code="INSUFFICIENT_BALANCE"),
    AlreadyResolved: ErrorSpec(409, code="CONFLICT"),
    NotReversible: ErrorSpec(409, code="CONFLICT"),
    DuplicateReference: ErrorSpec(409, code="CONFLICT"),
    DuplicateIdentity: ErrorSpec(409, code="CONFLICT"),
    OrderVoided: ErrorSpec(409, code="CONFLICT"),
    IdempotencyConflict: ErrorSpec(422, code="IDEMPOTENCY_CONFLICT"),
    IdempotencyInFlight: ErrorSpec(409, code="IDEMPOTENCY_IN_FLIGHT"),
    PendingUpstreamWrites: ErrorSpec(409, code="CONFLICT"),
    StoreUnavailable: ErrorSpec(503, code="SERVICE_UNAVAILABLE"),
    UpstreamError: ErrorSpec(502, code="BAD_GATEWAY"),
    UpstreamTimeout: ErrorSpec(504, code="GATEWAY_TIMEOUT"),
    UpstreamFailed: ErrorSpec(502, code="BAD_GATEWAY"),
    UpstreamCredentialsRefused: ErrorSpec(502, code="BAD_GATEWAY"),
    UpstreamRateLimited: ErrorSpec(429, code="TOO_MANY_REQUESTS"),
    UpstreamUnavailable: ErrorSpec(503, code="SERVICE_UNAVAILABLE"),
    UpstreamCannotExpress: ErrorSpec(422, code="UNPROCESSABLE_ENTITY"),
    # The catch-all, for the unexpected only: a ledger error raised without a row of its own (a new class
    # the completeness test would have named) is a 500 that says nothing of its internals.
    LedgerError: ErrorSpec(500, "Internal Server Error", code="INTERNAL_ERROR"),
}

# error_code for statuses that do not come from the table (auth, routing, body size, crashes)
STATUS_CODES = {
    400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "UNPROCESSABLE_ENTITY",
    500: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE",
}
# the code inside details[] where it says more than the error_code
DETAIL_CODES = {"INVALID_REQUEST": "INVALID_PARAMETER"}


def error_body(status: int, detail: str, code: str | None = None) -> bytes:
    error_code = code or STATUS_CODES.get(status, "ERROR")
    return dumps(
        {"error": {"error_code": error_code, "details": [{"code": DETAIL_CODES.get(error_code, error_code), "detail": detail}]}}
    )


def render_error(request: web.Request, status: int, message: str, code: str | None) -> web.StreamResponse:
    return web.Response(status=status, body=error_body(status, message, code), content_type="application/json")


class PomeloRefusal(Exception):
    """A refusal decided at the edge (credentials, token, scope), with its own status and detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def refusal(request: web.Request, status: int, detail: str) -> web.StreamResponse:
    response = render_error(request, status, detail, None)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="pomelo"'
    return response


def refuse(request: web.Request, exc: Exception) -> web.StreamResponse | None:
    """A refusal a handler decided (the token endpoint's client credentials), in the envelope."""
    return refusal(request, exc.status, exc.detail) if isinstance(exc, PomeloRefusal) else None

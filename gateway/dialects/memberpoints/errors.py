"""How the memberpoints dialect shows a failure: the ledger-error table, the RequestError its parsers
raise, and the {"endPoint", "success": false, "message"} envelope. Knows nothing of routes or handlers."""
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
from ..common import ErrorSpec, ErrorTable, json_bytes

# Every bad parameter or body is a 400 (the vendor publishes no codes; decisions.md fixes these), a
# missing adjustment id is a 404, and nothing else a client can cause is a 5xx.
ERRORS: ErrorTable = {
    InvalidAmount: ErrorSpec(400),
    InvalidArgument: ErrorSpec(400),
    UnknownMember: ErrorSpec(400, "Member not found"),
    UnknownEntry: ErrorSpec(404, "Member points adjustment not found"),
    InsufficientFunds: ErrorSpec(400, "Insufficient points: a member's points balance cannot go below zero"),
    UnknownTenant: ErrorSpec(401, "Invalid apiID/apiKey"),
    UnknownProgramme: ErrorSpec(400),
    UnknownOrder: ErrorSpec(404),
    NotInProgramme: ErrorSpec(400),
    AlreadyResolved: ErrorSpec(409),
    NotReversible: ErrorSpec(409),
    DuplicateReference: ErrorSpec(409),
    DuplicateIdentity: ErrorSpec(409),
    OrderVoided: ErrorSpec(409),
    IdempotencyConflict: ErrorSpec(422),
    IdempotencyInFlight: ErrorSpec(409),
    PendingUpstreamWrites: ErrorSpec(409),
    StoreUnavailable: ErrorSpec(503, "Service temporarily unavailable, please retry"),
    UpstreamError: ErrorSpec(502),
    UpstreamTimeout: ErrorSpec(504),
    UpstreamFailed: ErrorSpec(502),
    UpstreamCredentialsRefused: ErrorSpec(502),
    UpstreamRateLimited: ErrorSpec(429),
    UpstreamUnavailable: ErrorSpec(503),
    UpstreamCannotExpress: ErrorSpec(400),
    # The catch-all, for the unexpected only: a ledger error raised without a row of its own (a new class
    # the completeness test would have named) is a 500 that says nothing of its internals.
    LedgerError: ErrorSpec(500, "Internal Server Error"),
}

MESSAGES = {404: "Not Found", 405: "Method Not Allowed", 413: "Request body is too large"}


class RequestError(Exception):
    """A request the dialect refuses before the ledger sees it (bad parameter, bad body, no such id)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def end_point(request: web.Request) -> str:
    """The endpoint name the envelope carries: the last segment of the path."""
    return request.path.rstrip("/").rsplit("/", 1)[-1] or "memberpoints"


def render_error(request: web.Request, status: int, message: str, code: str | None = None) -> web.Response:
    body = {"endPoint": end_point(request), "success": False, "message": message}
    return web.Response(body=json_bytes(body), status=status, content_type="application/json")


def refuse(request: web.Request, exc: Exception) -> web.StreamResponse | None:
    """A RequestError from the dialect's parsers, in the envelope."""
    return render_error(request, exc.status, exc.message) if isinstance(exc, RequestError) else None

"""How the imonggo dialect shows every failure: ledger errors through one table, transport errors and
unreadable bodies in Rails' `<errors><error>...</error></errors>` (or `{"error": ...}` for .json)."""
from __future__ import annotations

from aiohttp import web

from ...ledger import (
    AlreadyResolved,
    DuplicateIdentity,
    DuplicateReference,
    IdempotencyConflict,
    Identity,
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
from ..common import BodyError, ErrorSpec, ErrorTable
from . import wire

NOT_FOUND = "Not Found"

# Rails' uniqueness messages, by the member identity that was taken ("the message clients match on").
TAKEN = {
    Identity.EXTERNAL_REF.value: "Alternate code has already been taken",
    Identity.EMAIL.value: "Email has already been taken",
}


def _taken(exc: LedgerError) -> str:
    identity = str(exc.details.get("identity", ""))
    return TAKEN.get(identity) or f"{identity.replace('_', ' ').capitalize() or 'Customer'} has already been taken"

# A Rails `find` that misses is a 404 whatever the verb, so an unknown customer type named in a POST is
# a 404 too. Validation failures are 422 with Rails-style full messages.
ERRORS: ErrorTable = {
    InvalidAmount: ErrorSpec(422),
    InvalidArgument: ErrorSpec(422),
    UnknownTenant: ErrorSpec(404, NOT_FOUND),
    UnknownMember: ErrorSpec(404, NOT_FOUND),
    UnknownProgramme: ErrorSpec(404, NOT_FOUND),
    UnknownEntry: ErrorSpec(404, NOT_FOUND),
    UnknownOrder: ErrorSpec(404, NOT_FOUND),
    NotInProgramme: ErrorSpec(422, "Customer has no points membership"),
    InsufficientFunds: ErrorSpec(422, "Insufficient points"),
    AlreadyResolved: ErrorSpec(422),
    NotReversible: ErrorSpec(422),
    DuplicateReference: ErrorSpec(422, "Reference has already been taken"),
    DuplicateIdentity: ErrorSpec(422, _taken),
    OrderVoided: ErrorSpec(422, "Invoice is already voided"),
    IdempotencyConflict: ErrorSpec(422),
    IdempotencyInFlight: ErrorSpec(409),
    PendingUpstreamWrites: ErrorSpec(409),
    StoreUnavailable: ErrorSpec(503, "Service Unavailable"),
    UpstreamError: ErrorSpec(502),
    UpstreamTimeout: ErrorSpec(504),
    UpstreamFailed: ErrorSpec(502),
    UpstreamCredentialsRefused: ErrorSpec(502),
    UpstreamRateLimited: ErrorSpec(503),
    UpstreamUnavailable: ErrorSpec(503),
    UpstreamCannotExpress: ErrorSpec(422),
    # The catch-all, for the unexpected only: a ledger error raised without a row of its own (a new class
    # the completeness test would have named) is a 500 that says nothing of its internals.
    LedgerError: ErrorSpec(500, "Internal Server Error"),
}


def _sentence(message: str) -> str:
    """Rails full messages start with a capital: `amount must be positive` -> `Amount must be positive`."""
    return message[:1].upper() + message[1:]


def render_error(request: web.Request, status: int, message: str, code: str | None) -> web.StreamResponse:
    return wire.errors(request, status, [_sentence(message)])


def refuse(request: web.Request, exc: Exception) -> web.StreamResponse | None:
    """A body that is not a readable XML or JSON document (malformed, hostile, wrong root): 400."""
    return render_error(request, 400, str(exc), None) if isinstance(exc, BodyError) else None

"""Routes of /__admin and its JSON error shape."""
from __future__ import annotations

from aiohttp import web

from ..dialects.common import ErrorSpec, ErrorTable, error_middleware
from ..keys import LEDGER
from .pomelo import add_pomelo_routes
from ..ledger import (
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
    StoreUnavailable,
    UnknownEntry,
    UnknownMember,
    UnknownOrder,
    UnknownProgramme,
    UnknownTenant,
)

ERRORS: ErrorTable = {
    InvalidAmount: ErrorSpec(400),
    InvalidArgument: ErrorSpec(400),
    UnknownTenant: ErrorSpec(404),
    UnknownMember: ErrorSpec(404),
    UnknownProgramme: ErrorSpec(404),
    UnknownEntry: ErrorSpec(404),
    UnknownOrder: ErrorSpec(404),
    NotInProgramme: ErrorSpec(422),
    InsufficientFunds: ErrorSpec(422),
    AlreadyResolved: ErrorSpec(409),
    NotReversible: ErrorSpec(409),
    DuplicateReference: ErrorSpec(409),
    DuplicateIdentity: ErrorSpec(409),
    OrderVoided: ErrorSpec(409),
    IdempotencyConflict: ErrorSpec(422),
    IdempotencyInFlight: ErrorSpec(409),
    StoreUnavailable: ErrorSpec(503),
    LedgerError: ErrorSpec(500),
}


def render_error(request: web.Request, status: int, message: str, code: str | None) -> web.StreamResponse:
    return web.json_response({"error": {"status": status, "message": message}}, status=status)


async def health(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    return web.json_response({"status": "ok", "store": ledger.kind})


def create_admin_app() -> web.Application:
    app = web.Application(middlewares=[error_middleware(ERRORS, render_error)])
    app.router.add_get("/health", health)
    add_pomelo_routes(app)
    return app

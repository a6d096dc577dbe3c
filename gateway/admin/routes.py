"""Routes of /__admin, its ledger-error table and its JSON error shape."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiohttp import web

from ..console import routes as console
from ..dialects.common import ErrorSpec, ErrorTable, error_middleware
from ..dialects.descriptor import Dialect
from ..keys import LEDGER, STATE_SETUPS
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
from ..dialects.descriptor import Document
from ..dialects.documents import json_bytes
from . import (contracts, controls, credentials, drift, member_actions, metrics, provider_states, state, upstream,
               webhooks)
from .auth import admin_auth
from .openapi import DOCUMENT_NAME, TITLE, document
from .wire import render_error

PENDING_WHERE = (
    "; see them with GET /__admin/upstream/unsettled (those a person settles, with POST"
    " /__admin/upstream/unsettled/{id}/settle) and GET /__admin/upstream (how many are open)"
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
    PendingUpstreamWrites: ErrorSpec(409, lambda exc: exc.message + PENDING_WHERE),
    StoreUnavailable: ErrorSpec(503),
    UpstreamError: ErrorSpec(502),
    UpstreamTimeout: ErrorSpec(504),
    UpstreamFailed: ErrorSpec(502),
    UpstreamCredentialsRefused: ErrorSpec(502),
    UpstreamRateLimited: ErrorSpec(429),
    UpstreamUnavailable: ErrorSpec(503),
    UpstreamCannotExpress: ErrorSpec(422),
    # The catch-all, for the unexpected only: a ledger error raised without a row of its own (a new class
    # the completeness test would have named) is a 500 that says nothing of its internals.
    LedgerError: ErrorSpec(500, "Internal Server Error"),
}


async def health(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    return web.json_response({"status": "ok", "store": ledger.kind})


def create_admin_app(dialects: Sequence[Dialect] = ()) -> web.Application:
    """The admin API, with the routes each dialect's descriptor adds to it."""
    app = web.Application(middlewares=[error_middleware(ERRORS, render_error), admin_auth])
    app[STATE_SETUPS] = asyncio.Lock()  # no loop is bound until a set-up waits on it
    own = Document(DOCUMENT_NAME, "openapi", "application/json", TITLE, lambda: json_bytes(document(dialects)))
    contracts.add_routes(app, [own, *contracts.documents_of(dialects)])  # built once: they depend only on the dialects
    r = app.router
    r.add_get("/health", health)
    r.add_get("/metrics", metrics.metrics)
    r.add_post("/reset", state.reset)
    r.add_post("/scenarios", state.load_scenario)
    r.add_get("/tenants", state.list_tenants)
    r.add_post("/tenants", state.create_tenant)
    r.add_get("/tenants/{name}", state.show_tenant)
    r.add_delete("/tenants/{name}", state.delete_tenant)
    r.add_get("/tenants/{name}/credentials", credentials.show_credentials)
    r.add_post("/provider-states", provider_states.set_up)
    r.add_post("/tenants/{name}/upstream/discover", upstream.discover)
    r.add_get("/upstream", upstream.overview)
    r.add_get("/upstream/unsettled", upstream.unsettled)
    r.add_get("/upstream/drift", drift.drift)
    r.add_post("/upstream/unsettled/{id}/settle", upstream.settle)
    r.add_get("/members", state.members)
    r.add_get("/members/actions", member_actions.member_actions)
    r.add_get("/entries", state.entries)
    r.add_get("/audit", state.audit)
    r.add_get("/requests", controls.list_requests)
    controls.add_stream(app)
    r.add_delete("/requests", controls.clear_requests)
    r.add_get("/journal", controls.journal_settings)
    r.add_put("/journal", controls.configure_journal)
    r.add_post("/faults", controls.add_fault)
    r.add_get("/faults", controls.list_faults)
    r.add_delete("/faults", controls.clear_faults)
    r.add_delete("/faults/{id}", controls.remove_fault)
    r.add_get("/clock", controls.get_clock)
    r.add_put("/clock", controls.set_clock)
    r.add_delete("/clock", controls.reset_clock)
    r.add_get("/rate-limits", controls.get_rate_limits)
    r.add_put("/rate-limits", controls.set_rate_limits)
    webhooks.add_routes(r)
    console.add_routes(r)  # HTML and files only: its pages call the routes above
    for dialect in dialects:
        if dialect.admin.add_routes is not None:
            dialect.admin.add_routes(r)
    return app

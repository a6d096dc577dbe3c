"""The imonggo dialect: Imonggo-style XML and JSON REST under /api (customers, customer types, the
Reward API, invoices, the Token API and the read-only catalogue) over the shared ledger. DIALECT is all
the rest of the gateway knows of it."""
from __future__ import annotations

from ...settings import Setting, positive_whole_number, whole_number
from ..descriptor import AdminExtras, Dialect, Documents, RateLimitAnswer, ScenarioPart, UpstreamPort, address_key
from . import (admin, admin_openapi, answers, contract_cases, published, request_check, scenario_part, synthetic,
               upstream)
from .auth import LOGIN, authenticate
from .errors import ERRORS, refuse, render_error
from .routes import PREFIX, add_routes

DIALECT = Dialect(
    name="imonggo",
    synthetic=synthetic.make,  # what a generated member holds in this dialect (seed --generate)
    prefixes=(PREFIX + "/",),
    add_routes=add_routes,
    authenticate=authenticate,
    rate_key=address_key,
    # Imonggo's documented answer (imonggo.md section 1): 503, per API token, in a 10-second window.
    rate_limit=RateLimitAnswer(503, "Max API call rate exceeded", 10,
                               ("imonggo_rate_limit", "imonggo_rate_window_seconds")),
    errors=ERRORS,
    render_error=render_error,
    refuse=refuse,
    admin=AdminExtras(openapi=admin_openapi.admin_openapi, member_view=admin.member_view,
                      credentials_view=admin.credentials_view, fresh_credentials=admin.fresh_credentials,
                      balance_view=admin.balance_view, member_actions=admin.member_actions,
                      stored_credentials=admin.stored_credentials, curl_example=admin.curl_example),
    settings=(
        Setting("imonggo_rate_limit", 0, "Emulate Imonggo's rate limit: most requests per API token per window, then"
                " 503 with Retry-After; 0 is off.", whole_number),
        Setting("imonggo_rate_window_seconds", 10, "The window of imonggo_rate_limit, in seconds.",
                positive_whole_number),
    ),
    scenario=ScenarioPart(scenario_part.parts, check=scenario_part.check, seal=scenario_part.seal, logins=(LOGIN,)),
    upstream=UpstreamPort(upstream.connect, upstream.CREDENTIAL_NAMES, "steps"),
    # imonggo.openapi.json (the .json routes), imonggo.xsd (XML answers), imonggo-requests.xsd (XML bodies)
    documents=Documents(published.DOCUMENTS, check_answer=answers.check_answer,
                        check_request=request_check.check_request),
    cases=contract_cases.CASES,  # verify and diff read its pinned cases through this
)

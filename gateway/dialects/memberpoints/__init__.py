"""The memberpoints dialect (webapps/api JSON): adjustment history and adjustments, and balances, over
the shared ledger. DIALECT is all the rest of the gateway knows of it."""
from __future__ import annotations

from ...settings import Setting, whole_number
from ..descriptor import AdminExtras, Dialect, RateLimitAnswer, ScenarioPart, UpstreamPort
from . import admin, admin_openapi, document, scenario_part, upstream, synthetic
from .auth import authenticate, rate_key
from .errors import ERRORS, MESSAGES, refuse, render_error
from .routes import PREFIX, add_routes
from . import contract_cases


DIALECT = Dialect(
    name="memberpoints",
    synthetic=synthetic.make,  # what a generated member holds in this dialect (seed --generate)
    prefixes=(PREFIX + "/",),
    add_routes=add_routes,
    authenticate=authenticate,
    rate_key=rate_key,
    # The vendor's documented limit (memberpoints.md section 8): per apiID per minute, then 429.
    rate_limit=RateLimitAnswer(429, "Rate limit exceeded: at most {limit} API requests per {window} seconds", 60,
                               ("memberpoints_rate_limit", None)),
    errors=ERRORS,
    render_error=render_error,
    messages=MESSAGES,
    refuse=refuse,
    admin=AdminExtras(openapi=admin_openapi.admin_openapi, member_view=admin.member_view,
                      credentials_view=admin.credentials_view, fresh_credentials=admin.fresh_credentials,
                      balance_view=admin.balance_view, member_actions=admin.member_actions,
                      stored_credentials=admin.stored_credentials, curl_example=admin.curl_example),
    settings=(
        Setting("memberpoints_rate_limit", 0, "Emulate memberpoints' rate limit (the vendor's is 100): most requests"
                " per apiID per minute, then 429; 0 is off.", whole_number),
    ),
    scenario=ScenarioPart(scenario_part.parts),
    upstream=UpstreamPort(upstream.connect, upstream.CREDENTIAL_NAMES, "request"),
    cases=contract_cases.CASES,  # verify and diff read its pinned cases through this
    documents=document.DOCUMENTS,  # memberpoints.openapi.json: served, shipped, and held to every request
)

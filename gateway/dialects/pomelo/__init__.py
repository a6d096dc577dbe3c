"""The pomelo dialect: /oauth client-credentials tokens and the /loyalty/v1 JSON API (balance, mint,
burn), plus the reward rule and the signed webhooks the sandbox sends for card-transaction rewards.
DIALECT is all the rest of the gateway knows of it."""
from __future__ import annotations

from ..descriptor import (AdminExtras, Dialect, RateLimitAnswer, ScenarioPart, UpstreamPort, WebhookSink, Webhooks,
                          address_key)
from . import admin, admin_openapi, admin_views, scenario_part, triggers, upstream, webhooks, synthetic
from .openapi import DOCUMENTS
from .auth import authenticate
from .errors import ERRORS, refuse, render_error
from .routes import PREFIXES, add_routes
from . import contract_cases


DIALECT = Dialect(
    name="pomelo",
    synthetic=synthetic.make,  # what a generated member holds in this dialect (seed --generate)
    prefixes=PREFIXES,
    add_routes=add_routes,
    authenticate=authenticate,
    rate_key=address_key,
    rate_limit=RateLimitAnswer(429, "Too Many Requests", 60),
    errors=ERRORS,
    render_error=render_error,
    refuse=refuse,
    admin=AdminExtras(add_routes=admin.add_admin_routes, openapi=admin_openapi.admin_openapi,
                      member_view=admin_views.member_view, credentials_view=admin_views.credentials_view,
                      fresh_credentials=admin_views.fresh_credentials, balance_view=admin_views.balance_view,
                      member_actions=admin_views.member_actions,
                      stored_credentials=admin_views.stored_credentials, curl_example=admin_views.curl_example),
    # Stored names: deliveries already in databases carry this consumer and channel; never rename them.
    webhooks=Webhooks(section="pomelo", consumer="pomelo-webhooks", channel="pomelo", message_for=webhooks.message_for,
                      targets=webhooks.targets, headers=webhooks.signed_headers, verify=webhooks.verify,
                      sink=WebhookSink(secret=webhooks.secret_of, subscribe=webhooks.subscribe,
                                       event_of=webhooks.event_of, summary_of=webhooks.summary_of)),
    scenario=ScenarioPart(scenario_part.parts),
    upstream=UpstreamPort(upstream.connect, upstream.CREDENTIAL_NAMES, "flat"),
    documents=DOCUMENTS,  # its OpenAPI document, served, shipped and held to the requests it takes
    cases=contract_cases.CASES,  # verify and diff read its pinned cases through this
    triggers=triggers.TRIGGERS,  # the card-transaction events `loyalty-gateway trigger pomelo` makes happen
)

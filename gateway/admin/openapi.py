"""The OpenAPI 3.1 document of /__admin, served as /__admin/contracts/admin.openapi.json. A test checks that every
admin route appears here and nothing else does; another fuzzes the running server against it, so every
status a handler can answer is listed with the body it really has. Names no vendor: document(dialects)
takes each dialect's part (its admin routes, its credentials, a member's ids) from its descriptor."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..scenario import scenario_schema
from .generated import HTTP_LIMIT
from ..dialects.descriptor import Dialect
from .contracts import documents_of, openapi_part
from .openapi_console import CONSOLE_PATHS, CREDENTIALS_PATHS, credentials_schemas
from .openapi_drift import DRIFT_PATH, drift_schemas
from .openapi_kit import (AMOUNT, ASSET, BOOL, INT, KIT, MAYBE_INT, MAYBE_STR, MAYBE_TIME, NUM, PAGING, STR,
                          TENANT_NAME, TEXT, TIME, URL, _RESPONSES, _linked, _list, _obj, _op, _p, _q, _ref)

DOCUMENT_NAME = "admin.openapi.json"
# A member named the way any dialect names it (the admin's member_ref): a customer id or mbr_id, id:N, a usr- or
# crd- ref, an e-mail
MEMBER_REF = {"type": "string", "pattern": r"^\s*([0-9]{1,19}|id:[0-9]{1,19}|usr-.*|crd-.*|[^@]*@.*)?\s*$"}
TITLE = "loyalty-gateway admin API"


_LIMIT = {"type": "object", "required": ["limit"], "additionalProperties": False, "properties": {
    "limit": {"type": "integer", "minimum": 1, "maximum": 10**9},
    "window_seconds": {"type": "integer", "minimum": 1, "maximum": 10**9}}}
_BODY = _obj("text size truncated", text=STR, size=INT, truncated=BOOL)
_HEADERS = {**_list({"type": "array", "prefixItems": [STR, STR], "minItems": 2, "maxItems": 2}),
            "description": "[name, value] in the order sent; a secret's value (credentials, cookies, keys, tokens) is "
                           '"[FILTERED]" ("Basic [FILTERED]" for an Authorization header)'}


def _fault_fields(DIALECT: dict[str, Any]) -> dict[str, Any]:  # noqa: N803  (the enum of dialect names)
    return {
    "effect": {"enum": ["latency", "status", "empty", "drop"],
               "description": "latency: wait, then answer normally; status: answer with this status in the dialect's "
                              "error shape; empty: close the connection without a byte; drop: reset it"},
    "when": {"enum": ["before", "after"], "default": "before",
             "description": "before the handler (nothing is written) or after it (the write is committed)"},
    "tenant": TEXT, "dialect": DIALECT, "method": TEXT,
    "path": {"type": "string", "pattern": "^[/*]", "default": "*", "description": "glob, e.g. /api/customers/*"},
    "probability": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 1},
    "times": {"type": "integer", "minimum": 1, "maximum": 10**9, "description": "stop after this many hits"},
    "latency_ms": {"type": "integer", "minimum": 0, "maximum": 120_000},
    "status": {"type": "integer", "minimum": 400, "maximum": 599, "default": 503},
    "message": TEXT, "code": TEXT,
    }


def _stream_op(dialect_words: str) -> dict[str, Any]:
    """GET /requests/stream: server-sent events, so its answer is text/event-stream, not JSON."""
    op = _op("New journal entries as they are recorded, as server-sent events", "JournalEntry", store=False,
             errors=(400,), params=[
                 _q("tenant", "tenant name"), _q("dialect", dialect_words), _q("path", "prefix, or glob with * ?"),
                 _q("method", "HTTP method"),
                 _q("status", "a status (404) or a class (4xx)", {"type": "string", "pattern": "^([0-9]{3}|[0-9][xX]{2})?$"}),
                 _q("since", "start after this entry id (Last-Event-ID, sent on a reconnect, wins); left out: from now",
                    {"type": "string", "pattern": "^[0-9]{0,18}$"}),
                 _q("timeout", "seconds the stream stays open before it ends (the client reconnects with "
                               "Last-Event-ID); 0 sends what is there and ends", {"type": "integer", "minimum": 0,
                                                                                  "maximum": 3600, "default": 3600}),
                 {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string",
                  "pattern": "^[0-9]{0,18}$"}, "description": "the id of the last event received: resume after it"}])
    op["description"] = (
        "First an event `ready` whose id (and data's `after`) is the entry id it starts after; then each new entry as "
        "`id: <entry id>`, `event: request`, `data: <the entry as GET /requests lists it, one line of JSON>`, oldest first, filtered as GET /requests filters. A comment line (`: heartbeat`) comes every 15 "
        "seconds of quiet. The stream ends after `timeout` seconds or when the server shuts down; an EventSource "
        "reconnects after the `retry` it was given (1 s) and resumes after the last id it saw. With several workers "
        "or instances on one database, every worker's entries come, within half a second.")
    op["responses"]["200"] = {"description": "the stream", "content": {"text/event-stream": {"schema": {
        **_obj("event data", event={"enum": ["ready", "request"]}, id={"type": "string", "pattern": "^[0-9]+$"},
               retry={"type": "integer", "minimum": 0},
               data={"type": "string", "description": 'ready: {"after": <the id it starts after>}; request: a '
                                                      "JournalEntry as JSON"}),
        "description": "one event (OpenAPI 3.1: the schema describes each event of the stream)"}}}}
    return op


def _schemas(DIALECT: dict[str, Any], parts: dict[str, dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
    """The document's schemas; `parts` is each dialect's part (see document)."""
    _FAULT_FIELDS = _fault_fields(DIALECT)  # noqa: N806
    return {
    "Error": _obj("error", error=_obj("status message", status={"type": "integer", "minimum": 400, "maximum": 599},
                                      message=STR)),
    "Health": _obj("status store", status={"const": "ok"}, store={"enum": ["sqlite", "postgresql"]}),
    "Reset": {**_obj(tenant={"type": ["string", "null"]}), "description": 'no tenant (null or "") resets everything'},
    "ResetDone": _obj("reset", reset=_list(STR), journal={"const": "cleared"}, faults={"const": "cleared"},
                      clock={"const": "real"}),
    "TenantsAdded": _obj("tenants", tenants=_list(TENANT_NAME)),
    "UpstreamDeclared": {**_obj("dialect base_url credentials record shadow", dialect=DIALECT, base_url=STR, record=BOOL,
                                credentials={"type": "object", "additionalProperties": STR,
                                             "description": 'each credential\'s name; a secret one\'s value is "[FILTERED]"'},
                                shadow={"oneOf": [{"type": "null"}, _ref("ShadowDeclared")]}),
                         "description": "the tenant's upstream vendor, never with a secret"},
    "Tenant": _obj("name created_at members dialects resettable_from upstream", name=STR, created_at=MAYBE_TIME,
                   members=INT, dialects=_list(DIALECT), resettable_from=STR,
                   upstream={"oneOf": [{"type": "null"}, _ref("UpstreamDeclared")]}),
    "Tenants": _obj("tenants total", tenants=_list(_ref("Tenant")), total=INT),
    "TenantRequest": _obj(
        scenario={"description": 'a scenario document, or "demo" (the default)',
                  "oneOf": [{"const": "demo"}, _ref("Scenario")]},
        tenant={"type": ["string", "null"], "description": "which tenant of the scenario to copy (default: the first)"},
        name={"type": "string", "pattern": "^[A-Za-z0-9_.-]{0,64}$",
              "description": "the new tenant's name (empty or left out: <scenario tenant>-<8 hex>)"},
        generate={"type": "integer", "minimum": 1, "maximum": HTTP_LIMIT,
                  "description": "instead of a scenario's members, this many synthetic ones (the demo's tenant "
                                 "otherwise; no scenario or tenant with it)"},
        seed={"type": "integer", "description": "with generate: the generator's seed (default 1)"}),
    "TenantCreated": _obj(
        "name members", name=TENANT_NAME, members=INT,
        **{name: part["credentials"] for name, part in parts.items() if "credentials" in part},
        upstream=_ref("UpstreamDeclared")),
    "TenantDeleted": _obj("deleted", deleted=STR),
    "ProviderState": _obj(
        "dialect state", dialect={**DIALECT, "description": "whose contract case the state is"},
        state={"anyOf": [_obj("scenario", scenario={"const": "demo"}),
                         *(part["state"] for part in parts.values() if "state" in part)],
               "description": 'the case\'s state as its dialect\'s cases declare it: {"scenario": "demo"}, or a seed '
                              '(members, movements at dates, a clock) where a dialect declares one'},
        tenant={"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$",
                "description": "the tenant to make; an existing one of that name is replaced (default: a fresh name)"}),
    "Members": _obj("members offset limit", offset=INT, limit=INT,
                    total={**INT, "description": "how many members match: with member or q always; the plain "
                                                 "listing only with count=true, limit=0 or an offset (a count walks "
                                                 "every member)"},
                    next={**MAYBE_STR, "description": "the plain listing only: what to pass as after for the next "
                                                      "page, null on the last page"},
                    members=_list(_obj(
        " ".join(["tenant id name deleted", *(n for n, part in parts.items() if "member" in part),
                  "upstream_id balances updated_at dialect_balances"]), tenant=STR, id=INT, name=STR,
        upstream_id={"type": ["string", "null"], "description": "who the member is at the tenant's upstream, when linked"},
        deleted=BOOL, **{name: part["member"] for name, part in parts.items() if "member" in part},
        balances={"type": "object", "propertyNames": ASSET,
                  "additionalProperties": _obj("posted pending", posted=AMOUNT, pending=AMOUNT)},
        updated_at=MAYBE_TIME,
        dialect_balances={**_obj(" ".join(n for n, part in parts.items() if "balance" in part),
                                 **{n: part["balance"] for n, part in parts.items() if "balance" in part}),
                          "description": "the balances as each dialect's own read of the member writes them"}))),
    "MemberActions": _obj("tenant member_id actions", tenant=STR, member_id=INT, actions=_list(_obj(
        "dialect kind label amount_label method path headers body admin", dialect=DIALECT,
        kind={"enum": ["credit", "debit", "purchase"]}, label=STR, amount_label=STR, method=STR,
        path={**STR, "description": "{amount} (and {reference}, where present) to be put in by the sender; under "
                                    "/__admin when admin is true, else the dialect's own API from the server's root"},
        headers={"type": "object", "additionalProperties": STR,
                 "description": "the tenant's credentials as the dialect takes them, and the body's content type"},
        body={"type": ["string", "null"], "description": "the body to send, with {amount} to be put in"},
        admin={**BOOL, "description": "sent to the admin API (with the admin token) rather than the dialect's"}))),
    "Entries": _obj("tenant entries total offset limit", tenant=STR, total=INT, offset=INT, limit=INT, entries=_list(_obj(
        "id public_ref member_id customer_id asset amount kind status record_id record_amount reference note origin "
        "value order_id reverses_id occurred_at created_at", id=INT, public_ref=MAYBE_STR, member_id=INT,
        customer_id=MAYBE_INT, asset=ASSET, amount=AMOUNT, kind=STR, status=STR, record_id=MAYBE_INT,
        record_amount=AMOUNT, reference=MAYBE_STR, note=MAYBE_STR, origin=MAYBE_STR, value=AMOUNT, order_id=MAYBE_INT,
        reverses_id=MAYBE_INT, occurred_at=MAYBE_TIME, created_at=MAYBE_TIME))),
    "Audit": _obj("ok violations checked", ok=BOOL, violations=_list(STR),
                  checked={"type": "object", "additionalProperties": INT}),
    "JournalStats": _obj("enabled entries bytes dropped max_entries max_bytes body_bytes", enabled=BOOL, entries=INT,
                         bytes=INT, dropped=INT, max_entries=INT, max_bytes=INT, body_bytes=INT),
    "Journal": {**_obj(enabled={"type": ["boolean", "null"]},
                       max_entries={"type": ["integer", "null"], "minimum": 1, "maximum": 2**63 - 1},
                       max_bytes={"type": ["integer", "null"], "minimum": 1, "maximum": 2**63 - 1}),
                "description": "fields left out (or null) keep their value"},
    "Requests": _obj("requests total journal", total=INT, journal=_ref("JournalStats"),
                     requests=_list(_ref("JournalEntry"))),
    "JournalEntry": _obj(
        "id request_id at ledger_time tenant dialect method path query status duration_ms outcome fault request_body "
        "response_body upstream idempotency_key request_headers response_headers",
        id=INT, request_id={**MAYBE_STR, "description": "the X-Request-Id of the answer: the client's own, echoed, "
                                                        "or one made for it"}, at=TIME, ledger_time=TIME, tenant=MAYBE_STR, dialect=STR, method=STR, path=STR, query=STR,
        status=MAYBE_INT, duration_ms=NUM, outcome=STR, fault={"oneOf": [{"type": "null"}, _ref("FaultStruck")]}, request_body=_BODY,
        response_body=_BODY, upstream={**_list(_ref("UpstreamExchange")),
                                       "description": "what the request exchanged with the tenant's upstream"},
        idempotency_key={**MAYBE_STR, "description": "the request's x-idempotency-key header, if it sent one"},
        request_headers=_HEADERS, response_headers=_HEADERS),
    "UpstreamExchange": {**_obj(
        "method url status request_id duration_ms request_body response_body error", method=STR, url=STR,
        status=MAYBE_INT, request_id={**MAYBE_STR, "description": "the upstream's id for the exchange, else the "
                                                               "X-Request-Id the gateway sent"}, duration_ms=NUM, request_body=_BODY, response_body=_BODY, error=MAYBE_STR),
        "description": "one request to the upstream (status null: no answer; error says why); secrets masked"},
    "FaultStruck": {**_obj("id effect when handler_ran handler_status", id={"type": "string", "pattern": "^flt-[0-9]+$"},
                           effect={"enum": ["latency", "status", "empty", "drop"]}, when={"enum": ["before", "after"]},
                           status={"type": "integer", "minimum": 400, "maximum": 599}, handler_ran=BOOL,
                           handler_status=MAYBE_INT),
                    "description": "the fault rule that struck the request (status: for a status effect)"},
    "Cleared": _obj("cleared", cleared=INT),
    "Removed": _obj("removed", removed=INT),
    "FaultRule": {**_obj("effect", **_FAULT_FIELDS,
                         latency_max_ms={"type": "integer", "minimum": 0, "maximum": 120_000,
                                         "description": "random latency from latency_ms up to this (not below it)"}),
                  "if": {"properties": {"effect": {"const": "latency"}}}, "then": {"required": ["latency_ms"]}},
    "Fault": {"type": "object", "additionalProperties": False,
              "required": ["id", "effect", "when", "tenant", "dialect", "method", "path", "probability", "times",
                           "matched", "hits", "exhausted"],
              "properties": {**_FAULT_FIELDS, "id": {"type": "string", "pattern": "^flt-[0-9]+$"},
                             "tenant": MAYBE_STR, "dialect": {"enum": [*DIALECT["enum"], None]}, "method": MAYBE_STR,
                             "times": MAYBE_INT, "matched": INT, "hits": INT, "exhausted": BOOL,
                             "latency_max_ms": MAYBE_INT, "message": MAYBE_STR, "code": MAYBE_STR}},
    "Faults": _obj("faults", faults=_list(_ref("Fault"))),
    "Clock": {"oneOf": [_obj("frozen_at", frozen_at=TIME),
                        _obj("offset_seconds", offset_seconds={"type": "number", "minimum": -3_153_600_000,
                                                               "maximum": 3_153_600_000})],
              "description": "exactly one of frozen_at (a time with its timezone) or offset_seconds (a hundred "
                             "years either way at most)"},
    "ClockState": _obj("now frozen_at offset_seconds", now=TIME, frozen_at=MAYBE_TIME, offset_seconds=NUM),
    "RateLimits": {**_obj(**{d: {"oneOf": [{"type": "null"}, _LIMIT]} for d in DIALECT["enum"]}),
                   "description": '{"<dialect>": {"limit": 500, "window_seconds": 10}}; null turns one off'},
    "RateLimitState": _obj(" ".join(DIALECT["enum"]), **{d: {"oneOf": [{"type": "null"}, _obj(
        "limit window_seconds status", limit=INT, window_seconds=INT, status=INT)]} for d in DIALECT["enum"]}),
    "Delivery": _obj(
        "id tenant_id event idempotency_key url state attempts last_status last_error next_attempt_at created_at "
        "history body", id=INT, tenant_id=INT, event=STR, idempotency_key=STR, url=STR,
        state={"enum": ["pending", "delivered", "refused", "failed"]}, attempts=INT, last_status=MAYBE_INT, last_error=MAYBE_STR,
        next_attempt_at=MAYBE_TIME, created_at=TIME, body=STR,
        signed_headers={"oneOf": [{"type": "null"}, _obj("at headers", at=TIME, headers=_HEADERS)],
                        "description": "the headers it is sent with, signed as for its latest attempt's time (not tried "
                                       "yet: now), secrets masked; null when its tenant has no signing secret"},
        history=_list(_obj("attempt at status error", attempt=INT, at=TIME, status=MAYBE_INT, error=MAYBE_STR))),
    "Deliveries": _obj("deliveries offset limit", deliveries=_list(_ref("Delivery")), offset=INT, limit=INT),
    "Upstreams": _obj("upstreams", upstreams=_list(_obj(
        "tenant dialect base_url record reachable calls errors last_error latency_ms intents shadow", tenant=STR,
        dialect=DIALECT, base_url=STR, record=BOOL, shadow={"oneOf": [{"type": "null"}, _ref("ShadowState")]},
        reachable={"type": ["boolean", "null"], "description": "whether this process's last call got an answer (null: no call yet)"},
        calls=INT, errors={**INT, "description": "calls with no answer, a 5xx, 401, 403 or 429"}, last_error=MAYBE_STR,
        latency_ms=_obj("p50 p95 p99", **{p: {"type": ["number", "null"]} for p in ("p50", "p95", "p99")}),
        intents=_obj("open unsettled", open={**INT, "description": "forwarded writes whose outcome is not known yet"},
                     unsettled={**INT, "description": "unclear writes never resent, waiting for a person"})))),
    "Intent": _obj(
        "id tenant member upstream_id key direction asset points cause value reference state answered settled_by "
        "created_at", id=INT, tenant=MAYBE_STR, member=INT, upstream_id=STR,
        key={**STR, "description": "the idempotency key the write was sent under"},
        direction={"enum": ["credit", "debit"]}, asset=ASSET, points=AMOUNT,
        cause={"enum": ["adjustment", "spend", "order_earn", "order_void", "reward"]}, value=AMOUNT,
        reference=MAYBE_STR, state={"enum": ["open", "applied", "refused", "not_applied", "unsettled"]},
        answered={**MAYBE_STR, "description": "what the client was told (e.g. unavailable)"},
        settled_by=MAYBE_STR, created_at=TIME),
    "Unsettled": _obj("unsettled", unsettled=_list(_ref("Intent"))),
    "Settlement": _obj("applied by", applied={**BOOL, "description": "whether the upstream did apply the write"},
                       by={"type": "string", "minLength": 1, "maxLength": 200, "description": "who settles it"}),
    "Discovered": _obj(
        "linked unmatched_local unmatched_upstream",
        linked=_list(_obj("member upstream_id by", member=INT, upstream_id=STR, by={"enum": ["id", "email"]})),
        unmatched_local=_list(_obj("member name email", member=INT, name=STR, email=MAYBE_STR)),
        unmatched_upstream=_list(_obj("upstream_id name email", upstream_id=STR, name=MAYBE_STR, email=MAYBE_STR))),
    **{name: schema for part in parts.values() for name, schema in part.get("schemas", {}).items()},
    }

def _scenario_components() -> dict[str, Any]:
    """The scenario JSON Schema the server validates with, its $defs lifted into components so that each
    reference resolves inside this document."""
    schema = scenario_schema()
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)

    def lift(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"#/components/schemas/Scenario.{v[len('#/$defs/'):]}" if k == "$ref" else lift(v))
                    for k, v in node.items()}
        return [lift(n) for n in node] if isinstance(node, list) else node

    return {"Scenario": lift(schema), **{f"Scenario.{name}": lift(d) for name, d in defs.items()}}


def _metrics_operation() -> dict[str, Any]:
    """GET /metrics: refused as every operation may be (401/403, a store down), but answered in text."""
    operation = _op("The whole server's metrics in the Prometheus text format 0.0.4 (every worker's counts summed): "
                    "requests by dialect, route pattern, method and status with latency histograms, ledger writes, "
                    "webhook attempts, failures and backlog, upstream calls, start time and version", "Health")
    operation["responses"]["200"] = {"description": "the metrics, as Content-Type text/plain; version=0.0.4",
                                     "content": {"text/plain": {"schema": {"type": "string"}}}}
    return operation


def document(dialects: Sequence[Dialect]) -> dict[str, Any]:
    """The whole document, with each dialect's part from its descriptor."""
    parts = {d.name: dict(d.admin.openapi(KIT)) if d.admin.openapi is not None else {} for d in dialects}
    DIALECT = {"enum": [d.name for d in dialects]}  # noqa: N806
    contracts = openapi_part(KIT, [DOCUMENT_NAME, *(doc.name for doc in documents_of(dialects))])
    dialect_names = [d.name for d in dialects]
    dialect_words = (", ".join(dialect_names[:-1]) + " or " + dialect_names[-1] if len(dialect_names) > 1
                     else "".join(dialect_names))
    return {
    "openapi": "3.1.0",
    "info": {"title": TITLE, "version": "1",
             "description": "State, request journal, faults, clock, rate limits and tenants of the sandbox. Without an "
                            "admin_token (the default) it answers local callers with no credentials at all; with one, "
                            "every path but /health needs `Authorization: Bearer TOKEN`."},
    "servers": [{"url": "/__admin"}],
    "components": {
        "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer",
                                           "description": "only when the server is started with an admin_token"}},
        "schemas": {**_schemas(DIALECT, parts), **drift_schemas(DIALECT), **credentials_schemas(parts), **contracts["schemas"],
                    **_scenario_components()},
        "responses": {name: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
                      for name, (_, text) in _RESPONSES.items()},
    },
    "security": [{}, {"adminToken": []}],  # {}: no credentials, the loopback default
    "paths": {
        "/health": {"get": {**_op("Liveness and the store kind", "Health", store=False), "security": [],
                            "responses": {"200": {"description": "up", "content": {
                                "application/json": {"schema": _ref("Health")}}}}}},
        "/metrics": {"get": _metrics_operation()},
        **contracts["paths"],
        "/reset": {"post": _op("Reset one tenant to its scenario (body {\"tenant\": NAME} or ?tenant=NAME), or, with "
                               "no tenant, every tenant to the startup scenario and the journal, faults, rate counters "
                               "and clock too", "ResetDone", body="Reset", optional_body=True, errors=(404,),
                               params=[_q("tenant", "the tenant to reset, when the body names none")])},
        "/scenarios": {"post": _op("Add every tenant of a scenario document. Beyond its schema: a member's "
                                   "customer_type_id names a customer type of its tenant, names and member ids appear "
                                   "once, times are real (else 400); names and credentials are free (else 409)",
                                   "TenantsAdded", body="Scenario", ok=201, errors=(409,))},
        "/tenants": {
            "get": _op("Tenants, oldest first, their member counts and dialects, and how many there are; offset and limit "
                       "page them (every tenant without either)", "Tenants", params=PAGING, errors=(400,)),
            "post": _linked(_op("A fresh tenant copied from a scenario (checked as POST /scenarios checks it) with new "
                                "credentials for every dialect; returns them",
                                "TenantCreated", body="TenantRequest", optional_body=True, ok=201, errors=(409,)),
                            "createTenant", showTenant={"path.name": "$response.body#/name"},
                            deleteTenant={"path.name": "$response.body#/name"}),
        },
        "/provider-states": {"post": _op(
            "Set up a contract case's state (Pact's provider-states URL, used by `loyalty-gateway verify` for exact "
            "mode): a tenant with new credentials, its members and dated movements, and the sandbox clock (frozen at "
            "the state's time, else real); returns the tenant's credentials. Beyond its schema, the state must be one its "
            "dialect's cases declare (a seed's movements name its own members, its dates are real, the ledger accepts "
            "each movement); else 400, and nothing changes",
            "TenantCreated", body="ProviderState", errors=(409,))},
        "/tenants/{name}": {"get": {**_op("One tenant: its member count, dialects and upstream (no secret)", "Tenant",
                                          errors=(404,)), "parameters": [_p("name", "tenant name")],
                                    "operationId": "showTenant"},
                            "delete": {**_op("Delete a tenant and all it owns", "TenantDeleted", errors=(404,)),
                                       "parameters": [_p("name", "tenant name")], "operationId": "deleteTenant"}},
        "/tenants/{name}/upstream/discover": {"post": {**_op(
            "Link each member without an upstream_id to the upstream's member with its default id or, failing that, "
            "its e-mail; 400: the tenant has no upstream, 409: the upstream cannot list its members", "Discovered",
            errors=(400, 404, 409)), "parameters": [_p("name", "tenant name")]}},
        "/upstream": {"get": _op("Each upstream tenant's vendor, reachability, calls, errors, latency percentiles and "
                                 "intent counts (this process's calls; no secret)", "Upstreams")},
        **DRIFT_PATH,
        "/upstream/unsettled": {"get": _op(
            "Forwarded writes whose outcome nobody could learn (never resent), for a person to settle", "Unsettled",
            errors=(404,), params=[_q("tenant", 'tenant name; left out or "": every tenant')])},
        "/upstream/unsettled/{id}/settle": {"post": {**_op(
            "Settle an unsettled write: applied (recorded here as the upstream's) or not applied (closed)", "Intent",
            body="Settlement", errors=(404, 409)), "parameters": [_p("id", "intent id", {"type": "integer", "minimum": 1,
                                                                                          "maximum": 2**63 - 1})]}},
        "/members": {"get": _op("Members with their identities in every dialect and their balances", "Members", params=[
            _q("tenant", 'tenant name; left out or "": every tenant'),
            _q("member", "exactly one identity: a customer id or mbr_id (1534), usr-..., crd-..., an e-mail, or id:N; "
                         "reads only the members it names (in each tenant); not with q", MEMBER_REF),
            _q("q", "text a member's name, e-mail or ids contain: scans every member of the tenant(s), so slow on a "
                    "big tenant (use member for an exact identity); left out, a page of the ledger is read"),
            _q("after", "the plain listing's cursor: the next of the page before (a customer id when tenant is "
                        "given, else TENANT:CUSTOMER_ID); the page is read by the index and nothing is counted, "
                        "at any depth; not with member, q or offset"),
            _q("count", "the plain listing: also count the members (total), which walks every member",
               {"type": "boolean"}),
            *PAGING], errors=(400, 404))},
        "/members/actions": {"get": _op(
            "The requests a client makes to credit, debit or reward one member in each dialect, ready to send with "
            "the tenant's credentials (what the console's buttons send); nothing is sent", "MemberActions", params=[
                _q("tenant", "tenant name (may be left out when there is one tenant)"),
                {**_q("member", "1534, usr-..., crd-..., an e-mail, or id:N", {**MEMBER_REF, "minLength": 1}),
                 "required": True}], errors=(400, 404))},
        "/entries": {"get": _op("Ledger entries, oldest first, every status and revision", "Entries", params=[
            _q("tenant", "tenant name (may be left out when there is one tenant)"),
            _q("member", '1534, usr-..., crd-..., an e-mail, or id:N; "" for every member'),
            _q("asset", "points, cashback or miles", ASSET), *PAGING], errors=(400, 404))},
        "/audit": {"get": _op("Every ledger invariant checked; each violation named", "Audit")},
        "/requests": {
            "get": _op("Journal entries, newest first", "Requests", store=False, errors=(400,), params=[
                _q("tenant", "tenant name"), _q("dialect", dialect_words),
                _q("path", "prefix, or glob with * ?"), _q("method", "HTTP method"),
                _q("status", "a status (404) or a class (4xx)", {"type": "string", "pattern": "^([0-9]{3}|[0-9][xX]{2})?$"}),
                _q("since", "entry id (entries after it) or ISO time with its timezone (entries at or after it)",
                   {"anyOf": [{"type": "string", "pattern": "^[0-9]{0,18}$"}, TIME]}),
                _q("before", "entry id: only entries older than it (the next page of a list that ended there)",
                   {"type": "string", "pattern": "^[0-9]{0,18}$"}), *PAGING]),
            "delete": _op("Empty the journal", "Cleared", store=False),
        },
        "/requests/stream": {"get": _stream_op(dialect_words)},
        "/journal": {
            "get": _op("Journal settings and usage", "JournalStats", store=False),
            "put": _op("Switch the journal on or off, or change its caps", "JournalStats", body="Journal", store=False),
        },
        "/faults": {
            "post": _linked(_op("Add a fault rule; returns it with its id", "Fault", body="FaultRule", ok=201,
                                store=False), "addFault", removeFault={"path.id": "$response.body#/id"}),
            "get": _op("Fault rules with their match and hit counts", "Faults", store=False),
            "delete": _op("Remove every fault rule", "Removed", store=False),
        },
        "/faults/{id}": {"delete": {**_op("Remove one fault rule", "Removed", errors=(404,), store=False),
                                    "parameters": [_p("id", "rule id (flt-N)")], "operationId": "removeFault"}},
        "/clock": {
            "get": _op("The ledger's time", "ClockState", store=False),
            "put": _op("Freeze ({\"frozen_at\": ISO}) or shift ({\"offset_seconds\": N}) the ledger's time", "ClockState",
                       body="Clock", store=False),
            "delete": _op("Back to real time", "ClockState", store=False),
        },
        "/webhooks/deliveries": {"get": _op("Webhook deliveries with their attempts, statuses and next try",
                                            "Deliveries", errors=(400, 404), params=[
            _q("tenant", 'tenant name; left out or "": every tenant'), *PAGING])},
        "/webhooks/deliveries/{delivery_id}/redeliver": {"post": {**_op(
            "Send a webhook delivery again, keeping its idempotency key (any other delivery is a 404)", "Delivery",
            errors=(400, 404)),
            "parameters": [_p("delivery_id", "delivery id", {"type": "integer", "minimum": 1,
                                                             "maximum": 2**63 - 1})]}},
        "/rate-limits": {
            "get": _op("The rate-limit emulation per dialect", "RateLimitState", store=False),
            "put": _op("Switch a dialect's rate-limit emulation on, change it, or (null) off", "RateLimitState",
                       body="RateLimits", store=False),
        },
        **{path: item for part in parts.values() for path, item in part.get("paths", {}).items()},
        **CREDENTIALS_PATHS,
        **CONSOLE_PATHS,
    },
    }

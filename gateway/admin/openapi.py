"""The OpenAPI 3.1 document of /__admin, served at /__admin/openapi/admin.json. A test checks that every
admin route appears here and nothing else does."""
from __future__ import annotations

from typing import Any


def _q(name: str, description: str, *, required: bool = False, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": {"type": kind}}


def _p(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _op(summary: str, *, params: list[dict[str, Any]] | None = None, body: str | None = None,
        ok: str = "200", errors: tuple[str, ...] = ("400",)) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok: {"description": "OK", "content": _json()}}}
    for status in errors + ("401",):
        op["responses"][status] = {"$ref": f"#/components/responses/E{status}"}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": _json(body)}
    return op


def _json(ref: str | None = None) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{ref}"} if ref else {"type": "object"}
    return {"application/json": {"schema": schema}}


_TENANT = _q("tenant", "tenant name (default: demo)")
PAGING = [_q("offset", "rows to skip", kind="integer"), _q("limit", "rows to return (1-10000)", kind="integer")]

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "properties": {
    "status": {"type": "integer"}, "message": {"type": "string"}}}}}

_FAULT = {
    "type": "object",
    "required": ["effect"],
    "additionalProperties": False,
    "properties": {
        "effect": {"enum": ["latency", "status", "empty", "drop"],
                   "description": "latency: wait, then answer normally; status: answer with this status in the "
                                  "dialect's error shape; empty: close the connection without a byte; drop: reset it"},
        "when": {"enum": ["before", "after"], "default": "before",
                 "description": "before the handler (nothing is written) or after it (the write is committed)"},
        "tenant": {"type": "string"}, "dialect": {"enum": ["imonggo", "memberpoints", "pomelo"]},
        "method": {"type": "string"}, "path": {"type": "string", "default": "*", "description": "glob, e.g. /api/customers/*"},
        "probability": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 1},
        "times": {"type": "integer", "minimum": 1, "description": "stop after this many hits"},
        "latency_ms": {"type": "integer", "minimum": 0}, "latency_max_ms": {"type": "integer",
                                                                             "description": "random latency up to this"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "default": 503},
        "message": {"type": "string"}, "code": {"type": "string"},
    },
}

_TENANT_REQUEST = {
    "type": "object",
    "properties": {
        "scenario": {"description": 'a scenario document, or "demo" (default)', "oneOf": [{"type": "string"}, {"type": "object"}]},
        "tenant": {"type": "string", "description": "which tenant of the scenario to copy (default: the first)"},
        "name": {"type": "string", "description": "the new tenant's name (default: <scenario tenant>-<8 hex>)"},
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "loyalty-gateway admin API", "version": "1",
             "description": "State, request journal, faults, clock, rate limits and tenants of the sandbox. When "
                            "admin_token is set every path but /__admin/health needs `Authorization: Bearer TOKEN`."},
    "servers": [{"url": "/__admin"}],
    "components": {
        "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": _ERROR, "FaultRule": _FAULT, "TenantRequest": _TENANT_REQUEST,
                    "Scenario": {"type": "object", "description": "see gateway/data/scenario.schema.json"},
                    "Clock": {"type": "object", "properties": {"frozen_at": {"type": "string", "format": "date-time"},
                                                               "offset_seconds": {"type": "number"}}},
                    "Journal": {"type": "object", "properties": {"enabled": {"type": "boolean"},
                                                                 "max_entries": {"type": "integer"},
                                                                 "max_bytes": {"type": "integer"}}},
                    "RateLimits": {"type": "object", "description": '{"imonggo": {"limit": 500, "window_seconds": 10}, '
                                                                    '"memberpoints": {"limit": 100}}; null turns one off'},
                    "Reset": {"type": "object", "properties": {"tenant": {"type": "string"}}},
                    "CardTransaction": {
                        "type": "object", "required": ["card_id", "amount"],
                        "properties": {"card_id": {"type": "string", "description": "crd-..."},
                                       "amount": {"oneOf": [{"type": "string"}, {"type": "number"}]},
                                       "currency": {"type": "string", "default": "ARS"}}},
                    "WebhookUrls": {
                        "type": "object", "description": '{"url": U} for all three events, or any of pending, confirm, cancel',
                        "properties": {name: {"type": "string", "format": "uri"}
                                       for name in ("url", "pending", "confirm", "cancel")}}},
        "responses": {status: {"description": text, "content": _json("Error")} for status, text in (
            ("400", "bad input, named"), ("401", "admin token missing or wrong"), ("404", "no such tenant, member or rule"),
            ("409", "a tenant name or credential is taken"))},
    },
    "security": [{"adminToken": []}],
    "paths": {
        "/health": {"get": {**_op("Liveness and the store kind", errors=()), "security": []}},
        "/openapi/admin.json": {"get": _op("This document", errors=())},
        "/reset": {"post": _op("Reset one tenant to its scenario (body {\"tenant\": NAME}), or, with no tenant, every "
                               "tenant to the startup scenario and the journal, faults, rate counters and clock too",
                               body="Reset", errors=("400", "404"))},
        "/scenarios": {"post": _op("Add every tenant of a scenario document", body="Scenario", ok="201",
                                   errors=("400", "409"))},
        "/tenants": {
            "get": _op("Tenants, their member counts and dialects", errors=()),
            "post": _op("A fresh tenant copied from a scenario with new credentials for every dialect; returns them",
                        body="TenantRequest", ok="201", errors=("400", "409")),
        },
        "/tenants/{name}": {"delete": {**_op("Delete a tenant and all it owns", errors=("404",)),
                                       "parameters": [_p("name", "tenant name")]}},
        "/members": {"get": _op("Members with their identities in every dialect and their balances", params=[
            _q("tenant", "tenant name (default: every tenant)"), _q("q", "text a member's name, e-mail or ids contain"),
            *PAGING], errors=("400", "404"))},
        "/entries": {"get": _op("Ledger entries, oldest first, every status and revision", params=[
            _q("tenant", "tenant name (may be left out when there is one tenant)"),
            _q("member", "1534, usr-..., crd-..., an e-mail, or id:N"), _q("asset", "points, cashback or miles"),
            *PAGING], errors=("400", "404"))},
        "/audit": {"get": _op("Every ledger invariant checked; each violation named", errors=())},
        "/requests": {
            "get": _op("Journal entries, newest first", params=[
                _q("tenant", "tenant name"), _q("dialect", "imonggo, memberpoints or pomelo"),
                _q("path", "prefix, or glob with * ?"), _q("method", "HTTP method"), _q("status", "404 or 4xx"),
                _q("since", "entry id (entries after it) or ISO time (entries at or after it)"), *PAGING]),
            "delete": _op("Empty the journal", errors=()),
        },
        "/journal": {
            "get": _op("Journal settings and usage", errors=()),
            "put": _op("Switch the journal on or off, or change its caps", body="Journal"),
        },
        "/faults": {
            "post": _op("Add a fault rule; returns it with its id", body="FaultRule", ok="201"),
            "get": _op("Fault rules with their match and hit counts", errors=()),
            "delete": _op("Remove every fault rule", errors=()),
        },
        "/faults/{id}": {"delete": {**_op("Remove one fault rule", errors=("404",)), "parameters": [_p("id", "rule id")]}},
        "/clock": {
            "get": _op("The ledger's time", errors=()),
            "put": _op("Freeze ({\"frozen_at\": ISO}) or shift ({\"offset_seconds\": N}) the ledger's time", body="Clock"),
            "delete": _op("Back to real time", errors=()),
        },
        "/pomelo/transactions": {"post": {**_op(
            "Authorize a card purchase: the tenant's campaign rule holds pending rewards (loyalty-pending); returns "
            "its ctx- id", body="CardTransaction", ok="201", errors=("400", "404")), "parameters": [_TENANT]}},
        "/pomelo/transactions/{transaction_id}/presentment": {"post": {**_op(
            "Present the purchase: its pending rewards are credited (loyalty-confirm)", errors=("404", "409")),
            "parameters": [_p("transaction_id", "ctx-..."), _TENANT]}},
        "/pomelo/transactions/{transaction_id}/reversal": {"post": {**_op(
            "Reverse the purchase: its rewards are cancelled, debited back if confirmed (loyalty-cancel)",
            errors=("404", "409")), "parameters": [_p("transaction_id", "ctx-..."), _TENANT]}},
        "/pomelo/webhooks": {
            "get": {**_op("The tenant's webhook URLs", errors=("404",)), "parameters": [_TENANT]},
            "put": {**_op("Set the tenant's webhook URLs", body="WebhookUrls", errors=("400", "404")),
                    "parameters": [_TENANT]},
        },
        "/webhooks/deliveries": {"get": _op("Webhook deliveries with their attempts, statuses and next try", params=[
            _q("tenant", "tenant name (default: every tenant)"), *PAGING], errors=("400", "404"))},
        "/webhooks/deliveries/{delivery_id}/redeliver": {"post": {**_op(
            "Send a delivery again, keeping its idempotency key", errors=("400", "404")),
            "parameters": [_p("delivery_id", "delivery id")]}},
        "/openapi/pomelo.json": {"get": _op("The OpenAPI document of the pomelo dialect", errors=())},
        "/rate-limits": {
            "get": _op("The rate-limit emulation per dialect", errors=()),
            "put": _op("Switch a dialect's rate-limit emulation on, change it, or (null) off", body="RateLimits"),
        },
    },
}

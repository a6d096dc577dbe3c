"""The OpenAPI 3.1 document of the pomelo dialect (served at /__admin/openapi/pomelo.json); its
response schemas are the ones the contract tests validate against."""
from __future__ import annotations

from typing import Any

from .auth import ALL_SCOPES

NUMBER = {"type": "number", "description": "exact decimal (two places at most); whole values are integers"}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_ID = {"type": ["string", "null"]}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


ERRORS = {
    "400": _error_response("invalid request (INVALID_REQUEST, INSUFFICIENT_BALANCE)"),
    "401": _error_response("missing, unknown or expired Bearer token (UNAUTHORIZED)"),
    "403": _error_response("the token's scope lacks the operation (FORBIDDEN)"),
    "404": _error_response("no member with that card_id or user_id (NOT_FOUND)"),
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["error_code", "details"], "additionalProperties": False,
            "properties": {
                "error_code": {"type": "string", "pattern": "^[A-Z_]+$"},
                "details": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["code", "detail"], "additionalProperties": False,
                    "properties": {"code": {"type": "string"}, "detail": {"type": "string"}}}},
            }}},
    },
    "TokenRequest": {
        "type": "object", "required": ["client_id", "client_secret", "audience", "grant_type"],
        "properties": {
            "client_id": {"type": "string"}, "client_secret": {"type": "string"},
            "audience": {"type": "string", "examples": ["https://api.pomelo.la"]},
            "grant_type": {"const": "client_credentials"},
            "scope": {"type": "string", "description": "sandbox extension: narrow the grant to these scopes"},
        },
    },
    "Token": {
        "type": "object", "required": ["access_token", "scope", "expires_in", "token_type"],
        "additionalProperties": False,
        "properties": {
            "access_token": {"type": "string", "minLength": 20}, "scope": {"type": "string"},
            "expires_in": {"type": "integer", "minimum": 0, "maximum": 86400}, "token_type": {"const": "Bearer"},
        },
    },
    "Balance": {
        "type": "object", "additionalProperties": False,
        "required": ["points", "cashback", "miles", "pending_points", "user_id", "card_id", "updated_at"],
        "properties": {
            "points": NUMBER, "cashback": NUMBER, "miles": NUMBER, "pending_points": NUMBER,
            "pending_cashback": NUMBER, "pending_miles": NUMBER,
            "user_id": {"type": "string", "pattern": "^usr-"}, "card_id": NULLABLE_ID, "updated_at": TIME,
        },
    },
    "Adjustment": {
        "type": "object", "required": ["amount", "reason"],
        "properties": {
            "amount": {"type": ["string", "number"], "description": "positive, at most two decimal places"},
            "reason": {"type": "string", "minLength": 1},
            "card_id": {"type": "string"}, "user_id": {"type": "string"},
        },
        "oneOf": [{"required": ["card_id"]}, {"required": ["user_id"]}],
    },
    "AdjustmentResult": {
        "type": "object", "additionalProperties": False,
        "required": ["points", "cashback", "miles", "updatedBalance", "updated_balance", "id", "account_type",
                     "operation", "amount", "reason", "user_id", "card_id", "created_at"],
        "properties": {
            "points": NUMBER, "cashback": NUMBER, "miles": NUMBER, "updatedBalance": NUMBER,
            "updated_balance": NUMBER, "id": {"type": "string", "pattern": "^lye-[0-9A-Za-z]{27}$"},
            "account_type": {"enum": ["points", "cashback", "miles"]}, "operation": {"enum": ["MINT", "BURN"]},
            "amount": NUMBER, "reason": {"type": "string"}, "user_id": {"type": "string"},
            "card_id": NULLABLE_ID, "created_at": TIME,
        },
    },
    "LoyaltyWebhook": {
        "type": "object", "required": ["event_id", "idempotency_key", "event_detail"], "additionalProperties": False,
        "properties": {
            "event_id": {"enum": ["loyalty-pending", "loyalty-confirm", "loyalty-cancel"]},
            "idempotency_key": {"type": "string", "pattern": "^(ctx|lye)-[0-9A-Za-z]{27}(-[a-z]+)?-(pending|confirm|cancel)$"},
            "event_detail": {
                "type": "object", "additionalProperties": False,
                "required": ["loyalty_event_id", "transaction_id", "card_id", "user_id", "account_type", "amount",
                             "status", "transaction_amount", "created_at"],
                "properties": {
                    "loyalty_event_id": {"type": "string", "pattern": "^lye-"},
                    "transaction_id": {"type": "string", "pattern": "^ctx-"},
                    "card_id": {"type": "string"}, "user_id": {"type": "string"},
                    "account_type": {"enum": ["points", "cashback", "miles"]},
                    "amount": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$"},
                    "status": {"enum": ["PENDING", "CONFIRMED", "CANCELLED"]},
                    "transaction_amount": {
                        "type": "object", "required": ["total", "currency"],
                        "properties": {"total": NUMBER, "currency": {"type": "string"}}},
                    "balance": NUMBER, "created_at": TIME,
                },
            },
        },
    },
}


def _json_body(ref: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _ok(ref: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _adjust(operation: str, scope: str, what: str) -> dict[str, Any]:
    return {
        "summary": what, "operationId": f"{operation}Account", "security": [{"oauth": [scope]}],
        "parameters": [
            {"name": "account_type", "in": "path", "required": True,
             "schema": {"enum": ["points", "cashback", "miles"]}},
            {"name": "x-idempotency-key", "in": "header", "required": True, "schema": {"type": "string"},
             "description": "same key and body: the first reply replayed; different body: 422; in flight: 409"},
        ],
        "requestBody": _json_body("Adjustment"),
        "responses": {"200": _ok("AdjustmentResult", "applied (or replayed)"), **ERRORS,
                      "409": _error_response("IDEMPOTENCY_IN_FLIGHT"),
                      "422": _error_response("IDEMPOTENCY_CONFLICT")},
    }


def document() -> dict[str, Any]:
    token_op = {
        "summary": "Client-credentials token (JSON or form body); the same token until it expires",
        "security": [],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}}},
        "responses": {"200": _ok("Token", "a Bearer token"), "400": ERRORS["400"], "401": ERRORS["401"]},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "loyalty-gateway: pomelo dialect", "version": "1",
                 "description": "Pomelo-style /loyalty/v1 over the shared ledger (see shared/specs/pomelo.md)."},
        "paths": {
            "/oauth/token": {"post": {**token_op, "operationId": "issueToken"}},
            "/oauth/v1/token": {"post": {**token_op, "operationId": "issueTokenV1"}},
            "/oauth/token/revoke": {"post": {
                "summary": "Drop the client's cached tokens", "operationId": "revokeToken", "security": [],
                "requestBody": _json_body("TokenRequest"),
                "responses": {"200": {"description": "revoked"}, "401": ERRORS["401"]}}},
            "/loyalty/v1/accounts/balance": {"get": {
                "summary": "Balance of a member, by exactly one of card_id or user_id",
                "operationId": "getBalance", "security": [{"oauth": ["arg:loyalty:get-balance"]}],
                "parameters": [{"name": "card_id", "in": "query", "schema": {"type": "string"}},
                               {"name": "user_id", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _ok("Balance", "the balance"), **ERRORS}}},
            "/loyalty/v1/accounts/{account_type}/mint": {"post": _adjust("mint", "arg:loyalty:mint", "Credit an account")},
            "/loyalty/v1/accounts/{account_type}/burn": {"post": _adjust("burn", "arg:loyalty:burn", "Debit an account")},
        },
        "webhooks": {
            name: {"post": {"summary": f"{name}, signed (X-Signature: hmac-sha256 base64)",
                            "requestBody": _json_body("LoyaltyWebhook"),
                            "responses": {"200": {"description": "any 2XX ends delivery"}}}}
            for name in ("loyalty-pending", "loyalty-confirm", "loyalty-cancel")
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"oauth": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "/oauth/token", "scopes": {s: s for s in ALL_SCOPES}}}}},
        },
    }

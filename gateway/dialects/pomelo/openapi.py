"""The OpenAPI 3.1 document of the pomelo dialect, the one source of its contract: served as
/__admin/contracts/pomelo.openapi.json (and shipped as documents/pomelo.openapi.json), incoming requests are
checked against it (a 400 INVALID_REQUEST otherwise), and answers are held to its response schemas."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..documents import openapi_documents
from ..request_schema import Problem
from .auth import ALL_SCOPES
from .errors import render_error

NUMBER = {"type": "number", "description": "exact decimal (two places at most); whole values are integers"}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_ID = {"type": ["string", "null"]}
ID = {"type": "string", "minLength": 1}
DEMO_CARD, DEMO_USER = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4", "usr-2ay34WhGUtCeoewakpeJTRuVWlx"  # the demo scenario's first member
# a positive amount below 10^12 with at most two places, as a string or a whole number (money.parse_amount)
POSITIVE_AMOUNT = {"oneOf": [
    {"type": "string", "pattern": "^([1-9][0-9]{0,11}(\\.[0-9]{1,2})?|0\\.([1-9][0-9]?|0[1-9]))$"},
    {"type": "integer", "minimum": 1, "maximum": 999_999_999_999}],
    "description": "positive, at most two decimal places",
    "x-problem": "must be a positive decimal number below 10^12 with at most two decimal places"}
# space-separated loyalty scopes, each known (auth._scopes)
SCOPES = {"type": "string", "pattern": f"^ *(({'|'.join(ALL_SCOPES)})( +|$))*$",
          "description": "sandbox extension: narrow the grant to these scopes"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


ERRORS = {
    "400": _error_response("invalid request (INVALID_REQUEST, INSUFFICIENT_BALANCE)"),
    "401": _error_response("missing, unknown or expired Bearer token (UNAUTHORIZED)"),
    "403": _error_response("the token's scope lacks the operation (FORBIDDEN)"),
    "404": _error_response("no member with that card_id or user_id (NOT_FOUND)"),
    "413": _error_response("the body is larger than max_body_bytes (PAYLOAD_TOO_LARGE)"),
    "429": _error_response("the sandbox's rate-limit emulation, when switched on (TOO_MANY_REQUESTS)"),
    "503": _error_response("the store cannot be reached (SERVICE_UNAVAILABLE)"),
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
            "client_id": ID, "client_secret": ID,
            "audience": {"type": "string", "minLength": 1, "examples": ["https://api.pomelo.la"]},
            "grant_type": {"const": "client_credentials"}, "scope": SCOPES,
        },
        "examples": [{"client_id": "demo-client-id", "client_secret": "demo-client-secret",  # the demo tenant's
                      "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}],
    },
    "RevokeRequest": {
        "type": "object", "required": ["client_id", "client_secret"],
        "properties": {"client_id": ID, "client_secret": ID},
    },
    "Revoked": {
        "type": "object", "required": ["revoked"], "additionalProperties": False,
        "properties": {"revoked": {"type": "integer", "minimum": 0, "description": "how many tokens were dropped"}},
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
            "amount": POSITIVE_AMOUNT,
            "reason": {"type": "string", "pattern": "\\S", "description": "not blank", "x-problem": "is required"},
            "card_id": ID, "user_id": ID,
        },
        "oneOf": [{"required": ["card_id"]}, {"required": ["user_id"]}],
        "x-problem": {"oneOf": "must name exactly one of card_id or user_id"},
        "examples": [{"amount": "10.50", "reason": "goodwill credit", "card_id": DEMO_CARD},
                     {"amount": 5, "reason": "correction", "user_id": DEMO_USER}],
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


# The handlers read a body of a content type the operation does not list as JSON (curl -d labels JSON a form,
# some clients text/plain): request_schema reads it so too (x-read-other-media-as), and the operation says so.
OTHER_AS_JSON = {"x-read-other-media-as": "application/json"}
SNIFFED = " A body of any other content type (text/plain, or curl -d's form type) is read as JSON."


def _sniffed_json_body(ref: str) -> dict[str, Any]:
    return {**_json_body(ref), **OTHER_AS_JSON}


def _form_or_json_body(ref: str) -> dict[str, Any]:
    schema = {"schema": {"$ref": f"#/components/schemas/{ref}"}}
    return {"required": True, "content": {"application/json": schema, "application/x-www-form-urlencoded": schema},
            **OTHER_AS_JSON}


def _ok(ref: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _adjust(operation: str, scope: str, what: str) -> dict[str, Any]:
    return {
        "summary": what, "operationId": f"{operation}Account", "security": [{"oauth": [scope]}],
        "description": "The body is JSON." + SNIFFED,
        "parameters": [
            {"name": "account_type", "in": "path", "required": True,
             "schema": {"enum": ["points", "cashback", "miles"]}},
            {"name": "x-idempotency-key", "in": "header", "required": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^([ -~]*[!-~][ -~]*)?$",
                        "x-problem": {"minLength": "is required", "maxLength": "is longer than 255 characters",
                                      "pattern": "must be printable ASCII"}},
             "description": "1 to 255 printable characters; same key and body: the first reply replayed; different "
                            "body: 422; in flight: 409"},
        ],
        "requestBody": _sniffed_json_body("Adjustment"),
        "responses": {"200": _ok("AdjustmentResult", "applied (or replayed)"), **ERRORS,
                      "409": _error_response("IDEMPOTENCY_IN_FLIGHT"),
                      "422": _error_response("IDEMPOTENCY_CONFLICT")},
    }


# The token authorizes the loyalty operations: schemathesis's stateful phase calls them with it.
TOKEN_LINKS = {
    f"{operation}WithToken": {"operationId": operation, "description": f"{operation} with the token just issued",
                              "parameters": {"header.Authorization": "Bearer {$response.body#/access_token}"}}
    for operation in ("getBalance", "mintAccount", "burnAccount")}


def document() -> dict[str, Any]:
    refusals = {status: ERRORS[status] for status in ("400", "401", "413", "429", "503")}
    token_op = {
        "summary": "Client-credentials token (JSON or form body); the same token until it expires",
        "description": "The body is JSON or a form (application/x-www-form-urlencoded)." + SNIFFED.replace(
            " or curl -d's form type", ""),
        "security": [], "requestBody": _form_or_json_body("TokenRequest"),
        "responses": {"200": {**_ok("Token", "a Bearer token"), "links": TOKEN_LINKS}, **refusals},
    }
    revoke_op = {
        "summary": "Revoke every token the client holds, on every instance (JSON or form body; audience and grant_type may be sent too)",
        "description": token_op["description"],
        "security": [], "requestBody": _form_or_json_body("RevokeRequest"),
        "responses": {"200": _ok("Revoked", "revoked"), **refusals},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "loyalty-gateway: pomelo dialect", "version": "1",
                 "description": "Pomelo-style /loyalty/v1 over the shared ledger (see shared/specs/pomelo.md)."},
        "servers": [{"url": "/", "description": "the dialect answers at the server's root"}],
        "paths": {
            "/oauth/token": {"post": {**token_op, "operationId": "issueToken"}},
            "/oauth/v1/token": {"post": {**token_op, "operationId": "issueTokenV1"}},
            "/oauth/token/revoke": {"post": {**revoke_op, "operationId": "revokeToken"}},
            "/oauth/v1/token/revoke": {"post": {**revoke_op, "operationId": "revokeTokenV1"}},
            "/loyalty/v1/accounts/balance": {"get": {
                "summary": "Balance of a member, by exactly one of card_id or user_id (both or neither: 400)",
                "operationId": "getBalance", "security": [{"oauth": ["arg:loyalty:get-balance"]}],
                "parameters": [{"name": "card_id", "in": "query", "schema": ID, "example": DEMO_CARD},
                               {"name": "user_id", "in": "query", "schema": ID, "example": DEMO_USER}],
                "responses": {"200": _ok("Balance", "the balance"),
                              **{k: v for k, v in ERRORS.items() if k != "413"}}}},
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


def _detail(problem: Problem) -> str:
    """A problem in the handlers' words: "amount must be ...", "the x-idempotency-key header is required"."""
    if problem.location == "header":
        subject = f"the {problem.name} header"
    elif problem.location == "body":
        if not problem.name and problem.message.startswith("request body "):
            return problem.message  # the reader's own words: "request body is not valid JSON: ..."
        subject = problem.name.lstrip("/").replace("/", ".") or "the request body"
    else:
        subject = problem.name
    phrase = problem.message.startswith(("must ", "is ", "should "))
    return f"{subject} {problem.message}" if phrase else f"{subject}: {problem.message}"


def _refused(request: web.Request, problems: list[Problem]) -> web.StreamResponse:
    return render_error(request, 400, "; ".join(map(_detail, problems)), "INVALID_REQUEST")


DOCUMENTS = openapi_documents("pomelo.openapi.json", "pomelo dialect: /oauth tokens and /loyalty/v1 (OpenAPI 3.1)",
                              document, _refused)

"""The console's part of the admin API's OpenAPI document: its HTML pages and static files (no data; with an
admin_token they are served without it, without one to local callers only, as every admin path), and the
tenant credentials its Tenants page shows (GET /tenants/{name}/credentials)."""
from __future__ import annotations

from typing import Any

from .openapi_kit import MAYBE_STR, STR, _obj, _op, _p

_FORBIDDEN = {"$ref": "#/components/responses/Forbidden"}


def _get(summary: str, ok_types: tuple[str, ...], missing_type: str | None, params: list[dict[str, Any]]) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "the page or file",
                                         "content": {kind: {"schema": STR} for kind in ok_types}},
                                 "403": _FORBIDDEN}
    if missing_type is not None:
        responses["404"] = {"description": "no such page or file", "content": {missing_type: {"schema": STR}}}
    operation: dict[str, Any] = {"get": {"summary": summary, "security": [], "responses": responses}}
    if params:
        operation["parameters"] = params
    return operation


CONSOLE_PATHS: dict[str, Any] = {
    "/console": _get("The web console's first page (HTML; its scripts call this API)", ("text/html",), None, []),
    "/console/": _get("The web console's first page, as /console", ("text/html",), None, []),
    "/console/{page}": _get("A page of the web console (HTML; its scripts call this API)", ("text/html",),
                            "text/html", [_p("page", "the page's name (overview, tenants ...)")]),
    "/console/static/{name}": _get("The console's scripts and styles", (
        "text/javascript", "text/css", "image/png", "image/svg+xml"), "text/plain", [_p("name", "file name")]),
}


def _stored(schema: Any) -> Any:
    """A dialect's credentials schema (as a fresh tenant's answer has them) without passwords: the store keeps a
    login's password only as a hash, so the stored credentials never show one."""
    if isinstance(schema, dict):
        out = {k: _stored(v) for k, v in schema.items() if k != "properties"}
        if "properties" in schema:
            out["properties"] = {k: _stored(v) for k, v in schema["properties"].items() if k != "password"}
        if "required" in schema:
            out["required"] = [name for name in schema["required"] if name != "password"]
        return out
    if isinstance(schema, list):
        return [_stored(item) for item in schema]
    return schema


def credentials_schemas(parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """TenantCredentials: each dialect the tenant has, its stored credentials and a ready curl command."""
    per_dialect = {name: {**_obj("credentials curl", credentials=_stored(part["credentials"]), curl={
        **MAYBE_STR, "description": "a ready curl command (or a short shell snippet) calling this server with "
                                    "these credentials, about one of the tenant's members when it has one"}),
                          "description": f"the tenant's {name} credentials"}
                   for name, part in parts.items() if "credentials" in part}
    return {"TenantCredentials": _obj("name dialects", name=STR, dialects=_obj(**per_dialect))}


CREDENTIALS_PATHS: dict[str, Any] = {
    "/tenants/{name}/credentials": {"get": {**_op(
        "A tenant's credentials in every dialect it has, as stored (a login's password is kept only as a hash and "
        "never shown), each with a ready curl command aimed at this server", "TenantCredentials", errors=(404,)),
        "parameters": [_p("name", "tenant name")]}},
}

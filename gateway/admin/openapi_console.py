"""The console's part of the admin API's OpenAPI document: its HTML pages and static files (no data; with an
admin_token they are served without it, without one to local callers only, as every admin path)."""
from __future__ import annotations

from typing import Any

from .openapi_kit import STR, _p

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
    "/console/{page}": _get("A page of the web console (HTML; its scripts call this API)", ("text/html",),
                            "text/html", [_p("page", "the page's name (overview, tenants ...)")]),
    "/console/static/{name}": _get("The console's scripts and styles", (
        "text/javascript", "text/css", "image/png", "image/svg+xml"), "text/plain", [_p("name", "file name")]),
}

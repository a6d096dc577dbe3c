"""Who may use /__admin: anyone on a loopback-only server without an admin_token; otherwise only a
caller presenting `Authorization: Bearer <admin_token>`. Dialect credentials never count."""
from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web

from ..dialects.common import Handler
from ..keys import SETTINGS
from .wire import render_error

OPEN_PATHS = frozenset({"/__admin/health"})  # a readiness probe tells nothing about the sandbox's state


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


@web.middleware
async def admin_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.config_dict[SETTINGS].admin_token
    if not token or request.path in OPEN_PATHS:
        return await handler(request)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        response = render_error(request, 401, "the admin API needs Authorization: Bearer <admin_token>", None)
        response.headers["WWW-Authenticate"] = 'Bearer realm="loyalty-gateway admin"'
        return response
    return await handler(request)

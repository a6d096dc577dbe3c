"""Who may use /__admin: on a loopback-only server without an admin_token, local callers (not a web page:
a request whose Host or Origin names anything but loopback is refused, against CSRF and DNS rebinding);
otherwise only a caller presenting `Authorization: Bearer <admin_token>`. Dialect credentials never count.
With an admin_token the console's shell (its HTML and static files, which carry no data) is served to anyone:
its pages then ask for the token and send it with every admin call they make."""
from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web
from yarl import URL

from ..dialects.common import Handler
from ..keys import SETTINGS
from .wire import render_error

OPEN_PATHS = frozenset({"/__admin/health"})  # a readiness probe tells nothing about the sandbox's state
CONSOLE = "/__admin/console"


def is_console_shell(path: str) -> bool:
    return path == CONSOLE or path.startswith(CONSOLE + "/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def _local_caller(request: web.Request) -> bool:
    """Host is a loopback name and any Origin is too: curl and test clients, not a browser page."""
    try:
        host = URL(f"http://{request.host}").host or ""
        origin = request.headers.get("Origin")
        origin_host = None if origin is None else (URL(origin).host or "")
    except ValueError:
        return False
    return is_loopback(host) and (origin_host is None or is_loopback(origin_host))


@web.middleware
async def admin_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.config_dict[SETTINGS].admin_token
    if request.path in OPEN_PATHS:
        return await handler(request)
    if not token:
        if not _local_caller(request):
            return render_error(request, 403, "without an admin_token the admin API answers local callers only", None)
        return await handler(request)
    if is_console_shell(request.path):
        return await handler(request)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        response = render_error(request, 401, "the admin API needs Authorization: Bearer <admin_token>", None)
        response.headers["WWW-Authenticate"] = 'Bearer realm="loyalty-gateway admin"'
        return response
    return await handler(request)

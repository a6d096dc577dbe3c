"""HTTP Basic auth as Imonggo does it: the tenant's API token is the user name, the password is
ignored. Anything else gets Rails' 401, on every route under /api, known or not (the pipeline asks
before it runs the route's handler, or its 404)."""
from __future__ import annotations

import base64
import binascii

from aiohttp import web

from ...ledger import Ledger, Tenant

SCHEME = "imonggo"
LOGIN = "imonggo-login"  # a user's e-mail, the Token API's way in (see gateway/scenario.py)
TOKENS_ROUTE = "imonggo-tokens"  # the Token API: the one route without Basic auth (the query is the login)
DENIED = "HTTP Basic: Access denied."


def token_of(header: str | None) -> str | None:
    """The user name of an `Authorization: Basic ...` header, or None if it is not one."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, _password = decoded.partition(":")
    return user or None


def denied() -> web.Response:
    return web.Response(
        status=401, text=DENIED, content_type="text/plain", charset="utf-8",
        headers={"WWW-Authenticate": 'Basic realm="Application"'},
    )


async def authenticate(request: web.Request, ledger: Ledger) -> Tenant | web.StreamResponse | None:
    """The tenant whose API token is the Basic user name; the Token API needs none (its query is the login)."""
    if request.match_info.route.name == TOKENS_ROUTE:
        return None
    token = token_of(request.headers.get("Authorization"))
    tenant = None if token is None else await ledger.authenticate(scheme=SCHEME, principal=token)
    return denied() if tenant is None else tenant

"""OAuth client credentials for the pomelo dialect: the token and revoke endpoints, and the Bearer/scope
check on every loyalty route. Tokens are the ledger's access grants, kept in the store as a hash: every
instance accepts them until they expire (on the ledger clock) or are revoked, and they go with their
tenant. As Pomelo documents, a repeat request gets the same token until it expires."""
from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ...keys import LEDGER
from ...ledger import Credential, InvalidArgument, Ledger, Tenant
from ..common import read_json_object, remember
from .errors import PomeloRefusal, refusal
from .wire import dumps

SCHEME = "pomelo"
SCOPE_BALANCE = "arg:loyalty:get-balance"
SCOPE_MINT = "arg:loyalty:mint"
SCOPE_BURN = "arg:loyalty:burn"
ALL_SCOPES = (SCOPE_BALANCE, SCOPE_MINT, SCOPE_BURN)
LIFETIME = timedelta(seconds=86400)
AUDIENCE = "https://api.pomelo.la"
OAUTH = "/oauth"  # the token endpoints' prefix
LOYALTY = "/loyalty/v1"  # the Bearer-protected API's prefix


async def _form_or_json(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/x-www-form-urlencoded":
        raw = await request.read()
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    body = await read_json_object(request, what="the token request")
    return body


async def _client(request: web.Request) -> tuple[Credential, dict[str, Any]]:
    """The client credential the request presents, once it is known (401 otherwise)."""
    body = await _form_or_json(request)
    for name in ("client_id", "client_secret"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise InvalidArgument(f"{name} is required")
    tenant = await request.config_dict[LEDGER].authenticate(
        scheme=SCHEME, principal=body["client_id"], secret=body["client_secret"]
    )
    if tenant is None:
        raise PomeloRefusal(401, "invalid client_id or client_secret")
    remember(request, tenant)
    return Credential(SCHEME, body["client_id"], body["client_secret"]), body


def _scopes(body: dict[str, Any]) -> tuple[str, ...]:
    """The grant's scopes: all loyalty scopes, or the subset a `scope` field asks for (so tests can
    hold a token lacking one)."""
    wanted = body.get("scope")
    if wanted is None:
        return ALL_SCOPES
    if not isinstance(wanted, str):
        raise InvalidArgument("scope must be a space-separated string")
    asked = tuple(dict.fromkeys(wanted.split()))
    unknown = [s for s in asked if s not in ALL_SCOPES]
    if unknown:
        raise InvalidArgument(f"unknown scope {unknown[0]}; known: {' '.join(ALL_SCOPES)}")
    return asked


async def issue_token(request: web.Request) -> web.Response:
    credential, body = await _client(request)
    if body.get("grant_type") != "client_credentials":
        raise InvalidArgument("grant_type must be client_credentials")
    if not isinstance(body.get("audience"), str) or not body["audience"]:
        raise InvalidArgument("audience is required")
    ledger = request.config_dict[LEDGER]
    grant = await ledger.grant_access(credential=credential, scopes=_scopes(body), lifetime=LIFETIME)
    if grant is None:  # the tenant went (through another instance) since this one last looked
        raise PomeloRefusal(401, "invalid client_id or client_secret")
    remaining = math.ceil((grant.expires_at - ledger.clock.now()).total_seconds())  # a fresh grant: 86400
    reply = {"access_token": grant.token, "scope": " ".join(grant.scopes), "expires_in": max(remaining, 1),
             "token_type": "Bearer"}
    return web.Response(body=dumps(reply), content_type="application/json")


async def revoke_token(request: web.Request) -> web.Response:
    credential, _ = await _client(request)
    revoked = await request.config_dict[LEDGER].revoke_access(credential=credential)
    if revoked is None:
        raise PomeloRefusal(401, "invalid client_id or client_secret")
    return web.Response(body=dumps({"revoked": revoked}), content_type="application/json")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SCOPE_OF = "pomelo.scope"  # route handlers name the scope they need with @needs(...)


def needs(scope: str) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, SCOPE_OF, scope)
        return handler

    return mark


async def authenticate(request: web.Request, ledger: Ledger) -> Tenant | web.StreamResponse | None:
    """The tenant of a live Bearer token (401 without one, 403 when its scope lacks what the route needs);
    the token endpoints take client credentials in their body instead, and find the tenant themselves."""
    path = request.path
    if path != LOYALTY and not path.startswith(LOYALTY + "/"):
        return None
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    found = None
    if scheme.lower() == "bearer" and value.strip():
        found = await ledger.check_access(token=value.strip())
    if found is None:
        return refusal(request, 401, "a valid Bearer access token is required")
    tenant, grant = found
    wanted = getattr(request.match_info.handler, SCOPE_OF, None)
    if wanted is not None and wanted not in grant.scopes:
        return refusal(request, 403, f"the token's scope does not include {wanted}")
    return tenant

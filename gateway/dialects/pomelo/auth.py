"""OAuth client credentials for the pomelo dialect: tokens issued per (tenant, client, scope), the same
token until it expires (on the ledger clock), revocation, and the Bearer/scope check on every loyalty
route. Tokens live in this process's memory: a restart or another instance does not know them."""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ...keys import LEDGER
from ...ledger import InvalidArgument, Tenant
from ..common import read_json_object, remember
from .errors import PomeloRefusal
from .wire import dumps

SCOPE_BALANCE = "arg:loyalty:get-balance"
SCOPE_MINT = "arg:loyalty:mint"
SCOPE_BURN = "arg:loyalty:burn"
ALL_SCOPES = (SCOPE_BALANCE, SCOPE_MINT, SCOPE_BURN)
LIFETIME = timedelta(seconds=86400)
AUDIENCE = "https://api.pomelo.la"


@dataclass(frozen=True)
class Token:
    value: str
    tenant_id: int
    tenant_name: str
    tenant_created_at: datetime
    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime


class TokenBook:
    """Issued tokens, by value and by (tenant, client, scope) so a repeat request gets the same one."""

    def __init__(self) -> None:
        self._by_value: dict[str, Token] = {}
        self._by_grant: dict[tuple[int, str, tuple[str, ...]], Token] = {}

    def issue(self, tenant: Tenant, client_id: str, scopes: tuple[str, ...], now: datetime) -> Token:
        grant = (tenant.id, client_id, scopes)
        current = self._by_grant.get(grant)
        if current is not None and current.expires_at > now:
            return current
        token = Token(
            secrets.token_urlsafe(32), tenant.id, tenant.name, tenant.created_at, client_id, scopes, now + LIFETIME
        )
        self._by_grant[grant] = token
        self._by_value[token.value] = token
        if current is not None:
            self._by_value.pop(current.value, None)
        return token

    def revoke(self, tenant: Tenant, client_id: str) -> int:
        gone = [g for g in self._by_grant if g[0] == tenant.id and g[1] == client_id]
        for grant in gone:
            self._by_value.pop(self._by_grant.pop(grant).value, None)
        return len(gone)

    def find(self, value: str, now: datetime) -> Token | None:
        token = self._by_value.get(value)
        return token if token is not None and token.expires_at > now else None


TOKENS = web.AppKey("pomelo.tokens", TokenBook)


async def _form_or_json(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/x-www-form-urlencoded":
        raw = await request.read()
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    body = await read_json_object(request, what="the token request")
    return body


async def _client(request: web.Request) -> tuple[Tenant, dict[str, Any]]:
    remember(request, dialect="pomelo")
    body = await _form_or_json(request)
    for name in ("client_id", "client_secret"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise InvalidArgument(f"{name} is required")
    tenant = await request.config_dict[LEDGER].authenticate(
        scheme="pomelo", principal=body["client_id"], secret=body["client_secret"]
    )
    if tenant is None:
        raise PomeloRefusal(401, "invalid client_id or client_secret")
    remember(request, dialect="pomelo", tenant=tenant)
    return tenant, body


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
    tenant, body = await _client(request)
    if body.get("grant_type") != "client_credentials":
        raise InvalidArgument("grant_type must be client_credentials")
    if not isinstance(body.get("audience"), str) or not body["audience"]:
        raise InvalidArgument("audience is required")
    ledger = request.config_dict[LEDGER]
    now = ledger.clock.now()
    token = request.config_dict[TOKENS].issue(tenant, body["client_id"], _scopes(body), now)
    remaining = int((token.expires_at - now).total_seconds())
    reply = {"access_token": token.value, "scope": " ".join(token.scopes), "expires_in": remaining,
             "token_type": "Bearer"}
    return web.Response(body=dumps(reply), content_type="application/json")


async def revoke_token(request: web.Request) -> web.Response:
    tenant, body = await _client(request)
    revoked = request.config_dict[TOKENS].revoke(tenant, body["client_id"])
    return web.Response(body=dumps({"revoked": revoked}), content_type="application/json")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SCOPE_OF = "pomelo.scope"  # route handlers name the scope they need with @needs(...)


def needs(scope: str) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, SCOPE_OF, scope)
        return handler

    return mark


def _issued_to(token: Token, tenant: Tenant) -> bool:
    """The very tenant the token was issued to: a tenant deleted and another created under the same id
    (or name) is a different client, and a client whose credential is gone holds no token."""
    credential = tenant.credential("pomelo")
    return (
        tenant.id == token.tenant_id and tenant.name == token.tenant_name
        and tenant.created_at == token.tenant_created_at
        and credential is not None and credential.principal == token.client_id
    )


@web.middleware
async def bearer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """401 without a live Bearer token, 403 when its scope lacks what the route needs."""
    remember(request, dialect="pomelo")
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    ledger = request.config_dict[LEDGER]
    token = request.config_dict[TOKENS].find(value.strip(), ledger.clock.now()) if scheme.lower() == "bearer" else None
    if token is None:
        raise PomeloRefusal(401, "a valid Bearer access token is required")
    tenant = next((t for t in await ledger.tenants() if _issued_to(token, t)), None)
    if tenant is None:
        raise PomeloRefusal(401, "the token's client no longer exists")
    remember(request, dialect="pomelo", tenant=tenant)
    wanted = getattr(getattr(request.match_info, "handler", None), SCOPE_OF, None)
    if wanted is not None and wanted not in token.scopes:
        raise PomeloRefusal(403, f"the token's scope does not include {wanted}")
    return await handler(request)

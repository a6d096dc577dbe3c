"""The Token API: `GET /api/tokens.xml?email=&password=` needs no Basic auth and answers the user's API
token; a wrong login is 404 Not Found, as documented. The e-mail finds the tenant (a login credential),
the password is checked against the salted hash in its configuration, off the event loop."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ...keys import LEDGER
from ...ledger import InvalidArgument, Tenant, UnknownTenant, check_password
from ..common import remember
from . import catalogue, wire
from .auth import LOGIN, SCHEME, TOKENS_ROUTE
from .catalogue_views import api_token

ROUTE = TOKENS_ROUTE


def _user(tenant: Tenant | None, email: str) -> Mapping[str, Any] | None:
    if tenant is None:
        return None
    return next((u for u in catalogue.records(tenant, "users") if str(u.get("email", "")).lower() == email), None)


async def show(request: web.Request) -> web.StreamResponse:
    email = request.query.get("email", "").strip().lower()
    password = request.query.get("password", "")
    if not email:
        raise InvalidArgument("Email can't be blank")
    if not password:
        raise InvalidArgument("Password can't be blank")
    tenant = await request.config_dict[LEDGER].authenticate(scheme=LOGIN, principal=email)
    user = _user(tenant, email)
    # The hash is checked even for an unknown e-mail (against a dummy), so both misses take as long.
    matches = await asyncio.to_thread(check_password, password, user.get("password_hash") if user else None)
    token = tenant.credential(SCHEME) if tenant is not None else None
    if not matches or tenant is None or token is None:
        raise UnknownTenant("no user with this e-mail and password")
    remember(request, dialect=SCHEME, tenant=tenant)
    return wire.one(request, "hash", api_token(token.principal))

"""The Token API: `GET /api/tokens.xml?email=&password=` needs no Basic auth and answers the user's API
token; a wrong login is 404 Not Found, as documented. The ledger's login finds the tenant by the e-mail
and checks the password against the salted hash in its configuration."""
from __future__ import annotations

from aiohttp import web

from ...keys import LEDGER
from ...ledger import InvalidArgument, UnknownTenant
from ..common import remember
from . import catalogue, params, wire
from .auth import LOGIN, SCHEME, TOKENS_ROUTE
from .catalogue_views import api_token

ROUTE = TOKENS_ROUTE


async def show(request: web.Request) -> web.StreamResponse:
    email = request.query.get("email", "").strip().lower()
    password = request.query.get("password", "")
    if not email:
        raise InvalidArgument(params.blank("Email"))
    if not password:
        raise InvalidArgument(params.blank("Password"))
    found = await request.config_dict[LEDGER].login(
        scheme=LOGIN, principal=email, password=password, section=catalogue.SECTION, answer=SCHEME)
    if found is None:
        raise UnknownTenant("no user with this e-mail and password")
    tenant, token = found
    remember(request, tenant)
    return wire.one(request, "hash", api_token(token.principal))

"""apiID/apiKey header authentication: the pair selects the tenant (header names are case-insensitive,
as HTTP headers are). Missing or wrong: 401 in the error envelope, on every route."""
from __future__ import annotations

from aiohttp import web

from ...keys import LEDGER
from ...ledger import Tenant
from ..common import Handler, remember
from .errors import render_error

DIALECT = "memberpoints"


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    remember(request, dialect=DIALECT)
    api_id = request.headers.get("apiID", "").strip()
    api_key = request.headers.get("apiKey", "").strip()
    if not api_id or not api_key:
        return render_error(request, 401, "Missing apiID or apiKey header")
    tenant = await request.config_dict[LEDGER].authenticate(scheme=DIALECT, principal=api_id, secret=api_key)
    if tenant is None:
        return render_error(request, 401, "Invalid apiID/apiKey")
    remember(request, dialect=DIALECT, tenant=tenant)
    return await handler(request)



def cid_of(tenant: Tenant) -> int | None:
    """The tenant's website id; configured per tenant (section "memberpoints", key "cid")."""
    cid = tenant.section(DIALECT).get("cid")
    return cid if isinstance(cid, int) and not isinstance(cid, bool) else None

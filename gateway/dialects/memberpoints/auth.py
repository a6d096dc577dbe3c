"""apiID/apiKey header authentication: the pair selects the tenant (header names are case-insensitive,
as HTTP headers are). Missing or wrong: 401 in the error envelope, on every route."""
from __future__ import annotations

from aiohttp import web

from ...ledger import Ledger, Tenant
from ..descriptor import address_key
from .errors import render_error

DIALECT = "memberpoints"


async def authenticate(request: web.Request, ledger: Ledger) -> Tenant | web.StreamResponse:
    api_id = request.headers.get("apiID", "").strip()
    api_key = request.headers.get("apiKey", "").strip()
    if not api_id or not api_key:
        return render_error(request, 401, "Missing apiID or apiKey header")
    tenant = await ledger.authenticate(scheme=DIALECT, principal=api_id, secret=api_key)
    if tenant is None:
        return render_error(request, 401, "Invalid apiID/apiKey")
    return tenant


def rate_key(request: web.Request) -> str:
    """Whom memberpoints counts a request against when its credentials name no tenant: the apiID sent."""
    api_id = request.headers.get("apiID")
    return "id:" + api_id if api_id else address_key(request)


def cid_of(tenant: Tenant) -> int | None:
    """The tenant's website id; configured per tenant (section "memberpoints", key "cid")."""
    cid = tenant.section(DIALECT).get("cid")
    return cid if isinstance(cid, int) and not isinstance(cid, bool) else None

"""GET /__admin/tenants/{name}/credentials: a tenant's credentials in every dialect it has, as the store keeps
them (a login's password is kept only as a hash and is never shown), each with a ready curl command from
the dialect's descriptor aimed at this server and one of the tenant's members. Names no vendor."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..keys import DIALECTS, LEDGER


async def show_credentials(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    tenant = await ledger.tenant(request.match_info["name"])
    first = (await ledger.members(tenant=tenant, offset=0, limit=1)).items
    member = first[0] if first else None
    base_url = f"{request.scheme}://{request.host}"
    dialects: dict[str, Any] = {}
    for dialect in request.config_dict[DIALECTS]:
        read = dialect.admin.stored_credentials
        found = None if read is None else read(tenant)
        if found is None:
            continue
        curl = dialect.admin.curl_example
        dialects[dialect.name] = {"credentials": dict(found),
                                  "curl": None if curl is None else curl(found, base_url, member)}
    return web.json_response({"name": tenant.name, "dialects": dialects})

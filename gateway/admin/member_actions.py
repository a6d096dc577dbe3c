"""GET /__admin/members/actions: the requests a client of each dialect makes to credit, debit or reward one
member, ready to send with the tenant's credentials (the console's member page sends them as they are, so
its buttons change nothing a client could not). A read: nothing is sent from here."""
from __future__ import annotations

from aiohttp import web

from ..keys import DIALECTS, LEDGER
from ..ledger import InvalidArgument
from .state import member_ref, one_tenant


async def member_actions(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    tenant = await one_tenant(ledger, request.query.get("tenant"))
    named = request.query.get("member", "").strip()
    if not named:
        raise InvalidArgument("name the member: ?member=1534, usr-..., crd-..., an e-mail or id:N")
    member = await ledger.find_member(tenant=tenant, member=member_ref(named), include_deleted=False)
    actions = [
        {"dialect": dialect.name, "kind": a.kind, "label": a.label, "amount_label": a.amount_label,
         "method": a.method, "path": a.path, "headers": dict(a.headers), "body": a.body, "admin": a.admin}
        for dialect in request.config_dict[DIALECTS] if dialect.admin.member_actions is not None
        for a in dialect.admin.member_actions(tenant, member)
    ]
    return web.json_response({"tenant": tenant.name, "member_id": member.id, "actions": actions})

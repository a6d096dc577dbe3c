"""The three memberpoints handlers: parse the request, one ledger call, render."""
from __future__ import annotations

from aiohttp import web

from ...keys import LEDGER
from ..common import tenant_of
from .auth import DIALECT, cid_of
from .body import adjust_command, read_document
from .errors import RequestError
from .filters import history_request
from .paging import page_request, whole
from .wire import balance_row, history_row, listing, single


async def history(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    command = history_request(request.query)
    limit = 1 if command.record_id is not None else command.page.size
    offset = 0 if command.record_id is not None else command.page.offset
    page = await request.config_dict[LEDGER].history(tenant=tenant, query=command.query, offset=offset, limit=limit)
    rows = [history_row(entry, cid_of(tenant)) for entry in page.items]
    if command.record_id is None:
        return listing("memberpoints", rows, command.page.offset, command.page.size)
    if not rows:
        raise RequestError(404, f"No member points adjustment with id {command.record_id}")
    return single("memberpoints", rows[0])


async def adjust(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    command = adjust_command(await read_document(request))
    movement = await request.config_dict[LEDGER].adjust(
        tenant=tenant, member=command.member, amount=command.amount, note=command.note,
        occurred_at=command.occurred_at, revises=command.revises, origin=DIALECT,
    )
    return single("memberpoints", history_row(movement.entry, cid_of(tenant)))


async def balances(request: web.Request) -> web.Response:
    page = page_request(request.query)
    member_no = whole(request.query, "mbr_id", minimum=1)
    found = await request.config_dict[LEDGER].balances(
        tenant=tenant_of(request), member_no=member_no, offset=page.offset, limit=page.size
    )
    return listing("memberpointsbalances", [balance_row(r) for r in found.items], page.offset, page.size)

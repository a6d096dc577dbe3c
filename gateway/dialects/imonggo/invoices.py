"""Invoice handlers: list, show, create (earns points for a member of an earning customer type, in the
invoice's own transaction) and void (reverses them). Parse, one ledger call, render."""
from __future__ import annotations

from aiohttp import web

from ...keys import LEDGER
from ...ledger import By, Identity
from ..common import tenant_of
from . import catalogue, invoice_in, params, present, views, wire
from .body import read_fields

ORIGIN = "imonggo"


async def index(request: web.Request) -> web.Response:
    """GET /api/invoices.xml?page&per_page&reference&after&before&q=count (50 a page)."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    q = params.listing(request, per_page=50)
    if q.count:
        return wire.one(request, "hash", views.count(await ledger.count_orders(tenant=tenant)))
    page = await ledger.orders(
        tenant=tenant, offset=q.offset, limit=q.limit, reference=params.text(request, "reference"),
        after=q.after, before=q.before,
    )
    return wire.many(request, "invoices", "invoice", await present.invoices(ledger, tenant, page.items))


async def show(request: web.Request) -> web.Response:
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    order = await ledger.order(tenant=tenant, order=params.record_id(request))
    return wire.one(request, "invoice", (await present.invoices(ledger, tenant, [order]))[0])


async def create(request: web.Request) -> web.Response:
    """POST /api/invoices.xml with an <invoice>: 201 and the invoice; a taken reference is a 422."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    # The catalogue came with the tenant (no ledger call): lines are priced and named from it.
    command = invoice_in.parse(await read_fields(request, "invoice"), catalogue.products_of(tenant))
    result = await ledger.record_order(
        tenant=tenant, value=command.value, reference=command.reference, occurred_at=command.occurred_at,
        member=By(Identity.CUSTOMER_NO, command.customer_no) if command.customer_no is not None else None,
        data=command.data, origin=ORIGIN,
    )
    record = (await present.invoices(ledger, tenant, [result.order]))[0]
    return wire.one(request, "invoice", record, status=201)


async def void(request: web.Request) -> web.Response:
    """DELETE /api/invoices/{id}.xml?reason=...: status V; the points it earned are taken back."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    reason = params.text(request, "reason")
    result = await ledger.void_order(tenant=tenant, order=params.record_id(request), reason=reason)
    return wire.one(request, "invoice", (await present.invoices(ledger, tenant, [result.order]))[0])

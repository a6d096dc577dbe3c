"""Customer and customer-type handlers: parse the request, one ledger call, render (plus the reads
present.py makes for points and customer type). No SQL, no rules, no try/except."""
from __future__ import annotations

from aiohttp import web

from ...keys import LEDGER
from ...ledger import By, Identity
from ..common import tenant_of
from . import catalogue_views, customers_in, params, present, views, wire
from .body import read_fields


def _customer_ref(request: web.Request) -> By:
    return By(Identity.CUSTOMER_NO, params.record_id(request))


async def index(request: web.Request) -> web.Response:
    """GET /api/customers.xml?page&per_page&active_only&after&before&q=count|last_updated_at (deleted ones
    included)."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    q = params.listing(request, per_page=100, latest=True)
    if q.last_updated:
        latest = await ledger.members(
            tenant=tenant, limit=1, active_only=q.active_only, updated_after=q.after, updated_before=q.before,
            order_by="-updated_at",
        )
        return wire.one(request, "hash", catalogue_views.last_updated(latest.items[0].updated_at if latest.items else None))
    if q.count:
        number = await ledger.count_members(
            tenant=tenant, active_only=q.active_only, updated_after=q.after, updated_before=q.before
        )
        return wire.one(request, "hash", views.count(number))
    page = await ledger.members(
        tenant=tenant, offset=q.offset, limit=q.limit, active_only=q.active_only,
        updated_after=q.after, updated_before=q.before,
    )
    return wire.many(request, "customers", "customer", await present.customers(ledger, tenant, page.items))


async def show(request: web.Request) -> web.Response:
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    return wire.one(request, "customer", await present.customer(ledger, tenant, _customer_ref(request)))


async def create(request: web.Request) -> web.Response:
    """POST /api/customers.xml with a <customer> document: 201 and the new customer."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    command = customers_in.parse(await read_fields(request, "customer"))
    member = await ledger.create_member(
        tenant=tenant, name=command.new_name(), email=command.email, programme_no=command.programme_no,
        profile=command.profile, external_ref=command.alternate_code,
    )
    return wire.one(request, "customer", await present.customer(ledger, tenant, member), status=201)


async def update(request: web.Request) -> web.Response:
    """PUT /api/customers/{id}.xml: only the fields the document carries change."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    command = customers_in.parse(await read_fields(request, "customer"))
    # The changes are worked out inside the ledger's transaction from the customer as it is then.
    member = await ledger.update_member(tenant=tenant, member=_customer_ref(request), changes=command.changes)
    return wire.one(request, "customer", await present.customer(ledger, tenant, member))


async def destroy(request: web.Request) -> web.Response:
    """DELETE /api/customers/{id}.xml: a soft delete; the customer stays listed with status D."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    member = await ledger.update_member(tenant=tenant, member=_customer_ref(request), changes={"deleted": True})
    return wire.one(request, "customer", await present.customer(ledger, tenant, member))


async def type_index(request: web.Request) -> web.Response:
    """GET /api/customer_types.xml: `<customer-types type="array"><customer_type>...` (50 a page)."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    q = params.listing(request, per_page=50, counts=False)
    page = await ledger.programmes(tenant=tenant, offset=q.offset, limit=q.limit, active_only=q.active_only)
    return wire.many(request, "customer-types", "customer_type", [views.customer_type(p) for p in page.items])


async def type_show(request: web.Request) -> web.Response:
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    programme = await ledger.programme(tenant=tenant, number=params.record_id(request))
    return wire.one(request, "customer_type", views.customer_type(programme))

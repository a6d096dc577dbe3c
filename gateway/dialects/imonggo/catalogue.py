"""Read-only catalogue resources (products, branches, users, payment types, customer groups, the tax
settings), served from the records the tenant's scenario declared, kept in its imonggo configuration:
they live, die and are rebuilt with the tenant, and reading them needs no ledger call. Writes are 405."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from ...ledger import InvalidArgument, Tenant
from ..common import Handler, tenant_of
from . import catalogue_views as cv
from . import params, views, wire

SECTION = "imonggo"
View = Callable[[Mapping[str, Any], datetime], views.Record]


@dataclass(frozen=True)
class Resource:
    """One catalogue list: its URL and configuration key, XML names and page sizes (default, maximum)."""

    key: str
    root: str
    item: str
    per_page: int
    max_per_page: int
    view: View


# Page sizes: products 50 ("default and maximum", Product API), users 100 (User API); the others are
# undocumented and follow customer types (50). Two-word roots are dasherized like `<customer-types>`.
RESOURCES = (
    Resource("products", "products", "product", 50, 50, cv.product),
    Resource("branches", "branches", "branch", 50, params.MAX_PER_PAGE, cv.branch),
    Resource("users", "users", "user", 100, params.MAX_PER_PAGE, cv.user),
    Resource("payment_types", "payment-types", "payment_type", 50, params.MAX_PER_PAGE, cv.payment_type),
    Resource("customer_groups", "customer-groups", "customer_group", 50, params.MAX_PER_PAGE, cv.customer_group),
)


def records(tenant: Tenant, key: str) -> Sequence[Mapping[str, Any]]:
    found = tenant.section(SECTION).get(key, [])
    return found if isinstance(found, list) else []


def _matching(tenant: Tenant, key: str, q: params.Listing) -> list[tuple[datetime, Mapping[str, Any]]]:
    """The records the filters keep, by id, with their update times (after/before are exclusive)."""
    out = []
    for record in records(tenant, key):
        updated = cv.moment(record, "updated_at", tenant.created_at)
        if q.active_only and record.get("status") == "D":
            continue
        if (q.after is not None and updated <= q.after) or (q.before is not None and updated >= q.before):
            continue
        out.append((updated, record))
    return sorted(out, key=lambda pair: pair[1]["id"])


def index(resource: Resource) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        """GET /api/{resource}.xml?page&per_page&active_only&after&before&q=count|last_updated_at."""
        tenant = tenant_of(request)
        q = params.listing(request, per_page=resource.per_page, latest=True, max_per_page=resource.max_per_page)
        found = _matching(tenant, resource.key, q)
        if q.count:
            return wire.one(request, "hash", views.count(len(found)))
        if q.last_updated:
            return wire.one(request, "hash", cv.last_updated(max((u for u, _ in found), default=None)))
        page = found[q.offset : q.offset + q.limit]
        return wire.many(request, resource.root, resource.item, [resource.view(r, tenant.created_at) for _, r in page])

    return handler


def show(resource: Resource) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        """GET /api/{resource}/{id}.xml: the record, deleted or not; 404 if the id names none."""
        tenant, number = tenant_of(request), params.record_id(request)
        record = next((r for r in records(tenant, resource.key) if r["id"] == number), None)
        if record is None:
            raise web.HTTPNotFound()
        return wire.one(request, resource.item, resource.view(record, tenant.created_at))

    return handler


async def tax_settings(request: web.Request) -> web.StreamResponse:
    """GET /api/tax_settings.xml: the account's one `<tax_setting>` with its rates (no paging, no count)."""
    query = request.query.get("q")
    if query is not None:
        raise InvalidArgument(params.unsupported_query(query))
    tenant = tenant_of(request)
    settings = tenant.section(SECTION).get("tax_settings") or {}
    return wire.one(request, "tax_setting", cv.tax_setting(settings, tenant.created_at))


def products_of(tenant: Tenant) -> dict[int, Mapping[str, Any]] | None:
    """The tenant's products by id, for pricing invoice lines (deleted ones too: old ids stay valid);
    None when its scenario declared no product catalogue at all, so any product id is taken."""
    if "products" not in tenant.section(SECTION):
        return None
    return {r["id"]: r for r in records(tenant, "products")}

"""The reads a response needs besides the handler's one ledger call: a customer's points and customer
type, an invoice's customer name. Reads only; never writes."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ...ledger import (
    Asset,
    Ledger,
    Member,
    MemberRef,
    Order,
    Programme,
    Tenant,
    UnknownProgramme,
)
from . import views
from .views import Record

ALL_TYPES = 10_000


async def _types(ledger: Ledger, tenant: Tenant, numbers: set[int]) -> dict[int, Programme]:
    if not numbers:
        return {}
    if len(numbers) == 1:
        (number,) = numbers
        try:
            return {number: await ledger.programme(tenant=tenant, number=number)}
        except UnknownProgramme:
            return {}
    page = await ledger.programmes(tenant=tenant, limit=ALL_TYPES)
    return {p.number: p for p in page.items}


async def customer(ledger: Ledger, tenant: Tenant, member: MemberRef) -> Record:
    """A customer as GET shows it, deleted or not."""
    balance = await ledger.balance(tenant=tenant, member=member, include_deleted=True, with_programme=True)
    return views.customer(balance.member, balance[Asset.POINTS].posted, balance.programme)


async def customers(ledger: Ledger, tenant: Tenant, members: Sequence[Member]) -> list[Record]:
    balances = await asyncio.gather(
        *(ledger.balance(tenant=tenant, member=m, include_deleted=True) for m in members)
    )
    types = await _types(ledger, tenant, {m.programme_no for m in members if m.programme_no is not None})
    return [
        views.customer(b.member, b[Asset.POINTS].posted, types.get(b.member.programme_no or -1)) for b in balances
    ]


async def invoices(ledger: Ledger, tenant: Tenant, orders: Sequence[Order]) -> list[Record]:
    """Invoices with the name of the customer each belongs to (None when it has none)."""
    ids = sorted({o.member_id for o in orders if o.member_id is not None})
    found = await asyncio.gather(*(ledger.find_member(tenant=tenant, member=i) for i in ids))
    names = {m.id: m.name for m in found}
    return [views.invoice(o, names.get(o.member_id) if o.member_id is not None else None) for o in orders]

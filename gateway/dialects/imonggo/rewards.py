"""The Reward API: `POST /api/rewards.xml?q=spend&customer_id=&amount=&reference=`. Parameters come from
the query string only (the seed's body is empty); the reference is not required to be unique."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aiohttp import web

from ...keys import LEDGER
from ...ledger import By, Identity, InvalidArgument, UnknownMember, parse_amount
from ...whole_numbers import whole_number
from ..common import tenant_of
from . import params, views, wire

ORIGIN = "imonggo"


@dataclass(frozen=True)
class Spend:
    customer_no: int
    amount: Decimal
    reference: str | None


def not_spend(query: str) -> str:
    return f"Invalid query: q must be spend, not {query!r}"


def parse_spend(request: web.Request) -> Spend:
    query = request.query
    if query.get("q") != "spend":
        raise InvalidArgument(not_spend(query.get("q", "")))
    customer = query.get("customer_id", "").strip()
    if not customer:
        raise InvalidArgument(params.blank("Customer"))
    number = whole_number(customer)  # larger ids name nobody (and do not fit the store's integers)
    if number is None:
        raise UnknownMember(f"no customer {customer}")
    text = query.get("amount", "").strip()
    if not text:
        raise InvalidArgument(params.blank("Amount"))
    return Spend(number, parse_amount(text, field="Amount"), params.text(request, "reference"))


async def spend(request: web.Request) -> web.Response:
    """Spend `amount` (currency) as amount x point_to_amount_ratio points; 200 and the seed's <hash>."""
    ledger, tenant = request.config_dict[LEDGER], tenant_of(request)
    command = parse_spend(request)
    result = await ledger.spend_value(
        tenant=tenant, member=By(Identity.CUSTOMER_NO, command.customer_no), value=command.amount,
        reference=command.reference, origin=ORIGIN,
    )
    return wire.one(request, "hash", views.spend(result))

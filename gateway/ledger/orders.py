"""Orders: purchase documents that earn points for members of an earning programme, in the same
transaction as the document; voiding one reverses what it earned."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .core import LedgerBase, MemberRef
from .errors import DuplicateReference, OrderVoided, UnknownMember, UnknownOrder
from .members import check_page
from .models import Asset, Entry, Kind, Member, Movement, Order, OrderResult, Page, Status, Tenant
from .money import parse_amount, round_down, to_cents
from .repo import entries as entry_sql
from .repo import members as member_sql
from .repo import orders as order_sql
from .store.base import Tx


class OrderOps(LedgerBase):
    async def record_order(
        self,
        *,
        tenant: Tenant,
        value: Decimal,
        member: MemberRef | None = None,
        reference: str | None = None,
        occurred_at: datetime | None = None,
        data: Mapping[str, Any] | None = None,
        origin: str | None = None,
        unique_reference: bool = True,
    ) -> OrderResult:
        """Record an order worth `value`; a member of a programme with an earn rule earns
        value / earn_unit points, rounded down to two places. A member that cannot be found earns
        nothing and the order is still recorded (as the vendor does)."""
        value = parse_amount(value, field="value", allow_zero=True)

        async def work(tx: Tx) -> OrderResult:
            now = self.clock.now()
            if unique_reference and reference is not None and await order_sql.reference_taken(tx, tenant.id, reference):
                raise DuplicateReference("Reference has already been taken", field="reference")
            found: Member | None = None
            if member is not None:
                try:
                    found = await self._member(tx, tenant, member)
                except UnknownMember:
                    found = None  # the order stands without a member and earns nothing
            order_id = await order_sql.insert(
                tx, tenant.id,
                {"reference": reference, "member_id": found.id if found else None, "value": to_cents(value),
                 "data": data or {}, "occurred_at": occurred_at},
                now,
            )
            movement = None
            earned = await self._earning(tx, tenant, found, value)
            if found is not None and earned > 0:
                entry, balance = await self._post(
                    tx, tenant, found, Asset.POINTS, earned, kind=Kind.ORDER_EARN, now=now, reference=reference,
                    origin=origin, value=value, order_id=order_id, occurred_at=occurred_at,
                )
                movement = Movement(entry, balance, found)
                await order_sql.set_earned(tx, order_id, to_cents(earned))
            order = await order_sql.get(tx, tenant.id, order_id)
            assert order is not None
            return OrderResult(order, movement)

        return await self._commit(work)

    async def _earning(self, tx: Tx, tenant: Tenant, member: Member | None, value: Decimal) -> Decimal:
        if member is None or member.programme_no is None:
            return Decimal("0.00")
        programme = await member_sql.get_programme(tx, tenant.id, member.programme_no)
        if programme is None or programme.earn_unit is None:
            return Decimal("0.00")
        return round_down(value / programme.earn_unit)

    async def void_order(self, *, tenant: Tenant, order: int, reason: str | None = None) -> OrderResult:
        """Void an order once; what it earned is reversed (clamped at the balance, clamp recorded)."""

        async def work(tx: Tx) -> OrderResult:
            now = self.clock.now()
            found = await order_sql.get(tx, tenant.id, order)
            if found is None:
                raise UnknownOrder(f"no order {order}")
            if found.voided:
                raise OrderVoided(f"order {order} is already voided")
            await order_sql.void(tx, found.id, reason, now)
            movement = None
            earn = await self._order_earning(tx, tenant, found.id)
            if earn is not None:
                movement = await self._reverse(tx, tenant, earn, note=reason, clamp=True, now=now)
            voided = await order_sql.get(tx, tenant.id, found.id)
            assert voided is not None
            return OrderResult(voided, movement)

        return await self._commit(work)

    async def _order_earning(self, tx: Tx, tenant: Tenant, order_id: int) -> Entry | None:
        found = await tx.fetchval(
            "SELECT id FROM entries WHERE tenant_id = ? AND order_id = ? AND kind = ? AND status = ?",
            (tenant.id, order_id, Kind.ORDER_EARN.value, Status.CONFIRMED.value),
        )
        return None if found is None else await entry_sql.get(tx, tenant.id, found)

    async def order(self, *, tenant: Tenant, order: int) -> Order:
        found = await self._read(lambda tx: order_sql.get(tx, tenant.id, order))
        if found is None:
            raise UnknownOrder(f"no order {order}")
        return found

    async def orders(
        self,
        *,
        tenant: Tenant,
        offset: int = 0,
        limit: int = 50,
        reference: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
    ) -> Page[Order]:
        check_page(offset, limit)
        items = await self._read(
            lambda tx: order_sql.list_page(
                tx, tenant.id, offset=offset, limit=limit, reference=reference, after=after, before=before
            )
        )
        return Page(items, offset, limit)

    async def count_orders(self, *, tenant: Tenant) -> int:
        return await self._read(lambda tx: order_sql.count(tx, tenant.id))

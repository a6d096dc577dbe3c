"""The ledger's operations for a tenant whose points live at an upstream: the same calls the dialects
make, each turned into one write forwarded through forwarding.py (or a read asked of the port). A tenant
without a port takes the local operation, unchanged, after one dictionary-free check."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .clock import to_text
from .core import MemberRef
from .errors import (
    AlreadyResolved,
    DuplicateReference,
    InvalidArgument,
    OrderVoided,
    UnknownEntry,
    UnknownMember,
    UnknownOrder,
)
from .forwarding import HERE, ForwardOps, Plan, _Here
from .models import Asset, Balance, BalanceRow, Idempotency, Kind, Member, Movement, OrderResult, Page, SpendResult, Status, Tenant
from .money import parse_amount, round_down
from .repo import entries as entry_sql
from .repo import intents as intent_sql
from .repo import orders as order_sql
from .movements import MovementOps
from .store.base import Tx
from .upstream import Cause, Direction, Upstream, UpstreamCannotExpress

READS_AT_ONCE = 8  # a listing's balance reads in flight at one upstream at once

_CAUSES = {Kind.ORDER_EARN: Cause.ORDER_EARN, Kind.ORDER_SPEND: Cause.SPEND, Kind.REWARD: Cause.REWARD,
           Kind.REVERSAL: Cause.ORDER_VOID}


def _local(op: str, member: Member, kind: Kind, **fields: Any) -> dict[str, Any]:
    """How a forwarded write is recorded here once applied, as plain data (kept in the intent)."""
    out: dict[str, Any] = {"op": op, "member_id": member.id, "kind": kind.value}
    for name, value in fields.items():
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, datetime):
            value = to_text(value)
        out[name] = value
    return out


class ForwardedOps(ForwardOps):
    # -- reads ----------------------------------------------------------------------------------

    async def balance(
        self, *, tenant: Tenant, member: MemberRef, include_deleted: bool = False, with_programme: bool = False
    ) -> Balance:
        port = self._port(tenant)
        local = await super().balance(
            tenant=tenant, member=member, include_deleted=include_deleted, with_programme=with_programme
        )
        if port is None:
            return local
        figures = await _posted(port, port.member_ref(local.member))  # every asset in one read
        accounts = {
            asset: type(account)(asset, figures[asset], account.pending, account.updated_at)
            for asset, account in ((a, local.accounts[a]) for a in Asset)
        }
        return Balance(local.member, accounts, local.programme)

    async def balances(
        self, *, tenant: Tenant, asset: Asset = Asset.POINTS, member_no: int | None = None, offset: int = 0,
        limit: int = 200,
    ) -> Page[BalanceRow]:
        page = await super().balances(tenant=tenant, asset=asset, member_no=member_no, offset=offset, limit=limit)
        port = self._port(tenant)
        if port is None:
            return page
        gate = asyncio.Semaphore(READS_AT_ONCE)

        async def figure(member: Member) -> Decimal:
            async with gate:
                return (await _posted(port, port.member_ref(member), unknown_is_zero=True))[asset]

        figures = await asyncio.gather(*(figure(row.member) for row in page.items))
        return Page([BalanceRow(r.member, f) for r, f in zip(page.items, figures, strict=True)], page.offset, page.limit)

    # -- writes ---------------------------------------------------------------------------------

    async def credit(self, *, tenant: Tenant, member: MemberRef, amount: Decimal, asset: Asset = Asset.POINTS,
                     kind: Kind = Kind.ADJUSTMENT, reference: str | None = None, note: str | None = None,
                     origin: str | None = None, value: Decimal | None = None, occurred_at: datetime | None = None,
                     public_ref: str | None = None, data: Mapping[str, Any] | None = None,
                     idempotency: Idempotency | None = None) -> Any:
        port = self._port(tenant)
        if port is None:
            return await super().credit(
                tenant=tenant, member=member, amount=amount, asset=asset, kind=kind, reference=reference, note=note,
                origin=origin, value=value, occurred_at=occurred_at, public_ref=public_ref, data=data,
                idempotency=idempotency,
            )
        return await self._move(port, Direction.CREDIT, dict(
            tenant=tenant, member=member, amount=amount, asset=asset, kind=kind, reference=reference, note=note,
            origin=origin, value=value, occurred_at=occurred_at, public_ref=public_ref, data=data,
            idempotency=idempotency,
        ))

    async def debit(self, *, tenant: Tenant, member: MemberRef, amount: Decimal, asset: Asset = Asset.POINTS,
                    kind: Kind = Kind.ADJUSTMENT, reference: str | None = None, note: str | None = None,
                    origin: str | None = None, value: Decimal | None = None, occurred_at: datetime | None = None,
                    public_ref: str | None = None, data: Mapping[str, Any] | None = None,
                    idempotency: Idempotency | None = None) -> Any:
        port = self._port(tenant)
        if port is None:
            return await super().debit(
                tenant=tenant, member=member, amount=amount, asset=asset, kind=kind, reference=reference, note=note,
                origin=origin, value=value, occurred_at=occurred_at, public_ref=public_ref, data=data,
                idempotency=idempotency,
            )
        return await self._move(port, Direction.DEBIT, dict(
            tenant=tenant, member=member, amount=amount, asset=asset, kind=kind, reference=reference, note=note,
            origin=origin, value=value, occurred_at=occurred_at, public_ref=public_ref, data=data,
            idempotency=idempotency,
        ))

    async def _move(self, port: Upstream, direction: Direction, args: dict[str, Any]) -> Any:
        """credit/debit forwarded; no local balance check: the upstream decides."""
        tenant: Tenant = args["tenant"]
        kind: Kind = args["kind"]
        if kind is Kind.OPENING:
            raise InvalidArgument(
                f"the points of tenant {tenant.name} live at {port.name}: an opening balance cannot be given here"
            )
        amount = parse_amount(args["amount"])

        async def prepare(tx: Tx) -> Plan:
            found = await self._member(tx, tenant, args["member"])
            local = _local(
                "post", found, kind, reference=args["reference"], note=args["note"], origin=args["origin"],
                value=args["value"], occurred_at=args["occurred_at"], public_ref=args["public_ref"],
                data=dict(args["data"] or {}),
            )
            return Plan(found, port.member_ref(found), direction, args["asset"], amount,
                        _CAUSES.get(kind, Cause.ADJUSTMENT), local, value=args["value"], note=args["note"],
                        reference=args["reference"])

        return await self._forward(tenant, port, prepare, args["idempotency"])

    async def adjust(self, *, tenant: Tenant, member: MemberRef | None = None, amount: Decimal | None = None,
                     asset: Asset = Asset.POINTS, note: str | None = None, occurred_at: datetime | None = None,
                     origin: str | None = None, revises: int | None = None, data: Mapping[str, Any] | None = None,
                     idempotency: Idempotency | None = None) -> Any:
        port = self._port(tenant)
        args = dict(tenant=tenant, member=member, amount=amount, asset=asset, note=note, occurred_at=occurred_at,
                    origin=origin, revises=revises, data=data, idempotency=idempotency)
        if port is None:
            return await super().adjust(**args)
        if amount is not None:
            amount = parse_amount(amount, allow_negative=True, allow_zero=True)
        if revises is None and (member is None or amount is None):
            raise InvalidArgument("a new adjustment needs a member and an amount")

        async def prepare(tx: Tx) -> Plan | _Here:
            if revises is None:
                assert member is not None and amount is not None
                found = await self._member(tx, tenant, member)
                if amount == 0:
                    return HERE
                local = _local("post", found, Kind.ADJUSTMENT, note=note, origin=origin, occurred_at=occurred_at,
                               data=dict(data or {}))
                return Plan(found, port.member_ref(found), Direction.CREDIT if amount > 0 else Direction.DEBIT, asset,
                            abs(amount), Cause.ADJUSTMENT, local, note=note)
            return await self._revision(tx, tenant, port, revises, asset, member, amount, note, occurred_at, origin)

        done = await self._forward(tenant, port, prepare, idempotency)
        return await super().adjust(**args) if done is HERE else done

    async def _revision(
        self, tx: Tx, tenant: Tenant, port: Upstream, record_id: int, asset: Asset, member: MemberRef | None,
        amount: Decimal | None, note: str | None, occurred_at: datetime | None, origin: str | None,
    ) -> Plan | _Here:
        """A revision forwards the difference it makes; moving an adjustment to another member is refused."""
        head = await entry_sql.record_head(tx, tenant.id, record_id)
        if head is None or head.kind not in (Kind.ADJUSTMENT, Kind.OPENING) or head.asset is not asset:
            raise UnknownEntry(f"no adjustment {record_id}")
        owner = await self._member(tx, tenant, head.member_id, include_deleted=True)
        if member is not None and (await self._member(tx, tenant, member)).id != owner.id:
            raise UpstreamCannotExpress(
                f"{port.name} cannot move an adjustment from one member to another; make a new adjustment instead"
            )
        new_amount = head.record_amount if amount is None else amount
        delta = new_amount - head.record_amount
        if delta == 0:
            return HERE
        note = head.note if note is None else note
        local = _local(
            "revise", owner, head.kind, record_id=record_id, record_amount=new_amount, note=note,
            origin=origin or head.origin, occurred_at=head.occurred_at if occurred_at is None else occurred_at,
            data={k: v for k, v in head.data.items() if k != "upstream"},
        )
        return Plan(owner, port.member_ref(owner), Direction.CREDIT if delta > 0 else Direction.DEBIT, head.asset,
                    abs(delta), Cause.ADJUSTMENT, local, note=note)

    async def spend_value(self, *, tenant: Tenant, member: MemberRef, value: Decimal, reference: str | None = None,
                          note: str | None = None, origin: str | None = None) -> SpendResult:
        port = self._port(tenant)
        if port is None:
            return await super().spend_value(
                tenant=tenant, member=member, value=value, reference=reference, note=note, origin=origin
            )
        value = parse_amount(value)

        async def prepare(tx: Tx) -> Plan | _Here:
            found = await self._member(tx, tenant, member)
            points = await self._spend_points(tx, tenant, found, value)
            if points <= 0:
                return HERE
            local = _local("post", found, Kind.ORDER_SPEND, reference=reference, note=note, origin=origin,
                           value=value, result="spend", spent=value)
            return Plan(found, port.member_ref(found), Direction.DEBIT, Asset.POINTS, points, Cause.SPEND, local,
                        value=value, note=note, reference=reference)

        done = await self._forward(tenant, port, prepare)
        if done is HERE:
            return await super().spend_value(
                tenant=tenant, member=member, value=value, reference=reference, note=note, origin=origin
            )
        return done

    async def record_order(self, *, tenant: Tenant, value: Decimal, member: MemberRef | None = None,
                           reference: str | None = None, occurred_at: datetime | None = None,
                           data: Mapping[str, Any] | None = None, origin: str | None = None,
                           unique_reference: bool = True) -> OrderResult:
        args = dict(tenant=tenant, value=value, member=member, reference=reference, occurred_at=occurred_at, data=data,
                    origin=origin, unique_reference=unique_reference)
        port = self._port(tenant)
        if port is None:
            return await super().record_order(**args)
        value = parse_amount(value, field="value", allow_zero=True)

        async def prepare(tx: Tx) -> Plan | _Here:
            if unique_reference and reference is not None and (
                await order_sql.reference_taken(tx, tenant.id, reference)
                or await intent_sql.open_like(tx, tenant.id, Cause.ORDER_EARN, reference=reference)
            ):
                raise DuplicateReference("Reference has already been taken", field="reference")
            try:
                found = None if member is None else await self._member(tx, tenant, member)
            except UnknownMember:
                found = None
            earned = await self._earning(tx, tenant, found, value)
            if found is None or earned <= 0:
                return HERE  # nothing to earn: the order is only a document, kept here
            local = _local("order", found, Kind.ORDER_EARN, reference=reference, origin=origin, value=value,
                           occurred_at=occurred_at, order_data=dict(data or {}), decided=True)
            return Plan(found, port.member_ref(found), Direction.CREDIT, Asset.POINTS, earned, Cause.ORDER_EARN,
                        local, value=value, reference=reference)

        done = await self._forward(tenant, port, prepare)
        return await super().record_order(**args) if done is HERE else done

    async def void_order(self, *, tenant: Tenant, order: int, reason: str | None = None) -> OrderResult:
        port = self._port(tenant)
        if port is None:
            return await super().void_order(tenant=tenant, order=order, reason=reason)

        async def prepare(tx: Tx) -> Plan | _Here:
            found = await order_sql.get(tx, tenant.id, order)
            if found is None:
                raise UnknownOrder(f"no order {order}")
            if found.voided:
                raise OrderVoided(f"order {order} is already voided")
            earn = await self._order_earning(tx, tenant, found.id)
            mark = (earn.data.get("upstream") if earn is not None else None) or {}
            if earn is None or earn.amount <= 0 or not mark:
                return HERE  # nothing was earned at the upstream: voided here only
            ref = mark.get("ref")
            if await intent_sql.open_like(tx, tenant.id, Cause.ORDER_VOID, reference=f"order-{found.id}"):
                raise OrderVoided(f"order {order} is being voided")
            owner = await self._member(tx, tenant, earn.member_id, include_deleted=True)
            local = _local("reverse", owner, Kind.REVERSAL, order_id=found.id, reverses_id=earn.id, note=reason,
                           origin=earn.origin)
            return Plan(owner, port.member_ref(owner), Direction.DEBIT, Asset.POINTS, earn.amount, Cause.ORDER_VOID,
                        local, value=found.value, note=reason, reference=f"order-{found.id}", reverses=ref)

        done = await self._forward(tenant, port, prepare)
        return await super().void_order(tenant=tenant, order=order, reason=reason) if done is HERE else done

    async def confirm_reference(self, *, tenant: Tenant, reference: str, kind: Kind = Kind.REWARD) -> list[Movement]:
        """Holds stay here; confirming forwards each held asset's credit (one intent each, in turn). A
        confirmation interrupted part way is finished by confirming again (the rest is forwarded)."""
        port = self._port(tenant)
        if port is None:
            return await super().confirm_reference(tenant=tenant, reference=reference, kind=kind)
        held = await self._read(lambda tx: self._held(tx, tenant, reference, kind))
        waiting = [e for e in held if e.status is Status.PENDING]
        if not waiting:
            raise AlreadyResolved(f"everything held under reference {reference} is already resolved")
        moved = []
        for entry_id in (e.id for e in waiting):
            moved.append(await self._forward(tenant, port, self._confirming(tenant, port, entry_id, reference)))
        return moved

    async def confirm(self, *, tenant: Tenant, entry: int | str) -> Movement:
        port = self._port(tenant)
        if port is None:
            return await super().confirm(tenant=tenant, entry=entry)
        held = await self._read(lambda tx: self._pending(tx, tenant, entry))
        if held.status is not Status.PENDING:
            raise AlreadyResolved(f"entry {held.public_ref or held.id} is already {held.status.value}",
                                  status=held.status.value)
        return await self._forward(tenant, port, self._confirming(tenant, port, held.id, held.reference or "entry"))

    async def cancel_reference(
        self, *, tenant: Tenant, reference: str, kind: Kind = Kind.REWARD, note: str | None = None
    ) -> list[Movement]:
        """Pending holds are dropped here; a confirmed (so forwarded) one is taken back at the upstream,
        each in turn. Refused whole if any was already cancelled, as for a local tenant."""
        port = self._port(tenant)
        if port is None:
            return await super().cancel_reference(tenant=tenant, reference=reference, kind=kind, note=note)

        async def check(tx: Tx) -> list[Any]:
            held = await self._held(tx, tenant, reference, kind)
            for e in held:
                if e.status is Status.CANCELLED or await entry_sql.reversal_of(tx, e.id) is not None:
                    raise AlreadyResolved(f"entry {e.public_ref or e.id} is already cancelled", status="cancelled")
            return held

        moved = []
        for held in await self._read(check):
            if held.status is Status.PENDING:
                moved.append(await MovementOps.cancel(self, tenant=tenant, entry=held.id, note=note))
                continue
            moved.append(await self._forward(tenant, port, self._reversing(tenant, port, held.id, reference, note)))
        return moved

    def _reversing(self, tenant: Tenant, port: Upstream, entry_id: int, reference: str, note: str | None) -> Any:
        async def prepare(tx: Tx) -> Plan:
            found = await entry_sql.get(tx, tenant.id, entry_id)
            if found is None or await entry_sql.reversal_of(tx, entry_id) is not None:
                raise AlreadyResolved(f"entry {entry_id} is already cancelled", status="cancelled")
            tag = f"{reference}#{entry_id}"
            if await intent_sql.open_like(tx, tenant.id, Cause.ORDER_VOID, reference=tag):
                raise AlreadyResolved(f"entry {entry_id} is being cancelled", status="cancelled")
            owner = await self._member(tx, tenant, found.member_id, include_deleted=True)
            local = _local("reverse", owner, Kind.REVERSAL, reverses_id=found.id, note=note, origin=found.origin)
            return Plan(owner, port.member_ref(owner), Direction.DEBIT, found.asset, found.amount, Cause.ORDER_VOID,
                        local, value=found.value, note=note, reference=tag,
                        reverses=await intent_sql.applied_ref(tx, tenant.id, Cause.REWARD, tag))

        return prepare

    def _confirming(self, tenant: Tenant, port: Upstream, entry_id: int, reference: str) -> Any:
        async def prepare(tx: Tx) -> Plan:
            held = await entry_sql.get(tx, tenant.id, entry_id)
            if held is None or held.status is not Status.PENDING:
                raise AlreadyResolved(f"entry {entry_id} is already resolved")
            if await intent_sql.open_like(tx, tenant.id, Cause.REWARD, reference=f"{reference}#{entry_id}"):
                raise AlreadyResolved(f"entry {entry_id} is being confirmed")
            owner = await self._member(tx, tenant, held.member_id, include_deleted=True)
            local = _local("confirm", owner, held.kind, entry_id=held.id)
            return Plan(owner, port.member_ref(owner), Direction.CREDIT, held.asset, held.amount, Cause.REWARD, local,
                        value=held.value, note=held.note, reference=f"{reference}#{entry_id}")

        return prepare


async def _posted(port: Upstream, ref: str, *, unknown_is_zero: bool = False) -> dict[Asset, Decimal]:
    """Every asset's balance at the upstream, in one read (an asset it does not keep reads as 0); in a
    listing, a member the upstream does not know reads as 0 too."""
    try:
        found = await port.balances(ref)
    except UnknownMember:
        if unknown_is_zero:
            return {a: Decimal("0.00") for a in Asset}
        raise
    return {a: round_down(found.get(a, Decimal("0"))) for a in Asset}

"""Point movements: credit, debit, signed adjustments and their revisions, pending holds with confirm
and cancel, reversals, spending a currency value through a programme, and history."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .core import LedgerBase, MemberRef
from .errors import AlreadyResolved, InsufficientFunds, InvalidArgument, NotInProgramme, NotReversible, UnknownEntry
from .members import check_page
from .models import Asset, Entry, Idempotency, Kind, Member, Movement, Page, SpendResult, Status, Tenant
from .money import from_cents, parse_amount, round_half_up, to_cents
from .repo import entries as entry_sql
from .repo import members as member_sql
from .repo.entries import HistoryQuery
from .store.base import Tx


class MovementOps(LedgerBase):
    async def credit(
        self,
        *,
        tenant: Tenant,
        member: MemberRef,
        amount: Decimal,
        asset: Asset = Asset.POINTS,
        kind: Kind = Kind.ADJUSTMENT,
        reference: str | None = None,
        note: str | None = None,
        origin: str | None = None,
        value: Decimal | None = None,
        occurred_at: datetime | None = None,
        public_ref: str | None = None,
        data: Mapping[str, Any] | None = None,
        idempotency: Idempotency | None = None,
    ) -> Any:
        """Add `amount` (> 0) to an account. Returns a Movement, or an Outcome with `idempotency`."""
        amount = parse_amount(amount)

        async def work(tx: Tx) -> Movement:
            found = await self._member(tx, tenant, member)
            entry, balance = await self._post(
                tx, tenant, found, asset, amount, kind=kind, now=self.clock.now(), reference=reference, note=note,
                origin=origin, value=value, occurred_at=occurred_at, public_ref=public_ref, data=data,
            )
            return Movement(entry, balance, found)

        return await self._write(tenant, work, idempotency)

    async def debit(
        self,
        *,
        tenant: Tenant,
        member: MemberRef,
        amount: Decimal,
        asset: Asset = Asset.POINTS,
        kind: Kind = Kind.ADJUSTMENT,
        reference: str | None = None,
        note: str | None = None,
        origin: str | None = None,
        value: Decimal | None = None,
        occurred_at: datetime | None = None,
        public_ref: str | None = None,
        data: Mapping[str, Any] | None = None,
        idempotency: Idempotency | None = None,
    ) -> Any:
        """Take `amount` (> 0) from an account; never below zero (InsufficientFunds, nothing applied)."""
        amount = parse_amount(amount)

        async def work(tx: Tx) -> Movement:
            found = await self._member(tx, tenant, member)
            entry, balance = await self._post(
                tx, tenant, found, asset, -amount, kind=kind, now=self.clock.now(), reference=reference, note=note,
                origin=origin, value=value, occurred_at=occurred_at, public_ref=public_ref, data=data, covered=True,
            )
            return Movement(entry, balance, found)

        return await self._write(tenant, work, idempotency)

    async def _require(self, tx: Tx, member: Member, asset: Asset, amount: Decimal) -> None:
        await self._require_cover(tx, member, asset, amount)

    async def adjust(
        self,
        *,
        tenant: Tenant,
        member: MemberRef | None = None,
        amount: Decimal | None = None,
        asset: Asset = Asset.POINTS,
        note: str | None = None,
        occurred_at: datetime | None = None,
        origin: str | None = None,
        revises: int | None = None,
        data: Mapping[str, Any] | None = None,
        idempotency: Idempotency | None = None,
    ) -> Any:
        """A signed manual adjustment. With `revises` (a record id), change that adjustment instead: the
        balance moves by the difference; member, amount, note and date left out keep their values.
        No balance ever goes below zero."""
        if amount is not None:
            amount = parse_amount(amount, allow_negative=True, allow_zero=True)
        if revises is None and (member is None or amount is None):
            raise InvalidArgument("a new adjustment needs a member and an amount")

        async def work(tx: Tx) -> Movement:
            now = self.clock.now()
            if revises is None:
                assert member is not None and amount is not None
                found = await self._member(tx, tenant, member)
                entry, balance = await self._post(
                    tx, tenant, found, asset, amount, kind=Kind.ADJUSTMENT, now=now, note=note, origin=origin,
                    occurred_at=occurred_at, data=data, covered=amount < 0,
                )
                return Movement(entry, balance, found)
            return await self._revise(tx, tenant, revises, asset, member, amount, note, occurred_at, origin, now)

        return await self._write(tenant, work, idempotency)

    async def _revise(
        self, tx: Tx, tenant: Tenant, record_id: int, asset: Asset, member: MemberRef | None, amount: Decimal | None,
        note: str | None, occurred_at: datetime | None, origin: str | None, now: datetime,
    ) -> Movement:
        head = await entry_sql.record_head(tx, tenant.id, record_id)
        # A revision stays on the asset it was made on: an adjustment of another account (cashback,
        # miles) is not one this caller can see, so it is not one it can change.
        if head is None or head.kind not in (Kind.ADJUSTMENT, Kind.OPENING) or head.asset is not asset:
            raise UnknownEntry(f"no adjustment {record_id}")
        old_member = await self._member(tx, tenant, head.member_id, include_deleted=True)
        new_member = await self._member(tx, tenant, member) if member is not None else old_member
        new_amount = head.record_amount if amount is None else amount
        common = {
            "kind": head.kind, "now": now, "record_id": record_id,
            "note": head.note if note is None else note, "origin": origin or head.origin,
            "occurred_at": head.occurred_at if occurred_at is None else occurred_at, "data": head.data,
        }
        if new_member.id == old_member.id:
            delta = new_amount - head.record_amount
            if delta < 0:
                await self._require(tx, old_member, head.asset, -delta)
            entry, balance = await self._post(
                tx, tenant, old_member, head.asset, delta, record_amount=new_amount, **common
            )
            return Movement(entry, balance, old_member)
        # Moving the adjustment to another member: take it back from the first, give it to the second.
        if head.record_amount > 0:
            await self._require(tx, old_member, head.asset, head.record_amount)
        if new_amount < 0:
            await self._require(tx, new_member, head.asset, -new_amount)
        await self._post(tx, tenant, old_member, head.asset, -head.record_amount, record_amount=Decimal("0.00"), **common)
        entry, balance = await self._post(
            tx, tenant, new_member, head.asset, new_amount, record_amount=new_amount, **common
        )
        return Movement(entry, balance, new_member)

    # -- pending holds ------------------------------------------------------------------------

    async def hold(
        self,
        *,
        tenant: Tenant,
        member: MemberRef,
        amount: Decimal,
        asset: Asset = Asset.POINTS,
        kind: Kind = Kind.REWARD,
        reference: str | None = None,
        note: str | None = None,
        origin: str | None = None,
        value: Decimal | None = None,
        public_ref: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Movement:
        """A pending credit: shown as pending, never spendable until confirmed."""
        amount = parse_amount(amount)

        async def work(tx: Tx) -> Movement:
            found = await self._member(tx, tenant, member)
            entry, balance = await self._post(
                tx, tenant, found, asset, amount, kind=kind, status=Status.PENDING, now=self.clock.now(),
                reference=reference, note=note, origin=origin, value=value, public_ref=public_ref, data=data,
            )
            return Movement(entry, balance, found)

        return await self._commit(work)

    async def _pending(self, tx: Tx, tenant: Tenant, entry: int | str) -> Entry:
        found = (
            await entry_sql.get(tx, tenant.id, entry) if isinstance(entry, int)
            else await entry_sql.by_public_ref(tx, tenant.id, entry)
        )
        if found is None:
            raise UnknownEntry(f"no entry {entry}")
        return found

    async def confirm(self, *, tenant: Tenant, entry: int | str) -> Movement:
        """Resolve a pending entry as confirmed: its amount moves from pending to posted. Once only."""

        async def work(tx: Tx) -> Movement:
            return await self._confirm_entry(tx, tenant, await self._pending(tx, tenant, entry), self.clock.now())

        return await self._commit(work)

    async def _confirm_entry(self, tx: Tx, tenant: Tenant, found: Entry, now: datetime, offset: int = 0) -> Movement:
        if found.status is not Status.PENDING:
            raise AlreadyResolved(
                f"entry {found.public_ref or found.id} is already {found.status.value}", status=found.status.value
            )
        cents = to_cents(found.amount)
        row = await entry_sql.move(tx, found.member_id, found.asset, posted=cents, pending=-cents, now=now, offset=offset)
        await entry_sql.set_status(tx, found.id, Status.CONFIRMED, "confirmed", now)
        confirmed = await entry_sql.get(tx, tenant.id, found.id)
        assert confirmed is not None
        balance = entry_sql.to_balance(found.asset, row)
        await self._publish(tx, tenant, "entry.confirmed", confirmed, balance, now)
        return Movement(confirmed, balance, await self._member(tx, tenant, found.member_id, include_deleted=True))

    async def cancel(self, *, tenant: Tenant, entry: int | str, note: str | None = None) -> Movement:
        """Cancel a pending entry (nothing was posted), or reverse a confirmed one (the posted amount is
        taken back, clamped at the balance, the clamp recorded). A second cancel is refused."""

        async def work(tx: Tx) -> Movement:
            found = await self._pending(tx, tenant, entry)
            return await self._cancel_entry(tx, tenant, found, note, self.clock.now())

        return await self._commit(work)

    async def _cancel_entry(self, tx: Tx, tenant: Tenant, found: Entry, note: str | None, now: datetime) -> Movement:
        if found.status is Status.PENDING:
            cents = to_cents(found.amount)
            row = await entry_sql.move(tx, found.member_id, found.asset, pending=-cents, now=now)
            await entry_sql.set_status(tx, found.id, Status.CANCELLED, "cancelled", now)
            cancelled = await entry_sql.get(tx, tenant.id, found.id)
            assert cancelled is not None
            balance = entry_sql.to_balance(found.asset, row)
            await self._publish(tx, tenant, "entry.cancelled", cancelled, balance, now)
            member = await self._member(tx, tenant, found.member_id, include_deleted=True)
            return Movement(cancelled, balance, member)
        if found.status is Status.CANCELLED or await entry_sql.reversal_of(tx, found.id) is not None:
            raise AlreadyResolved(f"entry {found.public_ref or found.id} is already cancelled", status="cancelled")
        return await self._reverse(tx, tenant, found, note=note, clamp=True, now=now)

    async def reverse(
        self, *, tenant: Tenant, entry: int, note: str | None = None, clamp: bool = True, origin: str | None = None
    ) -> Movement:
        """Undo a confirmed entry with a new, opposite entry. Credits already spent are clamped at zero
        (the clamp is recorded) unless `clamp` is False, in which case the reversal is refused."""

        async def work(tx: Tx) -> Movement:
            found = await self._pending(tx, tenant, entry)
            if found.status is not Status.CONFIRMED or found.kind is Kind.REVERSAL:
                raise NotReversible(f"entry {entry} cannot be reversed")
            if await entry_sql.reversal_of(tx, found.id) is not None:
                raise AlreadyResolved(f"entry {entry} is already reversed", status="reversed")
            return await self._reverse(tx, tenant, found, note=note, clamp=clamp, now=self.clock.now(), origin=origin)

        return await self._commit(work)

    async def _reverse(
        self, tx: Tx, tenant: Tenant, found: Entry, *, note: str | None, clamp: bool, now: datetime,
        origin: str | None = None,
    ) -> Movement:
        member = await self._member(tx, tenant, found.member_id, include_deleted=True)
        wanted = -found.amount
        row = await entry_sql.account(tx, member.id, found.asset)
        available = from_cents(row["posted"])
        applied = wanted
        if wanted < 0 and available < -wanted:
            if not clamp:
                raise InsufficientFunds(f"insufficient {found.asset.value} to reverse entry {found.id}")
            applied = -available
        data = {"requested": str(wanted), "clamped": str(applied - wanted)} if applied != wanted else {}
        entry, balance = await self._post(
            tx, tenant, member, found.asset, applied, kind=Kind.REVERSAL, now=now, reference=found.reference,
            note=note, origin=origin or found.origin, value=found.value, order_id=found.order_id,
            reverses_id=found.id, data=data,
        )
        return Movement(entry, balance, member)

    # -- spending a currency value ----------------------------------------------------------------

    async def spend_value(
        self,
        *,
        tenant: Tenant,
        member: MemberRef,
        value: Decimal,
        reference: str | None = None,
        note: str | None = None,
        origin: str | None = None,
    ) -> SpendResult:
        """Pay `value` (a currency amount) with points at the member's programme spend ratio."""
        value = parse_amount(value)

        async def work(tx: Tx) -> SpendResult:
            found = await self._member(tx, tenant, member)
            points = await self._spend_points(tx, tenant, found, value)
            entry, balance = await self._post(
                tx, tenant, found, Asset.POINTS, -points, kind=Kind.ORDER_SPEND, now=self.clock.now(),
                reference=reference, note=note, origin=origin, value=value, covered=True,
            )
            return SpendResult(Movement(entry, balance, found), points, value)

        return await self._commit(work)

    async def _spend_points(self, tx: Tx, tenant: Tenant, member: Member, value: Decimal) -> Decimal:
        """What paying `value` costs the member in points, by its programme's spend ratio."""
        programme = (
            await member_sql.get_programme(tx, tenant.id, member.programme_no)
            if member.programme_no is not None else None
        )
        if programme is None or programme.spend_ratio is None:
            raise NotInProgramme("the member has no points membership")
        return round_half_up(value * programme.spend_ratio)

    # -- reading --------------------------------------------------------------------------------

    async def history(
        self, *, tenant: Tenant, query: HistoryQuery = HistoryQuery(), offset: int = 0, limit: int = 200
    ) -> Page[Entry]:
        """Entries in (record, entry) order. A deep page starts from the store's listing counts (see
        paging.py) when the filters allow, so it costs about what the first one does."""
        check_page(offset, limit)
        items = await self._read(lambda tx: entry_sql.history(tx, tenant.id, query, offset=offset, limit=limit))
        return Page(items, offset, limit)

    async def count_history(self, *, tenant: Tenant, query: HistoryQuery = HistoryQuery()) -> int:
        return await self._read(lambda tx: entry_sql.history_count(tx, tenant.id, query))

    async def entry(self, *, tenant: Tenant, entry: int | str) -> Entry:
        return await self._read(lambda tx: self._pending(tx, tenant, entry))

    async def record(self, *, tenant: Tenant, record_id: int) -> Entry:
        """The latest state of a record (an entry and any revisions of it)."""
        found = await self._read(lambda tx: entry_sql.record_head(tx, tenant.id, record_id))
        if found is None:
            raise UnknownEntry(f"no entry {record_id}")
        return found

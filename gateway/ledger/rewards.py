"""Purchase rewards: several pending credits (one per asset) held for one purchase reference in one
transaction, then confirmed or cancelled together, at most once. No rule of how much is rewarded."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .core import MemberRef
from .errors import DuplicateReference, InvalidArgument, UnknownEntry
from .models import Asset, Entry, Kind, Movement, Status, Tenant
from .money import parse_amount
from .movements import MovementOps
from .repo import entries as entry_sql
from .store.base import Tx


class RewardOps(MovementOps):
    async def hold_many(
        self,
        *,
        tenant: Tenant,
        member: MemberRef,
        amounts: Mapping[Asset, Decimal],
        reference: str,
        public_refs: Mapping[Asset, str],
        kind: Kind = Kind.REWARD,
        value: Decimal | None = None,
        origin: str | None = None,
        note: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> list[Movement]:
        """One pending credit per asset, all under one unique `reference`, in one transaction."""
        parsed = {asset: parse_amount(amount) for asset, amount in amounts.items()}
        if not parsed:
            raise InvalidArgument("nothing to hold: no asset has a positive amount")
        if set(public_refs) != set(parsed):
            raise InvalidArgument("every held asset needs its own public reference")

        async def work(tx: Tx) -> list[Movement]:
            if await entry_sql.by_reference(tx, tenant.id, reference, kind):
                raise DuplicateReference(f"reference {reference} has already been used")
            found = await self._member(tx, tenant, member)
            now = self.clock.now()
            moved = []
            for asset in sorted(parsed, key=lambda a: a.value):
                entry, balance = await self._post(
                    tx, tenant, found, asset, parsed[asset], kind=kind, status=Status.PENDING, now=now,
                    reference=reference, note=note, origin=origin, value=value, public_ref=public_refs[asset],
                    data=data,
                )
                moved.append(Movement(entry, balance, found))
            return moved

        return await self._commit(work)

    async def _held(self, tx: Tx, tenant: Tenant, reference: str, kind: Kind) -> list[Entry]:
        found = [e for e in await entry_sql.by_reference(tx, tenant.id, reference, kind) if e.reverses_id is None]
        if not found:
            raise UnknownEntry(f"nothing is held under reference {reference}")
        return found

    async def confirm_reference(self, *, tenant: Tenant, reference: str, kind: Kind = Kind.REWARD) -> list[Movement]:
        """Confirm every pending entry held under `reference`; refused whole if any is already resolved."""

        async def work(tx: Tx) -> list[Movement]:
            now = self.clock.now()
            return [await self._confirm_entry(tx, tenant, e, now) for e in await self._held(tx, tenant, reference, kind)]

        return await self._commit(work)

    async def cancel_reference(
        self, *, tenant: Tenant, reference: str, kind: Kind = Kind.REWARD, note: str | None = None
    ) -> list[Movement]:
        """Cancel every entry held under `reference` (pending: dropped; confirmed: reversed, clamped).
        Refused whole if any was already cancelled."""

        async def work(tx: Tx) -> list[Movement]:
            now = self.clock.now()
            held = await self._held(tx, tenant, reference, kind)
            return [await self._cancel_entry(tx, tenant, e, note, now) for e in held]

        return await self._commit(work)

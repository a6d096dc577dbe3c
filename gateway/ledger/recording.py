"""Recording here what an upstream applied (tx2 of a forwarded write, or its later settlement): the same
entry the local operation would post, marked with the upstream's key and ref, and the account set to
mirror the upstream's balance, and an `upstream.applied` event published in the same transaction (what a
shadow upstream is sent). Works from the plain data kept in the intent, so a restart records alike."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from .clock import from_text
from .errors import AlreadyResolved, LedgerError, UnknownEntry
from .models import AccountBalance, Asset, Idempotency, Intent, Kind, Movement, OrderResult, Outcome, SpendResult, Tenant
from .money import round_down, to_cents
from .movements import MovementOps
from .repo import entries as entry_sql
from .repo import events as event_sql
from .repo import intents as intent_sql
from .repo import orders as order_sql
from .store.base import Tx
from .upstream import Applied, Direction, Forward, Upstream


UNAPPLIED = ("open", "not_applied", "refused", "unsettled")  # what an upstream's "applied" overrides


class Recorder(MovementOps):
    async def _applied(
        self,
        tenant: Tenant,
        port: Upstream | None,
        intent_id: int,
        forward: Forward,
        local: dict[str, Any],
        applied: Applied,
        *,
        idempotency: Idempotency | None = None,
        answered: str | None = "applied",
        settled_by: str | None = None,
        expect: Sequence[str] = UNAPPLIED,
    ) -> Any:
        """tx2: the intent becomes applied and the movement is recorded, once. The upstream's word wins: an
        intent someone else closed as not applied is recorded as applied all the same; one recorded as
        applied already gives its recorded result (only a person settling outside `expect` is told
        AlreadyResolved). The local account is set to the upstream's balance after the write: from the
        answer, else asked once; unknown, it only never goes below 0."""
        target = applied.balance
        if target is None and port is not None:
            try:
                target = await port.balance(forward.member, forward.asset)
            except LedgerError:
                target = None
        if target is not None:
            target = round_down(target)

        async def work(tx: Tx) -> Any:
            now = self.clock.now()
            outcome: dict[str, Any] = {
                "ref": applied.ref, "balance": None if target is None else str(target),
                "points": None if applied.points is None else str(applied.points),
            }
            if not await intent_sql.finish(
                tx, intent_id, state="applied", answered=answered, outcome=outcome, now=now, settled_by=settled_by,
                expect=expect,
            ):
                if expect is not UNAPPLIED:
                    return _Settled
                result = await self._recorded(tx, tenant, intent_id, local)
            else:
                result, moved = await self._record(tx, tenant, local, forward, applied, target, now)
                outcome.update(entry_id=moved.entry.id, posted=str(moved.balance.posted),
                               pending=str(moved.balance.pending))
                await intent_sql.set_outcome(tx, intent_id, outcome)
                await _publish_applied(tx, tenant, intent_id, local, forward, applied, target, moved, now)
            if idempotency is None:
                return result
            response = idempotency.render(result)
            if await event_sql.idempotency_get(tx, tenant.id, idempotency.scope, idempotency.key) is None:
                await event_sql.idempotency_put(
                    tx, tenant.id, idempotency.scope, idempotency.key, idempotency.fingerprint, response, now
                )
            return Outcome(response=response, replayed=False, result=result)

        result = await self._commit(work)
        if result is _Settled:
            raise AlreadyResolved(f"intent {intent_id} was settled meanwhile")
        return result

    async def _recorded(self, tx: Tx, tenant: Tenant, intent_id: int, local: dict[str, Any]) -> Any:
        """What recording an intent another worker recorded as applied returned, rebuilt from the store."""
        found = await intent_sql.get(tx, intent_id)
        if found is None:
            raise UnknownEntry(f"no intent {intent_id}")
        moved = await self._movement_of(tx, tenant, found[0])
        order_id = moved.entry.order_id
        if order_id is not None and (local["op"] == "order" or local.get("order_id") is not None):
            order = await order_sql.get(tx, tenant.id, order_id)
            assert order is not None
            return OrderResult(order, moved)
        if local.get("result") == "spend":
            return SpendResult(moved, abs(moved.entry.amount), Decimal(local["spent"]))
        return moved

    async def _record(
        self, tx: Tx, tenant: Tenant, local: dict[str, Any], forward: Forward, applied: Applied,
        target: Decimal | None, now: datetime,
    ) -> tuple[Any, Movement]:
        op = local["op"]
        member = await self._member(tx, tenant, local["member_id"], include_deleted=True)
        points = forward.points
        if local.get("decided") and applied.points is not None and applied.points > 0:
            points = round_down(applied.points)  # the upstream decides what an order earns
        signed = points if forward.direction is Direction.CREDIT else -points
        if op == "confirm":
            held = await entry_sql.get(tx, tenant.id, local["entry_id"])
            if held is None:
                raise UnknownEntry(f"no entry {local['entry_id']}")
            offset = await _offset(tx, member.id, held.asset, to_cents(held.amount), target)
            moved = await self._confirm_entry(tx, tenant, held, now, offset)
            return moved, moved
        common: dict[str, Any] = {
            "kind": Kind(local["kind"]), "now": now, "reference": local.get("reference"), "note": local.get("note"),
            "origin": local.get("origin"), "public_ref": local.get("public_ref"),
            "value": None if local.get("value") is None else Decimal(local["value"]),
            "occurred_at": None if local.get("occurred_at") is None else from_text(local["occurred_at"]),
            "data": {**(local.get("data") or {}), "upstream": {"key": forward.key, "ref": applied.ref}},
        }
        if op == "revise":
            common["record_id"] = local["record_id"]
            common["record_amount"] = Decimal(local["record_amount"])
        elif op == "order":
            common["order_id"] = await order_sql.insert(
                tx, tenant.id,
                {"reference": local.get("reference"), "member_id": member.id, "value": to_cents(Decimal(local["value"])),
                 "data": local.get("order_data") or {}, "occurred_at": common["occurred_at"]},
                now,
            )
        elif op == "reverse":  # taking back an earlier forwarded credit (a voided order's earning, a reward)
            original = await entry_sql.get(tx, tenant.id, local["reverses_id"])
            if original is None:
                raise UnknownEntry(f"no entry {local['reverses_id']}")
            if local.get("order_id") is not None:
                await order_sql.void(tx, local["order_id"], local.get("note"), now)
            signed = -min(points, original.amount)  # a reversal never takes back more than its original gave
            common.update(order_id=original.order_id, reverses_id=original.id, reference=original.reference,
                          value=original.value)
        offset = await _offset(tx, member.id, forward.asset, to_cents(signed), target)
        entry, balance = await self._post(tx, tenant, member, forward.asset, signed, offset=offset, **common)
        moved = Movement(entry, balance, member)
        if op == "order" or local.get("order_id") is not None:
            if op == "order":
                await order_sql.set_earned(tx, common["order_id"], to_cents(signed))
            order = await order_sql.get(tx, tenant.id, common["order_id"] if op == "order" else local["order_id"])
            assert order is not None
            return OrderResult(order, moved), moved
        if local.get("result") == "spend":
            return SpendResult(moved, points, Decimal(local["spent"])), moved
        return moved, moved

    async def _movement_of(self, tx: Tx, tenant: Tenant, intent: Intent) -> Movement:
        """The movement an applied intent recorded, as its write returned it (for a client's replay)."""
        entry = await entry_sql.get(tx, tenant.id, intent.outcome["entry_id"])
        if entry is None:
            raise UnknownEntry(f"no entry for intent {intent.id}")
        balance = AccountBalance(
            entry.asset, Decimal(intent.outcome["posted"]), Decimal(intent.outcome["pending"]), entry.created_at
        )
        return Movement(entry, balance, await self._member(tx, tenant, entry.member_id, include_deleted=True))


APPLIED_TOPIC = "upstream.applied"  # one per intent the upstream applied, published with its recording


async def _publish_applied(
    tx: Tx, tenant: Tenant, intent_id: int, local: dict[str, Any], forward: Forward, applied: Applied,
    target: Decimal | None, moved: Movement, now: datetime,
) -> None:
    """The movement the upstream applied, as plain data: what a second upstream needs to apply it too.
    `reverses` is the upstream's ref of the movement taken back, `reverses_key` that movement's key."""
    reverses_key = None
    if local["op"] == "reverse":
        original = await entry_sql.get(tx, tenant.id, local["reverses_id"])
        upstream = (original.data or {}).get("upstream") if original is not None else None
        reverses_key = upstream.get("key") if isinstance(upstream, dict) else None
    payload = {
        "intent": intent_id, "key": forward.key, "member_id": int(local["member_id"]),
        "direction": forward.direction.value, "asset": forward.asset.value, "points": str(forward.points),
        "cause": forward.cause.value, "value": None if forward.value is None else str(forward.value),
        "note": forward.note, "reference": forward.reference, "reverses": forward.reverses,
        "reverses_key": reverses_key, "ref": applied.ref, "balance": None if target is None else str(target),
        "entry_id": moved.entry.id,
    }
    await event_sql.publish(tx, tenant.id, APPLIED_TOPIC, moved.entry.id, payload, now)


class _SettledType:
    pass


_Settled = _SettledType()


async def _offset(tx: Tx, member_id: int, asset: Asset, cents: int, target: Decimal | None) -> int:
    """How far posted must move besides `cents` to equal the upstream's balance `target` afterwards
    (never below zero); with no target known, only what keeps it from going below zero."""
    row = await entry_sql.account(tx, member_id, asset)
    posted = row["posted"]
    if target is None:
        return max(0, -(posted + cents))
    return max(to_cents(target), 0) - posted - cents

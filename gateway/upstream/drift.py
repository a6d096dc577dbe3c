"""The drift report of a tenant whose upstream has a shadow: its shadow writes and open intents read from
the ledger, each member's balances read live at the primary and at the shadow (a bounded number at once),
and each member judged by drift_rules. Two looks at the ledger frame the balance reads, so a movement that
settles meanwhile counts as in flight, never as drift. Names no vendor."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..ledger import (Asset, Delivery, Intent, InvalidArgument, Ledger, LedgerError, Member, Tenant, Upstream,
                      UnknownMember)
from .drift_rules import DRIFT, IN_FLIGHT, IN_SYNC, UNREADABLE, MemberDrift, Movement, Pending, judge, overall
from .ports import Ports
from .shadow import CHANNEL, CONSUMER, TOPIC, label_of, shadow_member_ref

PAGE_DEFAULT, PAGE_MAX = 100, 1000  # members per report page
READS_AT_ONCE = 16  # members whose balances are being read at the same time (two reads each)
OPEN = ("open", "unsettled")  # intents whose outcome at the primary is not known yet
EVERY_INTENT = 100_000
UNSENT_SCAN = 10_000  # applied movements not yet taken up by the shadow sender, read per look
DIFFERS = ("refused", "failed", "unclear")  # outcomes of a write the shadow did not (surely) apply


def _outcome(state: str, said: str | None) -> str:
    """A shadow write's outcome from its state and the state the shadow answered (as Movement.outcome)."""
    if state == "pending":
        return "pending"
    if said:
        return said
    return "applied" if state == "delivered" else state


@dataclass(frozen=True)
class Lag:
    pending: int
    oldest_pending_at: datetime | None
    seconds: float  # the age of the oldest pending shadow write (0: none pending, as GET /__admin/upstream says)


@dataclass(frozen=True)
class DriftReport:
    tenant: str
    primary: str  # what the ports call themselves ("the <dialect> upstream at <url>")
    shadow: str
    taken_at: datetime
    verdict: str
    lag: Lag
    totals: Mapping[str, int]  # the tenant's shadow writes by outcome, its members, and the page's verdicts
    offset: int
    limit: int
    matched: int  # members the page is taken from (with any shadow write, or those asked for)
    next_offset: int | None  # where the next page starts (None: this is the last)
    members: tuple[MemberDrift, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Look:
    """One look at the ledger: the page's members' shadow writes by key, and the tenant's open intents by key."""

    movements: dict[str, Movement]
    intents: dict[str, Intent]
    unsent: tuple[Movement, ...] = ()  # applied at the primary, not yet taken up by the shadow sender


def unshadowed(ports: Ports, tenant: Tenant) -> str | None:
    """Why the tenant has no drift to report (None when it has a primary and a shadow)."""
    if ports.resolve(tenant) is None:
        return f"tenant {tenant.name} keeps its points here: it has no upstream, so no shadow to compare with"
    if ports.resolve_shadow(tenant) is None:
        return (f"tenant {tenant.name} has no shadow: declare upstream.shadow (dialect, base_url, credentials) "
                "to send its movements to a second upstream and compare")
    return None


async def report(ledger: Ledger, ports: Ports, tenant: Tenant, *, offset: int = 0, limit: int = PAGE_DEFAULT,
                 members: Sequence[int] = ()) -> DriftReport:
    """One page of the tenant's drift report (unshadowed must have said None). `members`: only those
    members (by id), whether or not they have shadow writes; UnknownMember for one not in the tenant."""
    primary, shadow = ports.resolve(tenant), ports.resolve_shadow(tenant)
    if primary is None or shadow is None:
        raise InvalidArgument(unshadowed(ports, tenant) or "no shadow")
    if members:
        chosen, with_writes = sorted(set(members)), len(set(members))
    else:
        labels, with_writes = await ledger.delivery_labels(tenant=tenant, channel=CHANNEL, offset=offset, limit=limit)
        chosen = sorted({_member_of(label) for label in labels} - {None})  # type: ignore[arg-type]
    found = [await ledger.find_member(tenant=tenant, member=member_id) for member_id in chosen]
    before = await _look(ledger, tenant, chosen)
    gate = asyncio.Semaphore(READS_AT_ONCE)
    reads = await asyncio.gather(*(_read_both(gate, primary, shadow, m) for m in found))
    after = await _look(ledger, tenant, chosen)
    judged = tuple(_judge(m, read, before, after) for m, read in zip(found, reads, strict=True))
    counts = await ledger.delivery_counts(tenant=tenant, channel=CHANNEL)
    taken_at = ledger.clock.now()
    oldest = counts.get("oldest_pending_at")
    unsent = after.unsent
    oldest = min([at for at in [oldest, *(m.at for m in unsent)] if at is not None], default=None)
    lag = Lag(int(counts.get("pending", 0)) + len(unsent), oldest,
              0.0 if oldest is None else max(0.0, (taken_at - oldest).total_seconds()))
    totals = await _totals(ledger, tenant, after, judged)
    verdict = overall([m.verdict for m in judged], differing=totals["differing"],
                      pending=lag.pending + totals["open_at_primary"])
    matched = with_writes
    following = None if members or offset + limit >= matched else offset + limit
    return DriftReport(tenant.name, primary.name, shadow.name, taken_at, verdict, lag, totals, offset, limit,
                       matched, following, judged)


def _member_of(label: str) -> int | None:
    """The member a shadow write's label names (None for a label this gateway never wrote)."""
    number = label.rpartition("-")[2]
    return int(number) if number.isdigit() and label == label_of(int(number)) else None


async def _look(ledger: Ledger, tenant: Tenant, chosen: Sequence[int]) -> _Look:
    movements: dict[str, Movement] = {}
    writes = await ledger.deliveries_of_labels(tenant=tenant, channel=CHANNEL, labels=[label_of(m) for m in chosen])
    for delivery in writes:
        movement = movement_of(delivery)
        if movement is not None:
            movements[movement.key] = movement
    intents = await ledger.intents(tenant=tenant, states=OPEN, limit=EVERY_INTENT)
    # A movement the primary applied whose event the sender has not taken up yet (it wakes every half
    # second, and a round waits for its slowest send) is on its way to the shadow too: pending, not drift.
    _, events = await ledger.events_for(consumer=CONSUMER, tenant=tenant, limit=UNSENT_SCAN)
    unsent = []
    for event in events:
        movement = None if event.topic != TOPIC else _movement(event.payload, state="pending", at=event.created_at)
        if movement is not None and movement.key not in movements:
            unsent.append(movement)
            if movement.member_id in chosen:
                movements[movement.key] = movement
    return _Look(movements, {i.key: i for i in intents}, tuple(unsent))


def movement_of(delivery: Delivery) -> Movement | None:
    """The movement a shadow write carries (its body is the applied event's payload); None for a body that
    is not one (never written by this gateway)."""
    try:
        body = json.loads(delivery.body)
    except ValueError:
        return None
    return _movement(body, state=delivery.state, at=delivery.created_at, attempts=delivery.attempts,
                     shadow=delivery.outcome, key=delivery.key)


def _movement(body: Any, *, state: str, at: datetime, attempts: int = 0, shadow: Mapping[str, Any] | None = None,
              key: str | None = None) -> Movement | None:
    """The movement an applied event's payload describes (a shadow write's body is that payload)."""
    try:
        return Movement(
            key=key or str(body["key"]), intent=body.get("intent"), member_id=int(body["member_id"]),
            direction=str(body["direction"]), asset=Asset(body["asset"]), points=Decimal(str(body["points"])),
            cause=str(body.get("cause") or ""), reference=body.get("reference"), primary_ref=body.get("ref"),
            at=at, state=state, attempts=attempts, shadow=shadow,
        )
    except (ValueError, KeyError, TypeError, ArithmeticError, AttributeError):
        return None


@dataclass(frozen=True)
class _Read:
    primary_id: str
    shadow_id: str
    primary: Mapping[Asset, Decimal] | None
    shadow: Mapping[Asset, Decimal] | None
    unreadable: dict[str, str]
    missing_at_shadow: str | None  # why the shadow does not know the member (None: it does)


async def _read_both(gate: asyncio.Semaphore, primary: Upstream, shadow: Upstream, member: Member) -> _Read:
    primary_id, shadow_id = primary.member_ref(member), shadow_member_ref(shadow, member)
    async with gate:
        at_primary, at_shadow = await asyncio.gather(
            _balances(primary, primary_id), _balances(shadow, shadow_id))
    unreadable = {side: why for side, (_, why) in (("primary", at_primary), ("shadow", at_shadow)) if why}
    missing = at_shadow[1] if isinstance(at_shadow[1], _Missing) else None
    if missing is not None:
        unreadable.pop("shadow")
    return _Read(primary_id, shadow_id, at_primary[0], at_shadow[0], unreadable, missing)


class _Missing(str):
    """Why a balance could not be read, when the reason is that the upstream does not know the member."""


async def _balances(port: Upstream, ref: str) -> tuple[Mapping[Asset, Decimal] | None, str | None]:
    try:
        return await port.balances(ref), None
    except UnknownMember as exc:
        return None, _Missing(exc.message)
    except LedgerError as exc:
        return None, exc.message


def _judge(member: Member, read: _Read, before: _Look, after: _Look) -> MemberDrift:
    mine = [m for m in after.movements.values() if m.member_id == member.id]
    in_flight: list[Pending] = []
    for movement in mine:
        earlier = before.movements.get(movement.key)
        if movement.state == "pending":
            in_flight.append(_pending(movement, settled=False))
        elif movement.outcome == "applied" and (earlier is None or earlier.state != movement.state):
            in_flight.append(_pending(movement, settled=True))  # it reached the shadow while the balances were read
    for key in sorted(before.intents.keys() | after.intents.keys()):
        intent = after.intents.get(key) or before.intents[key]
        if intent.member_id == member.id and key not in after.movements:
            in_flight.append(Pending(key, "primary", intent.state if key in after.intents else "settled",
                                     intent.member_id, intent.direction.value, intent.asset, intent.points,
                                     intent.created_at, settled_while_read=key not in after.intents))
    return judge(member_id=member.id, primary_id=read.primary_id, shadow_id=read.shadow_id, primary=read.primary,
                 shadow=read.shadow, movements=sorted(mine, key=lambda m: (m.at, m.intent or 0, m.key)),
                 in_flight=sorted(in_flight, key=lambda p: (p.since, p.key)), unreadable=read.unreadable,
                 missing_at_shadow=read.missing_at_shadow)


def _pending(movement: Movement, *, settled: bool) -> Pending:
    return Pending(movement.key, "shadow", movement.state if not settled else "delivered", movement.member_id,
                   movement.direction, movement.asset, movement.points, movement.at, movement.attempts,
                   settled_while_read=settled)


async def _totals(ledger: Ledger, tenant: Tenant, look: _Look, judged: Sequence[MemberDrift]) -> dict[str, int]:
    """The tenant's shadow writes counted by outcome in the database (never read one by one)."""
    tally = await ledger.delivery_tally(tenant=tenant, channel=CHANNEL, answer_field="state", differing=DIFFERS)
    by_outcome = {name: 0 for name in ("applied", "pending", "refused", "failed", "unclear")}
    for (state, said), n in tally["counts"].items():
        outcome = _outcome(state, said)
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
    by_outcome["pending"] += len(look.unsent)  # applied at the primary, not yet taken up by the shadow sender
    totals = {
        "members": (await ledger.delivery_labels(tenant=tenant, channel=CHANNEL, offset=0, limit=1))[1],
        "members_differing": tally["labels_differing"],
        "movements": sum(tally["counts"].values()) + len(look.unsent),
        **{name: by_outcome[name] for name in ("applied", "pending", "refused", "failed", "unclear")},
        "differing": sum(by_outcome[name] for name in DIFFERS),
        "open_at_primary": len(look.intents),
    }
    verdicts = [m.verdict for m in judged]
    totals.update({f"page_{v}": verdicts.count(v) for v in (IN_SYNC, IN_FLIGHT, DRIFT, UNREADABLE)})
    return totals

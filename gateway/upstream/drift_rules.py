"""How one member's drift between a primary upstream and its shadow is judged, from facts already gathered
(balances read at both, the shadow writes and the primary's open intents): in sync, in flight (noise),
drift or unreadable. Pure: no I/O, no vendor words; money in Decimal."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..ledger import Asset

IN_SYNC, IN_FLIGHT, DRIFT, UNREADABLE = "in_sync", "in_flight", "drift", "unreadable"
# The overall verdict is the worst found, in this order: drift outweighs everything, an unread balance
# leaves the rest unproven, a movement in flight only delays the answer.
SEVERITY = (DRIFT, UNREADABLE, IN_FLIGHT, IN_SYNC)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Movement:
    """One movement the primary applied, as the shadow write carries it; `shadow` is what became of it at
    the shadow (the write's recorded outcome; None while none is recorded)."""

    key: str
    intent: int | None
    member_id: int
    direction: str  # "credit" | "debit"
    asset: Asset
    points: Decimal
    cause: str
    reference: str | None
    primary_ref: str | None
    at: datetime
    state: str  # the shadow write's state: pending, delivered, refused, failed
    attempts: int = 0
    shadow: Mapping[str, Any] | None = None

    @property
    def signed(self) -> Decimal:
        """What it adds to the primary's balance and not (yet) to the shadow's."""
        return self.points if self.direction == "credit" else -self.points

    @property
    def outcome(self) -> str:
        """applied | refused | unclear | failed | pending: what the shadow did with it."""
        if self.state == "pending":
            return "pending"
        recorded = (self.shadow or {}).get("state")
        if isinstance(recorded, str) and recorded:
            return recorded
        return "applied" if self.state == "delivered" else self.state

    @property
    def differs(self) -> bool:
        """The primary applied it and the shadow did not (refused), or may not have (failed, unclear)."""
        return self.outcome in ("refused", "failed", "unclear")


@dataclass(frozen=True)
class Pending:
    """A movement whose outcome is not known yet: a shadow write still pending, or an intent still open at
    the primary (applied there or not). `settled_while_read`: it was settled between the two looks at the
    ledger that frame the balance reads, so either balance may or may not include it."""

    key: str
    where: str  # "shadow" | "primary"
    state: str
    member_id: int
    direction: str
    asset: Asset
    points: Decimal
    since: datetime
    attempts: int = 0
    settled_while_read: bool = False

    @property
    def signed(self) -> Decimal:
        return self.points if self.direction == "credit" else -self.points


@dataclass(frozen=True)
class AssetBalance:
    """One asset at both upstreams. `explained`: what the differing movements account for; `in_flight_low`
    and `in_flight_high`: the least and most that what is in flight can still account for; `unexplained`:
    the part of the difference outside both (zero when in flight covers it)."""

    asset: Asset
    primary: Decimal
    shadow: Decimal | None  # None: the shadow's balance was not read (the member unknown there, or no answer)
    difference: Decimal | None
    explained: Decimal
    in_flight_low: Decimal
    in_flight_high: Decimal
    unexplained: Decimal | None


@dataclass(frozen=True)
class MemberDrift:
    member_id: int
    primary_id: str
    shadow_id: str
    verdict: str
    reasons: tuple[str, ...]
    balances: tuple[AssetBalance, ...]
    differing: tuple[Movement, ...]
    in_flight: tuple[Pending, ...]
    unreadable: Mapping[str, str] = field(default_factory=dict)  # side -> why its balance could not be read
    missing_at_shadow: bool = False


def judge(
    *, member_id: int, primary_id: str, shadow_id: str,
    primary: Mapping[Asset, Decimal] | None, shadow: Mapping[Asset, Decimal] | None,
    movements: Sequence[Movement], in_flight: Sequence[Pending],
    unreadable: Mapping[str, str] | None = None, missing_at_shadow: str | None = None,
) -> MemberDrift:
    """The member's verdict. Drift: a movement the shadow refused, failed or left unclear; the member
    unknown at the shadow; or a difference that neither those nor everything in flight can account for.
    In flight: no drift, but something is still pending or the difference is one in-flight movements
    account for. Unreadable: a balance could not be read (and no drift is known). In sync: otherwise.
    `missing_at_shadow`: why the shadow does not know the member (None: it does); the primary's balances are
    shown all the same, the shadow's as None."""
    differing = tuple(m for m in movements if m.differs)
    unread = dict(unreadable or {})
    balances = _balances(primary, shadow, differing, in_flight) if primary is not None else ()
    reasons = []
    if missing_at_shadow is not None:
        reasons.append(f"member {shadow_id} is unknown at the shadow ({missing_at_shadow})")
    for outcome in ("refused", "failed", "unclear"):
        count = sum(1 for m in differing if m.outcome == outcome)
        if count:
            reasons.append(f"{count} movement{'s' if count != 1 else ''} {outcome} at the shadow")
    for b in balances:
        if b.unexplained is not None and b.unexplained != 0:
            reasons.append(f"{b.asset.value} differ by {b.difference} ({b.unexplained} beyond what the movements account for)")
    if reasons:
        verdict = DRIFT
    elif unread:
        verdict = UNREADABLE
        reasons = [f"the {side} balance could not be read: {why}" for side, why in sorted(unread.items())]
    elif in_flight or any(b.difference for b in balances):
        verdict = IN_FLIGHT
        reasons = [_in_flight_reason(in_flight)]
    else:
        verdict = IN_SYNC
    return MemberDrift(member_id, primary_id, shadow_id, verdict, tuple(reasons), balances, differing,
                       tuple(in_flight), unread, missing_at_shadow is not None)


def _in_flight_reason(in_flight: Sequence[Pending]) -> str:
    still = sum(1 for p in in_flight if not p.settled_while_read)
    settled = len(in_flight) - still
    parts = [f"{still} movement{'s' if still != 1 else ''} in flight"] if still else []
    if settled:
        parts.append(f"{settled} settled while the balances were read")
    return "; ".join(parts) or "in flight"


def _balances(primary: Mapping[Asset, Decimal], shadow: Mapping[Asset, Decimal] | None,
              differing: Sequence[Movement], in_flight: Sequence[Pending]) -> tuple[AssetBalance, ...]:
    touched = {m.asset for m in differing} | {p.asset for p in in_flight}
    there = shadow or {}
    assets = [a for a in Asset if a == Asset.POINTS or a in touched or primary.get(a, 0) or there.get(a, 0)]
    out = []
    for asset in assets:
        at_primary = _money(primary.get(asset))
        at_shadow = None if shadow is None else _money(shadow.get(asset))
        # A refusal surely left the shadow without the movement; a failed or unclear write may or may not
        # have reached it, so it widens the range like a movement in flight.
        explained = sum((m.signed for m in differing if m.asset == asset and m.outcome == "refused"), ZERO)
        uncertain = [m.signed for m in differing if m.asset == asset and m.outcome != "refused"]
        uncertain += [p.signed for p in in_flight if p.asset == asset]
        low = sum((s for s in uncertain if s < 0), ZERO)
        high = sum((s for s in uncertain if s > 0), ZERO)
        if at_shadow is None:
            out.append(AssetBalance(asset, at_primary, None, None, explained, low, high, None))
            continue
        difference = at_primary - at_shadow
        rest = difference - explained
        unexplained = rest - high if rest > high else rest - low if rest < low else ZERO
        out.append(AssetBalance(asset, at_primary, at_shadow, difference, explained, low, high, _money(unexplained)))
    return tuple(out)


def _money(value: Decimal | int | None) -> Decimal:
    return Decimal(value or 0).quantize(ZERO)


def overall(verdicts: Sequence[str], *, differing: int = 0, pending: int = 0) -> str:
    """The report's verdict: the worst of the members', a differing movement anywhere in the tenant makes it
    drift, anything pending anywhere keeps it from being in sync."""
    found = set(verdicts)
    if differing:
        found.add(DRIFT)
    if pending:
        found.add(IN_FLIGHT)
    return next((v for v in SEVERITY if v in found), IN_SYNC)

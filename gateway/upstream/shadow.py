"""Shadow runs: every write a tenant's primary upstream applied is sent to its shadow upstream too, through
the outbox (an `upstream.applied` event becomes a delivery on the shadow channel, claimed in order per
member). A batch's lease is renewed while its sends and settles run, so a slow vendor's call never lets
another instance take a write over mid-call (see ShadowSender). The names below are stored as data: never
rename them. Names no vendor.

Limit: the order per member is the order the primary's outcomes were RECORDED (the events' order), which is
the order the primary applied them except when an intent settles late: a credit A left open (its answer lost),
then a debit B of the same member applied and recorded, then A settled as applied reaches the shadow after B.
Holding B back while A is open would not help (A's event still comes after B's once recorded); the queue
would have to order by the intents' own order. So a shadow may see such a pair swapped: the same sum, but a
debit it refuses for want of points that the primary took (the drift report shows it as a refusal)."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from decimal import Decimal
from typing import Any

from ..ledger import (
    APPLIED_TOPIC,
    Asset,
    Cause,
    Delivery,
    Direction,
    Event,
    Forward,
    Ledger,
    LedgerError,
    Member,
    NewDelivery,
    SentAttempt,
    Tenant,
    UnknownMember,
    Upstream,
    UpstreamCannotExpress,
    UpstreamError,
)
from .declaration import SECTION, SHADOW
from .ports import Ports

log = logging.getLogger("gateway.upstream.shadow")

CONSUMER = "upstream-shadow"  # the outbox cursor of the shadow sender
CHANNEL = "upstream-shadow"  # the deliveries' channel
TOPIC = APPLIED_TOPIC  # the outbox event a shadow write is made from ("upstream.applied")
MEMBER_GONE = "shadow_member_gone"  # a write refused because its member is no longer here (not the shadow's refusal)


def label_of(member_id: int) -> str:
    """A shadow delivery's label: one member's writes are claimed in order, one at a time."""
    return f"member-{member_id}"


def declares_shadow(tenant: Tenant) -> bool:
    return bool(tenant.section(SECTION).get(SHADOW))


def shadow_member_ref(port: Upstream, member: Member) -> str:
    """The identity the shadow's kind of API names the member by. member.upstream_ref is the PRIMARY's
    identity, so it is cleared first: the shadow knows the member by the shadow dialect's own identity."""
    return port.member_ref(dataclasses.replace(member, upstream_ref=None))


SHADOW_BATCH = 64  # deliveries claimed (and sent concurrently, at most one per member) per round
EVENTS_PER_READ = 500
IDLE_SECONDS = 0.5  # how soon a new applied write is looked at; the client's answer never waits on it
LEASE_TIMEOUTS = 6  # a claimed delivery is leased for this many upstream timeouts (a settle, a wait, a send)
RECORD_TRIES = 5  # a batch of outcomes not recorded is written again this many times before it is left to the lease


class ShadowSender:
    """The background task that carries applied writes to the tenants' shadows: a consumer over the outbox
    (an `upstream.applied` event of a tenant declaring a shadow at that moment becomes a delivery, keyed by
    the write's own key, labelled by member), then rounds of in-order claims, each delivery sent through
    the shadow's port and its outcome recorded with the batch. A crash loses nothing: a claimed delivery
    whose outcome was not recorded is claimed again when its lease runs out, and asked about before it is
    sent again (or, at a shadow that cannot be asked, recorded as unclear). While a batch is being sent its
    lease is renewed (every third of it), so a slow settle or send never lets another instance take the
    write over mid-call: a key makes a resend harmless at a keyed vendor, but at one without keys a second
    send racing the first would apply it twice, and settling first cannot see a send still in flight."""

    def __init__(self, ledger: Ledger, ports: Ports, *, retry_base_seconds: float, max_attempts: int,
                 timeout_seconds: float, batch: int = SHADOW_BATCH) -> None:
        self.ledger = ledger
        self.ports = ports
        self.retry_base_seconds = retry_base_seconds
        self.max_attempts = max_attempts
        self.lease_seconds = max(1.0, timeout_seconds * LEASE_TIMEOUTS)
        self.batch = max(1, batch)
        self._tenants: dict[int, Tenant] = {}

    async def run(self) -> None:
        while True:
            sent = 0
            try:
                sent = await self.round()
            except LedgerError as exc:
                log.warning("shadow writes paused: %s", exc.message)
            except Exception:
                log.exception("shadow writes failed; trying again")
            if sent == 0:  # after a send, a member's next write may be due at once (one per member a round)
                await asyncio.sleep(IDLE_SECONDS)

    async def round(self) -> int:
        """Enqueue new applied writes, claim the due ones, send them and record their outcomes; how many
        were sent. The cursor moves over every tenant's events, so a shadow declared later is sent only
        what is applied from then on. While no tenant declares a shadow a round only reads where the cursor
        and the outbox stand, and moves the cursor (a plain small write) only when events came meanwhile."""
        self._tenants = {t.id: t for t in await self.ledger.tenants()}  # the ledger's cache: at most a second old
        if not any(declares_shadow(t) for t in self._tenants.values()) and not await self._skip_events():
            return 0
        due = await self.pump()
        if not due:
            due = await self.ledger.claim_deliveries(limit=self.batch, lease_seconds=self.lease_seconds,
                                                     channel=CHANNEL, in_order=True)
        if not due:
            return 0
        renewer = asyncio.ensure_future(self._keep_leased(due))
        try:
            attempts = await asyncio.gather(*(self._attempt(d) for d in due))
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
        await self._record(list(attempts), due)
        return len(due)

    async def _keep_leased(self, due: list[Delivery]) -> None:
        """Renew the batch's lease every third of it while its sends and settles run: a slow vendor's call
        may outlast it, and another instance must not take a write over while it is still being carried
        out (at a vendor without keys, a second send while the first is in flight would apply it twice)."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.ledger.renew_delivery_leases(deliveries=due, lease_seconds=self.lease_seconds)
            except LedgerError as exc:  # the next renewal tries again; the lease still has two thirds left
                log.warning("shadow write leases not renewed: %s", exc.message)

    async def pump(self) -> list[Delivery]:
        """Turn the events after this consumer's cursor into deliveries and claim up to a batch in the same
        transaction (see Deliverer.pump for why `seen` keeps the cursor behind a late commit)."""
        claimed: list[Delivery] = []
        while True:
            after, events = await self.ledger.events_for(consumer=CONSUMER, limit=EVENTS_PER_READ)
            if not events:
                return claimed
            items = [item for item in map(self._delivery_for, events) if item is not None]
            position, due = await self.ledger.enqueue_and_claim(
                consumer=CONSUMER, upto=events[-1].id, items=items, after=after, seen=[e.id for e in events],
                limit=self.batch - len(claimed), lease_seconds=self.lease_seconds, channel=CHANNEL, in_order=True,
            )
            claimed.extend(due)
            if position < events[-1].id and position == after:
                return claimed  # an event below the read ones committed late: read again next round
            if len(events) < EVENTS_PER_READ or len(claimed) >= self.batch:
                return claimed

    def _delivery_for(self, event: Event) -> NewDelivery | None:
        tenant = self._tenants.get(event.tenant_id)
        if event.topic != TOPIC or tenant is None or not declares_shadow(tenant):
            return None
        shadow = tenant.section(SECTION)[SHADOW]
        payload = dict(event.payload)
        return NewDelivery(tenant.id, event.id, CHANNEL, label_of(int(payload["member_id"])), str(shadow["base_url"]),
                           str(payload["key"]), json.dumps(payload, sort_keys=True, default=str))

    async def _skip_events(self) -> bool:
        """No tenant declares a shadow: the events so far are none of a shadow's business (a shadow declared
        later is sent only what is applied from then on), so the cursor passes them without reading them.
        Whether writes are still due all the same (of a shadow dropped since: the round refuses them)."""
        cursor, newest, due = await self.ledger.consumer_lag(consumer=CONSUMER, channel=CHANNEL)
        if newest > cursor:
            await self.ledger.enqueue_deliveries(consumer=CONSUMER, upto=newest, items=[])
        return due

    async def _attempt(self, delivery: Delivery) -> SentAttempt:
        try:
            return await send(self.ledger, self.ports, self._tenants.get(delivery.tenant_id), delivery,
                              last_try=delivery.attempts + 1 >= self.max_attempts)
        except Exception as exc:  # a bug here must not stop the others: retried like transport trouble
            log.exception("shadow write %s could not be sent", delivery.key)
            return SentAttempt(delivery.id, delivery.claim, False, error=f"{type(exc).__name__}")

    async def _record(self, attempts: list[SentAttempt], due: list[Delivery]) -> None:
        for tries in range(RECORD_TRIES):
            try:
                recorded = await self.ledger.record_attempts(
                    attempts=attempts, retry_base_seconds=self.retry_base_seconds, max_attempts=self.max_attempts)
                break
            except LedgerError as exc:
                if tries == RECORD_TRIES - 1:
                    log.warning("shadow outcomes not recorded (%s); those writes are asked about again", exc.message)
                    return
                await asyncio.sleep(IDLE_SECONDS * 2**tries)
        for attempt, delivery, done in zip(attempts, due, recorded):
            if not done:
                log.warning("shadow write %s outlived its lease; its outcome is not recorded", delivery.key)
            elif attempt.outcome is not None and attempt.outcome.get("state") in ("refused", "unclear", "failed"):
                tenant = self._tenants.get(delivery.tenant_id)
                log.warning("tenant %s: shadow write %s for member %s %s: %s: %s",
                            tenant.name if tenant else delivery.tenant_id, delivery.key,
                            attempt.outcome.get("shadow_member"), attempt.outcome["state"],
                            attempt.outcome.get("code"), attempt.outcome.get("message"))


async def send(ledger: Ledger, ports: Ports, tenant: Tenant | None, delivery: Delivery, *, last_try: bool) -> SentAttempt:
    """One attempt of one shadow write, as the attempt to record: applied, refused (for good), unclear (for
    good: the shadow cannot be asked whether an earlier attempt applied), or to be tried again."""
    def final(state: str, code: str, message: str, member: str | None) -> SentAttempt:
        outcome = {"state": state, "code": code, "message": message, "shadow_member": member, "claim": delivery.claim}
        return SentAttempt(delivery.id, delivery.claim, False, error=f"{code}: {message}", outcome=outcome, final=True)

    port = ports.resolve_shadow(tenant) if tenant is not None else None
    if tenant is None or port is None:
        return final("refused", "shadow_not_declared", "the tenant declares no shadow upstream any more", None)
    payload = json.loads(delivery.body, parse_float=Decimal)
    try:
        member = await ledger.find_member(tenant=tenant, member=int(payload["member_id"]))
    except UnknownMember:  # not the shadow's doing: told apart from its refusals
        return final("refused", MEMBER_GONE, f"member {payload['member_id']} was deleted here since the primary"
                     " applied this write; the shadow was not sent it", None)
    except LedgerError as exc:
        return final("refused", exc.code, exc.message, None)
    ref = shadow_member_ref(port, member)
    reverses = None
    if payload.get("reverses") is not None or payload.get("reverses_key") is not None:
        reverses = await _original_ref(ledger, tenant, payload.get("reverses_key"))
        if reverses is None:
            return final("refused", "shadow_original_missing",
                         "the movement this one takes back was not applied at the shadow", ref)
    forward = _forward(payload, ref, reverses)
    before = delivery.outcome or {}
    # Claimed before: an attempt went out that may have applied, or a worker died mid-send. A shadow that can
    # be asked is asked first whenever so (a retry is rare, a write applied twice is drift); one that cannot
    # is sent again only when the earlier claim recorded its attempt (every outcome names its claim) and that
    # attempt was surely not sent: a claim that left no record may have applied before its worker died.
    reclaimed = delivery.earlier_claim is not None
    unrecorded = before.get("claim") != delivery.earlier_claim
    unclear = reclaimed and (unrecorded or bool(before.get("sent")))
    try:
        applied = None
        if reclaimed and port.settles:
            try:
                applied = await port.settle(forward)
            except UpstreamCannotExpress as exc:
                return final("unclear", exc.code, exc.message, ref)
            unclear = False  # asked: not applied, so sending it now applies it once
        elif unclear:
            return final("unclear", "shadow_unclear", f"an earlier attempt may have applied, and {port.name}"
                         " cannot be asked whether it did", ref)
        if applied is None:
            applied = await port.apply(forward)
    except UpstreamError as exc:  # transport trouble: tried again later, unless this was the last try
        outcome = {"state": "failed" if last_try else "retrying", "code": exc.code, "message": exc.message,
                   "shadow_member": ref, "sent": unclear or exc.sent, "claim": delivery.claim}
        return SentAttempt(delivery.id, delivery.claim, False, error=f"{exc.code}: {exc.message}", outcome=outcome)
    except LedgerError as exc:  # the shadow said no (a member missing there, a smaller balance, ...)
        return final("refused", exc.code, exc.message, ref)
    balance = None if applied.balance is None else str(applied.balance)
    outcome = {"state": "applied", "ref": applied.ref, "balance": balance, "shadow_member": ref, "claim": delivery.claim}
    return SentAttempt(delivery.id, delivery.claim, True, status=None, outcome=outcome)


async def _original_ref(ledger: Ledger, tenant: Tenant, key: str | None) -> str | None:
    """The shadow's own ref of the movement a write takes back, if that movement was applied there."""
    if not key:
        return None
    original = await ledger.delivery_by_key(tenant=tenant, channel=CHANNEL, key=key)
    outcome = original.outcome if original is not None else None
    if not outcome or outcome.get("state") != "applied" or not outcome.get("ref"):
        return None
    return str(outcome["ref"])


def _forward(payload: dict[str, Any], member: str, reverses: str | None) -> Forward:
    value = payload.get("value")
    return Forward(
        key=str(payload["key"]), member=member, direction=Direction(payload["direction"]), asset=Asset(payload["asset"]),
        points=Decimal(payload["points"]), cause=Cause(payload["cause"]),
        value=None if value is None else Decimal(value), note=payload.get("note"), reference=payload.get("reference"),
        reverses=reverses,
    )

"""Forwarding a write to a tenant's upstream exactly once: the intent written before the call (tx1), the
port called outside any transaction, the outcome written after (tx2); unclear outcomes settled by asking
the port, or listed for a person. The port carries the call; nothing here knows a transport or vendor."""
from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from .errors import IdempotencyConflict, IdempotencyInFlight, LedgerError
from .models import Asset, Idempotency, Member, Outcome, Tenant
from .money import to_cents
from .claims import Hold, answered, surely_not_applied
from .settling import Settling
from .repo import events as event_sql
from .repo import intents as intent_sql
from .store.base import Tx
from .upstream import (
    Applied,
    Cause,
    Direction,
    Forward,
    Upstream,
    UpstreamCannotExpress,
    UpstreamError,
    UpstreamUnavailable,
)

READY_WAIT = 3.0  # seconds a write waits for its tenant's open intents to be settled after a start
BACKOFF = (0.05, 0.2, 0.5, 1.0)  # between attempts to learn an unclear outcome (then 1 s each)


@dataclass(frozen=True)
class Plan:
    """What tx1 decided: the write to send, and how to record it here once the upstream applied it
    (`local`: plain data, kept in the intent, so a settlement after a restart records it the same way)."""

    member: Member
    member_ref: str
    direction: Direction
    asset: Asset
    points: Decimal
    cause: Cause
    local: dict[str, Any]
    value: Decimal | None = None
    note: str | None = None
    reference: str | None = None
    reverses: str | None = None


class _Here:
    """What `prepare` returns when there is nothing to send (no points move): the caller runs the local
    operation instead, which checks everything again in its own transaction."""


HERE = _Here()


@dataclass
class _Begun:
    kind: str  # replay | local (HERE) | settle | intent
    value: Any = None
    intent_id: int = 0
    forward: Forward | None = None
    plan: Plan | None = field(default=None)
    hold: Hold | None = None


class ForwardOps(Settling):
    # -- binding and readiness ----------------------------------------------------------------------

    def bind_upstreams(self, resolve: Callable[[Tenant], Upstream | None], *, settle_budget: float = 10.0) -> None:
        """Hand the ledger the function giving a tenant's upstream port (None: the tenant's points are
        kept here). `settle_budget`: seconds a request may spend learning an unclear outcome before the
        client is answered "unavailable" (about twice the upstream timeout)."""
        self._resolve = resolve
        self._settle_budget = settle_budget

    def upstream_ready(self, tenant: Tenant) -> bool:
        """Whether the tenant's open intents were settled once since this ledger started."""
        return tenant.id in self._ready

    def mark_ready(self, tenant: Tenant) -> None:
        self._ready.add(tenant.id)

    async def _await_ready(self, tenant: Tenant, port: Upstream) -> None:
        """A tenant takes new forwarded writes only once its open intents were settled after a start: the
        first write starts that settling (shared by every write waiting) and waits a few seconds for it."""
        if tenant.id in self._ready:
            return
        task = self._readying.get(tenant.id)
        if task is None or task.done():
            task = asyncio.ensure_future(self.settle_open(tenant=tenant))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # a failure is the waiters' to see
            self._readying[tenant.id] = task
        try:
            await asyncio.wait_for(asyncio.shield(task), READY_WAIT)
        except (TimeoutError, UpstreamError):
            raise UpstreamUnavailable(
                f"{port.name} has writes from before a restart still being settled; try again shortly", sent=False
            ) from None
        if tenant.id not in self._ready:  # the settling failed (the store, say): its error was logged by the task
            raise UpstreamUnavailable(f"{port.name} is not ready for writes yet; try again shortly", sent=False)

    # -- the flow of one forwarded write ----------------------------------------------------------------

    async def _forward(
        self,
        tenant: Tenant,
        port: Upstream,
        prepare: Callable[[Tx], Awaitable[Plan | _Here]],
        idempotency: Idempotency | None = None,
    ) -> Any:
        """Run one forwarded write: tx1 (`prepare` resolves and checks, the intent is written), the call,
        tx2 (the outcome). With `idempotency`, the client's key is honoured as for local writes. Returns
        HERE when `prepare` found nothing to send: the caller then runs the write locally."""
        await self._await_ready(tenant, port)
        slot = None if idempotency is None else (tenant.id, idempotency.scope, idempotency.key)
        if slot is not None:
            if slot in self._inflight:
                raise IdempotencyInFlight("a request with this idempotency key is still in flight")
            self._inflight.add(slot)
        try:
            for _ in range(3):
                begun = await self._begin_once(tenant, port, prepare, idempotency)
                if begun.kind in ("replay", "local"):
                    return begun.value
                if begun.kind == "settle":  # an earlier attempt under the client's key: its outcome first
                    state = await self._settle(tenant, port, begun.intent_id)
                    if state == "busy":
                        raise IdempotencyInFlight(
                            "a request with this idempotency key is still being settled; retry with the same key"
                            " later to learn its outcome"
                        )
                    if state not in ("applied", "not_applied", "refused", "unsettled"):
                        raise IdempotencyInFlight(
                            f"the first request with this idempotency key is not settled yet: {port.name} has not said"
                            " whether it was applied; the gateway keeps it and will carry it out exactly once when the"
                            " upstream answers again; retry with the same key later to learn its outcome"
                        )
                    continue  # applied: replayed by _begin; not applied or refused: sent anew; unsettled: said so
                assert begun.forward is not None and begun.plan is not None and begun.hold is not None
                async with self._holding(begun.hold) as hold:
                    return await self._call(tenant, port, hold, begun.forward, begun.plan.local, idempotency)
            raise IdempotencyInFlight("a request with this idempotency key is still being settled")
        finally:
            if slot is not None:
                self._inflight.discard(slot)

    async def _begin_once(
        self, tenant: Tenant, port: Upstream, prepare: Callable[[Tx], Awaitable[Plan | _Here]],
        idempotency: Idempotency | None,
    ) -> _Begun:
        """tx1. The intent is inserted claimed by this sender (in the store, so no settler of any instance
        takes it while it is sent); a store that runs tx1 again (after a conflict) makes a new claim."""
        return await self._commit(lambda tx: self._begin(tx, tenant, port, prepare, idempotency))

    async def _begin(
        self, tx: Tx, tenant: Tenant, port: Upstream, prepare: Callable[[Tx], Awaitable[Plan | _Here]],
        idempotency: Idempotency | None,
    ) -> _Begun:
        if idempotency is not None:
            earlier = await self._earlier(tx, tenant, port, idempotency)
            if earlier is not None:
                return earlier
        plan = await prepare(tx)
        now = self.clock.now()
        if isinstance(plan, _Here):
            return _Begun("local", HERE)
        values = {
            "tenant_id": tenant.id, "member_id": plan.member.id, "member_ref": plan.member_ref,
            "key": "lg-" + secrets.token_hex(16),  # replaced below once the id is known
            "direction": plan.direction.value, "asset": plan.asset.value, "points_cents": to_cents(plan.points),
            "cause": plan.cause.value, "value_cents": None if plan.value is None else to_cents(plan.value),
            "note": plan.note, "reference": plan.reference, "reverses": plan.reverses, "local": plan.local,
            "client_scope": idempotency.scope if idempotency else None,
            "client_key": idempotency.key if idempotency else None,
            "client_fingerprint": idempotency.fingerprint if idempotency else None,
        }
        claim = self._new_claim()
        intent_id = await intent_sql.insert(tx, values, now, claim)
        key = f"lg-{tenant.id}-{intent_id}-{secrets.token_hex(4)}"
        await intent_sql.set_key(tx, intent_id, key)
        forward = Forward(
            key=key, member=plan.member_ref, direction=plan.direction, asset=plan.asset, points=plan.points,
            cause=plan.cause, value=plan.value, note=plan.note, reference=plan.reference, reverses=plan.reverses,
        )
        return _Begun("intent", intent_id=intent_id, forward=forward, plan=plan, hold=Hold(intent_id, claim.token))

    async def _earlier(self, tx: Tx, tenant: Tenant, port: Upstream, idem: Idempotency) -> _Begun | None:
        """What the client's key says already: a stored response (replayed), an intent applied since it was
        answered (its response rendered now from the entry), one still open (settled first)."""
        stored = await event_sql.idempotency_get(tx, tenant.id, idem.scope, idem.key)
        if stored is not None:
            if not hmac.compare_digest(stored["fingerprint"], idem.fingerprint):
                raise IdempotencyConflict("this idempotency key was used with a different request")
            return _Begun("replay", Outcome(response=bytes(stored["response"]), replayed=True))
        for intent, fingerprint in await intent_sql.by_client_key(tx, tenant.id, idem.scope, idem.key):
            if intent.state in ("refused", "not_applied"):
                continue  # nothing was kept: the key may be used again, as for a refused local write
            if not hmac.compare_digest(fingerprint or "", idem.fingerprint):
                raise IdempotencyConflict("this idempotency key was used with a different request")
            if intent.state == "applied":
                result = await self._movement_of(tx, tenant, intent)
                response = idem.render(result)
                await event_sql.idempotency_put(
                    tx, tenant.id, idem.scope, idem.key, idem.fingerprint, response, self.clock.now()
                )
                return _Begun("replay", Outcome(response=response, replayed=True))
            if intent.state == "unsettled":
                raise UpstreamUnavailable(
                    f"{port.name} never confirmed this write; it is listed for a person to settle", sent=True
                )
            return _Begun("settle", intent_id=intent.id)  # claimed there, or left to whoever holds it
        return None

    async def _call(
        self, tenant: Tenant, port: Upstream, hold: Hold, forward: Forward, local: dict[str, Any],
        idempotency: Idempotency | None,
    ) -> Any:
        intent_id = hold.intent_id
        try:
            applied = await port.apply(forward)
        except UpstreamError as exc:
            if surely_not_applied(exc):
                await self._closing(port, hold, "not_applied", exc)
            applied = await self._clarify(port, hold, forward, exc)
        except LedgerError as exc:
            await self._closing(port, hold, "refused", exc)
        return await self._applied(tenant, port, intent_id, forward, local, applied, idempotency=idempotency)

    async def _closing(self, port: Upstream, hold: Hold, state: str, exc: LedgerError) -> NoReturn:
        """Close the held intent (not applied, refused, unsettled) and raise what the client hears: `exc`,
        or, when the claim was lost meanwhile (another worker carries the write on), "unavailable"."""
        if not await self._close(hold, state, exc, answered="unavailable" if state == "unsettled" else None):
            raise self._unclear(port, exc) from exc
        raise exc

    def _unclear(self, port: Upstream, last: LedgerError) -> UpstreamUnavailable:
        # The last answer's words (its status, its request id) go with it: whoever reads the client's error
        # can find the exchange at the vendor.
        return UpstreamUnavailable(
            f"{port.name} did not say whether the write was applied (last: {last.message}); the gateway keeps it"
            " and will carry it out exactly once when the upstream answers again: do not send it again (a retry"
            " with the same idempotency key, where the API has one, returns its outcome)",
            sent=True,
        )

    async def _clarify(self, port: Upstream, hold: Hold, forward: Forward, first: UpstreamError) -> Applied:
        """The answer to a sent write never came: ask the port whether it was applied (an upstream that can
        tell), resending once under the same key if it surely was not; else the client hears "unavailable"
        and the gateway carries the write out later (settling.py). After a timeout or a connection dropped
        without an answer the request may still be landing, so "not applied" is believed only once half the
        budget has passed since the gateway gave up on it (a lookup too early would invite a double write);
        an answered 5xx is believed at once (the upstream's handler is done). The give-up time is stored as
        the sending time, for the other workers. A resend needs the claim still held (checked in the store
        as it is recorded)."""
        intent_id = hold.intent_id
        if not port.settles:
            return await self._unsettled(port, hold, first)
        trust_after = await self._gave_up(hold, first)
        deadline = time.monotonic() + self._settle_budget
        resent, last, attempt = False, first, 0
        while not hold.lost:
            try:
                applied = await port.settle(forward)
            except UpstreamCannotExpress as exc:
                return await self._unsettled(port, hold, exc)
            except UpstreamError as exc:
                last, applied = exc, None
            else:
                if applied is not None:
                    return applied
                if time.monotonic() >= trust_after:
                    if resent:  # surely not applied, and the resend's outcome is known to be nothing
                        await self._closing(port, hold, "not_applied", last)
                    if not await self._sending(hold):
                        break
                    resent = True
                    try:
                        return await port.apply(forward)
                    except UpstreamError as exc:
                        if surely_not_applied(exc):
                            await self._closing(port, hold, "not_applied", exc)
                        last = exc
                        trust_after = await self._gave_up(hold, exc)
                    except LedgerError as exc:
                        await self._closing(port, hold, "refused", exc)
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            if time.monotonic() + delay >= deadline:
                break
            await asyncio.sleep(delay)
        now = self.clock.now()
        await self._commit(lambda tx: intent_sql.answer(tx, intent_id, "unavailable", now))
        raise self._unclear(port, last) from last

    async def _gave_up(self, hold: Hold, exc: UpstreamError) -> float:
        """An attempt ended unclear: when its "not applied" may be believed (monotonic). Unanswered, the
        request may still be landing: half the budget from now, and now is stored as its sending time."""
        if answered(exc):
            return time.monotonic()
        await self._sending(hold)
        return time.monotonic() + self._settle_budget / 2

    async def _unsettled(self, port: Upstream, hold: Hold, exc: LedgerError) -> Applied:
        if not await self._close(hold, "unsettled", exc, answered="unavailable"):
            raise self._unclear(port, exc) from exc
        raise UpstreamUnavailable(
            f"{port.name} did not confirm the write ({exc.message}); it cannot be asked again safely, so it is not"
            " resent and is listed for a person to settle",
            sent=True,
        )

"""Settling forwarded writes whose outcome is not known: asking the port (after a restart, on a client's
retry, periodically), or a person's word for an upstream that cannot be asked; and reading the intents."""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .errors import AlreadyResolved, LedgerError, UnknownEntry
from .models import Intent, Tenant
from .claims import Claims, Hold, answered
from .recording import Recorder
from .repo import intents as intent_sql
from .upstream import Applied, Forward, Upstream, UpstreamCannotExpress, UpstreamError


def _error(exc: LedgerError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message}


class Settling(Recorder, Claims):
    def _port(self, tenant: Tenant) -> Upstream | None:
        resolve = self._resolve
        return None if resolve is None else resolve(tenant)

    async def _close(
        self, hold: Hold, state: str, exc: LedgerError, *, answered: str | None = None
    ) -> bool:
        """Close a held intent as not applied, refused or unsettled; only while `hold` is still the claim
        holding it (a worker whose lease lapsed must not close what another is resending). False if not."""
        now = self.clock.now()
        outcome = _error(exc)
        closed = await self._commit(
            lambda tx: intent_sql.finish(
                tx, hold.intent_id, state=state, answered=answered or ("refused" if state == "refused" else exc.code),
                outcome=outcome, now=now, holder=hold.token,
            )
        )
        if not closed:
            hold.lost = True
        return closed

    # -- settling ---------------------------------------------------------------------------------

    async def _settle(self, tenant: Tenant, port: Upstream, intent_id: int) -> str:
        """Carry out one open intent, if this worker gets its claim (else "busy": someone holds it). The
        gateway has taken such a write over: asked, the upstream says it was applied (recorded here) or, once
        the last request could have landed, that it was not: then it is sent once more under its key and
        its outcome recorded (a refusal: refused; unclear or not reaching the upstream: it stays open for
        the next round). An upstream that cannot be asked leaves it unsettled, for a person. Returns the
        intent's state."""
        hold = await self._claim(intent_id)
        found = await self._read(lambda tx: intent_sql.get(tx, intent_id))
        if found is None:
            raise UnknownEntry(f"no intent {intent_id}")
        intent, local, _ = found
        if hold is None:
            return "busy" if intent.state == "open" else intent.state
        async with self._holding(hold):
            return await self._carry_out(tenant, port, intent, local, hold)

    async def _carry_out(
        self, tenant: Tenant, port: Upstream, intent: Intent, local: dict[str, Any], hold: Hold
    ) -> str:
        forward = _forward_of(intent)
        if not port.settles:
            closed = await self._close(hold, "unsettled", UpstreamCannotExpress(f"{port.name} cannot settle"),
                                       answered="unavailable")
            return "unsettled" if closed else "busy"
        try:
            applied = await port.settle(forward)
        except UpstreamCannotExpress as exc:
            closed = await self._close(hold, "unsettled", exc, answered="unavailable")
            return "unsettled" if closed else "busy"
        except LedgerError:
            return "open"
        if applied is None:
            if not await self._landed(intent):
                return "open"  # sent so lately that the request may still land: "not applied" is not believed yet
            if not await self._sending(hold):
                return "busy"
            try:
                applied = await port.apply(forward)
            except UpstreamError as exc:
                if exc.sent and not answered(exc):  # given up on now: its grace runs from here
                    await self._sending(hold)
                return "open"  # unclear again, or it did not reach the upstream: the next round carries it on
            except LedgerError as exc:
                closed = await self._close(hold, "refused", exc, answered=intent.answered or "unavailable")
                return "refused" if closed else "busy"
        await self._applied(tenant, port, intent.id, forward, local, applied, answered=intent.answered)
        return "applied"

    async def settle_open(self, *, tenant: Tenant) -> dict[str, int]:
        """Carry out every open intent of the tenant through its port; counts by resulting state (one another
        worker holds counts as open). The first time after a start, an intent held by someone else is
        waited for until its lease ends, once and at most one lease (LEASE_SECONDS, on the database's
        clock): its holder may be this instance before a crash. A live holder renews it and is left alone.
        Afterwards the tenant takes new forwarded writes."""
        port = self._port(tenant)
        counts: Counter[str] = Counter()
        if port is not None:
            found = await self._read(lambda tx: intent_sql.listing(tx, tenant.id, ("open",), 100_000))
            held = []
            for intent in found:
                state = await self._settle(tenant, port, intent.id)
                if state == "busy" and tenant.id not in self._ready:
                    held.append(intent)
                    continue
                counts["open" if state == "busy" else state] += 1
            if held:
                again = [f[0] for f in [await self._read(lambda tx, i=i: intent_sql.get(tx, i.id)) for i in held] if f]
                ends = [i.claimed_until for i in again if i.claimed_until is not None]
                now = await self._read(lambda tx: intent_sql.db_now(tx, self.store.kind))
                wait = max(((max(ends) - now).total_seconds() if ends else 0.0), 0.0)
                await asyncio.sleep(min(wait, self._lease()) + 0.05)
                for intent in held:
                    state = await self._settle(tenant, port, intent.id)
                    counts["open" if state == "busy" else state] += 1
        self._ready.add(tenant.id)
        return dict(counts)

    async def settle_intent(self, *, intent_id: int, applied: bool, by: str) -> Intent:
        """A person settles an unsettled intent: applied → recorded here as if the upstream had acknowledged
        it; not applied → closed. Any other intent is AlreadyResolved."""
        found = await self._read(lambda tx: intent_sql.get(tx, intent_id))
        if found is None:
            raise UnknownEntry(f"no intent {intent_id}")
        intent, local, _ = found
        if intent.state != "unsettled":
            raise AlreadyResolved(f"intent {intent_id} is {intent.state}, not unsettled", status=intent.state)
        tenant = await self._tenant_by_id(intent.tenant_id)
        if tenant is None:
            raise UnknownEntry(f"no intent {intent_id}")
        if applied:
            port = self._port(tenant)
            await self._applied(
                tenant, port, intent_id, _forward_of(intent), local, Applied(), answered=intent.answered,
                settled_by=by, expect=("unsettled",),
            )
        else:
            now = self.clock.now()
            done = await self._commit(
                lambda tx: intent_sql.finish(
                    tx, intent_id, state="not_applied", answered=None, outcome={**intent.outcome, "settled": "not_applied"},
                    now=now, settled_by=by, expect=("unsettled",),
                )
            )
            if not done:
                raise AlreadyResolved(f"intent {intent_id} was settled meanwhile")
        return await self.intent(intent_id=intent_id)

    # -- reading ------------------------------------------------------------------------------------

    async def intents(
        self, *, tenant: Tenant | None = None, states: Sequence[str] = ("open", "unsettled"), limit: int = 200
    ) -> list[Intent]:
        return await self._read(lambda tx: intent_sql.listing(tx, None if tenant is None else tenant.id, states, limit))

    async def count_intents(self, *, tenant: Tenant | None = None, states: Sequence[str] = ("open", "unsettled")) -> int:
        return await self._read(lambda tx: intent_sql.count(tx, None if tenant is None else tenant.id, states))

    async def intent(self, *, intent_id: int) -> Intent:
        found = await self._read(lambda tx: intent_sql.get(tx, intent_id))
        if found is None:
            raise UnknownEntry(f"no intent {intent_id}")
        return found[0]


def _forward_of(intent: Intent) -> Forward:
    return Forward(
        key=intent.key, member=intent.member_ref, direction=intent.direction, asset=intent.asset, points=intent.points,
        cause=intent.cause, value=intent.value, note=intent.note, reference=intent.reference, reverses=intent.reverses,
    )

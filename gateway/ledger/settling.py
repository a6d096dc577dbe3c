"""Settling forwarded writes whose outcome is not known: asking the port (after a restart, on a client's
retry, periodically), or a person's word for an upstream that cannot be asked; and reading the intents."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .errors import AlreadyResolved, LedgerError, UnknownEntry
from .models import Intent, Tenant
from .recording import Recorder
from .repo import intents as intent_sql
from .upstream import (
    Applied,
    Forward,
    Upstream,
    UpstreamCannotExpress,
    UpstreamCredentialsRefused,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)


def _error(exc: LedgerError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message}


class Settling(Recorder):
    def _port(self, tenant: Tenant) -> Upstream | None:
        resolve = self._resolve
        return None if resolve is None else resolve(tenant)

    async def _close(self, intent_id: int, state: str, exc: LedgerError, *, answered: str | None = None) -> None:
        now = self.clock.now()
        outcome = _error(exc)
        await self.store.write(
            lambda tx: intent_sql.finish(
                tx, intent_id, state=state, answered=answered or ("refused" if state == "refused" else exc.code),
                outcome=outcome, now=now,
            )
        )

    # -- settling ---------------------------------------------------------------------------------

    async def _settle(self, tenant: Tenant, port: Upstream, intent_id: int, *, resend: bool = False) -> str:
        """Learn the outcome of one open intent from the port and record it; returns the intent's state.
        With `resend`, a write that surely was not applied is sent once more under its key (a client
        retrying it); without, it is closed as not applied."""
        if intent_id in self._busy:
            return "open"
        found = await self._read(lambda tx: intent_sql.get(tx, intent_id))
        if found is None:
            raise UnknownEntry(f"no intent {intent_id}")
        intent, local, _ = found
        if intent.state != "open":
            return intent.state
        forward = _forward_of(intent)
        self._busy.add(intent_id)
        try:
            if not port.settles:
                await self._close(intent_id, "unsettled", UpstreamCannotExpress(f"{port.name} cannot settle"),
                                  answered="unavailable")
                return "unsettled"
            try:
                applied = await port.settle(forward)
            except UpstreamCannotExpress as exc:
                await self._close(intent_id, "unsettled", exc, answered="unavailable")
                return "unsettled"
            except LedgerError:
                return "open"
            if applied is None and (self.clock.now() - intent.created_at).total_seconds() < self._settle_budget / 2:
                return "open"  # sent so lately that the request may still land: "not applied" is not believed yet
            if applied is None and resend:
                try:
                    applied = await port.apply(forward)
                except UpstreamError as exc:
                    if exc.sent and not isinstance(exc, (UpstreamRateLimited, UpstreamCredentialsRefused)):
                        return "open"
                    await self._close(intent_id, "not_applied", exc)
                    return "not_applied"
                except LedgerError as exc:
                    await self._close(intent_id, "refused", exc)
                    return "refused"
            if applied is None:
                await self._close(intent_id, "not_applied", UpstreamUnavailable("the upstream never applied it"),
                                  answered=intent.answered or "unavailable")
                return "not_applied"
            await self._applied(tenant, port, intent_id, forward, local, applied, answered=intent.answered)
            return "applied"
        finally:
            self._busy.discard(intent_id)

    async def settle_open(self, *, tenant: Tenant) -> dict[str, int]:
        """Settle every open intent of the tenant through its port (those this process is sending right now
        excepted); counts by resulting state. Afterwards the tenant takes new forwarded writes."""
        port = self._port(tenant)
        counts: Counter[str] = Counter()
        if port is not None:
            found = await self._read(lambda tx: intent_sql.listing(tx, tenant.id, ("open",), 100_000))
            for intent in found:
                counts[await self._settle(tenant, port, intent.id)] += 1
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
            done = await self.store.write(
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

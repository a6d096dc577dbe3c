"""Claims on open intents, held in the store with a lease: one worker (a sender, a settler, a client's retry;
of this instance or of another on the same database) works an intent at a time, renews its lease while it
works and gives it up after. Lease ends and sending times are the DATABASE's clock (repo/intents.py), never
an instance's own (clocks disagree) nor the ledger's (a sandbox may freeze it)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from .core import LedgerBase
from .errors import LedgerError
from .models import Intent
from .repo import intents as intent_sql
from .repo.intents import Claim
from .upstream import UpstreamCredentialsRefused, UpstreamError, UpstreamRateLimited

log = logging.getLogger("gateway.ledger.claims")
# Seconds a claim lasts unless renewed (its holder renews it every third of that while it works, however long
# its calls take). Renewals go through the store's grouped write queue, which can stall for seconds under
# load, so the lease is comfortably longer than such a stall. The same for every instance: at its first
# settling a restarted instance waits out a dead predecessor's claim once, at most this long (settling.py).
LEASE_SECONDS = 15.0


def surely_not_applied(exc: UpstreamError) -> bool:
    """An upstream error after which the write surely was not applied: never sent, or refused before any
    work (rate limited, the gateway's credentials refused)."""
    return not exc.sent or isinstance(exc, (UpstreamRateLimited, UpstreamCredentialsRefused))


class Hold:
    """A claim being held: its token, and whether it was lost (its lease ended and another took it)."""

    def __init__(self, intent_id: int, token: str) -> None:
        self.intent_id = intent_id
        self.token = token
        self.lost = False


def answered(exc: UpstreamError) -> bool:
    """Whether the upstream answered (a status came back: its handler is done, nothing of it is still on
    its way), as opposed to a timeout or a connection dropped before any answer."""
    return bool(exc.details.get("status"))


class Claims(LedgerBase):
    def _lease(self) -> float:
        return LEASE_SECONDS

    def claim_lease(self) -> float:
        """Seconds a claim lasts unless renewed: how long a crashed holder's claim may keep an intent, so
        how long a restart's first settling may wait for it (once)."""
        return self._lease()

    def _new_claim(self, token: str | None = None) -> Claim:
        return Claim(token or secrets.token_hex(8), self._lease(), self.store.kind)

    async def _claim(self, intent_id: int) -> Hold | None:
        """Take an open intent for this worker; None when it is settled or someone else holds it."""
        claim = self._new_claim()
        if await self._commit(lambda tx: intent_sql.claim(tx, intent_id, claim)):
            return Hold(intent_id, claim.token)
        return None

    async def _sending(self, hold: Hold) -> bool:
        """Just before the write is sent again, and again when an attempt ends unclear (the gateway gave up
        on its answer): renew the lease and record that time as its sending time, in one step that fails if
        the claim was lost (then this worker must not send: another holds the intent)."""
        claim = self._new_claim(hold.token)
        if hold.lost or not await self._commit(lambda tx: intent_sql.renew(tx, hold.intent_id, claim, sent=True)):
            hold.lost = True
        return not hold.lost

    async def _landed(self, intent: Intent) -> bool:
        """Whether the last request carrying the write could have landed by now: only then is an upstream's
        "not applied" believed. Half the budget after the stored sending time (the moment its sender gave up
        on an unclear attempt), read on the database's clock, so every instance and a restart agree."""
        grace = self._settle_budget / 2
        return await self._read(lambda tx: intent_sql.landed(tx, self.store.kind, intent.id, grace))

    @contextlib.asynccontextmanager
    async def _holding(self, hold: Hold) -> AsyncIterator[Hold]:
        """Keep the lease renewed while the work runs (calls may outlast it); give the claim up after."""
        renewer = asyncio.ensure_future(self._renew(hold))
        try:
            yield hold
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            try:
                await self._commit(lambda tx: intent_sql.release(tx, hold.intent_id, hold.token))
            except LedgerError as exc:  # the lease ends by itself
                log.warning("intent %s: claim not released: %s", hold.intent_id, exc.message)

    async def _renew(self, hold: Hold) -> None:
        while not hold.lost:
            await asyncio.sleep(self._lease() / 3)
            claim = self._new_claim(hold.token)
            try:
                if not await self._commit(lambda tx: intent_sql.renew(tx, hold.intent_id, claim)):
                    hold.lost = True
            except LedgerError as exc:  # tried again at the next beat, while the lease still runs
                log.warning("intent %s: lease not renewed: %s", hold.intent_id, exc.message)

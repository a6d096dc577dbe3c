"""Outbox to signed HTTP webhooks: a background task turns committed ledger events into persistent
deliveries (via the mapping of the dialect that sends webhooks), claims the due ones in batches under a lease, POSTs them
concurrently over one pooled keep-alive ClientSession, re-signed on every attempt, and records their
outcomes in batches; failures are retried with exponential backoff. Every attempt is counted in the
server's metrics by its outcome. Knows no SQL; the ledger keeps the delivery state."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from .dialects.descriptor import Webhooks
from .keys import DIALECTS, LEDGER, METRICS, SETTINGS
from .ledger import Delivery, Event, Ledger, LedgerError, NewDelivery, SentAttempt, Tenant
from .metrics import ServerMetrics

log = logging.getLogger("gateway.delivery")

IDLE_SECONDS = 0.5  # how soon another process's events are seen; this process's own wake delivery at once
SENDERS = 32  # webhook requests in flight at once (and connections kept alive to a receiver)
AHEAD = 8  # deliveries claimed ahead per sender: one claim feeds the senders for several round trips
EVENTS_PER_READ = 500
LEASE_TIMEOUTS = 3  # a claimed delivery is leased for this many send timeouts


class Deliverer:
    """One loop enqueues events as deliveries and claims due ones in batches; a fixed set of senders
    POSTs them, and a recorder writes the outcomes gathered meanwhile in one transaction. A delivery
    still waiting here when too little of its lease is left for a send is skipped, never sent late.
    A crash anywhere loses nothing: a delivery whose outcome was not recorded stays leased, and is sent
    again when the lease runs out (at least once)."""

    def __init__(
        self, ledger: Ledger, session: aiohttp.ClientSession, *, retry_base_seconds: float, max_attempts: int,
        timeout_seconds: float = 10.0, senders: int = SENDERS, webhooks: Webhooks, metrics: ServerMetrics | None = None,
    ) -> None:
        self.ledger = ledger
        self.metrics = metrics if metrics is not None else ServerMetrics()
        self.webhooks = webhooks  # the sending dialect's pieces: names, mapping, targets, signing
        self.session = session
        self.retry_base_seconds = retry_base_seconds
        self.max_attempts = max_attempts
        self.timeout_seconds = max(0.1, timeout_seconds)
        self.senders = max(1, senders)
        self.lease_seconds = self.timeout_seconds * LEASE_TIMEOUTS
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # half the claimed-ahead deliveries are gone: time to claim more
        self._claimed: asyncio.Queue[tuple[Delivery, float]] = asyncio.Queue()  # with a send-by time
        self._outstanding = 0  # claimed here and not yet tried (queued or being sent)
        self._outcomes: list[tuple[SentAttempt, str]] = []  # (attempt, its idempotency key for the log)
        self._have_outcomes = asyncio.Event()
        self._stopping = False
        self._tenants: dict[int, Tenant] = {}

    def wake(self) -> None:
        """Look at the outbox now rather than at the next tick (a reward was just written)."""
        self._wake.set()

    async def run(self) -> None:
        recorder = asyncio.create_task(self._record_outcomes(), name="webhook-outcomes")
        senders = [asyncio.create_task(self._sender(), name="webhook-sender") for _ in range(self.senders)]
        try:
            while True:
                # Cleared before looking, so an event committed while we look wakes the next round.
                self._wake.clear()
                self._room.clear()
                room = claimed = 0
                try:
                    room = self.senders * AHEAD - self._outstanding
                    claimed = await self.pump(claim=max(0, room))
                    if claimed is None:  # nothing new: claim what is due again (retries, expired leases)
                        claimed = await self.send_due(limit=room) if room > 0 else 0
                except LedgerError as exc:
                    log.warning("webhook delivery paused: %s", exc.message)
                except Exception:
                    log.exception("webhook delivery failed; retrying")
                # More may be due when the claim was full: then look again as soon as half has gone.
                await self._idle(full=room <= 0 or claimed == room)
        finally:
            await self._stop(recorder, senders)

    async def _idle(self, *, full: bool) -> None:
        """Until an event is committed here, half the claimed-ahead deliveries have gone (when the last
        claim was full, so a backlog drains without waiting a tick per batch), or the tick."""
        waits = [asyncio.ensure_future(self._wake.wait())]
        if full:
            waits.append(asyncio.ensure_future(self._room.wait()))
        tick = min(IDLE_SECONDS, max(0.01, self.retry_base_seconds))
        try:
            await asyncio.wait(waits, timeout=tick, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def pump(self, claim: int = 0) -> int | None:
        """Enqueue a delivery for every new event that is a webhook for a tenant with a URL for it, and
        in the same transaction claim up to `claim` due ones for the senders; return how many were
        claimed, or None when there was nothing new (and so no write). Several instances may pump at
        once: an event is enqueued once whoever gets there first, and the cursor never passes an event
        that committed after it was read (see enqueue_deliveries)."""
        claimed: int | None = None
        while True:
            after, events = await self.ledger.events_for(consumer=self.webhooks.consumer, limit=EVENTS_PER_READ)
            if not events:
                return claimed
            await self._reload_tenants()  # another instance may have changed a webhook URL since
            items = []
            for event in events:
                tenant = self._tenants.get(event.tenant_id)
                if tenant is not None:
                    item = await self._delivery_for(tenant, event)
                    if item is not None:
                        items.append(item)
            send_by = asyncio.get_running_loop().time() + self.lease_seconds - self.timeout_seconds
            position, due = await self.ledger.enqueue_and_claim(
                consumer=self.webhooks.consumer, upto=events[-1].id, items=items, after=after, seen=[e.id for e in events],
                limit=claim - (claimed or 0), lease_seconds=self.lease_seconds, channel=self.webhooks.channel,
            )
            self._queue(due, send_by)
            claimed = (claimed or 0) + len(due)
            if position < events[-1].id and position == after:
                return claimed  # an event below the read ones appeared late: read again at the next tick
            if len(events) < EVENTS_PER_READ and position == events[-1].id:
                return claimed  # all there was: later commits here wake us, other processes' come at the tick

    async def _delivery_for(self, tenant: Tenant, event: Event) -> NewDelivery | None:
        original = None
        reversed_id = event.payload.get("reverses_id")
        if event.payload.get("kind") == "reversal" and reversed_id is not None:
            original = await self.ledger.entry(tenant=tenant, entry=int(reversed_id))
        message = self.webhooks.message_for(event, original)
        if message is None:
            return None
        url = self.webhooks.targets(tenant.section(self.webhooks.section)).get(message.phase)
        if url is None:
            log.info("tenant %s has no %s webhook URL; %s not sent", tenant.name, message.phase, message.idempotency_key)
            return None
        return NewDelivery(tenant.id, event.id, self.webhooks.channel, message.event_id, url, message.idempotency_key, message.body)

    async def send_due(self, limit: int = SENDERS) -> int:
        """Claim up to `limit` due deliveries and queue them for the senders; return how many were claimed."""
        send_by = asyncio.get_running_loop().time() + self.lease_seconds - self.timeout_seconds
        due = await self.ledger.claim_deliveries(limit=limit, lease_seconds=self.lease_seconds,
                                                 channel=self.webhooks.channel)  # never another consumer's
        if due:
            await self._reload_tenants()  # the signing secret as it is now, whoever changed it
        self._queue(due, send_by)
        return len(due)

    async def _reload_tenants(self) -> None:
        await self.ledger.reload_tenants()
        self._tenants = {t.id: t for t in await self.ledger.tenants()}

    def _queue(self, due: list[Delivery], send_by: float) -> None:
        """Hand claimed deliveries to the senders, each to be sent before `send_by` or not at all."""
        self._outstanding += len(due)
        for delivery in due:
            self._claimed.put_nowait((delivery, send_by))

    async def _sender(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            delivery, send_by = await self._claimed.get()
            try:
                if loop.time() < send_by:
                    await self._send(delivery)
                else:  # a send now could outlast the lease and overlap another instance's: leave it to expire
                    log.warning("delivery %s waited too long here; it is sent once its lease runs out", delivery.key)
            except Exception:  # a sender lives on; the delivery stays leased and is tried again after it
                log.exception("webhook delivery %s failed; retrying once its lease runs out", delivery.key)
            finally:
                self._outstanding -= 1
                if self._outstanding * 2 <= self.senders * AHEAD:
                    self._room.set()

    async def _send(self, delivery: Delivery) -> None:
        status, error, outcome = None, None, "delivered"
        tenant = self._tenants.get(delivery.tenant_id)
        section = tenant.section(self.webhooks.section) if tenant is not None else {}
        body = delivery.body.encode()
        try:
            headers = self.webhooks.headers(
                section, url=delivery.target, body=body, key=delivery.key, now=self.ledger.clock.now(),
            )
            async with self.session.post(
                delivery.target, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout_seconds)
            ) as response:
                await response.read()
                status = response.status
                if not 200 <= status < 300:
                    error, outcome = f"status {status}", f"answered_{status // 100}xx"
        except KeyError:
            error, outcome = "the tenant has no webhook api secret to sign with", "unsigned"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            outcome = _failure(exc)
        self.metrics.webhook_attempt(outcome)
        self._outcomes.append((SentAttempt(delivery.id, delivery.claim, error is None, status, error), delivery.key))
        self._have_outcomes.set()

    async def _record_outcomes(self) -> None:
        """Write the outcomes gathered so far in one transaction, again and again: while one write is in
        flight the next batch gathers. A write that fails is tried again; one refused for an attempt
        means its lease ran out and another claim owns the delivery now. Ends after the write that
        follows a stop, so what arrived is on record before the store closes."""
        while True:
            await self._have_outcomes.wait()
            self._have_outcomes.clear()
            try:
                await self._flush()
            except Exception:
                if self._stopping:
                    log.exception("webhook outcomes not recorded at shutdown; those deliveries will be sent again")
                    return
                log.exception("webhook outcomes not recorded yet; trying again")
                self._have_outcomes.set()
                await asyncio.sleep(min(IDLE_SECONDS, max(0.01, self.retry_base_seconds)))
            # After a stop, only once nothing is left: outcomes that came in while the last write was in
            # flight were delivered too, and unrecorded they would be sent again when their lease ran out.
            if self._stopping and not self._outcomes:
                return

    async def _flush(self) -> None:
        batch, self._outcomes = self._outcomes, []
        if not batch:
            return
        try:
            recorded = await self.ledger.record_attempts(
                attempts=[attempt for attempt, _ in batch], retry_base_seconds=self.retry_base_seconds,
                max_attempts=self.max_attempts,
            )
        except Exception:  # not when cancelled: a write once submitted is committed all the same
            self._outcomes[:0] = batch  # kept, in order, for the next try
            raise
        for (_, key), done in zip(batch, recorded):
            if not done:
                log.warning("delivery %s outlived its lease; its attempt is not recorded (another one owns it)", key)

    async def _stop(self, recorder: asyncio.Task[None], senders: list[asyncio.Task[None]]) -> None:
        """Sends cut short, and deliveries claimed but not yet sent, stay leased (sent again once the lease
        runs out, by whichever instance claims them); outcomes already gathered are recorded first, so
        a delivery that did arrive is not sent twice."""
        for sender in senders:
            sender.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        self._stopping = True
        self._have_outcomes.set()
        try:
            await asyncio.wait_for(recorder, timeout=self.timeout_seconds)
        except asyncio.TimeoutError:
            log.warning("webhook outcomes not recorded at shutdown; those deliveries will be sent again")


def _failure(exc: Exception) -> str:
    """What kept a webhook from an answer, as the metrics name it."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "unreachable"
    if isinstance(exc, aiohttp.ClientError):
        return "connection_failed"
    return "invalid_target"  # a URL aiohttp cannot send to


DELIVERY = web.AppKey("delivery", Deliverer)


async def delivery_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: one ClientSession and one delivery task for the app's lifetime (after the ledger's)."""
    settings = app[SETTINGS]
    webhooks = next((d.webhooks for d in app[DIALECTS] if d.webhooks is not None), None)
    if webhooks is None:  # no dialect sends webhooks
        yield
        return
    # One pooled connector: connections to a receiver are kept alive and reused, at most one per sender.
    connector = aiohttp.TCPConnector(limit=SENDERS, limit_per_host=SENDERS, keepalive_timeout=30)
    async with aiohttp.ClientSession(connector=connector) as session:
        deliverer = Deliverer(
            app[LEDGER], session, retry_base_seconds=float(settings.webhook_retry_base_seconds),
            max_attempts=int(settings.webhook_max_attempts), timeout_seconds=float(settings.webhook_timeout_seconds),
            webhooks=webhooks, metrics=app.get(METRICS),
        )
        app[DELIVERY] = deliverer
        task = asyncio.create_task(deliverer.run(), name="webhook-delivery")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

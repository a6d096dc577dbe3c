"""Outbox to signed HTTP webhooks: a background task turns committed ledger events into persistent
deliveries (via the mapping of the dialect that sends webhooks), then POSTs the due ones with one ClientSession, re-signed
on every attempt, retried with exponential backoff. Knows no SQL; the ledger keeps the delivery state."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from .dialects.descriptor import Webhooks
from .keys import DIALECTS, LEDGER, SETTINGS
from .ledger import Delivery, Event, Ledger, LedgerError, NewDelivery, Tenant

log = logging.getLogger("gateway.delivery")

IDLE_SECONDS = 0.5
BATCH = 20  # deliveries claimed, and sent concurrently, at a time
LEASE_TIMEOUTS = 3  # a claimed delivery is leased for this many send timeouts


class Deliverer:
    def __init__(
        self, ledger: Ledger, session: aiohttp.ClientSession, *, retry_base_seconds: float, max_attempts: int,
        timeout_seconds: float = 10.0, webhooks: Webhooks,
    ) -> None:
        self.ledger = ledger
        self.webhooks = webhooks  # the sending dialect's pieces: names, mapping, targets, signing
        self.session = session
        self.retry_base_seconds = retry_base_seconds
        self.max_attempts = max_attempts
        self.timeout_seconds = max(0.1, timeout_seconds)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next tick (a reward was just written)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            full = False
            try:
                await self.pump()
                full = await self.send_due() == BATCH
            except LedgerError as exc:
                log.warning("webhook delivery paused: %s", exc.message)
            except Exception:
                log.exception("webhook delivery failed; retrying")
            if full:
                continue  # more may be due already: a backlog drains without waiting a tick per batch
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(IDLE_SECONDS, max(0.01, self.retry_base_seconds)))
            self._wake.clear()

    async def pump(self) -> None:
        """Enqueue a delivery for every new event that is a webhook for a tenant with a URL for it.
        Several instances may pump at once: an event is enqueued once whoever gets there first, and
        the cursor never passes an event that committed after it was read (see enqueue_deliveries)."""
        while True:
            after = await self.ledger.cursor(name=self.webhooks.consumer)
            events = await self.ledger.events(after=after, limit=200)
            if not events:
                return
            await self.ledger.reload_tenants()  # another instance may have changed a webhook URL since
            tenants = {t.id: t for t in await self.ledger.tenants()}
            items = []
            for event in events:
                tenant = tenants.get(event.tenant_id)
                if tenant is not None:
                    item = await self._delivery_for(tenant, event)
                    if item is not None:
                        items.append(item)
            position = await self.ledger.enqueue_deliveries(
                consumer=self.webhooks.consumer, upto=events[-1].id, items=items, after=after, seen=[e.id for e in events]
            )
            if position < events[-1].id and position == after:
                return  # an event below the read ones appeared late: read again at the next tick

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

    async def send_due(self) -> int:
        """Claim up to BATCH due deliveries and send them at once; return how many were claimed."""
        due = await self.ledger.claim_deliveries(limit=BATCH, lease_seconds=self.timeout_seconds * LEASE_TIMEOUTS)
        if due:
            await self.ledger.reload_tenants()  # the signing secret as it is now, whoever changed it
            await asyncio.gather(*(self._send(d) for d in due))
        return len(due)

    async def _send(self, delivery: Delivery) -> None:
        status, error = None, None
        tenant = next((t for t in await self.ledger.tenants() if t.id == delivery.tenant_id), None)
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
                    error = f"status {status}"
        except KeyError:
            error = "the tenant has no webhook api secret to sign with"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        recorded = await self.ledger.record_attempt(
            delivery=delivery.id, claim=delivery.claim, ok=error is None, status=status, error=error,
            retry_base_seconds=self.retry_base_seconds, max_attempts=self.max_attempts,
        )
        if recorded is None:
            log.warning("delivery %s outlived its lease; its attempt is not recorded (another one owns it)", delivery.key)


DELIVERY = web.AppKey("delivery", Deliverer)


async def delivery_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: one ClientSession and one delivery task for the app's lifetime (after the ledger's)."""
    settings = app[SETTINGS]
    webhooks = next((d.webhooks for d in app[DIALECTS] if d.webhooks is not None), None)
    if webhooks is None:  # no dialect sends webhooks
        yield
        return
    async with aiohttp.ClientSession() as session:
        deliverer = Deliverer(
            app[LEDGER], session, retry_base_seconds=float(settings.webhook_retry_base_seconds),
            max_attempts=int(settings.webhook_max_attempts), timeout_seconds=float(settings.webhook_timeout_seconds),
            webhooks=webhooks,
        )
        app[DELIVERY] = deliverer
        task = asyncio.create_task(deliverer.run(), name="webhook-delivery")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

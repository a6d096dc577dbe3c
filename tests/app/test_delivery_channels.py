"""The webhook Deliverer claims only its own channel's deliveries: a shadow upstream's writes share the
deliveries table and must never be taken (let alone POSTed as webhooks) by it."""
from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from gateway.delivery import Deliverer
from gateway.dialects.pomelo import DIALECT
from gateway.ledger import Ledger, NewDelivery, Tenant
from gateway.upstream.shadow import CHANNEL as SHADOW_CHANNEL

WEBHOOKS = DIALECT.webhooks
assert WEBHOOKS is not None


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def test_the_webhook_deliverer_never_claims_a_shadow_delivery(ledger: Ledger, session: aiohttp.ClientSession) -> None:
    shop = await ledger.create_tenant(name="shop")
    member = await ledger.create_member(tenant=shop, name="Juan", customer_no=1534)
    await ledger.enqueue_deliveries(consumer="test", upto=0, items=[
        NewDelivery(shop.id, None, SHADOW_CHANNEL, "member-1", "http://127.0.0.1:9", "shadow-key", "{}"),
        NewDelivery(shop.id, None, WEBHOOKS.channel, "evt-1", "http://127.0.0.1:9/hook", "hook-key", "{}"),
    ])
    await ledger.credit(tenant=shop, member=member, amount=Decimal("1"))  # a new event: the pump claims with it
    sender = Deliverer(ledger, session, retry_base_seconds=0.01, max_attempts=3, webhooks=WEBHOOKS)
    assert await sender.pump(claim=10) == 1  # the webhook; the shadow's delivery is not its to take
    assert await sender.send_due(limit=10) == 0
    (shadow,) = await ledger.deliveries(channel=SHADOW_CHANNEL)
    assert (shadow.state, shadow.attempts, shadow.claim) == ("pending", 0, None)
    (hook,) = await ledger.deliveries(channel=WEBHOOKS.channel)
    assert hook.claim is not None

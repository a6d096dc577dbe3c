"""The webhook Deliverer claims only its own channel's deliveries: a shadow upstream's writes share the
deliveries table and must never be taken (let alone POSTed as webhooks) by it, nor listed or sent again by
the admin's webhook log (every dialect's webhook channel, and those only)."""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from gateway.admin.webhooks import webhook_channels
from gateway.delivery import Deliverer
from gateway.dialects.pomelo import DIALECT
from gateway.ledger import Delivery, Ledger, NewDelivery, Tenant
from gateway.keys import LEDGER
from gateway.upstream.shadow import CHANNEL as SHADOW_CHANNEL
from tests.support import ClientFactory

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


async def test_the_admin_lists_and_sends_again_only_webhook_deliveries_never_a_shadow_write(
    app_client: ClientFactory,
) -> None:
    client = await app_client()
    ledger: Ledger = client.app[LEDGER]
    demo = await ledger.tenant("demo")
    await ledger.enqueue_deliveries(consumer="test", upto=0, items=[
        NewDelivery(demo.id, None, SHADOW_CHANNEL, "member-1", "http://127.0.0.1:9", "shadow-key", "{}"),
        NewDelivery(demo.id, None, WEBHOOKS.channel, "evt-1", "http://127.0.0.1:9/hook", "hook-key", "{}"),
    ])
    shadow = await settled(ledger, SHADOW_CHANNEL)  # the app's shadow sender refuses it: demo declares no shadow
    (hook,) = await ledger.deliveries(channel=WEBHOOKS.channel)
    listed = await (await client.get("/__admin/webhooks/deliveries")).json()
    assert [d["id"] for d in listed["deliveries"]] == [hook.id]
    refused = await client.post(f"/__admin/webhooks/deliveries/{shadow.id}/redeliver")
    assert refused.status == 404 and (await refused.json())["error"]["message"] == f"no delivery {shadow.id}"
    (untouched,) = await ledger.deliveries(channel=SHADOW_CHANNEL)
    assert (untouched.state, untouched.attempts) == ("refused", 1)  # not reopened
    again = await client.post(f"/__admin/webhooks/deliveries/{hook.id}/redeliver")
    assert again.status == 200 and (await again.json())["id"] == hook.id


async def settled(ledger: Ledger, channel: str) -> Delivery:
    """The one delivery on `channel` once its sender has settled it (the app's own sender runs meanwhile)."""
    for _ in range(200):
        (found,) = await ledger.deliveries(channel=channel)
        if found.state != "pending":
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"the delivery on {channel} was never settled")


def test_the_admin_lists_every_dialects_webhook_channel_not_only_the_first() -> None:
    other = dataclasses.replace(DIALECT, name="other", webhooks=dataclasses.replace(WEBHOOKS, channel="other-hooks"))
    quiet = dataclasses.replace(DIALECT, name="quiet", webhooks=None)
    assert webhook_channels([quiet, DIALECT, other, DIALECT]) == (WEBHOOKS.channel, "other-hooks")
    assert webhook_channels([quiet]) == ()


async def test_no_webhook_channel_lists_no_delivery(ledger: Ledger) -> None:
    shop = await ledger.create_tenant(name="shop")
    await ledger.enqueue_deliveries(consumer="test", upto=0, items=[
        NewDelivery(shop.id, None, SHADOW_CHANNEL, "member-1", "http://127.0.0.1:9", "shadow-key", "{}")])
    assert await ledger.deliveries(channel=()) == []

"""The Deliverer's pipeline (claim ahead, concurrent senders, outcomes recorded in batches) keeps the
delivery guarantees: a send that could outlast its lease is not made; stopping records what arrived
and leaves what did not leased, to be sent again with the same key; a failed outcome write is tried
again rather than lost; a backlog larger than one claim drains, each delivery once."""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.delivery import Deliverer
from gateway.dialects.pomelo import DIALECT
from gateway.dialects.pomelo.webhooks import verify
from gateway.ledger import Ledger, NewDelivery, Tenant

SECRET = "ZGVtby13ZWJob29rLXNlY3JldA=="


class Receiver:
    def __init__(self, hold: frozenset[str] = frozenset()) -> None:
        self.arrived: list[str] = []
        self.valid: list[bool] = []
        self.hold = hold  # keys whose requests are kept open until the sender gives up

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers["x-idempotency-key"]
        self.arrived.append(key)
        self.valid.append(verify(SECRET, request.headers, body))
        if key in self.hold:
            await asyncio.sleep(60)
        return web.json_response({"ok": True})


@pytest.fixture
async def shop(ledger: Ledger) -> Tenant:
    return await ledger.create_tenant(name="shop", config={"pomelo": {"webhook_api_secret": SECRET}})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def target(aiohttp_server: Any, receiver: Receiver) -> str:
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    return str((await aiohttp_server(app)).make_url("/hook"))


async def enqueue(ledger: Ledger, tenant: Tenant, url: str, keys: list[str]) -> None:
    items = [NewDelivery(tenant.id, None, "pomelo", key, url, key, '{"n":1}') for key in keys]
    await ledger.enqueue_deliveries(consumer="test", upto=0, items=items)


async def until(condition: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never became true")


async def states(ledger: Ledger) -> dict[str, tuple[str, int]]:
    return {d.key: (d.state, d.attempts) for d in await ledger.deliveries()}


def deliverer(ledger: Ledger, session: aiohttp.ClientSession, **options: Any) -> Deliverer:
    return Deliverer(ledger, session, retry_base_seconds=0.01, max_attempts=3, **{"webhooks": DIALECT.webhooks, **options})


async def test_a_claimed_delivery_is_not_sent_once_its_lease_is_too_short_for_a_send(
    ledger: Ledger, shop: Tenant, session: aiohttp.ClientSession, aiohttp_server: Any
) -> None:
    receiver = Receiver()
    await enqueue(ledger, shop, await target(aiohttp_server, receiver), ["late", "early"])
    sender = deliverer(ledger, session, timeout_seconds=1)
    late, early = await ledger.claim_deliveries(limit=2, lease_seconds=sender.lease_seconds)
    loop = asyncio.get_running_loop()
    sender._tenants = {shop.id: shop}
    sender._queue([late], loop.time() - 0.001)  # its send-by time has passed while it waited here
    sender._queue([early], loop.time() + 60)
    task = asyncio.create_task(sender._sender())
    await until(lambda: _true(sender._outstanding == 0))
    await sender._flush()
    task.cancel()
    assert receiver.arrived == ["early"] and receiver.valid == [True]
    assert (await states(ledger)) == {"late": ("pending", 0), "early": ("delivered", 1)}


async def _true(value: bool) -> bool:
    return value


async def test_stopping_records_what_arrived_and_leaves_the_rest_leased_for_a_resend(
    ledger: Ledger, shop: Tenant, session: aiohttp.ClientSession, aiohttp_server: Any, monkeypatch: Any
) -> None:
    receiver = Receiver(hold=frozenset({"held"}))
    url = await target(aiohttp_server, receiver)
    await enqueue(ledger, shop, url, ["quick", "held"])
    real, gate = ledger.record_attempts, asyncio.Event()

    async def slow(**kwargs: Any) -> list[bool]:  # the outcome write is still on its way when the stop comes
        await gate.wait()
        return await real(**kwargs)

    monkeypatch.setattr(ledger, "record_attempts", slow)
    first = deliverer(ledger, session, timeout_seconds=30)
    running = asyncio.create_task(first.run())
    await until(lambda: _true(len(receiver.arrived) == 2))
    await asyncio.sleep(0.05)  # the quick one's outcome is gathered and being written
    running.cancel()
    asyncio.get_running_loop().call_later(0.1, gate.set)
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await states(ledger) == {"quick": ("delivered", 1), "held": ("pending", 0)}  # none lost, none doubled
    monkeypatch.setattr(ledger, "record_attempts", real)

    second = deliverer(ledger, session)
    again = asyncio.create_task(second.run())
    try:
        await asyncio.sleep(0.3)
        assert receiver.arrived == ["quick", "held"]  # still leased by the first: not sent meanwhile
        ledger.clock.freeze(ledger.clock.now() + timedelta(seconds=first.lease_seconds + 1))
        receiver.hold = frozenset()
        await until(lambda: _delivered(ledger, "held"))
    finally:
        again.cancel()
        with pytest.raises(asyncio.CancelledError):
            await again
    assert receiver.arrived == ["quick", "held", "held"] and all(receiver.valid)


async def _delivered(ledger: Ledger, key: str) -> bool:
    return (await states(ledger)).get(key) == ("delivered", 1)


async def test_an_outcome_write_that_fails_is_tried_again(
    ledger: Ledger, shop: Tenant, session: aiohttp.ClientSession, aiohttp_server: Any, monkeypatch: Any
) -> None:
    receiver = Receiver()
    await enqueue(ledger, shop, await target(aiohttp_server, receiver), ["k"])
    real = ledger.record_attempts
    failures = []

    async def flaky(**kwargs: Any) -> list[bool]:
        if not failures:
            failures.append(1)
            raise OSError("the store went away for a moment")
        return await real(**kwargs)

    monkeypatch.setattr(ledger, "record_attempts", flaky)
    running = asyncio.create_task(deliverer(ledger, session).run())
    try:
        await until(lambda: _delivered(ledger, "k"))
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    assert failures == [1] and receiver.arrived == ["k"]


async def test_a_backlog_larger_than_a_claim_drains_each_delivery_once(
    ledger: Ledger, shop: Tenant, session: aiohttp.ClientSession, aiohttp_server: Any
) -> None:
    receiver = Receiver()
    keys = [f"k{n}" for n in range(150)]
    await enqueue(ledger, shop, await target(aiohttp_server, receiver), keys)
    running = asyncio.create_task(deliverer(ledger, session, senders=4).run())  # 32 claimed at a time
    try:
        await until(lambda: _true(len(receiver.arrived) >= len(keys)))
        await until(lambda: _all_delivered(ledger))
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    assert sorted(receiver.arrived) == sorted(keys) and all(receiver.valid)


async def _all_delivered(ledger: Ledger) -> bool:
    return all(state == ("delivered", 1) for state in (await states(ledger)).values())


async def test_a_sender_outlives_an_unexpected_error_and_leaves_that_delivery_leased(
    ledger: Ledger, shop: Tenant, session: aiohttp.ClientSession, aiohttp_server: Any, monkeypatch: Any
) -> None:
    receiver = Receiver()
    await enqueue(ledger, shop, await target(aiohttp_server, receiver), ["odd", "fine"])
    real = DIALECT.webhooks.headers

    def headers(section: Any, **kwargs: Any) -> Any:
        if kwargs["key"] == "odd":
            raise RuntimeError("something nobody expected")
        return real(section, **kwargs)

    odd_signer = dataclasses.replace(DIALECT.webhooks, headers=headers)
    running = asyncio.create_task(deliverer(ledger, session, senders=1, webhooks=odd_signer).run())  # one sender for both
    try:
        await until(lambda: _delivered(ledger, "fine"))
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    assert receiver.arrived == ["fine"] and (await states(ledger))["odd"] == ("pending", 0)


class _SlowLedger:
    """Records outcome batches slowly, so a stop can come while one is being written."""

    def __init__(self) -> None:
        self.recorded: list[str] = []

    async def record_attempts(self, *, attempts: list[Any], **_: Any) -> list[bool]:
        await asyncio.sleep(0.2)
        self.recorded.extend(attempts)
        return [True] * len(attempts)


async def test_outcomes_gathered_while_the_last_write_is_in_flight_are_recorded_before_a_stop_ends(
    session: aiohttp.ClientSession,
) -> None:
    slow = _SlowLedger()
    deliverer = Deliverer(slow, session, retry_base_seconds=0.01, max_attempts=3, webhooks=DIALECT.webhooks)  # type: ignore[arg-type]
    recorder = asyncio.create_task(deliverer._record_outcomes())
    deliverer._outcomes.append(("first", "first"))
    deliverer._have_outcomes.set()
    await asyncio.sleep(0.05)  # the first outcome's write is in flight
    deliverer._outcomes.append(("second", "second"))  # a sender finished meanwhile: delivered, not yet on record
    deliverer._have_outcomes.set()
    await deliverer._stop(recorder, [])
    assert slow.recorded == ["first", "second"]

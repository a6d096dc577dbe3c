"""When "not applied" may be believed and who may act on an intent, on a keyless upstream (like memberpoints:
a write sent twice is applied twice, so a double shows): the grace runs from when the gateway gave up on an
answer, leases and sending times are read on the database's clock, and only the claim's holder closes it."""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from gateway.ledger import Ledger, Member, Tenant, UpstreamFailed, UpstreamUnavailable, open_store
from gateway.ledger import claims
from tests.ledger.fake_upstream import Crash, FakeUpstream
from tests.ledger.test_forwarding_claims import bind, fake, juan, up  # noqa: F401  (fixtures)
from tests.ledger.test_forwarding_settle import recorded


async def test_a_request_landing_just_after_its_timeout_is_found_not_sent_again(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream  # noqa: F811
) -> None:
    """The budget is 1 s and the timeout 0.5 s: the timeout fires 0.5 s after the send, and the request
    lands 0.1 s after that. The grace (half the budget) runs from the timeout, not from the send."""
    fake.late_next = 0.1
    moved = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    [key] = fake.writes
    assert fake.writes[key] == 1 and fake.apply_calls == [key]  # found by asking, never resent
    assert moved.balance.posted == Decimal("105.00") == fake.figure("mbr-9")


async def test_a_connection_dropped_without_an_answer_gets_the_same_grace(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream  # noqa: F811
) -> None:
    original = fake.apply

    async def dropped(forward):  # the connection drops before any answer; the request lands 0.1 s later
        if not fake.apply_calls:
            fake.apply_calls.append(forward.key)
            fake.pending = asyncio.ensure_future(fake._land_late(forward, 0.1))
            raise UpstreamFailed("the fake upstream dropped the connection", sent=True)
        return await original(forward)

    fake.apply = dropped  # type: ignore[method-assign]
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert sum(fake.writes.values()) == 1 and len(fake.apply_calls) == 1
    assert await recorded(ledger, up, juan) == [Decimal("5.00")]


async def test_an_answered_5xx_is_believed_at_once_and_the_write_resent(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream  # noqa: F811
) -> None:
    original = fake.apply

    async def answered_503(forward):  # the upstream's handler answered 503: nothing of it is still on its way
        if not fake.apply_calls:
            fake.apply_calls.append(forward.key)
            raise UpstreamFailed("the fake upstream answered 503", sent=True, status=503)
        return await original(forward)

    fake.apply = answered_503  # type: ignore[method-assign]
    began = asyncio.get_running_loop().time()
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert asyncio.get_running_loop().time() - began < 0.4  # no grace waited
    assert sum(fake.writes.values()) == 1 and len(fake.apply_calls) == 2


async def test_another_worker_looking_right_after_the_sender_gave_up_waits_the_grace_out(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream  # noqa: F811
) -> None:
    """The sender gives up at the timeout and dies while asking: the stored sending time is the give-up
    time, so the settler does not believe "not applied" while the request is still landing."""
    fake.late_next = 0.2

    async def dies(forward):
        raise Crash()

    fake.settle = dies  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    del fake.settle
    assert await ledger.settle_open(tenant=up) == {"open": 1}  # 0.5 s after the send, at the give-up
    await asyncio.sleep(0.6)
    assert await ledger.settle_open(tenant=up) == {"applied": 1}
    assert sum(fake.writes.values()) == 1 and len(fake.apply_calls) == 1


@contextmanager
def clock_ahead(monkeypatch: pytest.MonkeyPatch, seconds: float) -> Iterator[None]:
    """This process's wall clock reads `seconds` ahead (a clock stepped forward, an instance whose clock
    is off): every gateway module's `datetime.now` does; the database's own clock does not move."""

    class Ahead(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return datetime.now(tz) + timedelta(seconds=seconds)

    for name, module in list(sys.modules.items()):
        if name.startswith("gateway.") and getattr(module, "datetime", None) is datetime:
            monkeypatch.setattr(module, "datetime", Ahead)
    yield
    monkeypatch.undo()


async def test_an_instance_whose_clock_is_ahead_leaves_a_live_senders_claim_alone(
    ledger: Ledger, store_url: str, up: Tenant, juan: Member, fake: FakeUpstream,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(claims, "LEASE_SECONDS", 2.0)  # so the second instance's wait for it stays short
    release = asyncio.Event()
    original = fake.apply

    async def slow(forward):  # the first instance's request is slow, well within any timeout
        if not fake.apply_calls:
            fake.apply_calls.append("held")
            await release.wait()
            fake.apply_calls.remove("held")
        return await original(forward)

    fake.apply = slow  # type: ignore[method-assign]
    sending = asyncio.ensure_future(ledger.credit(tenant=up, member=juan, amount=Decimal("5")))
    await asyncio.sleep(0.2)
    other = Ledger(open_store(store_url))
    await other.start()
    try:
        bind(other, up, fake)
        with clock_ahead(monkeypatch, 3):
            assert await other.settle_open(tenant=up) == {"open": 1}  # held by a live sender: left alone
    finally:
        await other.close()
    release.set()
    await sending
    assert sum(fake.writes.values()) == 1 and fake.figure("mbr-9") == Decimal("105.00")


async def test_a_worker_whose_lease_lapsed_cannot_close_an_intent_another_is_resending(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream  # noqa: F811
) -> None:
    first_done, resend_done = asyncio.Event(), asyncio.Event()
    original = fake.apply

    async def two_workers(forward):
        fake.apply_calls.append(forward.key)
        if len(fake.apply_calls) == 1:  # the sender's request, refused at the door long after
            await first_done.wait()
            raise UpstreamFailed("the fake upstream refused the connection", sent=False)
        await resend_done.wait()  # the settler's resend, applied
        fake.apply_calls.pop()
        return await original(forward)

    fake.apply = two_workers  # type: ignore[method-assign]
    sending = asyncio.ensure_future(ledger.credit(tenant=up, member=juan, amount=Decimal("5")))
    await asyncio.sleep(0.1)
    [intent] = await ledger.intents(tenant=up)
    past = "2000-01-01 00:00:00.000000"
    await ledger.store.write(  # the sender's renewals stalled: its lease ran out long ago
        lambda tx: tx.execute(
            "UPDATE upstream_intents SET claimed_until = ?, sent_at = ? WHERE id = ?", (past, past, intent.id)
        )
    )
    settling = asyncio.ensure_future(ledger.settle_open(tenant=up))
    while len(fake.apply_calls) < 2:
        await asyncio.sleep(0.02)
    first_done.set()
    with pytest.raises(UpstreamUnavailable):  # not "not applied": the settler carries the write on
        await sending
    resend_done.set()
    assert await settling == {"applied": 1}
    assert (await ledger.intent(intent_id=intent.id)).state == "applied"
    assert sum(fake.writes.values()) == 1 and await recorded(ledger, up, juan) == [Decimal("5.00")]

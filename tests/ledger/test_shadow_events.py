"""Every intent an upstream applied publishes, in the same transaction as its recording, exactly one
`upstream.applied` event: what a shadow upstream is sent. A refusal, a write surely not applied, a client's
replay and a second recording of the same intent publish nothing."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger import (
    APPLIED_TOPIC,
    Asset,
    Event,
    Idempotency,
    InsufficientFunds,
    Ledger,
    Member,
    Tenant,
    UpstreamFailed,
    UpstreamUnavailable,
)
from gateway.ledger.repo import intents as intent_sql
from gateway.ledger.settling import _forward_of
from gateway.ledger.upstream import Applied
from tests.ledger.fake_upstream import FakeUpstream
from tests.ledger.upstream_tenant import fake, juan, up  # noqa: F401  (fixtures)

P = Asset.POINTS


async def applied_events(ledger: Ledger) -> list[Event]:
    return [e for e in await ledger.events(limit=1000) if e.topic == APPLIED_TOPIC]


async def test_a_credit_publishes_one_event_with_the_movement_as_plain_data(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    moved = await ledger.credit(tenant=up, member=juan, amount=Decimal("50"), note="goodwill", reference="r-1")
    (event,) = await applied_events(ledger)
    (intent,) = await ledger.intents(tenant=up, states=("applied",))
    assert event.tenant_id == up.id and event.entry_id == moved.entry.id
    assert event.payload == {
        "intent": intent.id, "key": intent.key, "member_id": juan.id, "direction": "credit", "asset": "points",
        "points": "50.00", "cause": "adjustment", "value": None, "note": "goodwill", "reference": "r-1",
        "reverses": None, "reverses_key": None, "ref": fake.applied[intent.key].ref, "balance": "150.00",
        "entry_id": moved.entry.id,
    }


async def test_refused_and_not_applied_writes_publish_nothing(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    with pytest.raises(InsufficientFunds):
        await ledger.debit(tenant=up, member=juan, amount=Decimal("500"))
    fake.down = True
    with pytest.raises(UpstreamFailed):
        await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    states = sorted(i.state for i in await ledger.intents(tenant=up, states=("refused", "not_applied")))
    assert states == ["not_applied", "refused"]
    assert await applied_events(ledger) == []


async def test_a_replay_and_a_second_recording_publish_nothing_more(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    keyed = Idempotency("mint", "k-1", "f", lambda m: str(m.balance.posted).encode())
    first = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed)
    replay = await ledger.credit(tenant=up, member=juan, amount=Decimal("5"), idempotency=keyed)
    assert not first.replayed and replay.replayed
    (intent,) = await ledger.intents(tenant=up, states=("applied",))
    _, local, _ = await ledger._read(lambda tx: intent_sql.get(tx, intent.id))
    await ledger._applied(up, fake, intent.id, _forward_of(intent), local, Applied(ref="again"))  # recorded once more
    assert len(await applied_events(ledger)) == 1


async def test_a_write_whose_answer_was_lost_publishes_once_it_is_known_applied(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.drop_next = 1  # applied there, the answer lost: settled by asking, recorded once
    await ledger.credit(tenant=up, member=juan, amount=Decimal("7"))
    (event,) = await applied_events(ledger)
    assert event.payload["points"] == "7.00" and list(fake.writes.values()) == [1]


async def test_a_voided_order_names_the_primarys_ref_and_the_key_of_what_it_takes_back(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    order = await ledger.record_order(tenant=up, value=Decimal("100"), member=juan, reference="inv-1")
    await ledger.void_order(tenant=up, order=order.order.id, reason="returned")
    earn, void = await applied_events(ledger)
    assert (earn.payload["cause"], earn.payload["value"], earn.payload["reference"]) == ("order_earn", "100.00", "inv-1")
    assert void.payload["cause"] == "order_void" and void.payload["direction"] == "debit"
    assert void.payload["reverses"] == earn.payload["ref"] is not None
    assert void.payload["reverses_key"] == earn.payload["key"]


async def test_a_person_settling_an_intent_as_applied_publishes_one_event(
    ledger: Ledger, up: Tenant, juan: Member, fake: FakeUpstream
) -> None:
    fake.settles = False
    fake.drop_next = 1
    with pytest.raises(UpstreamUnavailable):
        await ledger.debit(tenant=up, member=juan, amount=Decimal("30"))
    assert await applied_events(ledger) == []
    (intent,) = await ledger.intents(tenant=up)
    await ledger.settle_intent(intent_id=intent.id, applied=True, by="ops")
    (event,) = await applied_events(ledger)
    assert (event.payload["intent"], event.payload["direction"], event.payload["ref"]) == (intent.id, "debit", None)

"""Deliveries for receivers that answer with more than a status (a shadow upstream): an outcome kept as
JSON, a final "refused" state never retried, claims of one channel only, claims in order per label (a
member's writes one after another, in the order of their events), and reads by channel, key and state."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.ledger import InvalidArgument, Ledger, Member, SentAttempt, Tenant
from tests.ledger.delivery_items import START, events, item


async def test_in_order_claims_take_only_the_earliest_pending_delivery_of_each_label(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    ledger.clock.freeze(START)
    a1, b1, a2, a3 = await events(ledger, tenant, member, 4)
    items = [item(tenant, a1, "member-1"), item(tenant, b1, "member-2"), item(tenant, a2, "member-1"),
             item(tenant, a3, "member-1")]
    await ledger.enqueue_deliveries(consumer="c", upto=a3, items=items)
    first = await ledger.claim_deliveries(limit=10, channel="shadow", in_order=True)
    assert sorted(d.event_id for d in first) == [a1, b1]
    assert await ledger.claim_deliveries(limit=10, channel="shadow", in_order=True) == []  # a1 still pending (leased)
    by_event = {d.event_id: d for d in first}
    await ledger.record_attempts(attempts=[SentAttempt(by_event[a1].id, by_event[a1].claim, True)])
    (second,) = await ledger.claim_deliveries(limit=10, channel="shadow", in_order=True)
    assert second.event_id == a2


async def test_a_failing_delivery_holds_back_its_labels_later_ones_until_it_is_settled(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    ledger.clock.freeze(START)
    e1, e2 = await events(ledger, tenant, member, 2)
    await ledger.enqueue_deliveries(consumer="c", upto=e2, items=[item(tenant, e1, "m"), item(tenant, e2, "m")])
    (one,) = await ledger.claim_deliveries(channel="shadow", in_order=True, lease_seconds=5)
    await ledger.record_attempts(attempts=[SentAttempt(one.id, one.claim, False, error="down")], retry_base_seconds=10)
    ledger.clock.freeze(START + timedelta(seconds=5))
    assert await ledger.claim_deliveries(channel="shadow", in_order=True) == []  # e1 waits its backoff; e2 behind it
    ledger.clock.freeze(START + timedelta(seconds=11))
    (again,) = await ledger.claim_deliveries(channel="shadow", in_order=True)
    assert again.id == one.id and again.earlier_claim == one.claim and one.earlier_claim is None
    await ledger.record_attempts(attempts=[SentAttempt(again.id, again.claim, False, error="no", final=True)])
    (two,) = await ledger.claim_deliveries(channel="shadow", in_order=True)  # refused is settled: e2 is due
    assert two.event_id == e2


async def test_without_in_order_every_due_delivery_is_claimed(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    e1, e2 = await events(ledger, tenant, member, 2)
    await ledger.enqueue_deliveries(consumer="c", upto=e2, items=[item(tenant, e1, "m"), item(tenant, e2, "m")])
    assert len(await ledger.claim_deliveries(channel="shadow")) == 2


async def test_a_claim_of_one_channel_never_takes_another_channels_delivery(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    e1, e2 = await events(ledger, tenant, member, 2)
    await ledger.enqueue_deliveries(consumer="c", upto=e2, items=[item(tenant, e1, "m", "webhooks"),
                                                                  item(tenant, e2, "m", "shadow")])
    (hook,) = await ledger.claim_deliveries(channel="webhooks", limit=10)
    assert hook.channel == "webhooks"
    (shadow,) = await ledger.claim_deliveries(channel="shadow", limit=10)
    assert shadow.channel == "shadow"


async def test_a_final_failure_is_refused_at_once_and_never_retried_and_its_outcome_is_kept(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    ledger.clock.freeze(START)
    (e1,) = await events(ledger, tenant, member, 1)
    await ledger.enqueue_deliveries(consumer="c", upto=e1, items=[item(tenant, e1, "m")])
    (claimed,) = await ledger.claim_deliveries(channel="shadow")
    said = {"state": "refused", "code": "insufficient_funds", "message": "20 available", "shadow_member": "9"}
    recorded = await ledger.record_attempts(
        attempts=[SentAttempt(claimed.id, claimed.claim, False, error="insufficient_funds", outcome=said, final=True)],
        max_attempts=10)
    assert recorded == [True]
    (done,) = await ledger.deliveries(channel="shadow")
    assert (done.state, done.attempts, done.outcome) == ("refused", 1, said)
    ledger.clock.freeze(START + timedelta(days=1))
    assert await ledger.claim_deliveries(channel="shadow") == []


async def test_an_attempt_without_an_outcome_keeps_the_one_before(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    ledger.clock.freeze(START)
    (e1,) = await events(ledger, tenant, member, 1)
    await ledger.enqueue_deliveries(consumer="c", upto=e1, items=[item(tenant, e1, "m")])
    (one,) = await ledger.claim_deliveries(channel="shadow")
    await ledger.record_attempts(attempts=[SentAttempt(one.id, one.claim, False, outcome={"sent": True})], retry_base_seconds=0)
    (two,) = await ledger.claim_deliveries(channel="shadow")
    await ledger.record_attempts(attempts=[SentAttempt(two.id, two.claim, False)], retry_base_seconds=0)
    (three,) = await ledger.claim_deliveries(channel="shadow")
    assert three.outcome == {"sent": True} and three.attempts == 2
    await ledger.record_attempts(attempts=[SentAttempt(three.id, three.claim, True, outcome={"state": "applied", "ref": "x"})])
    assert (await ledger.delivery_by_key(tenant=tenant, channel="shadow", key=f"key-{e1}")).outcome == {  # type: ignore[union-attr]
        "state": "applied", "ref": "x"}


async def test_reads_by_channel_state_and_key_and_the_counts(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    ledger.clock.freeze(START)
    e1, e2, e3 = await events(ledger, tenant, member, 3)
    await ledger.enqueue_deliveries(consumer="c", upto=e3, items=[
        item(tenant, e1, "a"), item(tenant, e2, "b"), item(tenant, e3, "c", "webhooks")])
    assert await ledger.delivery_counts(tenant=tenant, channel="shadow") == {
        "pending": 2, "delivered": 0, "refused": 0, "failed": 0, "oldest_pending_at": START}
    claimed = {d.event_id: d for d in await ledger.claim_deliveries(channel="shadow")}
    ledger.clock.freeze(START + timedelta(seconds=3))
    await ledger.record_attempts(attempts=[SentAttempt(claimed[e1].id, claimed[e1].claim, True)])
    assert [d.event_id for d in await ledger.deliveries(tenant=tenant, channel="shadow", states=("pending",))] == [e2]
    assert [d.event_id for d in await ledger.deliveries(channel="shadow", states=("delivered", "refused"))] == [e1]
    assert [d.event_id for d in await ledger.deliveries(channel="shadow", offset=1, limit=1)] == [e2]
    assert len(await ledger.deliveries()) == 3
    found = await ledger.delivery_by_key(tenant=tenant, channel="shadow", key=f"key-{e2}")
    assert found is not None and found.event_id == e2
    assert await ledger.delivery_by_key(tenant=tenant, channel="shadow", key=f"key-{e3}") is None  # another channel
    assert await ledger.delivery_counts(tenant=tenant, channel="shadow") == {
        "pending": 1, "delivered": 1, "refused": 0, "failed": 0, "oldest_pending_at": START}


async def test_an_unknown_state_is_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidArgument, match="pending, delivered, refused, failed"):
        await ledger.deliveries(states=("lost",))

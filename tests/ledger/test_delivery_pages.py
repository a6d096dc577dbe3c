"""Reading one channel's deliveries a label at a time: a page of the labels that have any (numbered labels in
number order, other channels and tenants apart), those labels' deliveries without attempt history, and a
tally by state and answer with how many labels have a delivery answered one of the given ways."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.ledger import InvalidArgument, Ledger, Member, SentAttempt, Tenant
from tests.ledger.delivery_items import START, events, item


async def test_labels_are_paged_in_number_order_and_counted(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    ids = await events(ledger, tenant, member, 5)
    labels = ["m-10", "m-9", "m-2", "m-10", "m-100"]
    items = [item(tenant, e, label) for e, label in zip(ids, labels, strict=True)]
    items.append(item(tenant, ids[0], "m-1", channel="elsewhere"))  # another channel is not counted
    await ledger.enqueue_deliveries(consumer="c", upto=ids[-1], items=items)
    assert await ledger.delivery_labels(tenant=tenant, channel="shadow", limit=2) == (["m-2", "m-9"], 4)
    assert await ledger.delivery_labels(tenant=tenant, channel="shadow", offset=2, limit=5) == (["m-10", "m-100"], 4)
    assert await ledger.delivery_labels(tenant=tenant, channel="none") == ([], 0)
    with pytest.raises(InvalidArgument):
        await ledger.delivery_labels(tenant=tenant, channel="shadow", limit=0)


async def test_a_set_of_labels_deliveries_come_oldest_first_without_history(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    a1, b1, c1, a2 = await events(ledger, tenant, member, 4)
    await ledger.enqueue_deliveries(consumer="c", upto=a2, items=[
        item(tenant, a1, "a"), item(tenant, b1, "b"), item(tenant, c1, "c"), item(tenant, a2, "a")])
    (first,) = [d for d in await ledger.claim_deliveries(limit=10, channel="shadow") if d.event_id == a1][:1]
    await ledger.record_attempts(attempts=[SentAttempt(first.id, first.claim, False, error="down")])
    got = await ledger.deliveries_of_labels(tenant=tenant, channel="shadow", labels=["a", "c", "a"])
    assert [(d.label, d.event_id) for d in got] == [("a", a1), ("c", c1), ("a", a2)]
    assert got[0].attempts == 1 and got[0].history == ()  # the count, never the attempts themselves
    assert await ledger.deliveries_of_labels(tenant=tenant, channel="shadow", labels=[]) == []


async def test_the_tally_counts_by_state_and_answer_and_the_labels_answered_a_given_way(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    ids = await events(ledger, tenant, member, 4)
    await ledger.enqueue_deliveries(consumer="c", upto=ids[-1], items=[
        item(tenant, ids[0], "a"), item(tenant, ids[1], "a"), item(tenant, ids[2], "b"), item(tenant, ids[3], "c")])
    claimed = {d.event_id: d for d in await ledger.claim_deliveries(limit=10, channel="shadow")}
    answers = {ids[0]: (True, {"state": "applied"}), ids[1]: (False, {"state": "refused"}),
               ids[2]: (False, {"state": "unclear"})}
    await ledger.record_attempts(attempts=[
        SentAttempt(claimed[e].id, claimed[e].claim, ok, error=None if ok else "no", outcome=said, final=True)
        for e, (ok, said) in answers.items()])
    got = await ledger.delivery_tally(tenant=tenant, channel="shadow", answer_field="state",
                                      differing=("refused", "unclear"))
    assert got["counts"] == {("delivered", "applied"): 1, ("refused", "refused"): 1, ("refused", "unclear"): 1,
                             ("pending", None): 1}
    assert got["labels_differing"] == 2
    with pytest.raises(InvalidArgument):
        await ledger.delivery_tally(tenant=tenant, channel="shadow", answer_field="x'); --", differing=("a",))


async def test_a_lease_is_renewed_only_for_the_claim_still_holding_it(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    ledger.clock.freeze(START)
    a, b = await events(ledger, tenant, member, 2)
    await ledger.enqueue_deliveries(consumer="c", upto=b, items=[item(tenant, a, "a"), item(tenant, b, "b")])
    held = await ledger.claim_deliveries(limit=10, channel="shadow", lease_seconds=10)
    ledger.clock.freeze(START + timedelta(seconds=11))  # both leases ran out
    retaken = await ledger.claim_deliveries(limit=1, channel="shadow")
    assert [d.event_id for d in retaken] == [a]  # another claimer took a over
    assert await ledger.renew_delivery_leases(deliveries=held, lease_seconds=60) == 1  # b only: a is lost
    assert await ledger.claim_deliveries(limit=10, channel="shadow") == []  # b held again, a by the other

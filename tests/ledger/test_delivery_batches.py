"""Deliveries in batches: one claim leases many under one token, enqueue-and-claim takes what it just
enqueued in the same commit, and many outcomes are recorded in one transaction by the same rules as
one (only the latest claim's holder, only while pending, backoff then failure)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gateway.ledger import Ledger, NewDelivery, SentAttempt, Tenant

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _item(tenant: Tenant, label: str) -> NewDelivery:
    return NewDelivery(tenant.id, None, "test", label, "http://127.0.0.1:1/", f"k-{label}", "{}")


async def _enqueued(ledger: Ledger, tenant: Tenant, count: int) -> None:
    await ledger.enqueue_deliveries(consumer="c", upto=0, items=[_item(tenant, str(n)) for n in range(count)])


async def test_a_claim_leases_a_batch_under_one_token_and_nobody_else_gets_it(ledger: Ledger, tenant: Tenant) -> None:
    ledger.clock.freeze(START)
    await _enqueued(ledger, tenant, 5)
    claimed = await ledger.claim_deliveries(limit=3, lease_seconds=30)
    assert len(claimed) == 3 and len({d.claim for d in claimed}) == 1 and claimed[0].claim
    rest = await ledger.claim_deliveries(limit=10, lease_seconds=30)
    assert {d.id for d in rest}.isdisjoint(d.id for d in claimed) and len(rest) == 2
    assert await ledger.claim_deliveries(limit=10) == []  # all leased
    ledger.clock.freeze(START + timedelta(seconds=31))
    again = await ledger.claim_deliveries(limit=10, lease_seconds=30)
    assert len(again) == 5 and again[0].claim not in {claimed[0].claim, rest[0].claim}


async def test_enqueue_and_claim_takes_what_it_enqueued_up_to_the_limit(ledger: Ledger, tenant: Tenant) -> None:
    ledger.clock.freeze(START)
    position, claimed = await ledger.enqueue_and_claim(
        consumer="c", upto=0, items=[_item(tenant, str(n)) for n in range(4)], limit=3, lease_seconds=30
    )
    assert position == 0 and len(claimed) == 3
    assert [d.key for d in await ledger.claim_deliveries(limit=10)] == ["k-3"]
    _, none = await ledger.enqueue_and_claim(consumer="c", upto=0, items=[_item(tenant, "9")])
    assert none == [] and len(await ledger.deliveries()) == 5  # limit 0: enqueued, nothing claimed


async def test_outcomes_recorded_together_follow_the_rules_of_one(ledger: Ledger, tenant: Tenant) -> None:
    ledger.clock.freeze(START)
    await _enqueued(ledger, tenant, 4)
    ok, failing, last_try, stale = await ledger.claim_deliveries(limit=4, lease_seconds=30)
    recorded = await ledger.record_attempts(
        attempts=[
            SentAttempt(ok.id, ok.claim, True, 200),
            SentAttempt(failing.id, failing.claim, False, 500, "status 500"),
            SentAttempt(last_try.id, last_try.claim, False, None, "ClientConnectorError"),
            SentAttempt(stale.id, "dlc-someone-else", True, 200),  # not the latest claim: refused
            SentAttempt(ok.id, ok.claim, True, 200),  # already settled a moment ago: refused
        ],
        retry_base_seconds=2, max_attempts=2,
    )
    assert recorded == [True, True, True, False, False]
    by_key = {d.key: d for d in await ledger.deliveries()}
    assert by_key[ok.key].state == "delivered" and [a.status for a in by_key[ok.key].history] == [200]
    assert by_key[failing.key].state == "pending" and by_key[failing.key].next_at == START + timedelta(seconds=2)
    assert by_key[stale.key].history == () and by_key[stale.key].state == "pending"
    ledger.clock.freeze(START + timedelta(seconds=2))
    (retry,) = [d for d in await ledger.claim_deliveries(limit=10, lease_seconds=1) if d.key == failing.key]
    assert await ledger.record_attempts(attempts=[SentAttempt(retry.id, retry.claim, False, 503)],
                                        retry_base_seconds=2, max_attempts=2) == [True]
    assert {d.key: d.state for d in await ledger.deliveries()}[failing.key] == "failed"  # the last try failed


async def test_no_outcomes_is_no_write(ledger: Ledger) -> None:
    assert await ledger.record_attempts(attempts=[]) == []


async def test_a_batch_larger_than_one_statement_takes_is_recorded_whole(ledger: Ledger, tenant: Tenant) -> None:
    await _enqueued(ledger, tenant, 1200)  # more than SQLite's 999 parameters per statement
    claimed = await ledger.claim_deliveries(limit=1200)
    recorded = await ledger.record_attempts(attempts=[SentAttempt(d.id, d.claim, True, 200) for d in claimed])
    assert len(recorded) == 1200 and all(recorded)


async def test_two_tries_of_one_delivery_in_a_batch_are_recorded_in_order(ledger: Ledger, tenant: Tenant) -> None:
    ledger.clock.freeze(START)
    await _enqueued(ledger, tenant, 1)
    (one,) = await ledger.claim_deliveries(lease_seconds=30)
    tries = [SentAttempt(one.id, one.claim, False, 500), SentAttempt(one.id, one.claim, False, 502)]
    assert await ledger.record_attempts(attempts=tries, retry_base_seconds=2, max_attempts=5) == [True, True]
    (after,) = await ledger.deliveries()
    assert (after.attempts, after.last_status, [a.status for a in after.history]) == (2, 502, [500, 502])
    assert after.next_at == START + timedelta(seconds=4) and after.state == "pending"

"""Idempotent writes: a replay returns the stored response and applies nothing; a different request
under the same key is refused; a duplicate that arrives while the first is in flight is refused."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from gateway.ledger import (
    Asset,
    IdempotencyConflict,
    IdempotencyInFlight,
    Idempotency,
    InsufficientFunds,
    Ledger,
    Member,
    Movement,
    Outcome,
    Tenant,
)


def keyed(key: str, fingerprint: str) -> Idempotency:
    return Idempotency(scope="mint", key=key, fingerprint=fingerprint, render=lambda m: f"posted={m.balance.posted}".encode())


async def posted(ledger: Ledger, tenant: Tenant, member: Member) -> Decimal:
    return (await ledger.balance(tenant=tenant, member=member))[Asset.POINTS].posted


async def test_same_key_same_request_replays_and_applies_once(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    first: Outcome[Movement] = await ledger.credit(tenant=tenant, member=member, amount=Decimal("5"), idempotency=keyed("k1", "f"))
    assert not first.replayed and first.response == b"posted=105.00"
    for _ in range(20):
        again = await ledger.credit(tenant=tenant, member=member, amount=Decimal("5"), idempotency=keyed("k1", "f"))
        assert again.replayed and again.response == first.response and again.result is None
    assert await posted(ledger, tenant, member) == Decimal("105.00")


async def test_same_key_different_request_is_a_conflict(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    await ledger.credit(tenant=tenant, member=member, amount=Decimal("5"), idempotency=keyed("k2", "f1"))
    with pytest.raises(IdempotencyConflict):
        await ledger.credit(tenant=tenant, member=member, amount=Decimal("6"), idempotency=keyed("k2", "f2"))
    assert await posted(ledger, tenant, member) == Decimal("105.00")


async def test_a_duplicate_in_flight_is_refused(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    results = await asyncio.gather(
        *(ledger.credit(tenant=tenant, member=member, amount=Decimal("1"), idempotency=keyed("k3", "f")) for _ in range(5)),
        return_exceptions=True,
    )
    done = [r for r in results if isinstance(r, Outcome)]
    assert len(done) == 1 and not done[0].replayed
    assert all(isinstance(r, IdempotencyInFlight) for r in results if not isinstance(r, Outcome))
    assert await posted(ledger, tenant, member) == Decimal("101.00")
    after = await ledger.credit(tenant=tenant, member=member, amount=Decimal("1"), idempotency=keyed("k3", "f"))
    assert after.replayed


async def test_a_refused_write_stores_nothing_so_the_key_can_be_retried(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    with pytest.raises(InsufficientFunds):
        await ledger.debit(tenant=tenant, member=member, amount=Decimal("500"), idempotency=keyed("k4", "f"))
    await ledger.credit(tenant=tenant, member=member, amount=Decimal("400"))
    retried = await ledger.debit(tenant=tenant, member=member, amount=Decimal("500"), idempotency=keyed("k4", "f"))
    assert not retried.replayed and retried.response == b"posted=0.00"


async def test_keys_are_scoped_per_tenant(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    other = await ledger.create_tenant(name="t2")
    stranger = await ledger.create_member(tenant=other, name="S")
    await ledger.credit(tenant=tenant, member=member, amount=Decimal("1"), idempotency=keyed("shared", "f"))
    theirs = await ledger.credit(tenant=other, member=stranger, amount=Decimal("1"), idempotency=keyed("shared", "f"))
    assert not theirs.replayed


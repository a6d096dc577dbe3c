"""Orders that earn points, voids that reverse them, and audit() catching a broken invariant."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger import (
    Asset,
    DuplicateReference,
    Ledger,
    Member,
    OrderVoided,
    Tenant,
    UnknownOrder,
)


async def test_an_order_earns_value_over_earn_unit_rounded_down(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    result = await ledger.record_order(tenant=tenant, member=member, value=Decimal("9.99"), reference="INV-1")
    assert result.order.earned == Decimal("0.99")
    assert result.movement is not None and result.movement.balance.posted == Decimal("100.99")
    with pytest.raises(DuplicateReference, match="Reference has already been taken"):
        await ledger.record_order(tenant=tenant, member=member, value=Decimal("1"), reference="INV-1")


async def test_an_order_for_an_unknown_member_earns_nothing(ledger: Ledger, tenant: Tenant) -> None:
    from gateway.ledger import By, Identity

    result = await ledger.record_order(tenant=tenant, member=By(Identity.CUSTOMER_NO, 9999), value=Decimal("50"))
    assert result.order.member_id is None and result.movement is None and result.order.earned == 0


async def test_voiding_reverses_the_earning_once(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    placed = await ledger.record_order(tenant=tenant, member=member, value=Decimal("100"), reference="INV-2")
    voided = await ledger.void_order(tenant=tenant, order=placed.order.id, reason="returned")
    assert voided.order.voided and voided.order.void_reason == "returned"
    assert voided.movement is not None and voided.movement.balance.posted == Decimal("100.00")
    with pytest.raises(OrderVoided):
        await ledger.void_order(tenant=tenant, order=placed.order.id)
    with pytest.raises(UnknownOrder):
        await ledger.void_order(tenant=tenant, order=424242)


async def test_audit_names_a_balance_that_disagrees_with_its_entries(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    assert (await ledger.audit()).ok
    await ledger.store.write(
        lambda tx: tx.execute("UPDATE accounts SET posted = posted + 1 WHERE member_id = ? AND asset = 'points'", (member.id,))
    )
    report = await ledger.audit()
    assert not report.ok
    assert any("posted balance differs" in v for v in report.violations)
    await ledger.store.write(
        lambda tx: tx.execute("UPDATE accounts SET posted = posted - 1 WHERE member_id = ? AND asset = 'points'", (member.id,))
    )


async def test_audit_names_an_entry_without_its_event(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    saved = await ledger.store.read(lambda tx: tx.fetchall("SELECT * FROM outbox WHERE entry_id IS NOT NULL"))
    await ledger.store.write(lambda tx: tx.execute("DELETE FROM outbox"))
    report = await ledger.audit()
    assert any("without exactly one creation event" in v for v in report.violations)

    async def restore(tx):  # type: ignore[no-untyped-def]
        for row in saved:
            await tx.execute(
                "INSERT INTO outbox (id, tenant_id, topic, entry_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                tuple(row),
            )

    await ledger.store.write(restore)


async def test_the_store_refuses_a_negative_balance_even_if_a_rule_were_skipped(
    ledger: Ledger, tenant: Tenant, member: Member
) -> None:
    if ledger.store.kind == "sqlite":
        import sqlite3

        refused: type[Exception] = sqlite3.IntegrityError
    else:
        import asyncpg

        refused = asyncpg.CheckViolationError
    with pytest.raises(refused):
        await ledger.store.write(
            lambda tx: tx.execute("UPDATE accounts SET posted = -1 WHERE member_id = ? AND asset = ?", (member.id, Asset.POINTS.value))
        )


async def test_audit_names_a_revision_chain_that_does_not_add_up(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    first = await ledger.adjust(tenant=tenant, member=member, amount=Decimal("10"))
    revised = await ledger.adjust(tenant=tenant, revises=first.entry.id, amount=Decimal("4"))
    assert (await ledger.audit()).ok
    await ledger.store.write(lambda tx: tx.execute("UPDATE entries SET record_amount = 5 WHERE id = ?", (revised.entry.id,)))
    report = await ledger.audit()
    assert any("do not add up" in v for v in report.violations), report.violations
    await ledger.store.write(lambda tx: tx.execute("UPDATE entries SET record_amount = 400 WHERE id = ?", (revised.entry.id,)))


async def test_audit_names_a_reversal_larger_than_its_original(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    credit = await ledger.credit(tenant=tenant, member=member, amount=Decimal("20"))
    reversal = await ledger.reverse(tenant=tenant, entry=credit.entry.id)
    await ledger.store.write(lambda tx: tx.execute("UPDATE entries SET amount = -2100 WHERE id = ?", (reversal.entry.id,)))
    report = await ledger.audit()
    assert any("does not mirror" in v for v in report.violations), report.violations
    await ledger.store.write(lambda tx: tx.execute("UPDATE entries SET amount = -2000 WHERE id = ?", (reversal.entry.id,)))

"""Outbox events and deliveries made for the ledger's delivery tests: n fresh events (credits of a member)
and a delivery of one of them under a label, on a channel."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from gateway.ledger import Ledger, Member, NewDelivery, Tenant

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


async def events(ledger: Ledger, tenant: Tenant, member: Member, n: int) -> list[int]:
    """n fresh outbox events (credits of the member), their ids in order."""
    for _ in range(n):
        await ledger.credit(tenant=tenant, member=member, amount=Decimal("1"))
    return [e.id for e in (await ledger.events(limit=1000))[-n:]]


def item(tenant: Tenant, event_id: int, label: str, channel: str = "shadow") -> NewDelivery:
    return NewDelivery(tenant.id, event_id, channel, label, "http://127.0.0.1:1/", f"key-{event_id}", "{}")

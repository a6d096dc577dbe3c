"""The scrape's webhook backlog is one ledger read, however many tenants the server holds (not a query per
tenant and dialect), and still counts every tenant's deliveries on the sending dialect's channel only."""
from __future__ import annotations

from decimal import Decimal

from gateway.admin.metrics import webhook_backlog
from gateway.app import DIALECT_LIST
from gateway.ledger import Credential, Ledger, Member, Tenant
from gateway.metrics import PREFIX
from tests.ledger.delivery_items import events, item

SENDER = next(d for d in DIALECT_LIST if d.webhooks is not None)


async def _tenant_with_member(ledger: Ledger, name: str) -> tuple[Tenant, Member]:
    tenant = await ledger.create_tenant(name=name, credentials=[Credential("imonggo", f"token-{name}")], config={})
    await ledger.upsert_programme(tenant=tenant, number=1, name="Base", spend_ratio=Decimal("200"),
                                  earn_unit=Decimal("10"))
    member = await ledger.create_member(tenant=tenant, name="M", customer_no=1, programme_no=1, card_refs=[f"c-{name}"])
    return tenant, member


async def _scraped(ledger: Ledger) -> tuple[dict[str, dict], int]:
    seen: list[str] = []
    ledger.store.observer = lambda kind, sql: seen.append(sql) if sql != "BEGIN" else None
    try:
        families = await webhook_backlog(ledger, DIALECT_LIST)
    finally:
        ledger.store.observer = None
    return {f.name: f.series for f in families}, len(seen)


async def test_the_backlog_is_one_read_whatever_the_number_of_tenants(ledger: Ledger) -> None:
    channel = SENDER.webhooks.channel  # type: ignore[union-attr]
    first, someone = await _tenant_with_member(ledger, "first")
    (event,) = await events(ledger, first, someone, 1)
    await ledger.enqueue_deliveries(consumer="c", upto=event, items=[item(first, event, "a", channel=channel)])
    _, reads_with_one = await _scraped(ledger)
    for n in range(12):
        tenant, member = await _tenant_with_member(ledger, f"t{n}")
        (event,) = await events(ledger, tenant, member, 1)
        await ledger.enqueue_deliveries(consumer="c", upto=event, items=[
            item(tenant, event, "a", channel=channel if n % 2 else "another-channel")])
    series, reads_with_many = await _scraped(ledger)
    assert reads_with_many == reads_with_one == 1
    assert series[f"{PREFIX}webhook_backlog"] == {(SENDER.name,): 1 + 6}
    assert series[f"{PREFIX}webhook_deliveries"][(SENDER.name, "pending")] == 7
    assert series[f"{PREFIX}webhook_oldest_pending_age_seconds"][(SENDER.name,)] >= 0

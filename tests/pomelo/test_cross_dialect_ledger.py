"""A confirmed card reward is one ledger movement every dialect sees: the shared points balance
(imonggo available_points, memberpoints mbr_points_balance) and an order movement in the history
(memberpoints includeOrders rows). Asserted at ledger level; the HTTP twin lives in contract_tests."""
from __future__ import annotations

from decimal import Decimal

from gateway.keys import LEDGER
from gateway.ledger import ORDER_KINDS, Asset, By, HistoryQuery, Identity, Kind
from tests.support import ClientFactory

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


async def test_a_confirmed_card_reward_is_in_the_shared_balance_and_the_order_history(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    purchase = await (await client.post("/__admin/pomelo/transactions",
                                        json={"card_id": CARD, "amount": "250.00", "currency": "ARS"})).json()
    ledger = client.app[LEDGER]
    demo = await ledger.tenant("demo")
    juan = await ledger.find_member(tenant=demo, member=By(Identity.CUSTOMER_NO, 1534))
    orders = HistoryQuery(member_id=juan.id, kinds=ORDER_KINDS)
    assert await ledger.count_history(tenant=demo, query=orders) == 0  # pending: not a movement yet

    assert (await client.post(f"/__admin/pomelo/transactions/{purchase['id']}/presentment")).status == 200
    balance = await ledger.balance(tenant=demo, member=By(Identity.MEMBER_NO, 1534))
    assert balance[Asset.POINTS].posted == Decimal("30761.00")
    (row,) = (await ledger.history(tenant=demo, query=orders)).items
    assert (row.kind, row.amount, row.value, row.reference) == (Kind.REWARD, Decimal("250.00"), Decimal("250.00"), purchase["id"])

    assert (await client.post(f"/__admin/pomelo/transactions/{purchase['id']}/reversal")).status == 200
    assert (await ledger.balance(tenant=demo, member=juan))[Asset.POINTS].posted == Decimal("30511.00")
    kinds = [e.kind for e in (await ledger.history(tenant=demo, query=orders)).items]
    assert kinds == [Kind.REWARD, Kind.REVERSAL]

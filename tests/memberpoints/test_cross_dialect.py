"""One ledger, two views: a reward spend made the way the Imonggo Reward API makes it (ledger.spend_value,
value x the customer type's point_to_amount_ratio) and a memberpoints adjustment move the same balance,
and every member's balance reads the same through memberpoints and through the ledger the Imonggo
customer view renders (`available_points`). The same flow over Imonggo's HTTP is in
contract_tests/test_cross_dialect.py."""
from __future__ import annotations

from decimal import Decimal

from gateway.ledger import Asset, By, Identity
from tests.support import ClientFactory

from .helpers import BALANCES, POINTS, demo_tenant, get, ledger_of, post


async def test_spend_through_imonggo_adjust_through_memberpoints_read_through_both(app_client: ClientFactory) -> None:
    client = await app_client()
    ledger, tenant = ledger_of(client), await demo_tenant(client)
    spent = await ledger.spend_value(  # what POST /api/rewards.xml?q=spend&customer_id=1534&amount=10 calls
        tenant=tenant, member=By(Identity.CUSTOMER_NO, 1534), value=Decimal("10"), reference="X-1", origin="imonggo"
    )
    assert spent.points == Decimal("2000.00")
    status, _ = await post(client, {"mbr_id": 1534, "adjustpoints": "25.50", "adjustmentnote": "goodwill"})
    assert status == 200
    status, _ = await post(client, {"mbr_email": "Jason@exmapleemail.com", "adjustpoints": -7})
    assert status == 200

    _, listed = await get(client, BALANCES)
    through_memberpoints = {r["mbr_id"]: Decimal(r["mbr_points_balance"]) for r in listed["data"]}
    through_imonggo = {}
    for customer_no in (1534, 442531, 445123):
        balance = await ledger.balance(tenant=tenant, member=By(Identity.CUSTOMER_NO, customer_no))
        through_imonggo[customer_no] = balance[Asset.POINTS].posted
    assert through_memberpoints == through_imonggo == {
        1534: Decimal("28536.50"), 442531: Decimal("120.00"), 445123: Decimal("43.00"),
    }

    _, history = await get(client, POINTS, mbr_id=1534, includeOrders=1)
    rows = [(r.get("adjusttype"), r["adjustpoints"], r.get("adjustvalue")) for r in history["data"]]
    assert rows == [(None, "30511.00", None), ("redeemed", "-2000.00", "10.00"), (None, "25.50", None)]
    assert sum(Decimal(r["adjustpoints"]) for r in history["data"]) == through_imonggo[1534]

"""Cross-dialect, over HTTP: a card reward confirmed through the pomelo sandbox shows in imonggo's
available_points and in memberpoints' includeOrders rows at once. The ledger-level twin is
tests/pomelo/test_cross_dialect_ledger.py."""
from __future__ import annotations

from decimal import Decimal

from lxml import etree

from tests.support import ClientFactory

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"
IMONGGO = {"Authorization": "Basic NWM0ZmM1ODA1ZWI2NDM3MTZiYmMxN2RhZDQ1NmEwYzZjZjJlMjNmYTpY"}  # token:X
MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}


async def test_a_confirmed_card_reward_shows_in_imonggo_and_memberpoints(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    customer = await client.get("/api/customers/1534.xml", headers=IMONGGO)
    history = await client.get("/webapps/api/memberpoints?includeOrders=1&mbr_id=1534", headers=MEMBERPOINTS)
    assert customer.status == 200 and history.status == 200

    purchase = await (await client.post("/__admin/pomelo/transactions",
                                        json={"card_id": CARD, "amount": "250.00", "currency": "ARS"})).json()
    assert (await client.post(f"/__admin/pomelo/transactions/{purchase['id']}/presentment")).status == 200

    customer = await client.get("/api/customers/1534.xml", headers=IMONGGO)
    assert customer.status == 200
    points = etree.fromstring(await customer.read()).findtext("available_points")
    assert Decimal(points) == Decimal("30761")

    history = await client.get("/webapps/api/memberpoints?includeOrders=1&mbr_id=1534", headers=MEMBERPOINTS)
    assert history.status == 200
    rows = (await history.json())["data"]
    earned = [r for r in rows if r.get("adjusttype") == "earned"]
    assert earned and Decimal(str(earned[-1]["adjustpoints"])) == Decimal("250")

"""A customer's `utc_updated_at` moves when its points move, whichever dialect moved them, so a client
syncing with `customers.json?after=<last sync>` sees the new `available_points`: an Imonggo spend, an
invoice that earns, a memberpoints adjustment and a Pomelo mint to the same member."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from contract_tests.imonggo.shapes import basic
from gateway.keys import LEDGER
from tests.support import ClientFactory

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"  # Juan Cruz's (customer 1534) Pomelo card in the demo scenario
MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
POMELO_CLIENT = {"client_id": "demo-client-id", "client_secret": "demo-client-secret",
                 "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}


async def changed_after(client: Any, since: str) -> list[tuple[int, str, str]]:
    found = await (await client.get(f"/api/customers.json?after={since}", headers=basic())).json()
    return [(c["id"], c["available_points"], c["utc_updated_at"]) for c in found]


async def test_every_dialects_point_movement_moves_the_customers_update_time(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    clock = client.app[LEDGER].clock
    assert await changed_after(client, "2090-01-01 00:00:00") == []

    clock.freeze(datetime(2090, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    spend = await client.post("/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=X-1", headers=basic())
    assert spend.status == 200
    assert await changed_after(client, "2090-01-01 00:00:00") == [(1534, "28511.0", "2090/01/02 03:04:05 +0000")]

    clock.freeze(datetime(2090, 2, 1, tzinfo=timezone.utc))
    invoice = (b'<invoice><reference>INV-1</reference><customer_id>1534</customer_id><invoice_lines type="array">'
               b"<invoice_line><product_id>54</product_id><retail_price>100</retail_price></invoice_line>"
               b"</invoice_lines></invoice>")
    assert (await client.post("/api/invoices.xml", headers=basic(), data=invoice)).status == 201
    assert await changed_after(client, "2090-01-15 00:00:00") == [(1534, "28521.0", "2090/02/01 00:00:00 +0000")]

    clock.freeze(datetime(2090, 3, 1, tzinfo=timezone.utc))
    adjusted = await client.post("/webapps/api/memberpoints", headers=MEMBERPOINTS,
                                 json={"mbr_id": 442531, "adjustpoints": 10, "adjustmentnote": "Refund"})
    assert adjusted.status in (200, 201), await adjusted.text()
    assert await changed_after(client, "2090-02-15 00:00:00") == [(442531, "130.0", "2090/03/01 00:00:00 +0000")]

    clock.freeze(datetime(2090, 4, 1, tzinfo=timezone.utc))
    token = (await (await client.post("/oauth/token", json=POMELO_CLIENT)).json())["access_token"]
    minted = await client.post("/loyalty/v1/accounts/points/mint", json={"amount": "5", "reason": "Promo", "card_id": CARD},
                               headers={"Authorization": f"Bearer {token}", "x-idempotency-key": "mint-1"})
    assert minted.status in (200, 201), await minted.text()
    assert await changed_after(client, "2090-03-15 00:00:00") == [(1534, "28526.0", "2090/04/01 00:00:00 +0000")]


async def test_a_customer_whose_points_did_not_move_keeps_its_update_time(app_client: ClientFactory) -> None:
    """The demo customers keep the times the vendor's page shows (an opening balance is part of the
    record as loaded), and an invoice that earns nothing (no earning customer type) moves nothing."""
    client = await app_client("demo")
    juan = await (await client.get("/api/customers/1534.json", headers=basic())).json()
    assert juan["utc_updated_at"] == "2013/07/13 00:52:24 +0000"
    client.app[LEDGER].clock.freeze(datetime(2090, 1, 2, tzinfo=timezone.utc))
    invoice = (b'<invoice><reference>INV-2</reference><customer_id>445123</customer_id><invoice_lines type="array">'
               b"<invoice_line><product_id>54</product_id><retail_price>100</retail_price></invoice_line>"
               b"</invoice_lines></invoice>")
    assert (await client.post("/api/invoices.xml", headers=basic(), data=invoice)).status == 201
    assert await changed_after(client, "2090-01-01 00:00:00") == []

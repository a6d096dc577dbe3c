"""Customers as the Customer API describes them: lists that include deleted customers, paging and
filters, q=count, create/update in XML or JSON (wrapped or flat), widths truncated, soft delete."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from contract_tests.imonggo.shapes import basic, check
from gateway.keys import LEDGER
from tests.support import ClientFactory


async def test_deleting_keeps_the_customer_listed_with_status_d(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    deleted = await client.delete("/api/customers/442531.json", headers=basic())
    assert deleted.status == 200 and (await deleted.json())["status"] == "D"
    shown = await (await client.get("/api/customers/442531.json", headers=basic())).json()
    assert shown["status"] == "D" and shown["available_points"] == "120.0"
    every = await (await client.get("/api/customers.json", headers=basic())).json()
    assert [(c["id"], c["status"]) for c in every] == [(1534, None), (442531, "D"), (445123, None)]
    active = await (await client.get("/api/customers.json?active_only=1", headers=basic())).json()
    assert [c["id"] for c in active] == [1534, 445123]
    count = await (await client.get("/api/customers.json?q=count&active_only=1", headers=basic())).json()
    assert count == {"count": 2}
    spend = await client.post("/api/rewards.xml?q=spend&customer_id=442531&amount=1", headers=basic())
    assert spend.status == 404


async def test_paging_and_the_update_time_filters(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    ledger = client.app[LEDGER]
    ledger.clock.freeze(datetime(2090, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    await client.put("/api/customers/445123.xml", headers=basic(), data=b"<customer><city>Cebu</city></customer>")
    after = await (await client.get("/api/customers.json?after=2090-01-01 00:00:00", headers=basic())).json()
    assert [c["id"] for c in after] == [445123]
    assert after[0]["utc_updated_at"] == "2090/01/02 03:04:05 +0000"
    before = await (await client.get("/api/customers.json?before=2090-01-01T00:00:00Z", headers=basic())).json()
    assert [c["id"] for c in before] == [1534, 442531]
    pages = [await (await client.get(f"/api/customers.json?per_page=1&page={n}", headers=basic())).json() for n in (1, 2, 3, 4)]
    assert [[c["id"] for c in p] for p in pages] == [[1534], [442531], [445123], []]
    empty = await client.get("/api/customers.xml?page=4&per_page=1", headers=basic())
    assert (await empty.text()).endswith("<customers/>\n")


async def test_a_json_client_syncs_by_sending_back_the_last_utc_updated_at(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    ledger = client.app[LEDGER]
    ledger.clock.freeze(datetime(2090, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    await client.put("/api/customers/445123.xml", headers=basic(), data=b"<customer><city>Cebu</city></customer>")
    ledger.clock.freeze(datetime(2090, 1, 3, 0, 0, 0, tzinfo=timezone.utc))
    await client.put("/api/customers/1534.xml", headers=basic(), data=b"<customer><city>Iloilo</city></customer>")
    every = await (await client.get("/api/customers.json", headers=basic())).json()
    seen = next(c["utc_updated_at"] for c in every if c["id"] == 445123)
    assert seen == "2090/01/02 03:04:05 +0000"  # the form JSON replies write times in
    synced = await client.get("/api/customers.json", params={"after": seen}, headers=basic())
    assert synced.status == 200, await synced.text()
    assert 1534 in [c["id"] for c in await synced.json()]
    assert 442531 not in [c["id"] for c in await synced.json()]
    east = await client.get("/api/customers.json", params={"after": "2090/01/02 11:04:06 +0800"}, headers=basic())
    assert [c["id"] for c in await east.json()] == [1534]  # 03:04:06 UTC: after the first change


async def test_creating_from_flat_or_wrapped_json_and_from_xml_sent_to_a_json_url(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    bodies = [
        json.dumps({"customer": {"first_name": "Ana", "last_name": "Lim", "tax_exempt": True, "customer_type_id": 8}}),
        json.dumps({"first_name": "Ben", "last_name": "Go", "email": "ben@example.com"}),
        "<customer><first_name>Cy</first_name><last_name>Uy</last_name><birthdate>1990-02-30</birthdate></customer>",
    ]
    made = []
    for body in bodies:
        response = await client.post("/api/customers.json", headers=basic(), data=body.encode())
        assert response.status == 201
        made.append(await response.json())
    assert [(m["id"], m["name"]) for m in made] == [(445124, "Ana Lim"), (445125, "Ben Go"), (445126, "Cy Uy")]
    assert made[0]["tax_exempt"] is True and made[0]["customer_type_name"] == "Gold"
    assert made[1]["email"] == "ben@example.com" and made[1]["customer_type_id"] is None
    assert made[2]["birthdate"] is None  # an invalid birthdate becomes null, without an error
    assert made[2]["code"] == "0000000000445126"


async def test_long_text_is_truncated_to_the_documented_widths(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    body = (
        "<customer><first_name>" + "F" * 80 + "</first_name><country>Philippines</country>"
        "<tin>" + "9" * 40 + "</tin><birthdate>1990-02-03</birthdate></customer>"
    )
    response = await client.post("/api/customers.xml", headers=basic(), data=body.encode())
    assert response.status == 201
    check(await response.read(), "imonggo.xsd#customer")
    shown = await (await client.get("/api/customers/445124.json", headers=basic())).json()
    assert shown["first_name"] == "F" * 50 and shown["country"] == "Ph" and shown["tin"] == "9" * 30
    assert shown["birthdate"] == "1990-02-03"


async def test_updating_changes_only_what_the_document_carries(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.put(
        "/api/customers/1534.xml", headers=basic(),
        data=b'<customer><street>Ayala Ave</street><mobile nil="true"></mobile><available_points>1</available_points></customer>',
    )
    assert response.status == 200
    shown = await (await client.get("/api/customers/1534.json", headers=basic())).json()
    assert shown["street"] == "Ayala Ave" and shown["mobile"] == "" and shown["available_points"] == "30511.0"
    assert (shown["name"], shown["code"], shown["customer_type_id"]) == ("Juan Cruz", "0098420130000033", 8)
    moved = await client.put("/api/customers/1534.json", headers=basic(), data=b'{"customer": {"customer_type_id": ""}}')
    assert (await moved.json())["customer_type_name"] is None
    refused = await client.post("/api/rewards.xml?q=spend&customer_id=1534&amount=1", headers=basic())
    assert refused.status == 422


async def test_customer_types_list_and_one(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    listed = await (await client.get("/api/customer_types.json", headers=basic())).json()
    assert listed == [{
        "discount_percent": "0.0", "id": 8, "name": "Gold", "status": "",
        "utc_created_at": "2013/05/01 00:00:00 +0000", "utc_updated_at": "2013/05/01 00:00:00 +0000",
        "point_to_amount_ratio": "200.0", "amount_per_point": "10.0",
    }]
    none = await client.get("/api/customer_types.xml?page=2", headers=basic())
    assert (await none.text()).endswith("<customer-types/>\n")


async def test_concurrent_partial_updates_both_hold(app_client) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import base64

    client = await app_client()
    auth = {"Authorization": "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode(),
            "Content-Type": "application/xml"}
    first, last = await asyncio.gather(
        client.put("/api/customers/1534.xml", data="<customer><first_name>Juana</first_name></customer>", headers=auth),
        client.put("/api/customers/1534.xml", data="<customer><last_name>Dela Cruz</last_name></customer>", headers=auth),
    )
    assert first.status == 200 and last.status == 200
    shown = await (await client.get("/api/customers/1534.json", headers=auth)).json()
    assert (shown["first_name"], shown["last_name"], shown["name"]) == ("Juana", "Dela Cruz", "Juana Dela Cruz")

"""x-idempotency-key on mint and burn: the same key and body replays the first reply byte for byte and
applies nothing; a different body is 422 IDEMPOTENCY_CONFLICT; a duplicate still in flight is 409."""
from __future__ import annotations

import asyncio
from typing import Any

from gateway.keys import LEDGER
from tests.support import ClientFactory

from .helpers import CARD, bearer, parse, points

MINT = "/loyalty/v1/accounts/points/mint"
BODY = {"amount": "100", "reason": "Manual adjustment", "card_id": CARD}


async def test_a_replay_returns_the_first_reply_byte_for_byte_and_applies_nothing(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    headers = {**await bearer(client), "x-idempotency-key": "fRwX12Dg3345AD"}
    first = await client.post(MINT, json=BODY, headers=headers)
    raw = await first.read()
    again = await client.post(MINT, json=BODY, headers=headers)
    assert first.status == again.status == 200
    assert await again.read() == raw
    assert (await points(client, headers))["points"] == 30611


async def test_a_replayed_burn_does_not_burn_twice(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    headers = {**await bearer(client), "x-idempotency-key": "burn-once"}
    body = {**BODY, "amount": 511}
    replies = [await (await client.post("/loyalty/v1/accounts/points/burn", json=body, headers=headers)).read()
               for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    assert parse(replies[0])["updatedBalance"] == 30000
    assert (await points(client, headers))["points"] == 30000


async def test_the_same_key_with_a_different_body_is_refused(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    headers = {**await bearer(client), "x-idempotency-key": "k-conflict"}
    assert (await client.post(MINT, json=BODY, headers=headers)).status == 200
    other = await client.post(MINT, json={**BODY, "amount": "101"}, headers=headers)
    assert other.status == 422
    assert parse(await other.read())["error"]["error_code"] == "IDEMPOTENCY_CONFLICT"
    elsewhere = await client.post("/loyalty/v1/accounts/points/burn", json=BODY, headers=headers)
    assert elsewhere.status == 422
    assert (await points(client, headers))["points"] == 30611


async def test_a_refused_request_stores_nothing_under_its_key(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    headers = {**await bearer(client), "x-idempotency-key": "k-retry-after-topup"}
    burn = {**BODY, "amount": "40000"}
    refused = await client.post("/loyalty/v1/accounts/points/burn", json=burn, headers=headers)
    assert refused.status == 400
    assert parse(await refused.read())["error"]["error_code"] == "INSUFFICIENT_BALANCE"
    top_up = {**headers, "x-idempotency-key": "k-topup"}
    assert (await client.post(MINT, json={**BODY, "amount": "10000"}, headers=top_up)).status == 200
    retried = await client.post("/loyalty/v1/accounts/points/burn", json=burn, headers=headers)
    assert retried.status == 200 and parse(await retried.read())["updatedBalance"] == 511


async def test_a_duplicate_still_in_flight_is_409(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    headers = {**await bearer(client), "x-idempotency-key": "k-in-flight"}
    ledger = client.app[LEDGER]
    store = ledger.store
    gate = asyncio.Event()
    real_write = store.write

    async def slow_write(work: Any) -> Any:  # every write waits until the gate opens
        await gate.wait()
        return await real_write(work)

    store.write = slow_write
    try:
        first = asyncio.ensure_future(client.post(MINT, json=BODY, headers=headers))
        while not ledger._inflight:  # the first request holds its key and waits at the store
            assert not first.done(), "the first request ended before it held its key (it never reached the store)"
            await asyncio.sleep(0.001)
        duplicate = await client.post(MINT, json=BODY, headers=headers)
        assert duplicate.status == 409
        assert parse(await duplicate.read())["error"]["error_code"] == "IDEMPOTENCY_IN_FLIGHT"
        gate.set()
        assert (await first).status == 200
    finally:
        store.write = real_write
    assert (await points(client, headers))["points"] == 30611


async def test_a_key_that_is_not_printable_ascii_is_refused_and_mints_nothing(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    auth = await bearer(client)
    for key in ("clé-1", "tab\there"):
        reply = await client.post(MINT, json=BODY, headers={**auth, "x-idempotency-key": key})
        assert reply.status == 400, key
        assert parse(await reply.read())["error"]["details"][0]["detail"] == "the x-idempotency-key header must be printable ASCII"
    # Bytes that are not UTF-8 at all (here 0xFF) reach the handler as a lone surrogate: 400, not a 500.
    body = b'{"amount":"100","reason":"Manual adjustment","card_id":"' + CARD.encode() + b'"}'
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(b"POST " + MINT.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                 + b"Authorization: " + auth["Authorization"].encode() + b"\r\nx-idempotency-key: key-\xff\r\n"
                 + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    head = (await reader.read()).split(b"\r\n", 1)[0]
    writer.close()
    assert head == b"HTTP/1.1 400 Bad Request", head
    assert (await points(client, auth))["points"] == 30511

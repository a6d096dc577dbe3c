"""The reward lifecycle driven by sandbox card transactions, watched by a real receiver server that
checks every signature: authorize (loyalty-pending), present (loyalty-confirm), reverse
(loyalty-cancel); second resolutions refused; failed deliveries retried until they get through."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.support import ClientFactory

from .helpers import CARD, USER, Receiver, bearer, check_schema, parse, points

FAST = {"webhook_retry_base_seconds": 0.01}


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never became true")


async def start(app_client: ClientFactory, aiohttp_server: Any, receiver: Receiver, **settings: Any) -> Any:
    client = await app_client("demo", **{**FAST, **settings})
    server = await aiohttp_server(receiver.app())
    url = str(server.make_url("/pomelo/loyalty?src=sandbox"))
    response = await client.put("/__admin/pomelo/webhooks", json={"url": url})
    assert response.status == 200, await response.text()
    return client


async def settled(client: Any, count: int) -> list[dict[str, Any]]:
    """The delivery log once `count` deliveries have stopped being pending (the receiver may have
    answered a moment before the attempt is recorded)."""
    for _ in range(500):
        log = (await (await client.get("/__admin/webhooks/deliveries")).json())["deliveries"]
        if len(log) == count and all(d["state"] != "pending" for d in log):
            return list(log)
        await asyncio.sleep(0.01)
    raise AssertionError(f"deliveries never settled: {log}")


async def authorize(client: Any, amount: Any = "1500.50") -> dict[str, Any]:
    response = await client.post("/__admin/pomelo/transactions", json={"card_id": CARD, "amount": amount, "currency": "ARS"})
    assert response.status == 201, await response.text()
    body: dict[str, Any] = parse(await response.read())
    return body


async def test_authorize_present_reverse_sends_three_signed_webhooks(app_client: ClientFactory, aiohttp_server: Any) -> None:
    receiver = Receiver()
    client = await start(app_client, aiohttp_server, receiver)
    headers = await bearer(client)

    purchase = await authorize(client)
    ctx = purchase["id"]
    assert ctx.startswith("ctx-") and len(ctx) == 31 and purchase["status"] == "AUTHORIZED"
    lye = purchase["rewards"][0]["loyalty_event_id"]
    await until(lambda: len(receiver.received) == 1)
    pending = receiver.received[0]
    assert pending["valid"] and pending["path"] == "/pomelo/loyalty?src=sandbox"
    assert pending["body"]["event_id"] == "loyalty-pending"
    assert pending["body"]["idempotency_key"] == f"{ctx}-pending"
    assert pending["headers"]["x-idempotency-key"] == f"{ctx}-pending"
    assert pending["headers"]["X-Api-Key"] == "demo-webhook-key"
    assert pending["headers"]["X-Endpoint"] == "/pomelo/loyalty?src=sandbox"
    assert pending["headers"]["X-Signature"].startswith("hmac-sha256 ")
    detail = pending["body"]["event_detail"]
    assert detail["loyalty_event_id"] == lye and detail["transaction_id"] == ctx
    assert (detail["card_id"], detail["user_id"], detail["status"]) == (CARD, USER, "PENDING")
    assert detail["amount"] == "1500.5" and detail["transaction_amount"] == {"total": Decimal("1500.5"), "currency": "ARS"}
    await check_schema(client, "LoyaltyWebhook", pending["body"])

    balance = await points(client, headers)
    assert (balance["points"], balance["pending_points"]) == (30511, Decimal("1500.5"))
    burn = await client.post("/loyalty/v1/accounts/points/burn", headers={**headers, "x-idempotency-key": "spend-pending"},
                             json={"amount": "30511.01", "reason": "pending is not spendable", "card_id": CARD})
    assert burn.status == 400

    presented = await client.post(f"/__admin/pomelo/transactions/{ctx}/presentment")
    assert presented.status == 200
    await until(lambda: len(receiver.received) == 2)
    confirm = receiver.received[1]
    assert confirm["valid"] and confirm["body"]["event_id"] == "loyalty-confirm"
    assert confirm["body"]["idempotency_key"] == f"{lye}-confirm"
    assert confirm["body"]["event_detail"]["balance"] == Decimal("32011.5")
    await check_schema(client, "LoyaltyWebhook", confirm["body"])
    balance = await points(client, headers)
    assert (balance["points"], balance["pending_points"]) == (Decimal("32011.5"), 0)

    again = await client.post(f"/__admin/pomelo/transactions/{ctx}/presentment")
    assert again.status == 409
    assert (await points(client, headers))["points"] == Decimal("32011.5")

    reversed_ = await client.post(f"/__admin/pomelo/transactions/{ctx}/reversal")
    assert reversed_.status == 200
    (reward,) = parse(await reversed_.read())["rewards"]
    assert (reward["loyalty_event_id"], reward["status"], reward["amount"], reward["balance"]) == (
        lye, "CANCELLED", Decimal("1500.5"), 30511)
    await until(lambda: len(receiver.received) == 3)
    cancel = receiver.received[2]
    assert cancel["valid"] and cancel["body"]["event_id"] == "loyalty-cancel"
    assert cancel["body"]["idempotency_key"] == f"{lye}-cancel"
    assert cancel["body"]["event_detail"]["status"] == "CANCELLED"
    await check_schema(client, "LoyaltyWebhook", cancel["body"])
    assert (await points(client, headers))["points"] == 30511

    assert (await client.post(f"/__admin/pomelo/transactions/{ctx}/reversal")).status == 409
    assert (await client.post(f"/__admin/pomelo/transactions/{ctx}/presentment")).status == 409
    assert (await points(client, headers))["points"] == 30511

    log = await settled(client, 3)
    assert [(d["event"], d["state"], d["attempts"]) for d in log] == [
        ("loyalty-pending", "delivered", 1), ("loyalty-confirm", "delivered", 1), ("loyalty-cancel", "delivered", 1)
    ]
    await asyncio.sleep(0.05)
    assert len(receiver.calls) == 3  # nothing sent twice


async def test_a_reversal_before_presentment_cancels_the_pending_reward(app_client: ClientFactory, aiohttp_server: Any) -> None:
    receiver = Receiver()
    client = await start(app_client, aiohttp_server, receiver)
    purchase = await authorize(client, 99)
    response = await client.post(f"/__admin/pomelo/transactions/{purchase['id']}/reversal")
    assert response.status == 200
    assert (await response.json())["rewards"][0]["status"] == "CANCELLED"
    await until(lambda: len(receiver.received) == 2)
    assert [c["body"]["event_id"] for c in receiver.received] == ["loyalty-pending", "loyalty-cancel"]
    balance = await points(client, await bearer(client))
    assert (balance["points"], balance["pending_points"]) == (30511, 0)
    assert (await client.post(f"/__admin/pomelo/transactions/{purchase['id']}/presentment")).status == 409


async def test_a_receiver_failing_the_first_attempts_is_still_reached(app_client: ClientFactory, aiohttp_server: Any) -> None:
    receiver = Receiver(fail_first=2, fail_status=500)
    client = await start(app_client, aiohttp_server, receiver)
    purchase = await authorize(client)
    await until(lambda: len(receiver.received) == 1)
    assert [c["answered"] for c in receiver.calls] == [500, 500, 200]
    assert all(c["valid"] for c in receiver.calls)
    assert {c["body"]["idempotency_key"] for c in receiver.calls} == {f"{purchase['id']}-pending"}
    assert {c["raw"] for c in receiver.calls} == {receiver.calls[0]["raw"]}
    (delivery,) = await settled(client, 1)
    log = await (await client.get("/__admin/webhooks/deliveries?tenant=demo")).json()
    assert log["deliveries"] == [delivery]
    assert (delivery["state"], delivery["attempts"], delivery["next_attempt_at"]) == ("delivered", 3, None)
    assert [a["status"] for a in delivery["history"]] == [500, 500, 200]


async def test_a_refused_connection_is_retried_then_given_up(app_client: ClientFactory, unused_tcp_port: int) -> None:
    client = await app_client("demo", webhook_max_attempts=3, **FAST)
    assert (await client.put("/__admin/pomelo/webhooks", json={"url": f"http://127.0.0.1:{unused_tcp_port}/hook"})).status == 200
    await authorize(client)

    async def state() -> dict[str, Any]:
        log = await (await client.get("/__admin/webhooks/deliveries")).json()
        return log["deliveries"][0] if log["deliveries"] else {}

    for _ in range(500):
        found = await state()
        if found.get("state") == "failed":
            break
        await asyncio.sleep(0.01)
    assert found["state"] == "failed" and found["attempts"] == 3
    assert all(a["status"] is None and "Connect" in a["error"] for a in found["history"])


async def test_a_failed_delivery_can_be_sent_again(app_client: ClientFactory, aiohttp_server: Any, unused_tcp_port: int) -> None:
    client = await app_client("demo", webhook_max_attempts=1, **FAST)
    await client.put("/__admin/pomelo/webhooks", json={"url": f"http://127.0.0.1:{unused_tcp_port}/hook"})
    await authorize(client)
    (failed,) = await settled(client, 1)
    assert failed["state"] == "failed"
    receiver = Receiver()
    server = await aiohttp_server(receiver.app(), port=unused_tcp_port)
    assert server.port == unused_tcp_port
    response = await client.post(f"/__admin/webhooks/deliveries/{failed['id']}/redeliver")
    assert response.status == 200 and (await response.json())["state"] == "pending"
    (delivered,) = await settled(client, 1)
    assert (delivered["state"], delivered["attempts"]) == ("delivered", 2)
    assert receiver.received[0]["body"]["idempotency_key"] == failed["idempotency_key"]
    assert (await client.post("/__admin/webhooks/deliveries/999/redeliver")).status == 404
    assert (await client.post("/__admin/webhooks/deliveries/x/redeliver")).status == 400


async def test_a_timeout_is_retried(app_client: ClientFactory, aiohttp_server: Any) -> None:
    receiver = Receiver()
    slow_once = receiver.handle

    async def handle(request: Any) -> Any:
        if not receiver.calls:
            receiver.calls.append({"answered": "timeout"})
            await asyncio.sleep(1)
        return await slow_once(request)

    receiver.handle = handle  # type: ignore[method-assign]
    client = await start(app_client, aiohttp_server, receiver, webhook_timeout_seconds=0.2)
    await authorize(client)
    await until(lambda: len(receiver.received) == 1)
    (delivery,) = await settled(client, 1)
    assert [a["status"] for a in delivery["history"]] == [None, 200]
    assert "Timeout" in delivery["history"][0]["error"]


async def test_a_rule_for_several_account_types_holds_each_and_sends_each(app_client: ClientFactory, aiohttp_server: Any) -> None:
    receiver = Receiver()
    client = await start(app_client, aiohttp_server, receiver)
    rule = {"points": "1", "cashback": "0.05"}
    from gateway.keys import LEDGER

    ledger = client.app[LEDGER]
    demo = await ledger.tenant("demo")
    await ledger.update_tenant_config(tenant=demo, section="pomelo", values={**demo.section("pomelo"), "rewards": rule})
    purchase = await authorize(client, "200.10")
    assert [(r["account_type"], r["amount"]) for r in purchase["rewards"]] == [
        ("cashback", Decimal("10.01")), ("points", Decimal("200.1"))]  # 10.005 rounds half up
    await until(lambda: len(receiver.received) == 2)
    assert sorted(c["body"]["idempotency_key"] for c in receiver.received) == sorted(
        [f"{purchase['id']}-pending", f"{purchase['id']}-cashback-pending"])
    assert (await client.post(f"/__admin/pomelo/transactions/{purchase['id']}/presentment")).status == 200
    balance = await points(client, await bearer(client))
    assert (balance["points"], balance["cashback"]) == (Decimal("30711.1"), Decimal("10.01"))


@pytest.mark.parametrize("body, status", [
    ({"card_id": "crd-nobody", "amount": 10, "currency": "ARS"}, 404),
    ({"amount": 10, "currency": "ARS"}, 400),
    ({"card_id": CARD, "amount": "ten", "currency": "ARS"}, 400),
    ({"card_id": CARD, "amount": 0, "currency": "ARS"}, 400),
    ({"card_id": CARD, "amount": "0.001", "currency": "ARS"}, 400),
    ({"card_id": CARD, "amount": "10", "currency": 32}, 400),
], ids=["unknown-card", "no-card", "amount-not-a-number", "zero-amount", "three-decimals", "bad-currency"])
async def test_bad_transactions_are_refused_and_hold_nothing(app_client: ClientFactory, body: Any, status: int) -> None:
    client = await app_client("demo")
    response = await client.post("/__admin/pomelo/transactions", json=body)
    assert response.status == status
    assert (await response.json())["error"]["status"] == status
    assert (await points(client, await bearer(client)))["pending_points"] == 0


async def test_unknown_transactions_and_tenants_are_404(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    assert (await client.post("/__admin/pomelo/transactions/ctx-nothing/presentment")).status == 404
    assert (await client.post("/__admin/pomelo/transactions/ctx-nothing/reversal")).status == 404
    assert (await client.put("/__admin/pomelo/webhooks?tenant=nobody", json={"url": "http://x/"})).status == 404


@pytest.mark.parametrize("body", [{"url": "ftp://x/"}, {"url": "not a url"}, {"refund": "http://x/"}, {}, ["http://x/"]],
                         ids=["ftp", "not-a-url", "unknown-event", "empty", "not-an-object"])
async def test_bad_webhook_settings_are_refused(app_client: ClientFactory, body: Any) -> None:
    client = await app_client("demo")
    assert (await client.put("/__admin/pomelo/webhooks", json=body)).status == 400
    assert (await (await client.get("/__admin/pomelo/webhooks")).json())["webhooks"] == {}


async def test_webhook_urls_per_event(app_client: ClientFactory, aiohttp_server: Any) -> None:
    pending, rest = Receiver(), Receiver()
    client = await app_client("demo", **FAST)
    one, two = await aiohttp_server(pending.app()), await aiohttp_server(rest.app())
    urls = {"pending": str(one.make_url("/p")), "confirm": str(two.make_url("/c")), "cancel": str(two.make_url("/x"))}
    assert (await client.put("/__admin/pomelo/webhooks?tenant=demo", json=urls)).status == 200
    assert (await (await client.get("/__admin/pomelo/webhooks")).json())["webhooks"] == urls
    purchase = await authorize(client)
    await client.post(f"/__admin/pomelo/transactions/{purchase['id']}/presentment")
    await until(lambda: len(pending.received) == 1 and len(rest.received) == 1)
    assert rest.received[0]["path"] == "/c" and rest.received[0]["headers"]["X-Endpoint"] == "/c"

"""The pomelo dialect's part of the admin API's OpenAPI document: its /__admin/pomelo/* routes and their
schemas, its credentials as a fresh tenant's reply shows them and a member's ids. Built with the admin
document's own helpers (`kit`), so the dialect imports nothing of the admin API."""
from __future__ import annotations

from typing import Any


def admin_openapi(kit: Any) -> dict[str, Any]:
    obj, lst, op, q, p = kit.obj, kit.list, kit.op, kit.q, kit.p
    reward = obj("loyalty_event_id account_type amount status balance pending", loyalty_event_id=kit.MAYBE_STR,
                 account_type=kit.ASSET, amount=kit.NUMBER, status={"enum": ["PENDING", "CONFIRMED", "CANCELLED"]},
                 balance=kit.NUMBER, pending=kit.NUMBER)
    tenant = q("tenant", 'tenant name; left out or "": demo')
    ctx = p("transaction_id", "ctx-...")
    schemas = {
        "CardTransaction": obj("card_id amount", card_id={**kit.TEXT, "description": "crd-..."},
                               amount=kit.POSITIVE_AMOUNT, currency={**kit.TEXT, "default": "ARS"}),
        "Authorized": obj("id card_id user_id amount currency status rewards",
                          id={"type": "string", "pattern": "^ctx-"}, card_id=kit.STR, user_id=kit.STR,
                          amount=kit.NUMBER, currency=kit.STR, status={"const": "AUTHORIZED"}, rewards=lst(reward)),
        "Resolved": obj("id status rewards", id=kit.STR, status={"enum": ["PRESENTED", "REVERSED"]},
                        rewards=lst(reward)),
        "WebhookUrls": {**obj(**{name: kit.URL for name in ("url", "pending", "confirm", "cancel")}),
                        "minProperties": 1,
                        "description": '{"url": U} for all three events, or any of pending, confirm, cancel'},
        "Webhooks": obj("tenant webhooks", tenant=kit.STR,
                        webhooks=obj(**{n: kit.STR for n in ("url", "pending", "confirm", "cancel")})),
    }
    paths = {
        "/pomelo/transactions": {"post": {**op(
            "Authorize a card purchase: the tenant's campaign rule holds pending rewards (loyalty-pending); returns "
            "its ctx- id", "Authorized", body="CardTransaction", ok=201, errors=(404,)), "parameters": [tenant]}},
        "/pomelo/transactions/{transaction_id}/presentment": {"post": {**op(
            "Present the purchase: its pending rewards are credited (loyalty-confirm)", "Resolved", errors=(404, 409)),
            "parameters": [ctx, tenant]}},
        "/pomelo/transactions/{transaction_id}/reversal": {"post": {**op(
            "Reverse the purchase: its rewards are cancelled, debited back if confirmed (loyalty-cancel)", "Resolved",
            errors=(404, 409)), "parameters": [ctx, tenant]}},
        "/pomelo/webhooks": {
            "get": {**op("The tenant's webhook URLs", "Webhooks", errors=(404,)), "parameters": [tenant]},
            "put": {**op("Set the tenant's webhook URLs", "Webhooks", body="WebhookUrls", errors=(404,)),
                    "parameters": [tenant]},
        },
    }
    return {
        "schemas": schemas,
        "paths": paths,
        "credentials": obj("client_id client_secret", client_id=kit.STR, client_secret=kit.STR,
                           webhook_api_key=kit.STR, webhook_api_secret=kit.STR),
        "balance": obj("points cashback miles", **{asset: {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
                       "description": "the JSON number accounts/balance writes, as text"} for asset in ("points", "cashback", "miles")}),
        "member": obj("user_id card_ids", user_id=kit.STR, card_ids=lst(kit.STR)),
    }

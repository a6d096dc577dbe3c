"""The pomelo dialect's /__admin routes, mounted by the admin API from the descriptor: card transactions
that drive the reward lifecycle (authorize, present, reverse) and the tenant's webhook URLs (the dialect's
OpenAPI document is served with every contract document, under /__admin/contracts/). Admin JSON errors (the admin app's middleware); the rules live in the ledger."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from ...delivery import DELIVERY
from ...keys import LEDGER
from ...ledger import (
    By,
    Identity,
    InvalidArgument,
    Kind,
    Movement,
    Tenant,
    parse_amount,
)
from ..common import ABSOLUTE_URL, read_json_object
from .rewards import reward_amounts
from .webhooks import EVENTS, ORIGIN
from .wire import dumps


WEBHOOK_URL = ABSOLUTE_URL


async def _tenant(request: web.Request) -> Tenant:
    """?tenant=NAME, or (left out or empty, as a form leaves it) the demo tenant."""
    tenant: Tenant = await request.config_dict[LEDGER].tenant(request.query.get("tenant") or "demo")
    return tenant



def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(value), status=status, content_type="application/json")


def _wake(request: web.Request) -> None:
    if DELIVERY in request.config_dict:
        request.config_dict[DELIVERY].wake()


def _rewards(moved: list[Movement], refs: dict[int, str | None] | None = None) -> list[dict[str, Any]]:
    """Each reward's state after the call; a reversal (cancel after confirm) is shown as its reward."""
    refs = refs or {}
    return [
        {"loyalty_event_id": m.entry.public_ref or refs.get(m.entry.reverses_id or 0),
         "account_type": m.entry.asset.value, "amount": abs(m.entry.amount),
         "status": "CANCELLED" if m.entry.kind is Kind.REVERSAL else m.entry.status.value.upper(),
         "balance": m.balance.posted, "pending": m.balance.pending}
        for m in moved
    ]


async def authorize(request: web.Request) -> web.Response:
    """A card purchase is authorized: the campaign rule holds pending rewards (loyalty-pending)."""
    tenant = await _tenant(request)
    body = await read_json_object(request)
    card_id, currency = body.get("card_id"), body.get("currency", "ARS")
    if not isinstance(card_id, str) or not card_id:
        raise InvalidArgument("card_id is required")
    if not isinstance(currency, str) or not currency:
        raise InvalidArgument("currency must be a currency code such as ARS")
    total = parse_amount(body.get("amount"), field="amount")
    amounts = reward_amounts(tenant.section("pomelo").get("rewards"), total)
    ledger = request.config_dict[LEDGER]
    member = await ledger.find_member(tenant=tenant, member=By(Identity.CARD_REF, card_id), include_deleted=False)
    transaction_id = ledger.ids.ksuid("ctx-")
    held = await ledger.hold_many(
        tenant=tenant, member=member, amounts=amounts, reference=transaction_id,
        public_refs={asset: ledger.ids.ksuid("lye-") for asset in amounts}, kind=Kind.REWARD, value=total,
        origin=ORIGIN, note="card purchase reward",
        data={"transaction_id": transaction_id, "card_id": card_id, "user_id": member.user_ref,
              "currency": currency, "total": str(total)},
    )
    _wake(request)
    return _json({"id": transaction_id, "card_id": card_id, "user_id": member.user_ref, "amount": total,
                  "currency": currency, "status": "AUTHORIZED", "rewards": _rewards(held)}, status=201)


async def presentment(request: web.Request) -> web.Response:
    """The purchase is presented: its pending rewards are credited (loyalty-confirm)."""
    tenant = await _tenant(request)
    transaction_id = request.match_info["transaction_id"]
    moved = await request.config_dict[LEDGER].confirm_reference(tenant=tenant, reference=transaction_id)
    _wake(request)
    return _json({"id": transaction_id, "status": "PRESENTED", "rewards": _rewards(moved)})


async def reversal(request: web.Request) -> web.Response:
    """The purchase is reversed: its rewards are cancelled, debited back if confirmed (loyalty-cancel)."""
    tenant = await _tenant(request)
    transaction_id = request.match_info["transaction_id"]
    ledger = request.config_dict[LEDGER]
    moved = await ledger.cancel_reference(tenant=tenant, reference=transaction_id, note="card purchase reversed")
    _wake(request)
    reversed_ids = [m.entry.reverses_id for m in moved if m.entry.reverses_id is not None]
    refs = {i: (await ledger.entry(tenant=tenant, entry=i)).public_ref for i in reversed_ids}
    return _json({"id": transaction_id, "status": "REVERSED", "rewards": _rewards(moved, refs)})


def _url(name: str, value: Any) -> str:
    if not isinstance(value, str) or not WEBHOOK_URL.fullmatch(value):
        raise InvalidArgument(f"{name} must be an absolute http(s) URL")
    try:
        urlsplit(value)
    except ValueError:  # "http://[::1" and other unparseable hosts
        raise InvalidArgument(f"{name} must be an absolute http(s) URL") from None
    return value


async def set_webhooks(request: web.Request) -> web.Response:
    """{"url": ...} for all three events, or {"pending", "confirm", "cancel"} one by one."""
    tenant = await _tenant(request)
    body = await read_json_object(request)
    allowed = {"url", *EVENTS}
    unknown = sorted(set(body) - allowed)
    if unknown or not body:
        raise InvalidArgument(f"give url, or any of pending, confirm, cancel (not {', '.join(unknown) or 'nothing'})")
    urls = {name: _url(name, value) for name, value in body.items()}
    section = dict(tenant.section("pomelo"))
    section["webhooks"] = urls
    updated = await request.config_dict[LEDGER].update_tenant_config(tenant=tenant, section="pomelo", values=section)
    return _json({"tenant": updated.name, "webhooks": updated.section("pomelo").get("webhooks", {})})


async def get_webhooks(request: web.Request) -> web.Response:
    tenant = await _tenant(request)
    return _json({"tenant": tenant.name, "webhooks": tenant.section("pomelo").get("webhooks", {})})


def add_admin_routes(router: web.UrlDispatcher) -> None:
    """The dialect's routes on the /__admin sub-app's router."""
    router.add_post("/pomelo/transactions", authorize)
    router.add_post("/pomelo/transactions/{transaction_id}/presentment", presentment)
    router.add_post("/pomelo/transactions/{transaction_id}/reversal", reversal)
    router.add_put("/pomelo/webhooks", set_webhooks)
    router.add_get("/pomelo/webhooks", get_webhooks)


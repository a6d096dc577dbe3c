"""/__admin/webhooks: the webhook delivery log and redelivery, whichever dialect sent them. Names no
vendor; the deliveries are the ledger's records."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from aiohttp import web

from ..delivery import DELIVERY
from ..dialects.common import json_bytes, strftime
from ..keys import DIALECTS, LEDGER
from ..ledger import Delivery, InvalidArgument, Tenant
from ..whole_numbers import whole_number
from .wire import page_args


def _time(moment: Any) -> str:
    return strftime(moment.astimezone(timezone.utc), "%Y-%m-%dT%H:%M:%SZ")


def _delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id, "tenant_id": d.tenant_id, "event": d.label, "idempotency_key": d.key, "url": d.target,
        "state": d.state, "attempts": d.attempts, "last_status": d.last_status, "last_error": d.last_error,
        "next_attempt_at": _time(d.next_at) if d.state == "pending" else None,
        "created_at": _time(d.created_at),
        "history": [{"attempt": a.number, "at": _time(a.at), "status": a.status, "error": a.error}
                    for a in d.history],
        "body": d.body,
    }


def _json(value: Any) -> web.Response:
    return web.Response(body=json_bytes(value), content_type="application/json")


async def deliveries(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    name = request.query.get("tenant")
    tenant: Tenant | None = await ledger.tenant(name) if name else None
    offset, limit = page_args(request, default_limit=200)
    webhooks = next((d.webhooks for d in request.config_dict[DIALECTS] if d.webhooks is not None), None)
    channel = webhooks.channel if webhooks is not None else None  # a shadow upstream's writes are not webhooks
    found = await ledger.deliveries(tenant=tenant, channel=channel, offset=offset, limit=limit) if limit else []
    return _json({"deliveries": [_delivery(d) for d in found], "offset": offset, "limit": limit})


async def redeliver(request: web.Request) -> web.Response:
    """Send a delivery again (a failed one, or one the receiver lost)."""
    delivery = whole_number(request.match_info["delivery_id"], low=1)
    if delivery is None:
        raise InvalidArgument("a delivery id is a whole number")
    found = await request.config_dict[LEDGER].redeliver(delivery=delivery)
    if DELIVERY in request.config_dict:
        request.config_dict[DELIVERY].wake()
    return _json(_delivery(found))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/webhooks/deliveries", deliveries)
    router.add_post("/webhooks/deliveries/{delivery_id}/redeliver", redeliver)

"""/__admin/webhooks: the webhook delivery log and redelivery, whichever dialect sent them. Names no
vendor; the deliveries are the ledger's records."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ..delivery import DELIVERY
from ..dialects.common import json_bytes, strftime
from ..dialects.descriptor import Dialect, Webhooks
from ..keys import DIALECTS, LEDGER
from ..ledger import Delivery, InvalidArgument, Tenant
from ..sandbox.journal import masked_headers
from ..whole_numbers import whole_number
from .wire import page_args


def _time(moment: Any) -> str:
    return strftime(moment.astimezone(timezone.utc), "%Y-%m-%dT%H:%M:%SZ")


def _delivery(d: Delivery, signed: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": d.id, "tenant_id": d.tenant_id, "event": d.label, "idempotency_key": d.key, "url": d.target,
        "state": d.state, "attempts": d.attempts, "last_status": d.last_status, "last_error": d.last_error,
        "next_attempt_at": _time(d.next_at) if d.state == "pending" else None,
        "created_at": _time(d.created_at),
        "history": [{"attempt": a.number, "at": _time(a.at), "status": a.status, "error": a.error}
                    for a in d.history],
        "body": d.body,
        "signed_headers": signed,
    }


class Signer:
    """The headers a delivery is sent with, signed by its dialect's webhooks (the sender's own code) for its
    latest attempt's time (not tried yet: now), secrets masked; None when its tenant has no signing secret."""

    def __init__(self, dialects: Iterable[Dialect], tenants: Iterable[Tenant], now: datetime) -> None:
        self.senders: Mapping[str, Webhooks] = {d.webhooks.channel: d.webhooks for d in dialects if d.webhooks}
        self.tenants = {t.id: t for t in tenants}
        self.now = now

    def __call__(self, d: Delivery) -> dict[str, Any] | None:
        sender, tenant = self.senders.get(d.channel), self.tenants.get(d.tenant_id)
        if sender is None or tenant is None:
            return None
        at = d.history[-1].at if d.history else self.now
        try:
            headers = sender.headers(tenant.section(sender.section), url=d.target, body=d.body.encode(), key=d.key,
                                     now=at)
        except KeyError:  # the tenant has no secret to sign with (each attempt's error says so)
            return None
        return {"at": _time(at), "headers": masked_headers(headers)}


async def _signer(request: web.Request) -> Signer:
    ledger = request.config_dict[LEDGER]
    return Signer(request.config_dict[DIALECTS], await ledger.tenants(), ledger.clock.now())


def webhook_channels(dialects: Iterable[Dialect]) -> tuple[str, ...]:
    """The delivery channels of every dialect's webhooks: the only deliveries listed and sent again here (a
    shadow upstream's writes share the table; one sent again would be applied twice there)."""
    return tuple(dict.fromkeys(d.webhooks.channel for d in dialects if d.webhooks is not None))


def _json(value: Any) -> web.Response:
    return web.Response(body=json_bytes(value), content_type="application/json")


async def deliveries(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    name = request.query.get("tenant")
    tenant: Tenant | None = await ledger.tenant(name) if name else None
    offset, limit = page_args(request, default_limit=200)
    channels = webhook_channels(request.config_dict[DIALECTS])
    found = await ledger.deliveries(tenant=tenant, channel=channels, offset=offset, limit=limit) if limit else []
    sign = await _signer(request)
    return _json({"deliveries": [_delivery(d, sign(d)) for d in found], "offset": offset, "limit": limit})


async def redeliver(request: web.Request) -> web.Response:
    """Send a delivery again (a failed one, or one the receiver lost)."""
    delivery = whole_number(request.match_info["delivery_id"], low=1)
    if delivery is None:
        raise InvalidArgument("a delivery id is a whole number")
    found = await request.config_dict[LEDGER].redeliver(delivery=delivery,
                                                        channels=webhook_channels(request.config_dict[DIALECTS]))
    if DELIVERY in request.config_dict:
        request.config_dict[DELIVERY].wake()
    return _json(_delivery(found, (await _signer(request))(found)))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/webhooks/deliveries", deliveries)
    router.add_post("/webhooks/deliveries/{delivery_id}/redeliver", redeliver)

"""Pomelo's loyalty webhooks: which ledger events become loyalty-pending / -confirm / -cancel, their
payloads, and the signature (base64 HMAC-SHA256, keyed with the base64-decoded api secret, over
timestamp + endpoint + raw body). Sending is delivery.py's business, not this module's."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from ...ledger import Entry, Event
from .wire import dumps, number

ORIGIN = "pomelo"
EVENTS = {"pending": "loyalty-pending", "confirm": "loyalty-confirm", "cancel": "loyalty-cancel"}


@dataclass(frozen=True)
class Message:
    phase: str  # pending | confirm | cancel
    event_id: str  # loyalty-pending | loyalty-confirm | loyalty-cancel
    idempotency_key: str
    body: str


def message_for(event: Event, original: Entry | None = None) -> Message | None:
    """The webhook a ledger event means, or None. `original` is the reversed entry when the event is a
    reversal (a confirmed reward cancelled)."""
    p = event.payload
    if p.get("origin") != ORIGIN:
        return None
    if p["kind"] == "reward":
        phase = {("entry.created", "pending"): "pending", ("entry.confirmed", "confirmed"): "confirm",
                 ("entry.cancelled", "cancelled"): "cancel"}.get((event.topic, p["status"]))
        if phase is None:
            return None
        return _message(phase, p["public_ref"], p["asset"], Decimal(p["amount"]), p, p.get("data") or {})
    if p["kind"] == "reversal" and original is not None and original.public_ref:
        return _message("cancel", original.public_ref, p["asset"], abs(Decimal(p["amount"])), p, original.data)
    return None


def _message(
    phase: str, loyalty_id: str, asset: str, amount: Decimal, p: Mapping[str, Any], data: Mapping[str, Any]
) -> Message:
    transaction_id = data.get("transaction_id") or p.get("reference")
    if phase == "pending":
        source = transaction_id if asset == "points" else f"{transaction_id}-{asset}"
    else:
        source = loyalty_id
    key = f"{source}-{phase}"
    detail: dict[str, Any] = {
        "loyalty_event_id": loyalty_id,
        "transaction_id": transaction_id,
        "card_id": data.get("card_id"),
        "user_id": data.get("user_id"),
        "account_type": asset,
        "amount": number(amount),
        "status": {"pending": "PENDING", "confirm": "CONFIRMED", "cancel": "CANCELLED"}[phase],
        "transaction_amount": {"total": Decimal(str(data.get("total", "0"))), "currency": data.get("currency")},
    }
    if phase != "pending":
        detail["balance"] = Decimal(p["posted"])
    detail["created_at"] = p["occurred_at"].replace(" ", "T").split(".")[0] + "Z"
    body = dumps({"event_id": EVENTS[phase], "idempotency_key": key, "event_detail": detail})
    return Message(phase, EVENTS[phase], key, body.decode())


def endpoint_of(url: str) -> str:
    """The X-Endpoint of a target URL: its path with the query, as Pomelo's Postman script takes it."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def signature(api_secret: str, stamp: str, endpoint: str, body: bytes) -> str:
    """`hmac-sha256 <base64 digest>` over timestamp + endpoint + raw body."""
    key = base64.b64decode(api_secret)
    digest = hmac.new(key, stamp.encode() + endpoint.encode() + body, hashlib.sha256).digest()
    return "hmac-sha256 " + base64.b64encode(digest).decode()


def headers(*, api_key: str, api_secret: str, url: str, body: bytes, key: str, now: datetime) -> dict[str, str]:
    stamp = str(int(now.timestamp()))
    endpoint = endpoint_of(url)
    return {
        "Content-Type": "application/json",
        "X-Api-Key": api_key,
        "X-Timestamp": stamp,
        "X-Endpoint": endpoint,
        "X-Signature": signature(api_secret, stamp, endpoint, body),
        "x-idempotency-key": key,
    }


def verify(api_secret: str, received: Mapping[str, str], body: bytes) -> bool:
    """Check a received webhook's X-Signature in constant time."""
    stamp, endpoint = received.get("X-Timestamp"), received.get("X-Endpoint")
    given = received.get("X-Signature")
    if not stamp or endpoint is None or not given:
        return False
    try:
        expected = signature(api_secret, stamp, endpoint, body)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def targets(section: Mapping[str, Any]) -> dict[str, str]:
    """The tenant's URL per phase, from {"url": ...} for all three and/or per-phase overrides."""
    configured = section.get("webhooks") or {}
    common = configured.get("url")
    found = {}
    for phase in EVENTS:
        url = configured.get(phase) or common
        if url:
            found[phase] = url
    return found


def signed_headers(section: Mapping[str, Any], *, url: str, body: bytes, key: str, now: datetime) -> dict[str, str]:
    """The headers of one attempt, signed with the tenant's webhook secret (KeyError: it has none)."""
    return headers(api_key=str(section.get("webhook_api_key", "")), api_secret=str(section["webhook_api_secret"]),
                   url=url, body=body, key=key, now=now)


# -- for a receiver in an integrator's tests (the descriptor's WebhookSink) ---------------------------


def secret_of(credentials: Mapping[str, Any]) -> str:
    """The signing secret among the tenant's credentials as the admin API answers them."""
    return str(credentials["webhook_api_secret"])


def subscribe(tenant: str, url: str) -> tuple[str, str, dict[str, str]]:
    """The admin request that sends all three of a tenant's events to one URL."""
    return "PUT", "/pomelo/webhooks?" + urlencode({"tenant": tenant}), {"url": url}


def summary_of(body: bytes) -> str | None:
    """`loyalty-confirm lye-1-confirm`: the event and its idempotency key (the same on every retry of one
    delivery), or None for a body that is no webhook of ours."""
    name = event_of(body)
    if name is None:
        return None
    return f"{name} {json.loads(body).get('idempotency_key')}"


def event_of(body: bytes) -> str | None:
    """The event a received webhook is (its event_id), or None for a body that is no webhook of ours."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    name = event.get("event_id") if isinstance(event, dict) else None
    return name if isinstance(name, str) else None

"""What the admin API shows and makes in pomelo's terms: a member's user and card ids, a tenant's client
and webhook credentials, and fresh ones for a copied tenant. Knows no admin route."""
from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any

from ...ledger import Member

SHOWN = ("client_id", "client_secret", "webhook_api_key", "webhook_api_secret")


def member_view(m: Member) -> dict[str, Any]:
    return {"user_id": m.user_ref, "card_ids": list(m.card_refs)}


def fresh_credentials(section: Mapping[str, Any], name: str) -> dict[str, Any]:
    fresh = dict(section)
    fresh.update(
        client_id=secrets.token_hex(16),
        client_secret=secrets.token_urlsafe(32),
        webhook_api_key=secrets.token_hex(16),
        webhook_api_secret=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    return fresh


def credentials_view(section: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {k: section[k] for k in SHOWN if k in section}

"""What the admin API shows and makes in pomelo's terms: a member's user and card ids and balances, a tenant's
client and webhook credentials, fresh ones for a copied tenant, a ready curl snippet with them, and the card
purchase the sandbox's own admin route (admin.py) authorizes for a member."""
from __future__ import annotations

import base64
import json
import secrets
import shlex
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ...ledger import Asset, Balance, Member, Tenant
from ..descriptor import MemberAction
from .auth import LOYALTY, SCHEME
from .wire import number

AUDIENCE = "https://api.pomelo.la"  # what the README's token request names; any non-empty audience is taken
SHOWN = ("client_id", "client_secret", "webhook_api_key", "webhook_api_secret")


def member_view(m: Member) -> dict[str, Any]:
    return {"user_id": m.user_ref, "card_ids": list(m.card_refs)}


def balance_view(b: Balance) -> dict[str, str]:
    """points, cashback and miles as GET /loyalty/v1/accounts/balance writes them (JSON numbers, as text)."""

    def posted(asset: Asset) -> str:
        account = b.accounts.get(asset)
        return number(account.posted if account is not None else Decimal("0"))

    return {"points": posted(Asset.POINTS), "cashback": posted(Asset.CASHBACK), "miles": posted(Asset.MILES)}


def member_actions(tenant: Tenant, m: Member) -> tuple[MemberAction, ...]:
    """A card purchase on the member's first card (POST /__admin/pomelo/transactions): its rewards held pending."""
    if not m.card_refs or not tenant.section("pomelo"):
        return ()
    body = json.dumps({"card_id": m.card_refs[0], "amount": "{amount}", "currency": "ARS"})
    return (MemberAction("purchase", "Card purchase (pomelo card transaction)", "Purchase total (ARS)", "POST",
                         f"/pomelo/transactions?tenant={quote(tenant.name)}", {"Content-Type": "application/json"}, body,
                         admin=True),)


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


def stored_credentials(tenant: Tenant) -> dict[str, Any] | None:
    client = tenant.credential(SCHEME)
    if client is None:
        return None
    section = tenant.config.get(SCHEME, {})
    return {"client_id": client.principal, "client_secret": client.secret,
            **{k: section[k] for k in SHOWN[2:] if k in section}}


def curl_example(credentials: Mapping[str, Any], base_url: str, member: Member | None) -> str:
    """An access token (kept in $TOKEN), then the balance of the member's first card (else the token alone)."""
    body = json.dumps({"client_id": credentials["client_id"], "client_secret": credentials["client_secret"],
                       "audience": AUDIENCE, "grant_type": "client_credentials"})
    lines = [f"TOKEN=$(curl -s -X POST {shlex.quote(base_url + '/oauth/token')} -H 'Content-Type: application/json' "
             f"-d {shlex.quote(body)} | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')"]
    if member is not None and member.card_refs:
        balance = f"{base_url}{LOYALTY}/accounts/balance?card_id={member.card_refs[0]}"
        lines.append(f'curl -H "Authorization: Bearer $TOKEN" {shlex.quote(balance)}')
    else:
        lines.append("echo $TOKEN")
    return "\n".join(lines)

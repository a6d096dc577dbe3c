"""What the admin API shows and makes in imonggo's terms: a member's ids and available_points, a tenant's API
token and logins, fresh ones for a copied tenant, a ready curl line with them, and the Reward API spend a client
makes for a member. Knows no admin route."""
from __future__ import annotations

import base64
import secrets
import shlex
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ...ledger import Asset, Balance, Member, Tenant
from ..descriptor import MemberAction
from .auth import LOGIN, SCHEME
from .scalars import ruby_decimal


def member_view(m: Member) -> dict[str, Any]:
    return {"customer_id": m.customer_no, "customer_type_id": m.programme_no}


def balance_view(b: Balance) -> dict[str, str]:
    """available_points as a customer's JSON shows it (GET /api/customers/1534.json)."""
    points = b.accounts.get(Asset.POINTS)
    return {"available_points": ruby_decimal(points.posted if points is not None else Decimal("0"))}


def member_actions(tenant: Tenant, m: Member) -> tuple[MemberAction, ...]:
    """The README's spend: POST /api/rewards.xml?q=spend with the tenant's API token as the Basic user."""
    credential = tenant.credential(SCHEME)
    if credential is None or m.customer_no is None:
        return ()
    basic = base64.b64encode(f"{credential.principal}:X".encode()).decode()
    return (MemberAction(
        "debit", "Spend (imonggo Reward API)", "Amount spent (currency; points = amount x the customer type's ratio)",
        "POST", f"/api/rewards.xml?q=spend&customer_id={m.customer_no}&amount={{amount}}&reference={{reference}}",
        {"Authorization": f"Basic {basic}"},
    ),)


def fresh_credentials(section: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A new API token; a login is an e-mail, one tenant's everywhere: the copy's users get the tenant's
    name as a sub-address (demo@example.com -> demo+NAME@example.com) and a fresh password each."""
    fresh = dict(section)
    fresh.update(account=name, api_token=secrets.token_hex(20))
    fresh["users"] = [
        {**{k: v for k, v in user.items() if k != "password_hash"}, "email": _sub_address(user["email"], name),
         "password": secrets.token_urlsafe(16)}
        for user in section.get("users", [])
    ]
    return fresh


def _sub_address(email: str, name: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.partition('+')[0]}+{name}@{domain}"


def credentials_view(section: Mapping[str, Any], name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"account": section.get("account", name), "api_token": section["api_token"]}
    if section.get("users"):
        out["users"] = [{"email": u["email"], "password": u["password"]} for u in section["users"]]
    return out


def stored_credentials(tenant: Tenant) -> dict[str, Any] | None:
    """The tenant's API token and its logins' e-mails (their passwords are kept only as hashes)."""
    token = tenant.credential(SCHEME)
    if token is None:
        return None
    out: dict[str, Any] = {"account": tenant.config.get(SCHEME, {}).get("account", tenant.name),
                           "api_token": token.principal}
    logins = [c.principal for c in tenant.credentials if c.scheme == LOGIN]
    if logins:
        out["users"] = [{"email": email} for email in logins]
    return out


def curl_example(credentials: Mapping[str, Any], base_url: str, member: Member | None) -> str:
    """The README's Reward API spend for the member (its customer id), else the customer list: Basic auth
    with the API token as user and X as password."""
    auth = shlex.quote(f"{credentials['api_token']}:X")
    if member is None or member.customer_no is None:
        return f"curl -u {auth} {shlex.quote(base_url + '/api/customers.xml')}"
    spend = f"{base_url}/api/rewards.xml?q=spend&customer_id={member.customer_no}&amount=10&reference=X-1"
    return f"curl -u {auth} -X POST {shlex.quote(spend)}"

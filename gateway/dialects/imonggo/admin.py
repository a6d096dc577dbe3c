"""What the admin API shows and makes in imonggo's terms: a member's ids, a tenant's API token and logins,
and fresh ones for a copied tenant. Knows no admin route."""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ...ledger import Member


def member_view(m: Member) -> dict[str, Any]:
    return {"customer_id": m.customer_no, "customer_type_id": m.programme_no}


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

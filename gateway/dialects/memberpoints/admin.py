"""What the admin API shows and makes in memberpoints' terms: a member's mbr_id, e-mail and points balance, a
tenant's apiID/apiKey/cid, fresh ones for a copied tenant, a ready curl line with them, and the adjustments a
client makes for a member. Knows no admin route."""
from __future__ import annotations

import json
import secrets
import shlex
from collections.abc import Mapping
from typing import Any

from ...ledger import Asset, Balance, Member, Tenant
from ..descriptor import MemberAction
from .auth import DIALECT
from .routes import PREFIX
from .wire import points


def member_view(m: Member) -> dict[str, Any]:
    return {"mbr_id": m.member_no, "mbr_email": m.email}


def balance_view(b: Balance) -> dict[str, str]:
    """mbr_points_balance as GET /webapps/api/memberpointsbalances shows it."""
    account = b.accounts.get(Asset.POINTS)
    return {"mbr_points_balance": points(account.posted if account is not None else None)}


def member_actions(tenant: Tenant, m: Member) -> tuple[MemberAction, ...]:
    """A points adjustment up and one down (POST /webapps/api/memberpoints), sent with apiID/apiKey."""
    credential = tenant.credential(DIALECT)
    if credential is None or credential.secret is None or m.member_no is None:
        return ()
    headers = {"apiID": credential.principal, "apiKey": credential.secret, "Content-Type": "application/json"}

    def adjust(kind: str, label: str, sign: str) -> MemberAction:
        body = json.dumps({"mbr_id": m.member_no, "adjustpoints": sign + "{amount}", "adjustmentnote": f"console {kind}"})
        return MemberAction(kind, label, f"Points to {kind}", "POST", PREFIX + "/memberpoints", headers, body)

    return (adjust("credit", "Credit (memberpoints adjustment)", ""),
            adjust("debit", "Debit (memberpoints adjustment)", "-"))


def fresh_credentials(section: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {
        "api_id": str(secrets.randbelow(9 * 10**8) + 10**8),
        "api_key": secrets.token_hex(16),
        "cid": secrets.randbelow(9 * 10**6) + 10**6,
    }


def credentials_view(section: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {"api_id": section["api_id"], "api_key": section["api_key"], "cid": section["cid"]}


def stored_credentials(tenant: Tenant) -> dict[str, Any] | None:
    pair = tenant.credential(DIALECT)
    if pair is None:
        return None
    return {"api_id": pair.principal, "api_key": pair.secret, "cid": tenant.config.get(DIALECT, {}).get("cid")}


def curl_example(credentials: Mapping[str, Any], base_url: str, member: Member | None) -> str:
    """The member's history with its orders (its mbr_id), else every member's balance: apiID and apiKey headers."""
    headers = (f"-H {shlex.quote('apiID: ' + str(credentials['api_id']))} "
               f"-H {shlex.quote('apiKey: ' + str(credentials['api_key']))}")
    if member is None or member.member_no is None:
        return f"curl {headers} {shlex.quote(base_url + '/webapps/api/memberpointsbalances')}"
    return f"curl {headers} {shlex.quote(f'{base_url}/webapps/api/memberpoints?includeOrders=1&mbr_id={member.member_no}')}"

"""What the admin API shows and makes in memberpoints' terms: a member's mbr_id, e-mail and points balance, a
tenant's apiID/apiKey/cid, fresh ones for a copied tenant, and the adjustments a client makes for a member.
Knows no admin route."""
from __future__ import annotations

import json
import secrets
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

"""What the admin API shows and makes in memberpoints' terms: a member's mbr_id and e-mail, a tenant's
apiID/apiKey/cid, and fresh ones for a copied tenant. Knows no admin route."""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ...ledger import Member


def member_view(m: Member) -> dict[str, Any]:
    return {"mbr_id": m.member_no, "mbr_email": m.email}


def fresh_credentials(section: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {
        "api_id": str(secrets.randbelow(9 * 10**8) + 10**8),
        "api_key": secrets.token_hex(16),
        "cid": secrets.randbelow(9 * 10**6) + 10**6,
    }


def credentials_view(section: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {"api_id": section["api_id"], "api_key": section["api_key"], "cid": section["cid"]}

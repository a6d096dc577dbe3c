"""The memberpoints dialect's part of the admin API's OpenAPI document: its credentials as a fresh
tenant's reply shows them and a member's ids. Built with the admin document's own helpers (`kit`)."""
from __future__ import annotations

from typing import Any


def admin_openapi(kit: Any) -> dict[str, Any]:
    return {
        "credentials": kit.obj("api_id api_key cid", api_id=kit.STR, api_key=kit.STR, cid=kit.INT),
        "balance": kit.obj("mbr_points_balance", mbr_points_balance={"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$",
                           "description": "as memberpointsbalances writes it"}),
        "member": kit.obj("mbr_id mbr_email", mbr_id=kit.INT, mbr_email=kit.MAYBE_STR),
    }

"""The imonggo dialect's part of the admin API's OpenAPI document: its credentials as a fresh tenant's
reply shows them and a member's ids. Built with the admin document's own helpers (`kit`)."""
from __future__ import annotations

from typing import Any


def admin_openapi(kit: Any) -> dict[str, Any]:
    return {
        "credentials": kit.obj("account api_token", account=kit.STR, api_token=kit.STR,
                               users=kit.list(kit.obj("email password", email=kit.STR, password=kit.STR))),
        "balance": kit.obj("available_points", available_points={"type": "string", "pattern": "^-?[0-9]+\\.[0-9]+$",
                           "description": "as a customer's JSON writes it (Ruby's decimal: 30511.0)"}),
        "member": kit.obj("customer_id customer_type_id", customer_id=kit.INT, customer_type_id=kit.MAYBE_INT),
    }

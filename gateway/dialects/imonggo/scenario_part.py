"""What a scenario's tenant declares in imonggo's section, and what becomes of it: the API token and the
users' logins (their e-mails) as credentials, the account and the read-only catalogue as configuration;
checks beyond the schema (unique ids and e-mails, a password or its hash); and sealing (a password kept
only as its hash, so a spec can be stored for reset). Knows no scenario file."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...ledger import Credential, hash_password, is_password_hash
from .auth import LOGIN, SCHEME

CATALOGUE = ("users", "branches", "products", "payment_types", "customer_groups")


def check(section: Mapping[str, Any]) -> None:
    """Ids are unique per kind of record, and e-mails (the login) per tenant; ValueError names the field."""
    for kind in (*CATALOGUE, "tax_rates"):
        records = section.get("tax_settings", {}).get(kind, []) if kind == "tax_rates" else section.get(kind, [])
        seen: set[Any] = set()
        for r, record in enumerate(records):
            for key in ("id", "email") if kind == "users" else ("id",):
                value = record.get(key)
                value = value.lower() if isinstance(value, str) else value
                if value in seen:
                    raise ValueError(f"{kind}[{r}].{key}: {record[key]!r} appears twice")
                seen.add(value)
            if kind == "users" and "password" not in record and not is_password_hash(record.get("password_hash", "")):
                raise ValueError(f"users[{r}]: needs a password or a valid password_hash")


def seal(section: Mapping[str, Any], cost: int | None) -> Mapping[str, Any]:
    """The section with every user's password replaced by its hash (`cost` for generated passwords)."""
    users = section.get("users")
    if not users or all("password" not in u for u in users):
        return section
    sealed_users = []
    for user in users:
        user = dict(user)
        if "password" in user:
            password = user.pop("password")
            user["password_hash"] = hash_password(password) if cost is None else hash_password(password, cost=cost)
        sealed_users.append(user)
    return {**section, "users": sealed_users}


def parts(section: Mapping[str, Any], tenant: str) -> tuple[list[Credential], dict[str, Any]]:
    """The credentials and the configuration section of a sealed, plain (no Decimal) section."""
    credentials = [Credential(SCHEME, section["api_token"])]
    credentials.extend(Credential(LOGIN, u["email"].lower()) for u in section.get("users", []))
    # The catalogue is read-only tenant data: it lives and dies with the tenant's configuration.
    config = {"account": section.get("account", tenant),
              **{k: section[k] for k in (*CATALOGUE, "tax_settings") if k in section}}
    return credentials, config

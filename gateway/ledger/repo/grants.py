"""SQL for access grants: one row per live grant, found by the hash of its token (the primary key) or
by (tenant, client, scopes), of which there is at most one."""
from __future__ import annotations

from typing import Any

from ..clock import to_text
from ..store.base import Row, Tx

_COLUMNS = "token_hash, tenant_id, client, scopes, nonce, expires_at, created_at"


async def owner(tx: Tx, scheme: str, principal: str) -> Row | None:
    """The tenant a credential belongs to now, and its secret."""
    return await tx.fetchone(
        "SELECT tenant_id, secret FROM credentials WHERE scheme = ? AND principal = ?", (scheme, principal)
    )


async def by_hash(tx: Tx, token_hash: str) -> Row | None:
    return await tx.fetchone(f"SELECT {_COLUMNS} FROM access_grants WHERE token_hash = ?", (token_hash,))


async def for_client(tx: Tx, tenant_id: int, client: str, scopes: str) -> Row | None:
    return await tx.fetchone(
        f"SELECT {_COLUMNS} FROM access_grants WHERE tenant_id = ? AND client = ? AND scopes = ?",
        (tenant_id, client, scopes),
    )


async def put(tx: Tx, row: dict[str, Any]) -> None:
    await tx.execute(
        f"INSERT INTO access_grants ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (row["token_hash"], row["tenant_id"], row["client"], row["scopes"], row["nonce"],
         to_text(row["expires_at"]), to_text(row["created_at"])),
    )


async def drop(tx: Tx, token_hash: str) -> None:
    await tx.execute("DELETE FROM access_grants WHERE token_hash = ?", (token_hash,))


async def drop_client(tx: Tx, tenant_id: int, client: str) -> int:
    return await tx.execute("DELETE FROM access_grants WHERE tenant_id = ? AND client = ?", (tenant_id, client))

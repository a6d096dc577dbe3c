"""SQL for tenants and their credentials, and the tenant epoch: one counter every tenant change moves, in
the change's own transaction, so a cache of the tenants knows with one cheap read whether it is stale."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..clock import from_text, to_text
from ..models import Credential, Tenant
from ..store.base import Tx
from .rows import dumps, loads


async def insert(tx: Tx, name: str, config: Mapping[str, Any], now: datetime) -> int:
    """A new tenant under an id no tenant ever had: caches in any process key things by tenant id, and
    a reused id would hand a newcomer what its predecessor left there (SQLite reuses the highest rowid
    once its row is gone). The `tenants.id` cursor remembers the highest id ever given; max(id) covers
    rows inserted without it."""
    highest = "(SELECT coalesce(max(id), 0) FROM tenants)"
    tenant_id = await tx.fetchval(
        "INSERT INTO cursors (name, position) VALUES ('tenants.id', " + highest + " + 1)"
        " ON CONFLICT (name) DO UPDATE SET position = CASE WHEN cursors.position < " + highest
        + " THEN " + highest + " + 1 ELSE cursors.position + 1 END RETURNING position"
    )
    await tx.execute(
        "INSERT INTO tenants (id, name, config, created_at) VALUES (?, ?, ?, ?)",
        (tenant_id, name, dumps(config), to_text(now)),
    )
    return int(tenant_id)


async def add_credential(tx: Tx, tenant_id: int, credential: Credential) -> bool:
    taken = await tx.fetchval(
        "SELECT tenant_id FROM credentials WHERE scheme = ? AND principal = ?",
        (credential.scheme, credential.principal),
    )
    if taken is not None:
        return False
    await tx.execute(
        "INSERT INTO credentials (scheme, principal, tenant_id, secret) VALUES (?, ?, ?, ?)",
        (credential.scheme, credential.principal, tenant_id, credential.secret),
    )
    return True


async def epoch(tx: Tx) -> int:
    """The tenant epoch; 0 before any tenant change (the table holds its one row from the first change on)."""
    return int(await tx.fetchval("SELECT coalesce(max(epoch), 0) FROM tenant_epoch"))


async def bump(tx: Tx) -> int:
    """Move the epoch on; call in the transaction that changes a tenant. Returns the new epoch."""
    return int(await tx.fetchval(
        "INSERT INTO tenant_epoch (id, epoch) VALUES (1, 1)"
        " ON CONFLICT (id) DO UPDATE SET epoch = tenant_epoch.epoch + 1 RETURNING epoch"
    ))


def _tenants(rows: Sequence[Any], creds: Sequence[Any]) -> list[Tenant]:
    by_tenant: dict[int, list[Credential]] = {}
    for c in creds:
        by_tenant.setdefault(c["tenant_id"], []).append(Credential(c["scheme"], c["principal"], c["secret"]))
    return [
        Tenant(
            id=r["id"],
            name=r["name"],
            config=loads(r["config"]),
            credentials=tuple(by_tenant.get(r["id"], ())),
            created_at=from_text(r["created_at"]),
        )
        for r in rows
    ]


async def load_all(tx: Tx) -> tuple[int, list[Tenant]]:
    """Every tenant, and the epoch they are as of (read in the same snapshot)."""
    at = await epoch(tx)
    rows = await tx.fetchall("SELECT id, name, config, created_at FROM tenants ORDER BY id")
    creds = await tx.fetchall("SELECT tenant_id, scheme, principal, secret FROM credentials ORDER BY scheme")
    return at, _tenants(rows, creds)


async def load_one(tx: Tx, tenant_id: int) -> Tenant | None:
    rows = await tx.fetchall("SELECT id, name, config, created_at FROM tenants WHERE id = ?", (tenant_id,))
    creds = await tx.fetchall(
        "SELECT tenant_id, scheme, principal, secret FROM credentials WHERE tenant_id = ? ORDER BY scheme",
        (tenant_id,),
    )
    found = _tenants(rows, creds)
    return found[0] if found else None


async def set_config(tx: Tx, tenant_id: int, config: Mapping[str, Any]) -> None:
    await tx.execute("UPDATE tenants SET config = ? WHERE id = ?", (dumps(config), tenant_id))


async def delete(tx: Tx, tenant_ids: Sequence[int]) -> None:
    """Remove tenants and everything they own. Children first, so engines without cascades agree."""
    for tenant_id in tenant_ids:
        for table in ("outbox", "idempotency", "access_grants"):
            await tx.execute(f"DELETE FROM {table} WHERE tenant_id = ?", (tenant_id,))
        await tx.execute(
            "DELETE FROM resolutions WHERE entry_id IN (SELECT id FROM entries WHERE tenant_id = ?)", (tenant_id,)
        )
        await tx.execute("UPDATE entries SET reverses_id = NULL WHERE tenant_id = ?", (tenant_id,))
        await tx.execute("UPDATE entries SET record_id = NULL WHERE tenant_id = ?", (tenant_id,))
        await tx.execute("DELETE FROM entries WHERE tenant_id = ?", (tenant_id,))
        await tx.execute("DELETE FROM orders WHERE tenant_id = ?", (tenant_id,))
        await tx.execute(
            "DELETE FROM accounts WHERE member_id IN (SELECT id FROM members WHERE tenant_id = ?)", (tenant_id,)
        )
        for table in ("cards", "members", "programmes", "credentials"):
            await tx.execute(f"DELETE FROM {table} WHERE tenant_id = ?", (tenant_id,))
        await tx.execute("DELETE FROM tenants WHERE id = ?", (tenant_id,))

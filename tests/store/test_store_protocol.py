"""The store protocol as the core uses it, on every store: rows by name, by position and keys(), `?`
placeholders, RETURNING, bytes, the core's portable functions, a refused unit leaving nothing behind,
and the `skip_locked` suffix being valid SQL."""
from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from gateway.ledger import By, Identity, Ledger, LedgerError, Store, open_store
from gateway.ledger.store.base import Tx


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = open_store(store_url)
    await opened.open()
    yield opened
    await opened.close()


async def add_tenant(tx: Tx, name: str) -> int:
    return await tx.fetchval(
        "INSERT INTO tenants (name, config, created_at) VALUES (?, ?, ?) RETURNING id",
        (name, "{}", "2026-01-01 00:00:00.000000"),
    )


async def test_rows_answer_by_name_by_position_and_keys(store: Store) -> None:
    tenant_id = await store.write(lambda tx: add_tenant(tx, "acme"))
    row = await store.read(lambda tx: tx.fetchone("SELECT id, name FROM tenants WHERE name = ?", ("acme",)))
    assert row is not None
    assert row["id"] == row[0] == tenant_id and row["name"] == row[1] == "acme"
    assert list(row.keys()) == ["id", "name"]
    keys = row.keys()
    assert "name" in keys and "id" in keys  # asked twice: keys() is a collection, not a spent iterator
    assert tuple(row) == (tenant_id, "acme")


async def test_execute_counts_rows_and_fetchval_reads_none_when_nothing_matches(store: Store) -> None:
    for name in ("a", "b", "c"):
        await store.write(lambda tx, name=name: add_tenant(tx, name))
    changed = await store.write(lambda tx: tx.execute("UPDATE tenants SET config = ? WHERE name IN (?, ?)", ("{}", "a", "c")))
    assert changed == 2
    assert await store.read(lambda tx: tx.fetchval("SELECT id FROM tenants WHERE name = ?", ("zzz",))) is None
    assert await store.read(lambda tx: tx.fetchall("SELECT id FROM tenants WHERE name = ?", ("zzz",))) == []


async def test_bytes_come_back_byte_for_byte(store: Store) -> None:
    body = bytes(range(256)) + "ü€".encode()

    async def put(tx: Tx) -> None:
        tenant_id = await add_tenant(tx, "t")
        await tx.execute(
            "INSERT INTO idempotency (tenant_id, scope, key, fingerprint, state, response, created_at)"
            " VALUES (?, ?, ?, ?, 'done', ?, ?)",
            (tenant_id, "s", "k", "f", body, "2026-01-01 00:00:00.000000"),
        )

    await store.write(put)
    assert bytes(await store.read(lambda tx: tx.fetchval("SELECT response FROM idempotency"))) == body


async def test_the_portable_functions_the_core_uses(store: Store) -> None:
    await store.write(lambda tx: add_tenant(tx, "Mixed Case?"))
    found = await store.read(
        lambda tx: tx.fetchone(
            "SELECT instr(lower(name), lower(?)) AS at, coalesce(NULL, name) AS n, id || ':' || name AS label"
            " FROM tenants",
            ("CASE",),
        )
    )
    assert found["at"] == 7 and found["n"] == "Mixed Case?" and found["label"].endswith(":Mixed Case?")


async def test_text_orders_and_compares_byte_by_byte(store: Store) -> None:
    for name in ("b", "B", "a", "_", "A"):
        await store.write(lambda tx, name=name: add_tenant(tx, name))
    rows = await store.read(lambda tx: tx.fetchall("SELECT name FROM tenants ORDER BY name"))
    assert [r["name"] for r in rows] == ["A", "B", "_", "a", "b"]
    later = await store.read(
        lambda tx: tx.fetchall("SELECT name FROM tenants WHERE created_at > ?", ("2025-12-31 23:59:59.999999",))
    )
    assert len(later) == 5


async def test_a_unit_that_raises_leaves_nothing_behind(store: Store) -> None:
    class Refused(LedgerError):
        code = "refused_for_the_test"

    async def half(tx: Tx) -> None:
        await add_tenant(tx, "half")
        raise Refused("no")

    with pytest.raises(Refused):
        await store.write(half)
    assert await store.read(lambda tx: tx.fetchval("SELECT count(*) FROM tenants")) == 0
    await store.write(lambda tx: add_tenant(tx, "half"))  # and the store goes on
    assert await store.read(lambda tx: tx.fetchval("SELECT count(*) FROM tenants")) == 1


async def test_skip_locked_is_a_valid_suffix_of_a_claiming_select(store: Store) -> None:
    await store.write(lambda tx: add_tenant(tx, "q"))

    async def claim(tx: Tx) -> list[int]:
        rows = await tx.fetchall(f"SELECT id FROM tenants ORDER BY id LIMIT ?{tx.skip_locked}", (10,))
        return [r["id"] for r in rows]

    assert len(await store.write(claim)) == 1


async def test_a_member_number_given_as_text_finds_the_member(ledger: Ledger) -> None:
    # SQLite compares '1534' with an INTEGER column as a number; PostgreSQL must agree.
    tenant = await ledger.create_tenant(name="t")
    member = await ledger.create_member(tenant=tenant, customer_no=1534)
    assert (await ledger.find_member(tenant=tenant, member=By(Identity.CUSTOMER_NO, "1534"))).id == member.id
    await ledger.credit(tenant=tenant, member=By(Identity.CUSTOMER_NO, "1534"), amount=Decimal("1.00"))
    with pytest.raises(LedgerError, match="no member"):
        await ledger.find_member(tenant=tenant, member=By(Identity.CUSTOMER_NO, "15x4"))


async def test_the_schema_version_is_recorded(store: Store) -> None:
    from gateway.ledger.store.schema import SQLITE_MIGRATIONS

    newest = max(v for v, _ in SQLITE_MIGRATIONS)
    assert await store.read(lambda tx: tx.fetchval("SELECT max(version) FROM schema_version")) == newest

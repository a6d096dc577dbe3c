"""Both engines hold one schema: the same tables, columns, nullability, keys and indexes, so a query
the core writes once means the same thing on SQLite and on PostgreSQL."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.ledger import open_store
from gateway.ledger.store.postgres import PostgresStore
from gateway.ledger.store.schema_pg import PG_ONLY_TABLES

Shape = dict[str, set[tuple[str, bool]]]


async def sqlite_shape(tmp_path: Path) -> tuple[Shape, set[str]]:
    url = f"sqlite:///{tmp_path / 'shape.db'}"
    store = open_store(url)
    await store.open()
    await store.close()
    conn = sqlite3.connect(tmp_path / "shape.db")
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    shape = {t: {(c[1], not c[3] and not c[5]) for c in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    conn.close()
    return shape, indexes


async def postgres_shape(url: str) -> tuple[Shape, set[str]]:
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    await store.open()
    try:
        columns = await store.read(
            lambda tx: tx.fetchall(
                "SELECT c.table_name, c.column_name, c.is_nullable = 'YES' AND k.column_name IS NULL AS nullable"
                " FROM information_schema.columns c LEFT JOIN (SELECT u.table_name, u.column_name"
                " FROM information_schema.table_constraints t JOIN information_schema.key_column_usage u"
                " ON u.constraint_name = t.constraint_name AND u.table_schema = t.table_schema"
                " WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = current_schema()) k"
                " ON k.table_name = c.table_name AND k.column_name = c.column_name"
                " WHERE c.table_schema = current_schema()"
            )
        )
        named = await store.read(
            lambda tx: tx.fetchall(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
            )
        )
    finally:
        await store.close()
    shape: Shape = {}
    for r in columns:
        shape.setdefault(r["table_name"], set()).add((r["column_name"], bool(r["nullable"])))
    return shape, {r["indexname"] for r in named}


async def test_tables_columns_nullability_and_named_indexes_match(tmp_path: Path, pg_url: str) -> None:
    lite, lite_indexes = await sqlite_shape(tmp_path)
    post, post_indexes = await postgres_shape(pg_url)
    for table in PG_ONLY_TABLES:
        assert post.pop(table, set()) == set()  # the writers' lane: locked, never holds a row
    assert sorted(post) == sorted(lite)
    for table in lite:
        assert post[table] == lite[table], table
    assert post_indexes == lite_indexes

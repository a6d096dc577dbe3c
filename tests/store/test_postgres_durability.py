"""A PostgreSQL write is durable before it is acknowledged, whatever the database's defaults say, and
a database written by a newer gateway is refused rather than misread."""
from __future__ import annotations

import asyncpg
import pytest

from gateway.ledger import StoreOpenError
from gateway.ledger.store.postgres import PostgresStore


async def test_every_session_commits_synchronously_even_when_the_database_says_otherwise(pg_url: str) -> None:
    admin = await asyncpg.connect(pg_url)
    name = await admin.fetchval("SELECT current_database()")
    await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        store = PostgresStore(pg_url)
        await store.open()
        try:
            assert (await store.settings())["synchronous_commit"] == "on"
            assert await store.read(lambda tx: tx.fetchval("SHOW synchronous_commit")) == "on"
            assert await store.write(lambda tx: tx.fetchval("SHOW synchronous_commit")) == "on"
        finally:
            await store.close()
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" RESET synchronous_commit')
        await admin.close()


async def test_a_schema_newer_than_this_gateway_is_refused(pg_url: str) -> None:
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute("INSERT INTO schema_version (version) VALUES (999)")
    finally:
        await admin.close()
    with pytest.raises(StoreOpenError, match="has schema version 999, newer than this gateway"):
        await PostgresStore(pg_url).open()

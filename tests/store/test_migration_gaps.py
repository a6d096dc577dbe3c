"""Migrations run by which are missing from a database, not by whether their number is above its highest:
a migration numbered below one a database already has (a branch merged after a later one) still runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.ledger import open_store
from gateway.ledger.store import schema_pg, sqlite as sqlite_module

GAP = 12  # no migration has this number; the test puts one there, as a late-merged branch would
SCRIPT = "CREATE TABLE gap_filled (note TEXT)"


def _numbers() -> list[int]:
    return [version for version, _ in sqlite_module.SQLITE_MIGRATIONS]


async def _open_close(url: str) -> None:
    store = open_store(url)
    await store.open()
    await store.close()


async def test_a_lower_number_merged_later_runs_on_a_sqlite_database_already_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert GAP not in _numbers() and max(_numbers()) > GAP  # the situation: a database already past the gap
    url = f"sqlite:///{tmp_path}/gap.db"
    await _open_close(url)
    later = sorted([*sqlite_module.SQLITE_MIGRATIONS, (GAP, SCRIPT)])
    monkeypatch.setattr(sqlite_module, "SQLITE_MIGRATIONS", later)
    await _open_close(url)
    import sqlite3

    with sqlite3.connect(tmp_path / "gap.db") as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'gap_filled'").fetchone()[0] == 1
        assert GAP in {v for (v,) in conn.execute("SELECT version FROM schema_version")}


async def test_a_lower_number_merged_later_runs_on_a_postgresql_database_already_past_it(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncpg = pytest.importorskip("asyncpg")
    await _open_close(pg_url)
    later = sorted([*schema_pg.SQLITE_MIGRATIONS, (GAP, SCRIPT)])
    monkeypatch.setattr(schema_pg, "SQLITE_MIGRATIONS", later)
    await _open_close(pg_url)
    conn = await asyncpg.connect(pg_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('gap_filled') IS NOT NULL")
        assert GAP in {r[0] for r in await conn.fetch("SELECT version FROM schema_version")}
    finally:
        await conn.close()

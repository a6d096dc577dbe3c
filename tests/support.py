"""Fixtures shared by tests/ and contract_tests/: the store URLs every suite runs against, a fresh
ledger, and a client for the whole application seeded from a scenario. Each is audited at the end."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.keys import LEDGER
from gateway.ledger import Ledger, open_store
from gateway.ledger.clock import Clock, IdGenerator
from gateway.ledger.store.schema import SQLITE_MIGRATIONS
from gateway.settings import Settings
from tests import pg

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

STORE_PARAMS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")]


@pytest.fixture(params=STORE_PARAMS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test, for every store the suite runs against: SQLite always,
    PostgreSQL when LOYALTY_GATEWAY_TEST_POSTGRES_URL is set or a server answers on 127.0.0.1:5432."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    databases = pg.shared(request.config)  # skips, with the reason, when no server is there
    url = databases.create()
    yield url
    databases.drop(url)


@pytest.fixture
async def ledger(store_url: str) -> AsyncIterator[Ledger]:
    clock = Clock()
    book = Ledger(open_store(store_url), clock=clock, ids=IdGenerator(clock, seed=7))
    await book.start()
    try:
        yield book
        report = await book.audit()
        assert report.ok, report.violations
    finally:
        await book.close()


ClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def app_client(
    store_url: str, tmp_path: Path, aiohttp_client: Any
) -> AsyncIterator[ClientFactory]:
    """make(scenario='demo' | path | dict, **settings) -> a TestClient for the whole application.

    A dict is written to a file first, so it goes through the same loader as a file on disk."""
    apps = []

    async def make(scenario: str | Path | dict[str, Any] = "demo", **settings: Any) -> TestClient:
        if isinstance(scenario, dict):
            path = tmp_path / f"scenario-{len(apps)}.json"
            path.write_text(json.dumps(scenario), encoding="utf-8")
            scenario = path
        values = Settings.defaults().replace(database=store_url, scenario=str(scenario), **settings)
        app = create_app(values)
        client = await aiohttp_client(app)
        apps.append(app)
        return client

    yield make
    for app in apps:
        if LEDGER in app:
            report = await app[LEDGER].audit()
            assert report.ok, report.violations


def sqlite_at_version(path: Path, version: int) -> sqlite3.Connection:
    """A SQLite database migrated only up to `version`, as an older release left it, open for the caller
    to add rows (use it as a context manager: it commits on leaving)."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, script in SQLITE_MIGRATIONS:
        if number <= version:
            conn.executescript(script)
            conn.execute("INSERT INTO schema_version VALUES (?)", (number,))
    return conn

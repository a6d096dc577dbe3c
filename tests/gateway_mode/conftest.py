"""Fixtures for gateway mode: one vendor process and one gateway process per store the suite runs the
gateway on (SQLite always, PostgreSQL when a server answers), kept for the whole run; each test gets
fresh tenants on both, and its fault rules and rate limits at the vendor are removed after it."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import pg, process
from tests.gateway_mode.dialects import call
from tests.gateway_mode.harness import HANDED_OUT, Pair, make_pair, start_gateway, start_vendor


@pytest.fixture(scope="session")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    """The vendor every gateway test forwards to: a sandbox on SQLite (the vendor's store is not what is
    under test; the gateway's is)."""
    workdir = tmp_path_factory.mktemp("vendor")
    server = start_vendor(workdir, f"sqlite:///{workdir / 'vendor.db'}")
    yield server
    server.stop()


@pytest.fixture(scope="session", params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")])
def gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    """The gateway, on each store: its intents and links live there."""
    workdir = tmp_path_factory.mktemp(f"gateway-{request.param}")
    if request.param == "sqlite":
        database, databases = f"sqlite:///{workdir / 'gateway.db'}", None
    else:
        databases = pg.shared(request.config)  # skips, with the reason, when no server is there
        database = databases.create()
    server = start_gateway(workdir, database)
    server.workdir = workdir  # type: ignore[attr-defined]
    yield server
    server.stop()
    if databases is not None:
        databases.drop(database)
    leaked = [secret for secret in HANDED_OUT if secret in server.output]
    assert server.output and not leaked, f"the gateway's log shows {len(leaked)} upstream secret(s)"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as opened:
        yield opened


PairFactory = Callable[..., Awaitable[Pair]]


@pytest.fixture
async def pair(
    session: aiohttp.ClientSession, gateway: process.Server, vendor: process.Server
) -> AsyncIterator[PairFactory]:
    """make(client_dialect, upstream_dialect, record=False, credentials=None) -> a Pair."""

    async def make(client_dialect: str, upstream: str, **options: Any) -> Pair:
        return await make_pair(session, gateway.url, vendor.url, client_dialect, upstream, **options)

    yield make
    cleared = await call(session, "DELETE", f"{vendor.url}/__admin/faults")
    assert cleared.status == 200, cleared
    unlimited = await call(session, "PUT", f"{vendor.url}/__admin/rate-limits",
                           json={"imonggo": None, "memberpoints": None, "pomelo": None})
    assert unlimited.status == 200, unlimited
    audit = await call(session, "GET", f"{gateway.url}/__admin/audit")
    assert audit.status == 200 and audit.json()["ok"], audit


def gateway_workdir(gateway: process.Server) -> Path:
    return gateway.workdir  # type: ignore[attr-defined,no-any-return]

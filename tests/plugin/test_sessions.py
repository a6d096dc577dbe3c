"""The session server itself: on PostgreSQL with --loyalty-gateway-database (a database made and dropped
here), one per pytest-xdist worker with tenants that never see each other, and nothing at all (no import of
the server, no thread) for a run whose tests use none of the fixtures."""
from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg

PER_TEST = '''
import os
from decimal import Decimal

import pytest
import requests


@pytest.mark.parametrize("n", range(6))
def test_spend_alone(loyalty_tenant, loyalty_gateway, n):
    imonggo = loyalty_tenant.imonggo
    answer = requests.post(f"{imonggo.base_url}/api/rewards.xml", auth=imonggo.auth,
                           params={"q": "spend", "customer_id": 1534, "amount": n + 1, "reference": f"R{n}"})
    assert answer.status_code == 200, answer.text
    assert loyalty_tenant.balance(1534) == Decimal("30511") - 200 * (n + 1)
    loyalty_tenant.verify(1)  # no other test's request is in this tenant's journal
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.environ["SEEN"], "a", encoding="utf-8") as seen:
        seen.write(f"{worker} {loyalty_gateway.base_url} {loyalty_gateway.database}\\n")
'''


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards (skipped with the reason when no server)."""
    reason = pg.unavailable()
    if reason:
        pytest.skip(reason)
    name = f"lg_plugin_{secrets.token_hex(4)}"
    pg.run(lambda: pg._admin(f'CREATE DATABASE "{name}"'))
    try:
        yield pg.with_database(pg.admin_url(), name)
    finally:
        pg.run(lambda: pg._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_session_server_on_postgresql(integrator: pytest.Pytester, postgres_url: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    seen = integrator.path / "seen.txt"
    monkeypatch.setenv("SEEN", str(seen))
    integrator.makepyfile(test_pg=PER_TEST)
    integrator.runpytest("--loyalty-gateway-database", postgres_url).assert_outcomes(passed=6)
    assert {line.split()[2] for line in seen.read_text().splitlines()} == {postgres_url}

    async def tenants_left() -> int:
        import asyncpg

        conn = await asyncpg.connect(postgres_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM tenants"))
        finally:
            await conn.close()

    assert pg.run(tenants_left) == 0  # each test's tenant was deleted after it


@pytest.mark.slow
def test_xdist_workers_each_have_their_own_server(integrator: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = integrator.path / "seen.txt"
    monkeypatch.setenv("SEEN", str(seen))
    integrator.makepyfile(test_parallel=PER_TEST)
    result = integrator.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=6)
    servers = {}
    for line in seen.read_text().splitlines():
        worker, url, database = line.split()
        servers.setdefault(worker, set()).add((url, database))
    assert sorted(servers) == ["gw0", "gw1"]
    assert all(len(found) == 1 for found in servers.values())  # one server per worker, for its whole session
    assert len(set.union(*servers.values())) == 2  # and not the same one


IDLE = '''
import sys
import threading


def test_nothing_of_the_gateway_runs(request):
    assert request.config.pluginmanager.has_plugin("loyalty_gateway")
    assert "gateway.testing" not in sys.modules and "gateway.app" not in sys.modules
    assert not [t for t in threading.enumerate() if t.name == "loyalty-gateway"]
'''


def test_the_plugin_does_nothing_until_a_fixture_is_used(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_idle=IDLE)
    integrator.runpytest_subprocess().assert_outcomes(passed=1)


def test_importing_the_plugin_loads_no_server() -> None:
    code = "import sys, gateway.pytest_plugin; print(sorted(m for m in ('aiohttp', 'gateway.app') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"

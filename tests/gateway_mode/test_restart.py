"""A gateway killed (SIGKILL) while a write is on its way to the upstream: the intent it recorded first is
still open in its store; after a restart it is settled (Pomelo: the key replayed; memberpoints: the key
looked up in the history) before the tenant takes the next write, and the vendor applied it exactly once.
An Imonggo upstream cannot tell, so the write is listed for a person instead. Own gateway process each."""
from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from tests import pg, process
from tests.gateway_mode.dialects import call, client
from tests.gateway_mode.harness import JUAN, START, make_pair, start_gateway

pytestmark = pytest.mark.slow
TAKE = Decimal("400")
WRITE_PATHS = {"pomelo": "/loyalty/v1/accounts/points/burn", "memberpoints": "/webapps/api/memberpoints",
               "imonggo": "/api/rewards*"}


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from pg.database_url(request, tmp_path)


@pytest.mark.parametrize("upstream", ["pomelo", "memberpoints", "imonggo"])
async def test_an_intent_open_when_the_gateway_died_is_settled_on_restart_before_the_next_write(
    vendor: process.Server, database: str, tmp_path: Path, upstream: str
) -> None:
    gateway = start_gateway(tmp_path, database, timeout=10)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        try:
            p = await make_pair(session, gateway.url, vendor.url, "memberpoints", upstream)
            assert p.till.points(await p.till.balance(JUAN)) == START[JUAN]
            # The vendor applies the write, then takes 2 s to answer: the gateway has recorded its intent and
            # is waiting when it dies.
            await p.fault(effect="latency", when="after", latency_ms=2000, method="POST", path=WRITE_PATHS[upstream],
                          times=1)
            write = asyncio.create_task(p.till.debit(JUAN, TAKE))
            await asyncio.sleep(0.7)
            gateway.proc.send_signal(signal.SIGKILL)
            with pytest.raises(aiohttp.ClientError):
                await write  # the till never hears back
            gateway.stop()
            await asyncio.sleep(1.5)  # the vendor's slow answer goes nowhere
            assert await p.vendor_points(JUAN) == START[JUAN] - TAKE

            gateway = start_gateway(tmp_path, database, timeout=10)
            till = client("memberpoints", session, gateway.url, p.gateway_credentials)
            p.gateway_url = gateway.url
            answer = await till.debit(JUAN, Decimal("2"))

            assert answer.status == 200, answer
            vendor_writes = [r for r in await p.vendor_requests(method="POST") if r["path"].startswith(WRITE_PATHS[upstream].rstrip("*"))]
            overview = await call(session, "GET", f"{gateway.url}/__admin/upstream")
            (row,) = [r for r in overview.json()["upstreams"] if r["tenant"] == p.gateway_tenant]
            assert row["intents"]["open"] == 0, row
            if upstream == "imonggo":
                # never resent: the spend waits for a person, and the next write went through meanwhile
                assert len(vendor_writes) == 2, vendor_writes
                assert row["intents"]["unsettled"] == 1, row
            else:
                # settled by asking (a replay is answered from the vendor's record; a history lookup sends nothing)
                assert row["intents"]["unsettled"] == 0, row
            assert await p.vendor_points(JUAN) == START[JUAN] - TAKE - 2
            assert till.points(await till.balance(JUAN)) == START[JUAN] - TAKE - 2
        finally:
            gateway.stop()

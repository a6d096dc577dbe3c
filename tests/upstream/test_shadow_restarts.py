"""Shadow writes survive: a shadow that is down leaves the clients' answers unchanged and gets every write
once it is back; a gateway SIGKILLed while shadow writes are pending (one of them applied at the shadow,
its answer still on the way) delivers them after its restart, each exactly once. Own processes each."""
from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from tests import pg, process
from tests.gateway_mode.harness import JUAN, START
from tests.upstream.shadow_runs import WRITE_PATHS, free_port, make_run, ok, start_gateway, start_vendor

pytestmark = pytest.mark.slow


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from pg.database_url(request, tmp_path)


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[process.Server]:
    server = start_vendor(tmp_path / "primary")
    yield server
    server.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as opened:
        yield opened


async def test_a_shadow_that_is_down_changes_no_answer_and_gets_every_write_once_it_is_back(
    session: aiohttp.ClientSession, primary: process.Server, tmp_path: Path,
) -> None:
    port = free_port()
    shadow = start_vendor(tmp_path / "shadow", port)
    database = f"sqlite:///{tmp_path / 'gateway.db'}"
    gateway = start_gateway(tmp_path / "gateway", database)
    try:
        run = await make_run(session, gateway.url, database, primary.url, "pomelo", shadow.url, "memberpoints")
        till = run.till("pomelo")
        before = len(await run.shadow_entries(JUAN))
        shadow.stop()
        answers = [await till.credit(JUAN, Decimal("10")), await till.debit(JUAN, Decimal("4")),
                   await till.credit(JUAN, Decimal("1"))]
        assert [a.status for a in answers] == [200, 200, 200]
        assert [till.balance_after(a) for a in answers] == [START[JUAN] + 10, START[JUAN] + 6, START[JUAN] + 7]
        for _ in range(100):  # the writes wait for the shadow, in order: the first is being retried
            row = (await run.row())["shadow"]
            if row["pending"] == 3 and (await run.deliveries())[0].attempts >= 2:
                break
            await asyncio.sleep(0.1)
        assert row["pending"] == 3 and row["lag_seconds"] > 0, row
        assert [d.attempts for d in await run.deliveries()][1:] == [0, 0]  # held back behind the first
        shadow = start_vendor(tmp_path / "shadow", port)
        counts = await run.settled(3)
        assert (counts["delivered"], counts["failed"]) == (3, 0)
        assert await run.shadow_points(JUAN) == START[JUAN] + 7 == await run.pair.vendor_points(JUAN)
        assert len(await run.shadow_entries(JUAN)) == before + 3
    finally:
        gateway.stop()
        shadow.stop()


async def test_a_gateway_killed_with_shadow_writes_pending_delivers_them_after_a_restart_exactly_once(
    session: aiohttp.ClientSession, primary: process.Server, tmp_path: Path, database: str,
) -> None:
    shadow = start_vendor(tmp_path / "shadow")
    gateway = start_gateway(tmp_path / "gateway", database, timeout=2)
    try:
        run = await make_run(session, gateway.url, database, primary.url, "pomelo", shadow.url, "memberpoints")
        till = run.till("pomelo")
        before = len(await run.shadow_entries(JUAN))
        # The shadow applies the first write, then takes 1.5 s to answer: the gateway dies meanwhile.
        await run.shadow_fault(effect="latency", when="after", latency_ms=1500, method="POST",
                               path=WRITE_PATHS["memberpoints"], times=1)
        ok(await till.credit(JUAN, Decimal("10")))
        for _ in range(100):
            if len(await run.shadow_entries(JUAN)) == before + 1:
                break
            await asyncio.sleep(0.05)
        ok(await till.credit(JUAN, Decimal("20")))
        ok(await till.debit(JUAN, Decimal("5")))
        gateway.proc.send_signal(signal.SIGKILL)
        gateway.stop()
        assert len(await run.shadow_entries(JUAN)) == before + 1  # the first only; the others wait behind it

        gateway = start_gateway(tmp_path / "gateway", database, timeout=2)
        run.pair.gateway_url = gateway.url
        counts = await run.settled(3, seconds=90)  # the first once its lease (6 timeouts) runs out: asked, not resent
        assert (counts["delivered"], counts["refused"], counts["failed"]) == (3, 0, 0)
        assert len(await run.shadow_entries(JUAN)) == before + 3
        assert await run.shadow_points(JUAN) == START[JUAN] + 25 == await run.pair.vendor_points(JUAN)
    finally:
        gateway.stop()
        shadow.stop()

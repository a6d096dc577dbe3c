"""Kill -9 in the middle of a burst of writes: after a restart the audit is clean and every write the
server acknowledged is there. Uses the memberpoints POST, the simplest documented write."""
from __future__ import annotations

import asyncio
import signal
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from gateway.ledger import By, HistoryQuery, Identity, Ledger, open_store
from tests import process

HEADERS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}


async def burst(url: str, acknowledged: list[tuple[int, str]], stop: asyncio.Event, workers: int = 16) -> int:
    """Post adjustments from many clients until stopped; record each (id, note) the server confirmed."""
    failures = 0

    async def worker(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal failures
        i = 0
        while not stop.is_set():
            note = f"burst {n}-{i}"
            i += 1
            try:
                async with session.post(
                    f"{url}/webapps/api/memberpoints", headers=HEADERS,
                    json={"mbr_id": 442531, "adjustpoints": 1, "adjustmentnote": note},
                ) as response:
                    body = await response.json()
                    if response.status == 200:
                        acknowledged.append((body["data"]["id"], note))
            except (aiohttp.ClientError, asyncio.TimeoutError):
                failures += 1
                await asyncio.sleep(0.01)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        await asyncio.gather(*(worker(n, session) for n in range(workers)))
    return failures


@pytest.mark.slow
async def test_sigkill_mid_burst_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'crash.db'}"
    rounds, total_acknowledged = 3, 0
    for round_no in range(rounds):
        server = process.start(["--port", "0", "--database", database, "--access-log", "off"], tmp_path)
        acknowledged: list[tuple[int, str]] = []
        stop = asyncio.Event()
        writing = asyncio.create_task(burst(server.url, acknowledged, stop))
        deadline = asyncio.get_running_loop().time() + 60
        while len(acknowledged) < 150:
            await asyncio.sleep(0.01)
            assert not writing.done(), "the burst ended before the kill"
            if asyncio.get_running_loop().time() > deadline:
                stop.set()
                server.stop()
                await writing
                raise AssertionError(f"only {len(acknowledged)} writes acknowledged in 60 s")
        server.proc.send_signal(signal.SIGKILL)  # in the middle of the burst: requests are in flight
        server.stop()
        stop.set()
        await writing
        total_acknowledged += len(acknowledged)

        ledger = Ledger(open_store(database))
        await ledger.start()
        try:
            report = await ledger.audit()
            assert report.ok, report.violations
            tenant = await ledger.tenant("demo")
            member = await ledger.find_member(tenant=tenant, member=By(Identity.MEMBER_NO, 442531))
            rows = await ledger.history(tenant=tenant, query=HistoryQuery(member_id=member.id), limit=10_000)
            stored = {(e.record_id, e.note) for e in rows.items}
            missing = [a for a in acknowledged if a not in stored]
            assert not missing, f"round {round_no}: acknowledged but lost: {missing[:5]}"
            balance = (await ledger.balance(tenant=tenant, member=member)).accounts
            burst_rows = [e for e in rows.items if (e.note or "").startswith("burst")]
            from gateway.ledger import Asset

            assert balance[Asset.POINTS].posted == Decimal("120.00") + len(burst_rows)
        finally:
            await ledger.close()
    assert total_acknowledged >= rounds * 150
    # And the server starts again on the database the kills left behind.
    server = process.start(["--port", "0", "--database", database], tmp_path)
    assert server.stop() == 0
    checked = process.run(["check", "--database", database], tmp_path)
    assert checked.returncode == 0 and "audit clean" in checked.stdout

"""Two gateway instances in two OS processes over one PostgreSQL database: concurrent spends from one
balance never overdraw it and show no conflict to a client, a shared idempotency key applies once with
one response for both, and an instance killed in the middle of its writes leaves no half-write and no
lock behind: the other goes on, and every acknowledged spend is there."""
from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger import Asset, By, Identity, Kind, Ledger, open_store

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
Launcher = Callable[..., Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def start() -> AsyncIterator[Callable[..., Awaitable[asyncio.subprocess.Process]]]:
    """start(url, *args): an instance process; any still running when the test ends is killed."""
    started: list[asyncio.subprocess.Process] = []

    async def launch(url: str, *args: str) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.store.instance", url, "--tenant", "shop", *args,
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        started.append(process)
        return process

    yield launch
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.communicate()


async def finish(process: asyncio.subprocess.Process) -> list[dict[str, Any]]:
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == kind]


async def seed(url: str, opening: Decimal) -> None:
    ledger = Ledger(open_store(url))
    await ledger.start()
    try:
        tenant = await ledger.create_tenant(name="shop")
        spender = await ledger.create_member(tenant=tenant, name="Spender", customer_no=1)
        await ledger.create_member(tenant=tenant, name="Keys", customer_no=2)
        await ledger.credit(tenant=tenant, member=spender, amount=opening, kind=Kind.OPENING)
    finally:
        await ledger.close()


async def final_state(url: str) -> tuple[Decimal, Decimal, set[int]]:
    """Spender's and Keys' balances and the ids of the spender's debits, once audit() is clean."""
    ledger = Ledger(open_store(url))
    await ledger.start()
    try:
        tenant = await ledger.tenant("shop")
        spender = await ledger.balance(tenant=tenant, member=By(Identity.CUSTOMER_NO, 1))
        keys = await ledger.balance(tenant=tenant, member=By(Identity.CUSTOMER_NO, 2))
        debits = await ledger.store.read(
            lambda tx: tx.fetchall(
                "SELECT id FROM entries WHERE member_id = ? AND amount < 0", (spender.member.id,)
            )
        )
        report = await ledger.audit()
        assert report.ok, report.violations
        return spender[Asset.POINTS].posted, keys[Asset.POINTS].posted, {r["id"] for r in debits}
    finally:
        await ledger.close()


async def test_two_processes_spending_one_balance_never_overdraw_it(pg_url: str, start: Launcher) -> None:
    await seed(pg_url, Decimal("100.00"))
    keys = ",".join(f"key-{i}" for i in range(10))
    begin = str(time.time() + 2.0)  # both processes are up by then, so their spends overlap
    common = ("--customer", "1", "--amount", "3.00", "--count", "40", "--concurrency", "8", "--start-at", begin,
              "--keys", keys, "--key-customer", "2")
    first, second = await start(pg_url, *common), await start(pg_url, *common)
    events = [await finish(first), await finish(second)]

    acks = [e for stream in events for e in of(stream, "ack")]
    refused = [e for stream in events for e in of(stream, "refused")]
    assert [e for stream in events for e in of(stream, "error")] == []  # no conflict ever reached a client
    assert len(acks) == 33 and len(refused) == 80 - 33  # 100.00 // 3.00 spends, from either process
    assert all(Decimal(e["posted"]) >= 0 for e in acks)

    left, credited, debits = await final_state(pg_url)
    assert left == Decimal("1.00") and debits == {e["entry"] for e in acks}

    # Each key was sent once by each process: applied once, and both got the same bytes.
    assert credited == Decimal("10.00")
    by_key: dict[str, list[dict[str, Any]]] = {}
    for stream in events:
        for e in of(stream, "key"):
            by_key.setdefault(e["key"], []).append(e)
    assert len(by_key) == 10
    for key, answers in by_key.items():
        assert len(answers) == 2 and answers[0]["response"] == answers[1]["response"], key
        assert sorted(a["replayed"] for a in answers) == [False, True], key


async def test_an_instance_killed_mid_write_loses_no_acknowledged_spend_and_blocks_nobody(
    pg_url: str, start: Launcher
) -> None:
    # Both spend 1.00 at a time until the balance is gone; the first is killed after 20 spends.
    await seed(pg_url, Decimal("1000.00"))
    begin = str(time.time() + 2.0)
    spend = ("--customer", "1", "--amount", "1.00", "--forever", "--concurrency", "4", "--start-at", begin)
    doomed, survivor = await start(pg_url, *spend), await start(pg_url, *spend)
    assert doomed.stdout is not None
    doomed_acks: list[dict[str, Any]] = []
    while len(doomed_acks) < 20:
        line = await asyncio.wait_for(doomed.stdout.readline(), timeout=60)
        assert line, "the first instance stopped before it was killed"
        event = json.loads(line)
        assert event["event"] in ("ready", "ack"), event
        if event["event"] == "ack":
            doomed_acks.append(event)
    doomed.kill()  # SIGKILL with writes in flight: no cleanup of any kind runs
    assert survivor.returncode is None, "the second instance must still be spending when the first dies"
    await doomed.wait()
    for line in (await doomed.stdout.read()).decode().splitlines():  # printed before it died, not yet read
        if line.endswith("}") and json.loads(line)["event"] == "ack":
            doomed_acks.append(json.loads(line))

    survived = await finish(survivor)
    assert of(survived, "error") == [] and of(survived, "refused")  # it stopped only for want of points

    left, _, debits = await final_state(pg_url)
    assert left == Decimal("0.00")  # it went on to the end: nothing the dead one held blocked it
    acknowledged = {e["entry"] for e in doomed_acks + of(survived, "ack")}
    assert acknowledged <= debits  # every acknowledged spend is committed ...
    assert len(debits) == 1000  # ... nothing was half-applied or applied twice (audit is clean too)
    assert len(debits) - len(acknowledged) <= 4  # committed by the dead one, not yet reported: one per slot

"""`serve --workers 2` as real processes, on SQLite and on PostgreSQL: requests are served by both workers
(the journal names the process that served each), and what one worker is told is what the other does at
once: a fault rule, a rate limit's count, a frozen clock, a reset; SIGTERM stops every worker cleanly."""
from __future__ import annotations

import asyncio
import base64
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import process

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"  # the demo tenant's imonggo API token
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode()}
CUSTOMER = "/api/customers/1534.xml"

pytestmark = pytest.mark.slow


@pytest.fixture
def two_workers(store_url: str, tmp_path: Path) -> Iterator[process.Server]:
    server = process.start(["--workers", "2", "--port", "0", "--database", store_url, "--access-log", "false"], cwd=tmp_path)
    try:
        yield server
    finally:
        server.stop()


async def _fresh(base: str, method: str, path: str, *, n: int = 1, **kw: Any) -> list[tuple[int, Any]]:
    """`n` requests at once, each on a connection of its own, so the kernel hands them to either worker."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=0)) as http:

        async def one() -> tuple[int, Any]:
            async with http.request(method, base + path, **kw) as response:
                text = await response.text()
                json_body = await response.json(content_type=None) if "json" in response.content_type else text
                return response.status, json_body

        return list(await asyncio.gather(*(one() for _ in range(n))))


async def _journal(base: str) -> list[dict[str, Any]]:
    [(status, body)] = await _fresh(base, "GET", "/__admin/requests?limit=1000")
    assert status == 200
    return body["requests"]  # type: ignore[no-any-return]


async def _newest_id(base: str) -> int:
    return max((e["id"] for e in await _journal(base)), default=0)


async def _until_both_serve(
    base: str, workers: set[int], counted: Callable[[dict[str, Any]], bool] = lambda e: True
) -> tuple[list[int], list[dict[str, Any]]]:
    """GET a customer ten at a time until both workers have served some (that `counted` keeps); the
    statuses and journal entries. (Which worker accepts a connection is the kernel's choice.)"""
    marker = await _newest_id(base)
    statuses: list[int] = []
    for _ in range(30):
        statuses += [s for s, _ in await _fresh(base, "GET", CUSTOMER, n=10, headers=AUTH)]
        entries = [e for e in await _journal(base) if e["id"] > marker]
        if {e["worker"] for e in entries if counted(e)} == workers:
            return statuses, entries
    raise AssertionError(f"one worker served all {len(statuses)} requests")


async def test_both_workers_serve_and_see_one_sandbox(two_workers: process.Server) -> None:
    base = two_workers.url
    served = await _fresh(base, "GET", CUSTOMER, n=10, headers=AUTH)
    assert {s for s, _ in served} == {200}
    workers = set(process.children(two_workers.proc.pid))
    assert len(workers) == 2
    statuses, _ = await _until_both_serve(base, workers)
    assert set(statuses) == {200}

    # A fault rule added through one worker strikes every request at once, whichever worker serves it.
    [(status, _)] = await _fresh(base, "POST", "/__admin/faults", json={"effect": "status", "status": 409, "path": "/api/customers/*"})
    assert status == 201
    statuses, entries = await _until_both_serve(base, workers)
    assert set(statuses) == {409} and {e["status"] for e in entries} == {409}
    [(status, _)] = await _fresh(base, "DELETE", "/__admin/faults")
    assert status == 200

    # A rule good for three hits strikes three times in all, not three times per worker.
    [(status, rule)] = await _fresh(base, "POST", "/__admin/faults", json={"effect": "status", "status": 418, "times": 3})
    assert status == 201
    statuses, _ = await _until_both_serve(base, workers)
    assert statuses.count(418) == 3 and set(statuses) == {200, 418}
    [(_, listed)] = await _fresh(base, "GET", "/__admin/faults")
    assert listed["faults"][0]["id"] == rule["id"] and listed["faults"][0]["exhausted"] is True
    await _fresh(base, "DELETE", "/__admin/faults")

    # A rate limit counts the requests both workers serve against one window.
    [(status, _)] = await _fresh(base, "PUT", "/__admin/rate-limits", json={"imonggo": {"limit": 5, "window_seconds": 600}})
    assert status == 200
    statuses, entries = await _until_both_serve(base, workers, lambda e: e["outcome"] == "rate_limited")
    assert statuses.count(200) == 5 and set(statuses) == {200, 503}
    await _fresh(base, "PUT", "/__admin/rate-limits", json={"imonggo": None})

    # The clock frozen through one worker is frozen in both: every request after is dated then.
    [(status, _)] = await _fresh(base, "PUT", "/__admin/clock", json={"frozen_at": "2021-03-04T05:06:07Z"})
    assert status == 200
    assert {c["frozen_at"] for _, c in await _fresh(base, "GET", "/__admin/clock", n=10)} == {"2021-03-04T05:06:07Z"}
    _, entries = await _until_both_serve(base, workers)
    assert {e["ledger_time"] for e in entries} == {"2021-03-04T05:06:07Z"}

    # A reset through one worker clears the journal, the rules and the clock for both.
    await _fresh(base, "POST", "/__admin/faults", json={"effect": "status", "status": 418})
    [(status, _)] = await _fresh(base, "POST", "/__admin/reset")
    assert status == 200
    assert await _journal(base) == []
    for _, body in await _fresh(base, "GET", "/__admin/faults", n=6):
        assert body == {"faults": []}
    assert {c["frozen_at"] for _, c in await _fresh(base, "GET", "/__admin/clock", n=6)} == {None}
    statuses, _ = await _until_both_serve(base, workers)
    assert set(statuses) == {200}



def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return True
    return stat[0] == "Z"


def test_sigterm_stops_every_worker_cleanly(two_workers: process.Server) -> None:
    workers = process.children(two_workers.proc.pid)
    assert len(workers) == 2
    assert two_workers.stop(signal.SIGTERM) == 0
    deadline = time.monotonic() + 10
    while not all(_gone(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(p) for p in workers)
    assert "shutting down" in two_workers.output and "error" not in two_workers.output.lower()


def test_a_worker_that_dies_is_named_and_stops_the_rest(two_workers: process.Server) -> None:
    victim, other = sorted(process.children(two_workers.proc.pid))
    os.kill(victim, signal.SIGKILL)
    assert two_workers.proc.wait(timeout=20) == 1
    two_workers.stop()
    assert f"worker {victim} stopped (killed by signal 9)" in two_workers.output
    assert _gone(other)

"""`serve --workers 2`: a scrape reaches one worker, yet reports the whole server, every worker's counts
summed (fresh: asked for at the scrape), whichever worker answers it; a worker that cannot answer in time
is summed with its last counts, and the scrape says so."""
from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from gateway import worker_metrics
from tests import process
from tests.metrics.scrape import grown, scrape, value
from tests.upstream.servers import imonggo_auth

pytestmark = pytest.mark.slow

AUTH = imonggo_auth("5c4fc5805eb643716bbc17dad456a0c6cf2e23fa")
P = "loyalty_gateway_"


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[process.Server]:
    server = process.start(["--workers", "2", "--port", "0", "--database", f"sqlite:///{tmp_path / 'g.db'}"],
                           cwd=tmp_path)
    try:
        yield server
    finally:
        server.stop()


async def fresh(base: str, method: str, path: str, n: int) -> list[int]:
    """`n` requests at once, each on a connection of its own, so the kernel hands them to either worker."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=0)) as http:

        async def one() -> int:
            async with http.request(method, base + path, headers=AUTH) as response:
                await response.read()
                return response.status

        return list(await asyncio.gather(*(one() for _ in range(n))))


async def served_by(base: str) -> set[int]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/__admin/requests?dialect=imonggo&limit=1000") as response:
            return {entry["worker"] for entry in (await response.json())["requests"]}


async def test_a_scrape_sums_every_workers_counts(two_workers: process.Server) -> None:
    base = two_workers.url
    before = await scrape(base)
    reads = spends = 0
    for round_ in range(20):  # until the kernel has handed requests to both workers
        reads += len([s for s in await fresh(base, "GET", "/api/customers/1534.xml", 10) if s == 200])
        statuses = await fresh(base, "POST", f"/api/rewards.xml?q=spend&customer_id=1534&amount=1&reference=W-{round_}", 4)
        spends += statuses.count(200)
        if len(await served_by(base)) == 2:
            break
    assert len(await served_by(base)) == 2 and reads >= 10 and spends >= 4
    scrapes = 6
    for _ in range(scrapes):  # each on a fresh connection: some reach one worker, some the other
        assert await fresh(base, "GET", "/__admin/metrics", 1) == [200]
    after = await scrape(base)

    requests = grown(before, after, f"{P}http_requests_total")
    assert requests[("imonggo", "GET", "/api/customers/{id}{ext}", "200")] == reads
    assert requests[("imonggo", "POST", "/api/rewards{ext}", "200")] == spends
    assert requests[("none", "GET", "/__admin/metrics", "200")] == scrapes + 1  # the first scrape too
    assert grown(before, after, f"{P}http_request_duration_seconds_count")[
        ("imonggo", "/api/customers/{id}{ext}")] == reads
    assert grown(before, after, f"{P}ledger_writes_total") == {("order_spend", "entry.created"): spends}
    assert value(after, f"{P}workers_reporting") == 2
    assert value(after, f"{P}webhook_backlog", dialect="pomelo") == 0


async def test_the_workers_directory_is_gone_after_the_server_stops(tmp_path: Path) -> None:
    mine = set(Path(tempfile.gettempdir()).glob("loyalty-gateway-metrics-*"))
    server = process.start(["--workers", "2", "--port", "0", "--database", f"sqlite:///{tmp_path / 'g.db'}"],
                           cwd=tmp_path)
    try:
        made = set(Path(tempfile.gettempdir()).glob("loyalty-gateway-metrics-*")) - mine
        assert len(made) == 1
        assert {p.name for p in next(iter(made)).glob("*.json")} <= {"worker-0.json", "worker-1.json"}
    finally:
        assert server.stop() == 0
    assert not next(iter(made)).exists()


async def test_a_worker_too_busy_to_answer_is_summed_with_its_last_counts(two_workers: process.Server) -> None:
    base = two_workers.url
    for _ in range(20):
        await fresh(base, "GET", "/api/customers/1534.xml", 10)
        if len(await served_by(base)) == 2:
            break
    workers = await served_by(base)
    assert len(workers) == 2
    both = await scrape(base)
    assert value(both, f"{P}workers_reporting") == 2
    stuck = min(workers)
    os.kill(stuck, signal.SIGSTOP)  # it accepts nothing now: the other worker answers the scrape
    try:
        started = time.monotonic()
        one = await scrape(base)
        waited = time.monotonic() - started
    finally:
        os.kill(stuck, signal.SIGCONT)
    assert value(one, f"{P}workers_reporting") == 1 and waited >= worker_metrics.WAIT * 0.9
    read = ("loyalty_gateway_http_requests_total", tuple(sorted({
        "dialect": "imonggo", "route": "/api/customers/{id}{ext}", "method": "GET", "status": "200"}.items())))
    assert one[read] == both[read]  # the stuck worker's reads are still counted, from its last snapshot
    assert value(await scrape(base), f"{P}workers_reporting") == 2

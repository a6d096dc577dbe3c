"""Exactly once through every failure, measured: mixed writes from many clients through a real gateway to
a real upstream (pomelo, memberpoints, then imonggo) while the upstream drops answers after applying a
write and answers some later than the gateway's timeout, with the gateway SIGKILLed halfway and started
again. Then, per upstream: what the vendor applied against what the gateway acknowledged. Prints a table.

    .venv/bin/python bench/upstream_soak.py [--writes 2000] [--clients 16] [--imonggo-writes 400]
        [--drop 0.2] [--slow 0.05] [--timeout 1.0] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Every write moves a different number of points (0.01, 0.02, ... for pomelo and memberpoints; spends of
0.01, 0.02 ... at 200 points each for imonggo), so the vendor's own ledger tells which write it applied
and whether any twice. Writes alternate credit and debit, and come through the memberpoints and pomelo
dialects in turn (imonggo upstreams: imonggo spends only, since Imonggo earns through invoices alone)."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.context import scratch_postgres  # noqa: E402
from tests import process  # noqa: E402
from tests.gateway_mode.dialects import RATIO, call, client  # noqa: E402
from tests.gateway_mode.harness import JUAN, Pair, make_pair, start_gateway, start_vendor  # noqa: E402

WRITE_PATHS = {"pomelo": "/loyalty/v1/accounts/*", "memberpoints": "/webapps/api/memberpoints", "imonggo": "/api/rewards*"}
CENT = Decimal("0.01")


@contextlib.contextmanager
def fresh_postgres(server: str | None) -> Iterator[str | None]:
    """A new database beside the one `server` names, dropped afterwards; None when no server is given.
    Called outside any event loop (it runs its own to create and drop the database)."""
    if not server:
        yield None
        return
    with scratch_postgres(server, prefix="lg_upstream_bench") as url:
        yield url


@dataclass
class Job:
    number: int
    dialect: str  # the till's dialect
    direction: str  # "credit" or "debit"
    points: Decimal  # unique per job
    status: int | None = None  # what the till got; None: no answer (the gateway died under it)


@dataclass
class Gateway:
    """The gateway process, killed and started again on the same database; tills follow its new URL."""

    workdir: Path
    database: str
    timeout: float
    server: process.Server | None = None
    up: asyncio.Event = field(default_factory=asyncio.Event)
    kills: int = 0

    async def start(self) -> None:
        self.server = await asyncio.to_thread(start_gateway, self.workdir, self.database, timeout=self.timeout)
        self.up.set()

    async def kill_and_restart(self) -> float:
        assert self.server is not None
        self.up.clear()
        self.server.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.server.stop)
        self.kills += 1
        started = time.perf_counter()
        await self.start()
        return time.perf_counter() - started

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url


def jobs_for(upstream: str, writes: int) -> list[Job]:
    if upstream == "imonggo":
        return [Job(n, "imonggo", "debit", CENT * n * RATIO) for n in range(1, writes + 1)]
    return [Job(n, ("memberpoints", "pomelo")[n % 2], ("credit", "debit")[(n // 2) % 2], CENT * n)
            for n in range(1, writes + 1)]


async def send(till: Any, job: Job) -> int:
    if job.dialect == "imonggo":
        answer = await till.spend(JUAN, (job.points / RATIO).quantize(CENT), reference=f"SOAK-{job.number}")
    else:
        answer = await getattr(till, job.direction)(JUAN, job.points)
    return int(answer.status)


async def run_writes(pair: Pair, gateway: Gateway, jobs: list[Job], clients: int) -> dict[str, float]:
    """Send every job once from `clients` workers; kill the gateway when half have been answered."""
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    answered = 0
    figures: dict[str, float] = {}
    half = asyncio.Event()

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal answered
        tills: dict[str, Any] = {}
        seen_url = ""
        while not queue.empty():
            job = queue.get_nowait()
            await gateway.up.wait()
            if gateway.url != seen_url:  # first use, or the gateway came back on another port
                seen_url, tills = gateway.url, {}
            till = tills.setdefault(job.dialect, client(job.dialect, session, seen_url, pair.gateway_credentials))
            try:
                job.status = await send(till, job)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                job.status = None  # cut off by the kill: the till cannot tell what happened
            answered += 1
            if answered >= len(jobs) // 2:
                half.set()

    async def killer() -> None:
        await half.wait()
        figures["restart_s"] = await gateway.kill_and_restart()

    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=clients)) as session:
        await asyncio.gather(killer(), *(worker(session) for _ in range(clients)))
    figures["writes_s"] = time.perf_counter() - started
    return figures


async def open_intents(session: aiohttp.ClientSession, gateway_url: str, tenant: str) -> int:
    """Open intents of one tenant as GET /__admin/upstream counts them."""
    answer = await call(session, "GET", f"{gateway_url}/__admin/upstream")
    assert answer.status == 200, answer
    (row,) = [r for r in answer.json()["upstreams"] if r["tenant"] == tenant]
    return int(row["intents"]["open"])


async def intents_of(database: str, tenants: list[str]) -> dict[str, list[Any]]:
    """Every intent the gateway recorded for each tenant, read through the ledger from its store."""
    from gateway.ledger import Ledger, open_store

    ledger = Ledger(open_store(database))
    await ledger.start()
    try:
        out = {}
        for name in tenants:
            tenant = await ledger.tenant(name)
            out[name] = await ledger.intents(
                tenant=tenant, states=("open", "applied", "refused", "not_applied", "unsettled"), limit=1_000_000
            )
        return out
    finally:
        await ledger.close()


def signed(job: Job) -> Decimal:
    return job.points if job.direction == "credit" else -job.points


async def vendor_moves(pair: Pair) -> list[Decimal]:
    return [Decimal(e["amount"]) for e in await pair.vendor_entries(JUAN)
            if e["asset"] == "points" and e["kind"] != "opening" and not (e.get("note") or "").startswith("soak top-up")]


@dataclass
class Run:
    upstream: str
    pair: Pair
    jobs: list[Job]
    start: Decimal
    row: dict[str, Any]
    moves: list[Decimal] = field(default_factory=list)


async def soak(upstream: str, session: aiohttp.ClientSession, vendor_url: str, gateway: Gateway, args: argparse.Namespace) -> Run:
    """One upstream's writes, through the faults and a kill; then the vendor's side of the outcome."""
    pair = await make_pair(session, gateway.url, vendor_url, "memberpoints", upstream)
    if upstream == "imonggo":  # spends of 0.01 ... 4.00 take 200 times as many points: give Juan enough
        top_up = client("memberpoints", session, vendor_url, pair.vendor_credentials)
        assert (await top_up.adjust(JUAN, Decimal("10000000"), "soak top-up")).status == 200
    start = await pair.vendor_points(JUAN)
    rules = [
        {"effect": "drop", "when": "after", "probability": args.drop},
        # applied, but answered later than the gateway waits: the outcome is unclear until settled
        # (the first rule that fires wins: of the 1 - drop answers left, this share makes `slow` of all)
        {"effect": "latency", "when": "after", "probability": min(1.0, args.slow / (1 - args.drop)),
         "latency_ms": int(args.timeout * 1000) + 500},
    ]
    for rule in rules:
        await pair.fault(method="POST", path=WRITE_PATHS[upstream], **rule)
    jobs = jobs_for(upstream, args.imonggo_writes if upstream == "imonggo" else args.writes)

    figures = await run_writes(pair, gateway, jobs, args.clients)

    await call(session, "DELETE", f"{vendor_url}/__admin/faults")
    pair.gateway_url = gateway.url
    waited = time.perf_counter()
    still_open = await open_intents(session, gateway.url, pair.gateway_tenant)
    while still_open and time.perf_counter() - waited < 60:
        await asyncio.sleep(0.5)
        still_open = await open_intents(session, gateway.url, pair.gateway_tenant)
    figures["settle_s"] = time.perf_counter() - waited
    run = Run(upstream, pair, jobs, start, {"upstream": upstream, **{k: round(v, 1) for k, v in figures.items()}})
    run.moves = await vendor_moves(pair)
    balance = await pair.vendor_points(JUAN)
    run.row["vendor balance ok"] = balance == start + sum(run.moves, Decimal(0))
    listed = await call(session, "GET", f"{gateway.url}/__admin/upstream/unsettled", params={"tenant": pair.gateway_tenant})
    assert listed.status == 200, listed
    run.row["listed"] = len(listed.json()["unsettled"])  # what a person sees
    return run


def judge(run: Run, intents: list[Any]) -> dict[str, Any]:
    """The vendor's movements against the jobs and the gateway's intents."""
    by_points = {signed(job): job for job in run.jobs}
    counts = Counter(run.moves)
    acknowledged = [j for j in run.jobs if j.status is not None and 200 <= j.status < 300]
    applied_jobs = [by_points[m] for m in counts if m in by_points]
    states = Counter(i.state for i in intents)
    applied_intents = Counter(
        (i.points if i.direction.value == "credit" else -i.points) for i in intents if i.state == "applied"
    )
    unsettled = {-(i.points) for i in intents if i.state == "unsettled"}
    row = run.row
    row.update({
        "writes": len(run.jobs), "acknowledged": len(acknowledged),
        "no answer": sum(j.status is None for j in run.jobs),
        "5xx": sum(j.status is not None and j.status >= 500 for j in run.jobs),
        "4xx": sum(j.status is not None and 400 <= j.status < 500 for j in run.jobs),
        "applied": len(applied_jobs),
        "twice": sum(n > 1 for n in counts.values()),
        "ack missing": sum(signed(j) not in counts for j in acknowledged),
        "strangers": sum(m not in by_points for m in counts),
        "refused but applied": sum(j.status is not None and 400 <= j.status < 500 for j in applied_jobs),
        "intents": len(intents), "open": states.get("open", 0), "unsettled": states.get("unsettled", 0),
        # upstream balance = start + applied credits - applied debits as the gateway's intents have them:
        # the vendor applied exactly what the intents say was applied
        "intents = vendor": applied_intents == counts,
    })
    bad = row["twice"] or row["ack missing"] or row["strangers"] or row["refused but applied"] or row["open"]
    if run.upstream == "imonggo":
        # what the vendor applied beyond the applied intents must be exactly among the unsettled ones,
        # waiting for a person; nothing else may differ
        beyond = counts - applied_intents
        row["applied unlisted"] = sum(m not in unsettled for m in beyond)  # must be 0
        row["intents = vendor"] = not (applied_intents - counts) and not row["applied unlisted"]
        bad = bad or row["applied unlisted"]
    bad = bad or row["listed"] != row["unsettled"]
    row["ok"] = not bad and row["vendor balance ok"] and row["intents = vendor"]
    return row


COLUMNS = ["upstream", "writes", "acknowledged", "no answer", "5xx", "4xx", "applied", "twice", "ack missing",
           "strangers", "refused but applied", "intents", "open", "unsettled", "listed", "applied unlisted", "intents = vendor",
           "vendor balance ok", "writes_s", "restart_s", "settle_s", "ok"]


def table(rows: list[dict[str, Any]]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, "-"))) for r in rows)) for c in COLUMNS}
    lines = [" ".join(c.rjust(widths[c]) for c in COLUMNS)]
    lines += [" ".join(str(r.get(c, "-")).rjust(widths[c]) for c in COLUMNS) for r in rows]
    return "\n".join(lines)


async def main(args: argparse.Namespace, gateway_database: str | None) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        vendor = start_vendor(work, f"sqlite:///{work / 'vendor.db'}")
        database = gateway_database or f"sqlite:///{work / 'gateway.db'}"
        gateway = Gateway(work, database, args.timeout)
        await gateway.start()
        runs = []
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
                for upstream in args.upstreams.split(","):
                    runs.append(await soak(upstream, session, vendor.url, gateway, args))
        finally:
            if gateway.server is not None:
                gateway.server.stop()
            vendor.stop()
        intents = await intents_of(database, [run.pair.gateway_tenant for run in runs])
        rows = [judge(run, intents[run.pair.gateway_tenant]) for run in runs]
        print(f"gateway store: {'postgresql' if gateway_database else 'sqlite'}; {args.clients} clients; "
              f"{args.drop:.0%} of upstream write answers dropped after applying, {args.slow:.0%} later than "
              f"the {args.timeout:g} s timeout; one SIGKILL of the gateway per upstream, halfway")
        print(table(rows))
        return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--imonggo-writes", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--drop", type=float, default=0.2)
    parser.add_argument("--slow", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=1.0, help="the gateway's upstream timeout, seconds")
    parser.add_argument("--upstreams", default="pomelo,memberpoints,imonggo")
    parser.add_argument("--postgres", help="run the gateway on PostgreSQL (a server URL)")
    parsed = parser.parse_args()
    with fresh_postgres(parsed.postgres) as database:
        sys.exit(asyncio.run(main(parsed, database)))

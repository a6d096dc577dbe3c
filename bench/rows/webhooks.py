"""Row "webhooks": pomelo card transactions from 32 concurrent clients on a default `serve`, each one a
loyalty-pending webhook to a local receiver; webhooks/s (unique ones received, over first send to last
arrival) and lag p50/p99 (arrival minus the moment the transaction was answered, i.e. committed).
When bench/webhook_throughput.py (helper "webhooks") is there, its receiver (a process of its own) and its
clients are used, alternated with its ceiling (the receiver posted to directly); else a minimal one here."""
from __future__ import annotations

import asyncio
import importlib
import json
import multiprocessing
import statistics
import time
from typing import Any

import aiohttp
from aiohttp import web

from ..context import Context
from ..harness import free_port, http, median
from ..report import Measure, ms, rate
from . import demo_loads

CLIENTS = 32
TARGET_RATE, TARGET_LAG_P99_MS = 2000.0, 100.0
DRAIN_SECONDS = 30.0  # how long stragglers may take after the last transaction before they count as lost


def run(ctx: Context, wanted: list[str]) -> list[Measure]:
    name, target = f"webhooks to a local receiver, {CLIENTS} clients", f">= {rate(TARGET_RATE)}/s, lag p99 < {TARGET_LAG_P99_MS:.0f} ms"
    theirs = _helpers_module()
    with ctx.gateway(f"sqlite:///{ctx.workdir / 'webhooks.db'}") as gateway:
        gateway.start()
        if theirs is not None:
            found, source = _with_helpers_module(theirs, gateway.base, 300 * ctx.seconds, ctx.rounds), "bench/webhook_throughput.py"
        else:
            found = [asyncio.run(_one_round(gateway.base, ctx.seconds)) for _ in range(ctx.rounds)]
            source = "minimal receiver"
    rates, p50, p99 = (median([f[k] for f in found]) for k in ("rate", "lag_p50_ms", "lag_p99_ms"))
    lost = sum(f["lost"] for f in found)
    now = f"{rate(rates)}/s, lag p50 {ms(p50)}, p99 {ms(p99)} ({source}; transactions answered {rate(median([f['sent_rate'] for f in found]))}/s"
    if all("ceiling" in f for f in found):
        ratio = median([f["rate"] / f["ceiling"] for f in found if f["ceiling"]])
        now += f"; {ratio:.2f}x the receiver posted to directly, {rate(median([f['ceiling'] for f in found]))}/s"
    now += ")"
    if lost:
        now += f"; {lost:.0f} NOT DELIVERED in time"
    return [Measure(name, now, target, not lost and rates >= TARGET_RATE and p99 < TARGET_LAG_P99_MS,
                    {"rate": rates, "lag_p50_ms": p50, "lag_p99_ms": p99, "lost": lost, "source": source, "rounds": found})]


def _helpers_module() -> Any:
    """Helper "webhooks"'s bench, if it is there and has the parts used here; else None."""
    try:
        module = importlib.import_module("bench.webhook_throughput")
    except Exception:  # absent, or its own imports moved: the minimal measurement still runs
        return None
    return module if all(hasattr(module, part) for part in ("receiver_main", "through_gateway", "direct")) else None


def _with_helpers_module(module: Any, base: str, count: int, rounds: int) -> list[dict[str, Any]]:
    spawn = multiprocessing.get_context("spawn")
    ports = spawn.Queue()
    receiver = spawn.Process(target=module.receiver_main, args=(ports,), daemon=True)
    receiver.start()
    try:
        return asyncio.run(_helpers_rounds(module, base, f"http://127.0.0.1:{ports.get(timeout=30)}", count, rounds))
    finally:
        receiver.terminate()
        receiver.join()


async def _helpers_rounds(module: Any, base: str, receiver: str, count: int, rounds: int) -> list[dict[str, Any]]:
    found = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async with session.put(f"{base}/__admin/pomelo/webhooks?tenant=demo", json={"url": f"{receiver}/loyalty"}) as answer:
            if answer.status != 200:
                raise RuntimeError(f"setting the webhook URL answered {answer.status}: {await answer.text()}")
        await module.through_gateway(session, base, receiver, min(300, count), CLIENTS)  # warm-up
        for _ in range(rounds):
            ceiling = await module.direct(session, receiver, count, CLIENTS)
            this = await module.through_gateway(session, base, receiver, count, CLIENTS)
            found.append({"rate": this["per_second"], "lag_p50_ms": this["p50_ms"], "lag_p99_ms": this["p99_ms"],
                          "lost": this["missing"], "sent_rate": this["requests_per_second"],
                          "ceiling": ceiling["per_second"]})
    return found


async def _one_round(base: str, seconds: int) -> dict[str, Any]:
    arrived: dict[str, float] = {}

    async def receive(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        arrived.setdefault(body["event_detail"]["transaction_id"], time.time())
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/loyalty", receive)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        status, body = await asyncio.to_thread(
            http, "PUT", f"{base}/__admin/pomelo/webhooks?tenant=demo", {"url": f"http://127.0.0.1:{port}/loyalty"})
        if status != 200:
            raise RuntimeError(f"setting the webhook URL answered {status}: {body[:200]!r}")
        started = time.time()
        answered = await _send(base, seconds)
        sent_rate = len(answered) / (time.time() - started)
        deadline = time.time() + DRAIN_SECONDS
        while time.time() < deadline and not answered.keys() <= arrived.keys():
            await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    lags = sorted((arrived[t] - answered[t]) * 1000 for t in answered if t in arrived)
    if not lags:
        return {"rate": 0.0, "sent_rate": sent_rate, "lag_p50_ms": float("inf"), "lag_p99_ms": float("inf"),
                "lost": len(answered)}
    return {"rate": len(lags) / (max(arrived.values()) - started), "sent_rate": sent_rate, "lag_p50_ms": statistics.median(lags),
            "lag_p99_ms": lags[min(len(lags) - 1, int(len(lags) * 0.99))], "lost": len(answered) - len(lags),
            "sent": len(answered)}


async def _send(base: str, seconds: int) -> dict[str, float]:
    """CLIENTS concurrent senders for `seconds`: transaction id → when its answer came (wall clock)."""
    answered: dict[str, float] = {}
    body = {"card_id": demo_loads.CARD, "amount": 1.5, "currency": "ARS"}
    stop = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as session:

        async def client() -> None:
            while time.monotonic() < stop:
                async with session.post(f"{base}/__admin/pomelo/transactions", json=body) as response:
                    found = await response.json()
                    if response.status not in (200, 201):
                        raise RuntimeError(f"a transaction answered {response.status}: {found}")
                    answered[found["id"]] = time.time()

        await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return answered

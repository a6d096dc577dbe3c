"""Row family "writes": durable writes (imonggo spend, memberpoints POST) on a default `serve`
(synchronous=FULL) at 32 and at 1 connection, alternated round by round with the raw sqlite3 loop of
one fsync per write on the same filesystem; writes/s as a ratio to the loop, and p99."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import fsync_loop
from ..context import Context
from ..harness import Load, WrkResult, alternate, median, paired_ratio, wrk
from ..report import Measure, ms, rate
from . import demo_loads

TARGET_RATIO, TARGET_P99_MS, TARGET_SINGLE = 1.0, 10.0, 1500.0
TOP_UP = 1_000_000  # points before each spend run: 2 points a spend leaves room for 500,000 of them


def run(ctx: Context, wanted: list[str]) -> list[Measure]:
    measures: list[Measure] = []
    for store, database in ctx.stores():
        durable = ("--sqlite-synchronous", "full") if store == "sqlite" else ()  # the default, said out loud
        with ctx.gateway(database, *durable) as gateway:
            gateway.start()
            loads = demo_loads.writes(gateway.base)
            runs: dict[str, Callable[[], Any]] = {
                "loop": lambda: fsync_loop.writes_per_second(ctx.workdir, ctx.seconds)}
            for connections in (32, 1):
                for name, load in loads.items():
                    runs[f"{name}@{connections}"] = _runner(ctx, gateway.base, load, connections)
            for load in loads.values():
                demo_loads.top_up(gateway.base, TOP_UP)
                wrk(load, seconds=1, connections=32)  # warm-up
            results = alternate(runs, ctx.rounds)
            loop = results.pop("loop")
            measures += [_measure(key, store, found, loop) for key, found in results.items()]
    return measures


def _runner(ctx: Context, base: str, load: Load, connections: int) -> Callable[[], WrkResult]:
    def one() -> WrkResult:
        demo_loads.top_up(base, TOP_UP)
        return wrk(load, seconds=ctx.seconds, connections=connections)
    return one


def _measure(key: str, store: str, runs: list[WrkResult], loop: list[float]) -> Measure:
    name, connections = key.rsplit("@", 1)
    ratio = paired_ratio([r.rate for r in runs], loop)
    rates, p99, loop_rate = median([r.rate for r in runs]), median([r.p99_ms for r in runs]), median(loop)
    errors = sum(r.errors for r in runs)
    now = f"{rate(rates)}/s = {ratio:.2f}x fsync loop ({rate(loop_rate)}/s); p99 {ms(p99)}"
    if errors:
        now += f"; {errors} ERRORS"
    figures = {"rate": rates, "ratio": ratio, "p99_ms": p99, "loop_rate": loop_rate, "errors": errors,
               "rounds": len(runs), "connections": int(connections)}
    if connections == "1":
        return Measure(f"durable write: {name}, 1 connection [{store}]", now, f">= {rate(TARGET_SINGLE)}/s",
                       not errors and rates >= TARGET_SINGLE, figures)
    return Measure(f"durable write: {name}, 32 connections [{store}]", now,
                   f">= {TARGET_RATIO}x fsync loop; p99 <= {TARGET_P99_MS:.0f} ms",
                   not errors and ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS, figures)

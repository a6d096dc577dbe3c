"""Row family "reads": imonggo GET customer XML, memberpoints balances and pomelo balance on a default
`serve`, wrk with 1 thread and 32 connections, alternated round by round with the hello-world
reference; req/s as a ratio to hello (median of the per-round ratios), p99, and the server's CPU per
request beside hello's (steadier than req/s when other jobs share the machine)."""
from __future__ import annotations

from ..context import Context
from ..harness import Load, WrkResult, alternate, median, paired_ratio, wrk, wrk_on
from ..report import Measure, ms, rate
from . import demo_loads

CONNECTIONS = 32
TARGET_RATIO, TARGET_P99_MS = 0.5, 5.0


def run(ctx: Context, wanted: list[str]) -> list[Measure]:
    measures: list[Measure] = []
    for store, database in ctx.stores():
        with ctx.gateway(database) as gateway, ctx.hello() as hello:
            gateway.start()
            hello.start()
            loads = {"hello": Load(hello.base + "/"), **demo_loads.reads(gateway.base)}

            def runner(name: str, load: Load):  # type: ignore[no-untyped-def]
                server = hello if name == "hello" else gateway
                return lambda: wrk_on(server, load, seconds=ctx.seconds, connections=CONNECTIONS)

            for load in loads.values():  # warm-up: imports, caches, the first connections
                wrk(load, seconds=1, connections=CONNECTIONS)
            results = alternate({name: runner(name, load) for name, load in loads.items()}, ctx.rounds)
            measures += [_measure(name, store, runs, results["hello"]) for name, runs in results.items() if name != "hello"]
    return measures


def _measure(name: str, store: str, found: list[tuple[WrkResult, float]], hello_found: list[tuple[WrkResult, float]]) -> Measure:
    runs, hello = [r for r, _ in found], [h for h, _ in hello_found]
    cpu, hello_cpu = median([c for _, c in found]), median([c for _, c in hello_found])
    ratio = paired_ratio([r.rate for r in runs], [h.rate for h in hello])
    rates, p99 = median([r.rate for r in runs]), median([r.p99_ms for r in runs])
    hello_rate = median([h.rate for h in hello])
    errors = sum(r.errors for r in runs)
    now = (f"{rate(rates)} req/s = {ratio:.2f}x hello ({rate(hello_rate)}); p99 {ms(p99)}; "
           f"CPU {cpu:,.0f} us/req (hello {hello_cpu:,.0f})")
    if errors:
        now += f"; {errors} ERRORS"
    return Measure(
        f"read: {name} [{store}]", now, f">= {TARGET_RATIO}x hello; p99 <= {TARGET_P99_MS:.0f} ms",
        not errors and ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS,
        {"rate": rates, "ratio": ratio, "p99_ms": p99, "hello_rate": hello_rate, "errors": errors,
         "cpu_us_per_request": cpu, "hello_cpu_us_per_request": hello_cpu,
         "rounds": len(runs), "connections": CONNECTIONS},
    )

"""What rendering costs: each response body as rendered now against the renderer before (bench/render_reference.py,
an lxml tree per XML response, strftime times) and, for XML, against lxml's bare tostring of the same tree
already built; and, with --wrk, GET customer XML req/s on uvloop and on asyncio's loop against an aiohttp
hello-world. Runs alternate within one run; figures are medians. Prints figures; asserts nothing.

    .venv/bin/python -m bench.render_bench [--rounds 15] [--wrk] [--wrk-rounds 3] [--seconds 5]
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from bench import render_reference as before
from bench import render_samples as samples
from gateway.dialects.common import json_bytes
from gateway.dialects.imonggo import json_out, views, xml_out
from gateway.dialects.memberpoints import wire as memberpoints
from gateway.dialects.pomelo import wire as pomelo

Render = Callable[[], Any]


def _page(end_point: str, rows: list[dict[str, Any]]) -> bytes:
    """memberpoints.listing's body without the web.Response around it (the reference makes none)."""
    return json_bytes({"endPoint": end_point, "resultCount": len(rows), "offset": 0, "data": rows, "success": True,
                       "pageSize": 50})


def _cases() -> dict[str, tuple[Render, Render, Render | None]]:
    """name -> (now, before, lxml's tostring of the tree already built or None). Records are built once: the
    views (field order, lookups) are the same code on both sides."""
    customer = views.customer(samples.member(), samples.account().posted, samples.PROGRAMME)
    page = [views.customer(samples.member(1000 + i), samples.account().posted, samples.PROGRAMME) for i in range(50)]
    spend = views.spend(samples.spend())
    invoice = views.invoice(samples.order(), "Juan Cruz")
    history, balances, found = samples.history(50), samples.balance_rows(50), samples.balance()

    def tree(make: Callable[[], bytes]) -> Render:
        root = etree.fromstring(make())
        return lambda: b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
            root, encoding="UTF-8", xml_declaration=False, pretty_print=True)

    return {
        "imonggo customer XML": (lambda: xml_out.document("customer", customer),
                                 lambda: before.xml_document("customer", customer),
                                 tree(lambda: before.xml_document("customer", customer))),
        "imonggo customer JSON": (lambda: json_out.document(customer), lambda: before.json_document(customer), None),
        "imonggo 50 customers XML": (lambda: xml_out.listing("customers", "customer", page),
                                     lambda: before.xml_listing("customers", "customer", page),
                                     tree(lambda: before.xml_listing("customers", "customer", page))),
        "imonggo 50 customers JSON": (lambda: json_out.listing(page), lambda: before.json_listing(page), None),
        "imonggo spend XML": (lambda: xml_out.document("hash", spend), lambda: before.xml_document("hash", spend),
                              tree(lambda: before.xml_document("hash", spend))),
        "imonggo invoice XML": (lambda: xml_out.document("invoice", invoice),
                                lambda: before.xml_document("invoice", invoice),
                                tree(lambda: before.xml_document("invoice", invoice))),
        "imonggo invoice JSON": (lambda: json_out.document(invoice), lambda: before.json_document(invoice), None),
        "memberpoints 50 history": (
            lambda: _page("memberpoints", [memberpoints.history_row(e, 3) for e in history]),
            lambda: before.memberpoints_listing("memberpoints", [before.memberpoints_history_row(e, 3) for e in history], 0, 50),
            None),
        "memberpoints 50 balances": (
            lambda: _page("memberpointsbalances", [memberpoints.balance_row(r) for r in balances]),
            lambda: before.memberpoints_listing("memberpointsbalances", [before.memberpoints_balance_row(r) for r in balances], 0, 50),
            None),
        "pomelo balance": (lambda: pomelo.dumps(pomelo.balance(found, card_id=None)),
                           lambda: before.pomelo_dumps({**pomelo.balance(found, card_id=None),
                                                        "updated_at": before.pomelo_timestamp(found.updated_at)}),
                           None),
    }


def _per_call(render: Render, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        render()
    return (time.perf_counter() - start) / calls * 1e6


def micro(rounds: int) -> None:
    print(f"per render, µs (median of {rounds} alternated rounds); ratio = reference / now, above 1 is faster now")
    print(f"{'render':28s} {'now':>9s} {'before':>9s} {'ratio':>7s} {'lxml tostring':>14s} {'ratio':>7s}")
    for name, (now, old, lxml) in _cases().items():
        assert now() == old(), f"{name}: the bytes differ from the renderer before"
        calls = max(1, int(0.02 / (_per_call(now, 3) / 1e6 + 1e-9)))  # about 20 ms per timing
        times: dict[str, list[float]] = {"now": [], "old": [], "lxml": []}
        for round_ in range(rounds):
            order = [("now", now), ("old", old)] + ([("lxml", lxml)] if lxml else [])
            for key, render in (order if round_ % 2 == 0 else order[::-1]):
                times[key].append(_per_call(render, calls))
        m = {k: statistics.median(v) for k, v in times.items() if v}
        lxml_cols = f"{m['lxml']:14.1f} {m['lxml'] / m['now']:6.2f}x" if "lxml" in m else f"{'-':>14s} {'-':>7s}"
        print(f"{name:28s} {m['now']:9.1f} {m['old']:9.1f} {m['old'] / m['now']:6.2f}x {lxml_cols}")


# --wrk: the whole request path -----------------------------------------------------------------------

HELLO = """
import asyncio, sys
from aiohttp import web
async def hello(request): return web.Response(text="Hello, world")
async def main():
    app = web.Application(); app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None); await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[1])).start(); await asyncio.Event().wait()
factory = __import__("uvloop").new_event_loop if sys.argv[2] == "uvloop" else None
with asyncio.Runner(loop_factory=factory) as loop: loop.run(main())
"""
CUSTOMER = "/api/customers/1534.xml"
DEMO_TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"server on {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on {port} never listened")


def _wrk(url: str, seconds: int, auth: str | None) -> tuple[float, str]:
    command = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", url]
    if auth:
        command[1:1] = ["-H", f"Authorization: Basic {auth}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out)
    if re.search(r"Non-2xx", out):
        raise SystemExit(f"{url} answered non-2xx:\n{out}")
    return rate, p99.group(1) if p99 else "?"


def whole_path(rounds: int, seconds: int, extra_args: list[str]) -> None:
    import base64

    auth = base64.b64encode(f"{DEMO_TOKEN}:x".encode()).decode()
    workdir = Path(tempfile.mkdtemp(prefix="render-bench-"))
    servers: dict[str, tuple[str, str | None]] = {}
    processes: list[subprocess.Popen[bytes]] = []
    exe = str(Path(sys.executable).with_name("loyalty-gateway"))
    try:
        for label, loop in (("aiohttp hello-world", "asyncio"), ("hello-world, uvloop", "uvloop")):
            port = _free_port()
            processes.append(subprocess.Popen([sys.executable, "-c", HELLO, str(port), loop]))
            _wait(port, processes[-1])
            servers[label] = (f"http://127.0.0.1:{port}/", None)
        for label, uvloop in (("gateway, uvloop", "true"), ("gateway, asyncio loop", "false")):
            port = _free_port()
            db = workdir / f"{uvloop}.db"
            processes.append(subprocess.Popen(
                [exe, "serve", "--port", str(port), "--database", f"sqlite:///{db}", "--uvloop", uvloop, *extra_args],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ}))
            _wait(port, processes[-1])
            servers[label] = (f"http://127.0.0.1:{port}{CUSTOMER}", auth)
        for url, key in servers.values():  # warm up: first requests load caches and the scenario
            _wrk(url, 1, key)
        rates: dict[str, list[float]] = {name: [] for name in servers}
        tails: dict[str, list[str]] = {name: [] for name in servers}
        names = list(servers)
        for round_ in range(rounds):
            for name in names[round_ % len(names):] + names[: round_ % len(names)]:
                rate, p99 = _wrk(*servers[name][:1], seconds, servers[name][1])
                rates[name].append(rate)
                tails[name].append(p99)
                print(f"  round {round_ + 1}: {name:24s} {rate:9.0f} req/s  p99 {p99}", flush=True)
        hello = statistics.median(rates["aiohttp hello-world"])
        print(f"\nwrk -t1 -c32 -d{seconds}s, median of {rounds} alternated runs; GET {CUSTOMER} for the gateway; "
              "hello = the hello-world on asyncio's loop")
        for name in names:
            median = statistics.median(rates[name])
            print(f"{name:24s} {median:9.0f} req/s  {median / hello:5.2f}x hello   p99s {', '.join(tails[name])}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--wrk", action="store_true", help="also time GET customer XML with wrk (uvloop on and off; needs the speed extra)")
    parser.add_argument("--wrk-rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--serve-arg", action="append", default=[], help="passed to both gateways' serve")
    args = parser.parse_args()
    micro(args.rounds)
    if args.wrk:
        print()
        whole_path(args.wrk_rounds, args.seconds, args.serve_arg)


if __name__ == "__main__":
    main()

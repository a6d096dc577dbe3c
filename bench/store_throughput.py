"""Durable writes and hot reads through a real `loyalty-gateway serve` (SQLite, WAL, synchronous=FULL), driven
by wrk, each measured alternately in the same run with its reference: writes against a raw sqlite3 loop
with one fsync per write (BEGIN IMMEDIATE; INSERT; COMMIT on the same file system), a customer GET
against a minimal aiohttp hello-world of the same venv. Prints medians of the rounds as ratios, with p99.
Asserts nothing.

    .venv/bin/python -m bench.store_throughput [--rounds 3] [--seconds 5] [--readers 4] [--baseline ../main]

Needs wrk on PATH. Every wrk run uses one thread; responses that are not 2xx are counted and shown."""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
BASIC = "Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode()
MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}

HELLO = """
import sys
from aiohttp import web
async def hello(request):
    return web.Response(text="Hello, world")
app = web.Application()
app.router.add_get("/", hello)
print("listening", flush=True)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


@dataclass
class Run:
    rate: float  # requests (or writes) per second
    p99_ms: float | None
    failed: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lua(method: str, body: str, headers: dict[str, str]) -> str:
    lines = [f"wrk.method = {json.dumps(method)}", f"wrk.body = {json.dumps(body)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def wrk(url: str, connections: int, seconds: float, script: Path | None = None,
        headers: dict[str, str] | None = None) -> Run:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return Run(
        rate, float(p99.group(1)) * scale[p99.group(2)] if p99 else None,
        (int(failed.group(1)) if failed else 0) + (sum(map(int, errors.groups())) if errors else 0),
    )


def raw_sqlite_loop(path: Path, seconds: float) -> Run:
    """What one durable write costs SQLite alone: one transaction, one INSERT, one fsync, in a loop."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, member INTEGER, amount INTEGER, at TEXT)")
    times: list[float] = []
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (member, amount, at) VALUES (?, ?, ?)", (1534, 100, "2026-01-01 00:00:00.000000"))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    times.sort()
    return Run(len(times) / seconds, times[int(len(times) * 0.99)] * 1000)


class Server:
    def __init__(self, command: list[str], ready: str, cwd: Path = ROOT) -> None:
        self.process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if ready not in line:
            self.process.kill()
            raise RuntimeError(f"server did not start: {line!r}")
        found = re.search(r"(http://\S+)", line)
        self.url = found.group(1) if found else ""

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def call(url: str, body: bytes | None, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
    with urllib.request.urlopen(request) as response:
        response.read()


def start_gateway(root: Path, folder: Path, name: str, readers: int | None) -> Server:
    extra = ["--sqlite-readers", str(readers)] if readers is not None else []
    gateway = Server(
        [sys.executable, "-m", "gateway", "serve", "--database", f"sqlite:///{folder / f'{name}.db'}", "--port", "0",
         "--access-log", "false", *extra],
        "listening on", cwd=root,
    )
    # Enough points for every spend of the run: the writes measured must all be applied.
    for _ in range(5):
        call(f"{gateway.url}/webapps/api/memberpoints", json.dumps({"mbr_id": 1534, "adjustpoints": 9_000_000,
             "adjustmentnote": "bench float"}).encode(), {**MEMBERPOINTS, "Content-Type": "application/json"})
    return gateway


def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lg-bench-store-"))
    gateways = {"": start_gateway(ROOT, folder, "gateway", args.readers)}
    if args.baseline:  # another checkout (say main), measured in the same rounds
        gateways["baseline: "] = start_gateway(Path(args.baseline).resolve(), folder, "baseline", None)
    port = free_port()
    hello = Server([sys.executable, "-c", HELLO, str(port)], "listening")
    hello.url = f"http://127.0.0.1:{port}/"
    spend = folder / "spend.lua"
    spend.write_text(lua("POST", "", {"Authorization": BASIC, "Accept": "application/xml"}))
    adjust = folder / "adjust.lua"
    adjust.write_text(lua("POST", json.dumps({"mbr_id": 442531, "adjustpoints": 1, "adjustmentnote": "bench"}),
                          {**MEMBERPOINTS, "Content-Type": "application/json"}))
    cases: dict[str, Callable[[], Run]] = {
        "raw sqlite3 loop, 1 fsync/write": lambda: raw_sqlite_loop(folder / "raw.db", args.seconds),
        "aiohttp hello-world, 32 conn": lambda: wrk(hello.url, 32, args.seconds),
    }
    measures: dict[str, Callable[[str], Run]] = {
        "imonggo spend, 32 conn": lambda b: wrk(f"{b}/api/rewards.xml?q=spend&customer_id=1534&amount=1", 32,
                                                args.seconds, spend),
        "memberpoints POST, 32 conn": lambda b: wrk(f"{b}/webapps/api/memberpoints", 32, args.seconds, adjust),
        "imonggo spend, 1 conn": lambda b: wrk(f"{b}/api/rewards.xml?q=spend&customer_id=1534&amount=1", 1,
                                               args.seconds, spend),
        "memberpoints POST, 1 conn": lambda b: wrk(f"{b}/webapps/api/memberpoints", 1, args.seconds, adjust),
        "imonggo GET customer XML, 32 conn": lambda b: wrk(
            f"{b}/api/customers/1534.xml", 32, args.seconds, headers={"Authorization": BASIC}),
        "memberpoints balances GET, 32 conn": lambda b: wrk(
            f"{b}/webapps/api/memberpointsbalances", 32, args.seconds, headers=MEMBERPOINTS),
    }
    for measure, run in measures.items():  # each measure on every gateway back to back
        for label, gateway in gateways.items():
            cases[f"{label}{measure}"] = lambda run=run, url=gateway.url: run(url)
    runs: dict[str, list[Run]] = {name: [] for name in cases}
    try:
        for round_no in range(1, args.rounds + 1):
            for name, case in cases.items():  # alternated: every case once per round, references included
                runs[name].append(case())
            print(f"round {round_no}/{args.rounds} done", file=sys.stderr, flush=True)
    finally:
        for gateway in gateways.values():
            gateway.stop()
        hello.stop()

    def median(name: str) -> tuple[float, float | None, int]:
        rates = [r.rate for r in runs[name]]
        p99s = [r.p99_ms for r in runs[name] if r.p99_ms is not None]
        return statistics.median(rates), (statistics.median(p99s) if p99s else None), sum(r.failed for r in runs[name])

    raw, _, _ = median("raw sqlite3 loop, 1 fsync/write")
    hello_rate, _, _ = median("aiohttp hello-world, 32 conn")
    print(f"\nmedians of {args.rounds} alternated rounds of {args.seconds:g} s; sqlite_readers={args.readers};"
          f" {os.cpu_count()} cores")
    print(f"{'measure':48} {'per s':>9} {'p99 ms':>8} {'ratio':>7}  reference      {'non-2xx':>7}")
    for name in cases:
        rate, p99, failed = median(name)
        if name in ("raw sqlite3 loop, 1 fsync/write", "aiohttp hello-world, 32 conn"):
            ratio, against = 1.0, "(reference)"
        elif "GET" in name:
            ratio, against = rate / hello_rate, "hello-world"
        else:
            ratio, against = rate / raw, "raw sqlite3"
        shown = f"{p99:8.1f}" if p99 is not None else f"{'-':>8}"
        print(f"{name:48} {rate:9.0f} {shown} {ratio:6.2f}x  {against:14} {failed:7d}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--baseline", help="another checkout of the gateway (say ../main) to measure alongside")
    main(parser.parse_args())

"""What `serve --workers N` buys: imonggo GET customer XML with wrk (1 thread, 32 connections) against
`serve --workers 1`, `--workers 2` and (optionally) one worker with shared_state on, each run alternated
with an aiohttp hello-world of the same venv in the same run; medians of the rounds, as ratios to the
hello-world measured beside them, and the server's CPU per request (all its processes). Then what the per-request check of the shared state costs, alone.

    .venv/bin/python bench/workers_bench.py [--rounds 5] [--seconds 5] [--shared] [--journal-off] [--database URL]

Every server runs at once on its own port and sits idle while another is measured. Prints figures;
asserts nothing."""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"  # the demo tenant's imonggo API token
PATH = "/api/customers/1534.xml"
HELLO = """
from aiohttp import web
async def hello(request):
    return web.Response(text="Hello, world")
app = web.Application()
app.router.add_get("/{tail:.*}", hello)
web.run_app(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), access_log=None, print=None)
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_gateway(args: list[str], workdir: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", "0", "--access-log", "false", *args],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1)
    raise SystemExit(f"gateway {args} did not start")


def _start_hello() -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", HELLO, str(port)], text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"]).returncode == 0:
            return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    raise SystemExit("hello-world did not start")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process and its children (a supervisor's workers) have used: on a busy machine
    steadier than req/s, since it does not count the time spent waiting for a core."""
    pids = [pid] + [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == pid]
    total = 0.0
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _parent(entry: Path) -> int:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def _wrk(url: str, seconds: float) -> tuple[float, float]:
    """req/s and p99 latency (ms) of wrk -t1 -c32 on `url`; non-2xx answers are an error, not a figure."""
    auth = "Authorization: Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode()
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{max(1, round(seconds))}s", "--latency", "-H", auth, url],
        capture_output=True, text=True, check=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url} answered errors:\n{out}")
    _wrk.requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[attr-defined,union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    return rate, float(value) * _UNITS[unit]


def check_cost(database: str, n: int = 200_000) -> None:
    """What the shared state's per-request check costs when nothing changed: the supervisor's counter
    (one word of shared memory) and, for instances with no common memory, the store's version."""
    from gateway.app import build_ledger
    from gateway.sandbox import changes
    from gateway.sandbox.shared import SharedState
    from gateway.settings import Settings

    async def main() -> None:
        ledger = build_ledger(Settings.defaults().replace(database=database))
        await ledger.start()
        try:
            changes.install(changes.ChangeCounter())
            state = SharedState(across_instances=False)
            state.ledger = ledger
            await state.refresh()
            started = time.perf_counter()
            for _ in range(n):
                await state.check()
            counter_us = (time.perf_counter() - started) / n * 1e6
            state.across_instances = True
            m = n // 50
            started = time.perf_counter()
            for _ in range(m):
                await state.check()
            store_us = (time.perf_counter() - started) / m * 1e6
        finally:
            changes.install(None)
            await ledger.close()
        print(f"per-request check, nothing changed: shared-memory counter {counter_us:.2f} us;"
              f" store version ({database.partition(':')[0]}) {store_us:.0f} us")

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--shared", action="store_true", help="also one worker with shared_state on")
    parser.add_argument("--journal-off", action="store_true", help="also both with the journal off")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=FLAGS",
                        help='another server to measure, e.g. "w2 normal=--workers 2 --sqlite-synchronous normal"')
    parser.add_argument("--database", default=None, help="store URL (default: a fresh SQLite file per server)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        configs = {"workers 1": ["--workers", "1"], "workers 2": ["--workers", "2"]}
        if args.shared:
            configs["workers 1, shared_state"] = ["--workers", "1", "--shared-state", "true"]
        if args.journal_off:
            configs["workers 1, journal off"] = ["--workers", "1", "--journal", "false"]
            configs["workers 2, journal off"] = ["--workers", "2", "--journal", "false"]
        for extra in args.extra:
            name, _, flags = extra.partition("=")
            configs[name] = flags.split()
        servers: dict[str, tuple[subprocess.Popen[str], str]] = {"hello": _start_hello()}
        for i, (name, flags) in enumerate(configs.items()):
            database = args.database or f"sqlite:///{workdir}/bench{i}.db"
            servers[name] = _start_gateway([*flags, "--database", database], workdir)
        try:
            for name, (_, base) in servers.items():
                _wrk(base + PATH, 1)  # warm-up
            figures: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            ratios: dict[str, list[float]] = {name: [] for name in configs}
            cpu: dict[str, list[float]] = {name: [] for name in configs}
            print(f"wrk -t1 -c32 -d{args.seconds}s GET {PATH}, {args.rounds} rounds alternated, CPUs: {os.cpu_count()}")
            for round_no in range(1, args.rounds + 1):
                hello = _wrk(servers["hello"][1] + PATH, args.seconds)
                figures["hello"].append(hello)
                line = [f"round {round_no}: hello {hello[0]:7.0f} req/s"]
                for name in configs:
                    before = _cpu_seconds(servers[name][0].pid)
                    rate, p99 = _wrk(servers[name][1] + PATH, args.seconds)
                    cpu[name].append((_cpu_seconds(servers[name][0].pid) - before) / _wrk.requests * 1e6)  # type: ignore[attr-defined]
                    figures[name].append((rate, p99))
                    ratios[name].append(rate / hello[0])
                    line.append(f"{name} {rate:6.0f} req/s p99 {p99:6.1f} ms {cpu[name][-1]:4.0f} us CPU/req"
                                f" ({rate / hello[0]:.3f}x)")
                print(";  ".join(line), flush=True)
            print("medians:")
            print(f"  hello-world            {statistics.median(r for r, _ in figures['hello']):7.0f} req/s")
            for name in configs:
                rate = statistics.median(r for r, _ in figures[name])
                p99 = statistics.median(p for _, p in figures[name])
                print(f"  {name:22} {rate:7.0f} req/s  p99 {p99:6.1f} ms  {statistics.median(cpu[name]):4.0f} us CPU/req"
                      f"  {statistics.median(ratios[name]):.3f}x hello")
            two = [b / a for a, b in zip(ratios["workers 1"], ratios["workers 2"])]
            print(f"  workers 2 / workers 1: {statistics.median(two):.2f}x (median of per-round ratios)")
        finally:
            for proc, _ in servers.values():
                proc.terminate()
            for proc, _ in servers.values():
                proc.wait(timeout=30)
        check_cost(args.database or f"sqlite:///{workdir}/check.db")


if __name__ == "__main__":
    main()

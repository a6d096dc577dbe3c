"""What the request pipeline costs: GET req/s and p99 of one read per dialect (imonggo customer XML,
memberpoints balances, pomelo balance) against an aiohttp hello-world, with wrk (1 thread, 32
connections), alternating in rounds within one run so every side sees the same machine. Prints the
median req/s, the median ratio to hello-world, the median p99 and the median server CPU per request
(user + system time of the serving process over the run / requests answered: on a shared, noisy machine
the steadier measure of what the pipeline costs).

    .venv/bin/python bench/pipeline_overhead.py [--rounds 5] [--seconds 5] [--source DIR] [--label NAME]

`--source DIR` serves the gateway from another checkout's gateway/ package (e.g. /work/main, to compare
before and after in one run: pass it twice as `--source /work/main --source .`). Each gateway is a real
`loyalty-gateway serve` with its default settings on SQLite (demo scenario) in a temporary directory.
The `refused` side is imonggo's read without credentials: the 401 comes before any ledger work, so it
times the request path alone (routing, the pipeline's steps, the journal)."""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
HELLO = """
from aiohttp import web
async def hello(request):
    return web.Response(text="Hello, world")
app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port={port}, access_log=None, print=None)
"""
IMONGGO = "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode()
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, headers: dict[str, str] | None = None) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"{url} never answered")


def start_hello() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", HELLO.format(port=port)])
    wait_until_up(f"http://127.0.0.1:{port}/")
    return proc, f"http://127.0.0.1:{port}/"


def start_gateway(source: Path, workdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(source)}  # first on the path: that checkout's gateway/ package
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port), "--database",
                             f"sqlite:///{workdir}/bench.db"], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(f"http://127.0.0.1:{port}/__admin/health")
    return proc, port


def targets(port: int) -> dict[str, tuple[str, dict[str, str]]]:
    base = f"http://127.0.0.1:{port}"
    form = json.dumps({"client_id": "demo-client-id", "client_secret": "demo-client-secret",
                       "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}).encode()
    issued = urllib.request.urlopen(urllib.request.Request(
        base + "/oauth/token", data=form, headers={"Content-Type": "application/json"}), timeout=5).read()
    token = json.loads(issued)["access_token"]
    found = {
        "imonggo": (base + "/api/customers/1534.xml", {"Authorization": IMONGGO}),
        "memberpoints": (base + "/webapps/api/memberpointsbalances", {"apiID": "demo-api-id", "apiKey": "demo-api-key"}),
        "pomelo": (base + f"/loyalty/v1/accounts/balance?card_id={CARD}", {"Authorization": f"Bearer {token}"}),
    }
    for url, headers in found.values():  # each answers 200 before it is measured
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5).read()
    # The pipeline alone: a request without credentials is refused (401) before any ledger read, so this
    # times routing, the dialect's steps and the journal, with no store work at all.
    found["refused"] = (base + "/api/customers/1534.xml", {})
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def wrk(url: str, headers: dict[str, str], seconds: int, pid: int) -> tuple[float, float, float]:
    """(requests per second, p99 in ms, server CPU µs per request) of one wrk run; non-2xx answers fail it."""
    cpu = cpu_seconds(pid)
    args = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out and headers:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    used = cpu_seconds(pid) - cpu
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    answered = int(re.search(r"(\d+) requests in", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], used / max(answered, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--source", action="append", type=Path, help="a checkout whose gateway/ to serve (repeatable)")
    args = parser.parse_args()
    sources = [s.resolve() for s in (args.source or [HERE])]
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        hello, hello_url = start_hello()
        procs.append(hello)
        sides: dict[str, tuple[str, dict[str, str]]] = {"hello": (hello_url, {})}
        pids = {"hello": hello.pid}
        try:
            for i, source in enumerate(sources):
                workdir = Path(tmp) / f"g{i}"
                workdir.mkdir()
                proc, port = start_gateway(source, workdir)
                procs.append(proc)
                for dialect, target in targets(port).items():
                    side = f"{source.name}:{dialect}" if len(sources) > 1 else dialect
                    sides[side], pids[side] = target, proc.pid
            rates: dict[str, list[float]] = {k: [] for k in sides}
            p99s: dict[str, list[float]] = {k: [] for k in sides}
            ratios: dict[str, list[float]] = {k: [] for k in sides}
            cpus: dict[str, list[float]] = {k: [] for k in sides}
            for r in range(args.rounds):
                order = list(sides) if r % 2 == 0 else list(reversed(sides))  # alternate who goes first
                got = {k: wrk(*sides[k], args.seconds, pids[k]) for k in order}
                for k, (rate, p99, cpu) in got.items():
                    cpus[k].append(cpu)
                    rates[k].append(rate)
                    p99s[k].append(p99)
                    ratios[k].append(rate / got["hello"][0])
                print(f"round {r + 1}: " + ", ".join(f"{k} {v[0]:,.0f}/s" for k, v in got.items()), file=sys.stderr)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)
    print(f"wrk -t1 -c32, {args.rounds} alternated rounds of {args.seconds} s, medians")
    print(f"{'side':<28} {'req/s':>9} {'x hello':>8} {'p99 ms':>8} {'CPU us/req':>11}")
    for k in sides:
        print(f"{k:<28} {statistics.median(rates[k]):>9,.0f} {statistics.median(ratios[k]):>8.3f} "
              f"{statistics.median(p99s[k]):>8.2f} {statistics.median(cpus[k]):>11.0f}")


if __name__ == "__main__":
    main()

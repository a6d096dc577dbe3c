"""What every row of `python -m bench` shares: a server process on a free port (the gateway's `serve`, or
the hello-world reference), wrk runs parsed into rate and latency percentiles, and medians of runs
alternated with their reference. Knows no vendor, no row and no target."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WRK = shutil.which("wrk")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None,
         timeout: float = 30.0) -> tuple[int, bytes]:
    """One request with the standard library (no event loop to start): (status, body), errors included."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and "Content-Type" not in request.headers:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


class Server:
    """A child process serving HTTP on `port`; `start()` returns once `ready_path` answers 200."""

    def __init__(self, argv: Sequence[str], port: int, *, ready_path: str, log: Path,
                 env: Mapping[str, str] | None = None, ready_headers: Mapping[str, str] | None = None):
        self.argv, self.port, self.ready_path, self.log_path = list(argv), port, ready_path, log
        self.ready_headers = dict(ready_headers or {})
        # a developer's LOYALTY_GATEWAY_* settings (or config file) must not change the figures
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_GATEWAY_")}
        self.env = {**inherited, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        """Spawn and wait; returns seconds from spawn to the first 200 on ready_path."""
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            started = time.perf_counter()
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv[:4]} exited {self.process.returncode}; log: {self.tail()}")
            try:
                if http("GET", self.base + self.ready_path, headers=self.ready_headers, timeout=2)[0] == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.002)  # a tight poll: cold start is one of the measured rows
        self.stop()
        raise RuntimeError(f"{self.argv[:4]} not ready in {timeout:.0f} s; log: {self.tail()}")

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def rss_mib(self) -> float:
        """Resident memory of the process and every descendant (a `--workers` server forks)."""
        assert self.process is not None
        return sum(_rss_kib(pid) for pid in _tree(self.process.pid)) / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU of the process and its descendants so far: on a busy machine the CPU a
        request costs is steadier than the requests a second."""
        assert self.process is not None
        return sum(_cpu_seconds(pid) for pid in _tree(self.process.pid))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            found.extend(_tree(int(child)))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def gateway_server(database: str, workdir: Path, *extra: str) -> Server:
    """`loyalty-gateway serve` of this venv, default settings but the port and the database."""
    port = free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--database", database, *extra]
    return Server(argv, port, ready_path="/__admin/health", log=workdir / f"serve-{port}.log")


def hello_server(workdir: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "bench.hello_world", str(port)]
    env = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return Server(argv, port, ready_path="/", log=workdir / f"hello-{port}.log", env=env)


@dataclass(frozen=True)
class WrkResult:
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors: a run with errors is not a figure


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+([0-9.]+[a-z]+)\s*$", output, re.M))
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    count = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rate and count and "50" in percentiles and "99" in percentiles):
        raise RuntimeError(f"unreadable wrk output:\n{output}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    return WrkResult(float(rate.group(1)), _ms(percentiles["50"]), _ms(percentiles["99"]), int(count.group(1)), errors)


@dataclass
class Load:
    """One wrk target: a URL, headers, and optionally a method and body (a Lua script makes them)."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str | None = None
    lua: str | None = None  # a whole script instead (e.g. a counter in each request's path)

    def script(self) -> str:
        if self.lua is not None:
            return self.lua
        lines = [f"wrk.method = {_lua(self.method)}"]
        lines += [f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in self.headers.items()]
        if self.body is not None:
            lines.append(f"wrk.body = {_lua(self.body)}")
        return "\n".join(lines) + "\n"


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrk(load: Load, *, seconds: int, connections: int, timeout_s: int = 10) -> WrkResult:
    if WRK is None:
        raise RuntimeError("wrk is not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(load.script())
    try:
        argv = [WRK, "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s", "--latency",
                "-s", script.name, load.url]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        return parse_wrk(done.stdout)
    finally:
        os.unlink(script.name)


def wait_idle(server: Server, *, quiet_cpu: float = 0.05, window: float = 0.5, timeout: float = 120.0) -> float:
    """Wait until the server uses under quiet_cpu of a core over `window` (requests a stopped wrk left
    queued are still being answered until then, and would weigh on the next run); returns the wait."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        before = server.cpu_seconds()
        time.sleep(window)
        if server.cpu_seconds() - before < quiet_cpu * window:
            break
    return time.perf_counter() - started


def wrk_on(server: Server, load: Load, *, seconds: int, connections: int) -> tuple[WrkResult, float]:
    """A wrk run and the server's CPU microseconds per request during it."""
    before = server.cpu_seconds()
    result = wrk(load, seconds=seconds, connections=connections)
    return result, (server.cpu_seconds() - before) * 1e6 / max(result.requests, 1)


def alternate(runs: Mapping[str, Callable[[], Any]], rounds: int) -> dict[str, list[Any]]:
    """Each run once per round, in the same order every round, so drift on a shared machine falls on
    all of them alike; returns every run's results in round order."""
    results: dict[str, list[Any]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            results[name].append(run())
    return results


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def paired_ratio(values: Sequence[float], references: Sequence[float]) -> float:
    """Median of the per-round ratios: each value against the reference measured next to it."""
    return median([v / r for v, r in zip(values, references, strict=True) if r])

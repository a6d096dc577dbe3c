"""Start real `loyalty-gateway` processes for tests: wait for the line that says where it listens."""
from __future__ import annotations

import os
import re
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

LISTENING = re.compile(r"listening on http://([^:]+):(\d+)")


class Server:
    def __init__(self, proc: subprocess.Popen[str], host: str, port: int) -> None:
        self.proc, self.host, self.port = proc, host, port
        self.url = f"http://{host}:{port}"
        self.output = ""
        self.lines: queue.Queue[str | None] | None = None
        self.startup: list[str] = []  # what it printed before it listened (startup's log)

    def stop(self, sig: int | None = None, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self.output = "".join(self._drain())
            if self.proc.stdout is not None:
                self.proc.stdout.close()

    def _drain(self) -> list[str]:
        out: list[str] = []
        if self.lines is None:
            return out
        while True:
            try:
                line = self.lines.get(timeout=5)
            except queue.Empty:
                return out
            if line is None:
                return out
            out.append(line)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway", *args]


def run(args: Sequence[str], cwd: Path, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def start(args: Sequence[str], cwd: Path, timeout: float = 30, env: dict[str, str] | None = None) -> Server:
    """Start `loyalty-gateway serve ARGS` (add --port 0 for a free port) and wait until it listens.

    A thread reads the output: a selector on the pipe would miss lines already pulled into Python's
    buffer by an earlier readline."""
    proc = subprocess.Popen(
        command("serve", *args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        match = LISTENING.search(line)
        if match:
            server = Server(proc, match.group(1), int(match.group(2)))
            server.lines, server.startup = lines, seen
            return server
    proc.kill()
    proc.wait()
    raise AssertionError("server did not start:\n" + "".join(seen))


def children(pid: int) -> set[int]:
    """The pids of a process's children (a `--workers N` supervisor's workers), read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found

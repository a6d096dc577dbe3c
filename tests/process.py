"""Start real `loyalty-gateway` processes for tests: wait for the line that says where it listens."""
from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

LISTENING = re.compile(r"listening on http://([^:]+):(\d+)")


class Server:
    def __init__(self, proc: subprocess.Popen[str], host: str, port: int) -> None:
        self.proc, self.host, self.port = proc, host, port
        self.url = f"http://{host}:{port}"
        self.output = ""

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
            if self.proc.stdout is not None:
                self.output = self.proc.stdout.read()
                self.proc.stdout.close()


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway", *args]


def run(args: Sequence[str], cwd: Path, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def start(args: Sequence[str], cwd: Path, timeout: float = 30, env: dict[str, str] | None = None) -> Server:
    """Start `loyalty-gateway serve ARGS` (add --port 0 for a free port) and wait until it listens."""
    proc = subprocess.Popen(
        command("serve", *args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.2):
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = LISTENING.search(line)
        if match:
            return Server(proc, match.group(1), int(match.group(2)))
    proc.kill()
    rest = proc.stdout.read() or ""
    proc.stdout.close()
    proc.wait()
    raise AssertionError("server did not start:\n" + "".join(seen) + rest)

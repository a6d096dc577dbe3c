"""Start a real `loyalty-gateway webhooks listen` process on a free port and read what it prints."""
from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from pathlib import Path

from tests import process

LISTENING = re.compile(r"listening for webhooks on (http://[^/]+)/")


class Listener:
    def __init__(self, proc: subprocess.Popen[str], url: str, lines: queue.Queue[str | None]) -> None:
        self.proc, self.url, self._lines = proc, url, lines
        self.output: list[str] = []

    def wait_for(self, text: str, timeout: float = 10) -> str:
        """The first printed line (from now on or already read) holding `text`."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.output:
                if text in line:
                    return line
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None and time.monotonic() >= deadline:
                raise AssertionError(f"the listener never printed {text!r}:\n" + "".join(self.output))
            if line is not None:
                self.output.append(line)

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()


def start_listener(args: list[str], cwd: Path) -> Listener:
    proc = subprocess.Popen(process.command("webhooks", "listen", "--port", "0", *args), cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**__import__("os").environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    first = lines.get(timeout=30)
    match = LISTENING.search(first or "")
    if match is None:
        proc.kill()
        raise AssertionError(f"the listener did not start: {first}")
    started = Listener(proc, match.group(1), lines)
    started.output.append(first or "")
    return started

"""Real `loyalty-gateway serve` processes for the multi-instance tests: start one on a free port and
wait until it listens, stop it gently or SIGKILL it; what it logged is kept in a file for failures."""
from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = (sys.executable, "-m", "gateway")


class Gateway:
    def __init__(self, process: asyncio.subprocess.Process, url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    def logged(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        code = await asyncio.wait_for(self.process.wait(), timeout=30)
        assert code == 0, self.logged()

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs, whatever it was doing."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


async def serve(database: str, *args: str) -> Gateway:
    """A server on a free port over `database`, once it listens."""
    log = Path(tempfile.mkstemp(prefix="lg-gateway-", suffix=".log")[1])
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *CLI, "serve", "--database", database, "--port", "0", "--access-log", "false", *args,
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=err,
        )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        await process.wait()
        raise AssertionError(line + log.read_text(encoding="utf-8", errors="replace"))
    return Gateway(process, found.group(1), log)

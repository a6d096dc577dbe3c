"""The README's "Serving a client through another vendor" walk-through, as a newcomer runs it: its two
servers started as it says (on free ports instead of 8080 and 8081), then its shell commands, read from
README.md itself, run with the real curl from top to bottom."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.process import start
from tests.test_readme_walkthrough import PROLOGUE, section_commands

pytestmark = pytest.mark.slow
SECTION = "Serving a client through another vendor"


def servers_and_commands() -> tuple[list[list[str]], str]:
    """The `serve` lines (as argument lists) and every other command of the section."""
    serve, rest = [], []
    for line in section_commands(SECTION).splitlines():
        if line.startswith(".venv/bin/loyalty-gateway serve"):
            serve.append(line.split()[2:])
        else:
            rest.append(line)
    return serve, "\n".join(rest)


def test_the_walk_through_declares_a_pomelo_upstream_and_answers_the_imonggo_seed(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("the walk-through runs the real curl, which is not on PATH")
    serve, script = servers_and_commands()
    assert [args[:2] for args in serve] == [["--port", "8081"], ["--port", "8080"]], serve
    vendor = start(["--port", "0", *serve[0][2:], "--access-log", "false"], cwd=tmp_path)
    gateway = start(["--port", "0", *serve[1][2:], "--access-log", "false"], cwd=tmp_path)
    log = tmp_path / "statuses.log"
    log.write_text("")
    try:
        script = script.replace("127.0.0.1:8081", f"127.0.0.1:{vendor.port}").replace("127.0.0.1:8080", f"127.0.0.1:{gateway.port}")
        done = subprocess.run(["bash", "-c", PROLOGUE + script], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "STATUS_LOG": str(log)})
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        gateway.stop()
        vendor.stop()
    statuses = [int(line.split(" ", 1)[0]) for line in log.read_text().splitlines()]
    assert statuses and all(200 <= s < 300 for s in statuses), log.read_text()
    out = done.stdout
    assert "<available_points>30511.0</available_points>" in out, out
    assert '<points-spent type="decimal">2000.0</points-spent>' in out, out
    assert '<points-available type="decimal">28511.0</points-available>' in out, out
    assert re.search(r'"idempotency_key": "[^"]+"', out), out  # the vendor's journal names the burn's key
    assert "demo-client-secret" not in out  # the gateway's journal and admin replies mask it

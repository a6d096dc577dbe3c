"""The README's walk-through, as a newcomer runs it: the shell commands of its "Try it" and "Admin API"
sections, read from README.md itself (so the two cannot drift), run with the real curl against a fresh
`loyalty-gateway serve`, top to bottom; then a full reset; then all of it again, top to bottom."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.process import Server, start

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Every curl the walk-through makes goes through this wrapper: the body still reaches stdout (a
# pipeline such as TOKEN=$(curl ... | python3 ...) works unchanged) and the status lands in a log.
PROLOGUE = r"""set -euo pipefail
curl() {
    local out
    out=$(command curl -sS -w '\n%{http_code}' "$@")
    printf '%s\n' "${out%$'\n'*}"
    printf '%s %s\n' "${out##*$'\n'}" "$*" >> "$STATUS_LOG"
}
"""


def section_commands(title: str) -> str:
    """The ```sh blocks of one README section, joined."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert found, f"README.md has no section {title!r}"
    blocks = re.findall(r"```sh\n(.*?)```", found.group(1), re.S)
    assert blocks, f"README.md's {title!r} section has no sh block"
    return "\n".join(blocks)


WALK = section_commands("Try it") + "\n" + section_commands("Admin API")


def run_walk(server: Server, script: str, log: Path, cwd: Path) -> tuple[str, list[tuple[int, str]]]:
    """Run the commands against `server` (the README's port 8080 becomes the server's) and return the
    output and the (status, curl arguments) of every request, in order."""
    here = f"{server.host}:{server.port}"
    script = script.replace("127.0.0.1:8080", here).replace("localhost:8080", here)
    log.write_text("")
    done = subprocess.run(
        ["bash", "-c", PROLOGUE + script], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, "STATUS_LOG": str(log)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    calls = []
    for line in log.read_text().splitlines():
        status, _, args = line.partition(" ")
        calls.append((int(status), args))
    return done.stdout, calls


def check_walk(output: str, calls: list[tuple[int, str]]) -> None:
    """Every request answered 2xx but the one the walk-through itself faults on purpose (a 503), and the
    pomelo token opened the balance of Juan Cruz's card."""
    refused = [(i, status) for i, (status, _) in enumerate(calls) if not 200 <= status < 300]
    faults = [i for i, (_, args) in enumerate(calls) if "/__admin/faults" in args and "-X POST" in args]
    assert len(faults) == 1 and refused == [(faults[0] + 1, 503)], calls
    balance = [status for status, args in calls if "/loyalty/v1/accounts/balance" in args]
    assert balance == [200], calls
    assert re.search(r'"points":\s*[0-9]', output), output


@pytest.mark.slow
def test_the_walk_through_runs_top_to_bottom_then_again_after_a_full_reset(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("the walk-through runs the real curl, which is not on PATH")
    server = start(["--port", "0", "--access-log", "false"], cwd=tmp_path)
    log = tmp_path / "statuses.log"
    try:
        check_walk(*run_walk(server, WALK, log, tmp_path))
        _, (reset,) = run_walk(server, "curl -s -X POST http://127.0.0.1:8080/__admin/reset", log, tmp_path)
        assert reset[0] == 200
        check_walk(*run_walk(server, WALK, log, tmp_path))
    finally:
        assert server.stop() == 0, server.output


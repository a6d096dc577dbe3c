"""The README's `From the terminal` section runs as written: its ```sh blocks, extracted from README.md,
run in one bash with `set -euo pipefail` against a real server (the section's 127.0.0.1:8080 pointed at
this test's), and what they print has the shape of the section's sample output."""
from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

from tests import process

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## From the terminal: triggers and forwarded webhooks"


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n" + HEADING + "\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_section_sits_before_settings() -> None:
    """Among the sections added before Settings (others may sit between it and Settings)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index("\n" + HEADING + "\n") < text.index("\n## Settings\n")


def test_its_shell_blocks_run_as_written(tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", f"sqlite:///{tmp_path / 'readme.db'}", "--no-access-log"],
                           tmp_path)
    try:
        blocks = re.findall(r"```sh\n(.*?)```", section(), re.S)
        assert blocks
        script = "set -euo pipefail\n" + "\n".join(blocks).replace("http://127.0.0.1:8080", server.url)
        # A session of its own: a block that fails half-way leaves its background processes (the listener,
        # the app) behind, holding the pipes; they are stopped with the whole group.
        shell = subprocess.Popen(["bash", "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, start_new_session=True, env={**os.environ, "LOYALTY_GATEWAY_URL": server.url})
        try:
            shell.wait(timeout=120)  # its output is a few lines: the pipes do not fill meanwhile
        finally:
            try:
                os.killpg(shell.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            out, err = shell.communicate()
    finally:
        server.stop()
    assert shell.returncode == 0, out + err
    ran = subprocess.CompletedProcess(shell.args, shell.returncode, out, err)
    sample = re.search(r"```text\n(.*?)```", section(), re.S)[1]  # type: ignore[index]

    def shapes(text: str) -> list[str]:
        """Each line's first words, ids and tenant names left out."""
        kept = []
        for line in text.splitlines():
            if line.strip().startswith("{"):
                continue
            line = re.sub(r"(ctx|lye)-\w+|demo-[0-9a-f]{8}", "ID", line)
            kept.append(" ".join(line.split()[:4]))
        return kept

    assert shapes(ran.stdout) == shapes(sample)
    assert "delivered (HTTP 200, 1 attempt)" in ran.stdout and "-> http://127.0.0.1:4242/webhooks: 200 thanks" in ran.stdout

"""What a migration run over real sandboxes needs, shared by the end-to-end test and `python -m bench --only
migrate`: balances read straight from a sandbox's SQLite file (no port, no API in between), a fault rule
set at a sandbox, and a migrator SIGKILLed once its checkpoint holds a given number of lines."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any


def balances(db: Path, column: str = "user_ref") -> dict[int, tuple[str, Decimal]]:
    """member_no -> (identity, points) straight from a sandbox's database: `column` names the identity."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(f"SELECT m.member_no, m.{column}, COALESCE(a.posted, 0) FROM members m "
                            "LEFT JOIN accounts a ON a.member_id = m.id AND a.asset = 'points'").fetchall()
    return {n: (ref, Decimal(cents) / 100) for n, ref, cents in rows}


def fault(base_url: str, tenant: str, dialect: str, **rule: Any) -> None:
    """POST /__admin/faults at the sandbox serving `base_url`."""
    body = json.dumps({"tenant": tenant, "dialect": dialect, **rule}).encode()
    request = urllib.request.Request(f"{base_url}/__admin/faults", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201), answer.status


def killed_at(argv: Sequence[str], cwd: Path, checkpoint: Path, lines: int, timeout: float = 60) -> None:
    """Starts the migrator (`argv`) and SIGKILLs it once `checkpoint` holds `lines` lines; raises if the
    run ended before it could be killed."""
    proc = subprocess.Popen(list(argv), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if checkpoint.exists() and checkpoint.read_text().count("\n") >= lines:
            break
        time.sleep(0.02)
    ended = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if ended:
        raise AssertionError("the run ended before it could be killed")

"""`seed --generate` killed in the middle of a batch (SIGKILL: no cleanup runs): the database opens, the
listing counts' row triggers a SQLite load sets aside inside its batch transaction are there, `check` finds
nothing wrong, the counts equal a recount, and only whole batches of members were kept."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from gateway.ledger.store.listing_counts import SQLITE_ROW_COUNTERS
from gateway.synthetic import BATCH
from tests import process
from tests.ledger.test_listing_counts import recounted_differences


class _Tx:
    """Just enough of a store transaction for recounted_differences, over a plain sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def fetchall(self, sql: str, params: Any = ()) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()


async def test_a_load_killed_mid_batch_leaves_a_sound_database(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    url = f"sqlite:///{db}"
    proc = subprocess.Popen(
        process.command("seed", "--generate", str(BATCH * 8), "--database", url), cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the first progress line: a batch committed, the next ones being written
            if "members (" in line:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    checked = process.run(["check", "--database", url], tmp_path)  # opens (recovers the WAL) and audits
    assert checked.returncode == 0, checked.stdout + checked.stderr
    conn = sqlite3.connect(db)
    try:
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert set(SQLITE_ROW_COUNTERS) <= triggers
        assert await recounted_differences(_Tx(conn)) == []
        members = conn.execute("SELECT count(*) FROM members").fetchone()[0]
        assert 0 < members < BATCH * 8 and members % BATCH == 0
    finally:
        conn.close()

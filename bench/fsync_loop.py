"""The reference durable writes are a ratio to: a raw sqlite3 loop, one INSERT and one COMMIT (one
fsync) per write, WAL with synchronous=FULL, on the same filesystem as the gateway's database. Knows
nothing of the gateway.

    python -m bench.fsync_loop [SECONDS] [DIRECTORY]
"""
from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path


def writes_per_second(directory: Path, seconds: float) -> float:
    path = directory / "fsync-loop.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE IF NOT EXISTS entry (id INTEGER PRIMARY KEY, member INTEGER, amount INTEGER, note TEXT)")
        done, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO entry (member, amount, note) VALUES (?, ?, ?)", (done % 1000, 100, "bench"))
            connection.execute("COMMIT")
            done += 1
        return done / elapsed
    finally:
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(dir=sys.argv[2] if len(sys.argv) > 2 else None) as tmp:
        print(f"{writes_per_second(Path(tmp), float(sys.argv[1]) if len(sys.argv) > 1 else 3):.0f} writes/s")

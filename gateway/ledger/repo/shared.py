"""SQL for state shared by every process over one database, without knowing what it is: versioned named
documents (one version across all of them, so one read tells a reader whether anything changed), named
counters that restart after a window, and streams of records appended in batches and trimmed to a cap."""
from __future__ import annotations

from collections.abc import Sequence

from ..store.base import Tx

_ROWS_PER_INSERT = 100  # 300 parameters: within SQLite's and asyncpg's limits
_NEXT_VERSION = "(SELECT coalesce(max(version), 0) + 1 FROM shared_documents)"


async def version(tx: Tx) -> int:
    return int(await tx.fetchval("SELECT coalesce(max(version), 0) FROM shared_documents") or 0)


async def documents(tx: Tx) -> tuple[int, dict[str, tuple[int, str]]]:
    found = await tx.fetchall("SELECT name, version, body FROM shared_documents")
    return (max((int(r["version"]) for r in found), default=0),
            {r["name"]: (int(r["version"]), r["body"]) for r in found})


async def put(tx: Tx, name: str, body: str, if_version: int | None) -> int | None:
    """Write a document under the next version, the version every reader will now see; with `if_version`,
    only if the document is still at that version (0: absent), else None and nothing written."""
    if if_version is None:
        await tx.execute(
            "INSERT INTO shared_documents (name, version, body) VALUES (?, " + _NEXT_VERSION + ", ?)"
            " ON CONFLICT (name) DO UPDATE SET version = excluded.version, body = excluded.body",
            (name, body),
        )
    elif if_version == 0:
        written = await tx.execute(
            "INSERT INTO shared_documents (name, version, body) VALUES (?, " + _NEXT_VERSION + ", ?)"
            " ON CONFLICT (name) DO NOTHING",
            (name, body),
        )
        if not written:
            return None
    elif not await tx.execute(
        "UPDATE shared_documents SET version = " + _NEXT_VERSION + ", body = ? WHERE name = ? AND version = ?",
        (body, name, if_version),
    ):
        return None
    return await version(tx)


async def count_up(tx: Tx, name: str, now: int, window: int) -> tuple[int, int]:
    """Add one to a counter in one statement (atomic under any isolation); a counter whose window (in the
    caller's units, measured from its start) has passed starts again at one. Its start and count after."""
    row = await tx.fetchone(
        "INSERT INTO shared_counters (name, started, count) VALUES (?, ?, 1) ON CONFLICT (name) DO UPDATE SET"
        " started = CASE WHEN excluded.started - shared_counters.started >= ? THEN excluded.started"
        " ELSE shared_counters.started END,"
        " count = CASE WHEN excluded.started - shared_counters.started >= ? THEN 1"
        " ELSE shared_counters.count + 1 END"
        " RETURNING started, count",
        (name, now, window, window),
    )
    assert row is not None
    return int(row["started"]), int(row["count"])


async def counters(tx: Tx, prefix: str) -> dict[str, int]:
    found = await tx.fetchall(
        "SELECT name, count FROM shared_counters WHERE substr(name, 1, ?) = ?", (len(prefix), prefix)
    )
    return {r["name"]: int(r["count"]) for r in found}


async def drop_counters(tx: Tx, prefix: str) -> int:
    return await tx.execute("DELETE FROM shared_counters WHERE substr(name, 1, ?) = ?", (len(prefix), prefix))


async def append(tx: Tx, stream: str, bodies: Sequence[tuple[int, str]], keep: int, keep_size: int) -> int:
    """Records (size, body) appended in order, then the oldest dropped until at most `keep` records of at
    most `keep_size` in all remain; how many were dropped."""
    for start in range(0, len(bodies), _ROWS_PER_INSERT):  # one statement per hundred records, not per record
        chunk = bodies[start:start + _ROWS_PER_INSERT]
        await tx.execute(
            "INSERT INTO shared_records (stream, size, body) VALUES " + ", ".join(["(?, ?, ?)"] * len(chunk)),
            [value for size, body in chunk for value in (stream, size, body)],
        )
    # By count first (a seek on the index), then by size only when the total is over (the running sum that
    # finds where to cut costs a window over the whole stream: too dear for every append).
    dropped = await tx.execute(
        "DELETE FROM shared_records WHERE stream = ? AND id <= (SELECT id FROM shared_records WHERE stream = ?"
        " ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (stream, stream, keep),
    )
    total = await tx.fetchval("SELECT coalesce(sum(size), 0) FROM shared_records WHERE stream = ?", (stream,))
    if int(total) > keep_size:
        dropped += await tx.execute(
            "DELETE FROM shared_records WHERE stream = ? AND id <= (SELECT id FROM (SELECT id,"
            " sum(size) OVER (ORDER BY id DESC) AS total FROM shared_records WHERE stream = ?) AS newest"
            " WHERE total > ? ORDER BY id DESC LIMIT 1)",
            (stream, stream, keep_size),
        )
    return dropped


async def newest(tx: Tx, stream: str, limit: int) -> list[tuple[int, str]]:
    found = await tx.fetchall(
        "SELECT id, body FROM shared_records WHERE stream = ? ORDER BY id DESC LIMIT ?", (stream, limit)
    )
    return [(int(r["id"]), r["body"]) for r in found]


async def after(tx: Tx, stream: str, after_id: int, limit: int) -> list[tuple[int, str]]:
    """Records with an id above `after_id`, oldest first: a seek on the (stream, id) index, never a scan."""
    found = await tx.fetchall(
        "SELECT id, body FROM shared_records WHERE stream = ? AND id > ? ORDER BY id LIMIT ?", (stream, after_id, limit)
    )
    return [(int(r["id"]), r["body"]) for r in found]


async def totals(tx: Tx, stream: str) -> tuple[int, int]:
    row = await tx.fetchone(
        "SELECT count(*) AS n, coalesce(sum(size), 0) AS size FROM shared_records WHERE stream = ?", (stream,)
    )
    assert row is not None
    return int(row["n"]), int(row["size"])


async def clear(tx: Tx, stream: str) -> int:
    return await tx.execute("DELETE FROM shared_records WHERE stream = ?", (stream,))

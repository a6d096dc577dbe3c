"""The request journal held in the store, for several workers or instances: each process buffers what it
records and a writer task appends the buffer in one transaction every few milliseconds, off the request
path; a listing writes this process's buffer first, then reads the store, so it shows every worker's
requests (another worker's within one batch interval). Same methods as Journal; clear, configure and
select are coroutines. Knows nothing of aiohttp or of any dialect."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from .journal import ENTRY_OVERHEAD, Filter, Journal, JournalEntry
from . import changes
from .shared import JOURNAL, SharedState

log = logging.getLogger("gateway.journal")
STREAM = "sandbox.journal"
BATCH_SECONDS = 0.05  # how long the writer gathers entries into one transaction (one fsync on SQLite)
BATCH_MOST = 500
WAIT_MOST = 0.5  # the longest a listing waits for other workers' entries (under steady load some are always pending)


class StoredEntry:
    """An entry read back from the store: what a Filter looks at, and the JSON it was written as (its id
    the store's, which every process shares)."""

    def __init__(self, record_id: int, data: dict[str, Any]) -> None:
        data["id"] = self.id = record_id
        self.data = data
        self.tenant, self.dialect, self.method = data["tenant"], data["dialect"], data["method"]
        self.path, self.status = data["path"], data["status"]
        self.at = datetime.fromisoformat(data["at"].replace("Z", "+00:00"))

    def as_json(self) -> dict[str, Any]:
        return self.data


def cost_of(entry: JournalEntry) -> int:
    """What an entry counts against max_bytes: as the in-memory journal counts it."""
    return ENTRY_OVERHEAD + len(entry.path) + len(entry.query) + len(entry.idempotency_key or "") + len(
        entry.request_body.data) + len(entry.response_body.data) + entry.request_headers.cost + entry.response_headers.cost + sum(
        ENTRY_OVERHEAD + len(x["url"]) + len(x["request_body"]["text"]) + len(x["response_body"]["text"])
        for x in entry.upstream)


class SharedJournal(Journal):
    def __init__(self, state: SharedState, *, enabled: bool, max_entries: int, max_bytes: int, body_bytes: int) -> None:
        super().__init__(enabled=enabled, max_entries=max_entries, max_bytes=max_bytes, body_bytes=body_bytes)
        self.shared = state
        self.epoch = 0  # moved by every clear: a buffered entry from before a clear anywhere is dropped
        self._pending: list[tuple[int, int, str]] = []  # (epoch, cost, JSON)
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._worker = os.getpid()
        self._stored = (0, 0)  # entries and bytes in the store, as last seen
        state.on(JOURNAL, self._apply)

    def defaults(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "max_entries": self.max_entries, "max_bytes": self.max_bytes, "epoch": 0}

    def _apply(self, document: Any) -> None:
        self.enabled, self.max_entries, self.max_bytes = document["enabled"], document["max_entries"], document["max_bytes"]
        self.epoch = document["epoch"]

    def add(self, entry: JournalEntry) -> None:
        if not self.enabled:
            return
        data = entry.as_json()
        data["worker"] = self._worker  # which process served it
        self._pending.append((self.epoch, cost_of(entry), json.dumps(data)))
        if changes.installed is not None:
            changes.installed.set_pending(len(self._pending))
        self._wake.set()
        self._announce()

    async def flush(self) -> None:
        """Write what this process has buffered (entries from before a clear anywhere are dropped)."""
        async with self._writing:
            await self.shared.check()
            batch, self._pending = self._pending, []
            kept = [(cost, text) for epoch, cost, text in batch if epoch == self.epoch]
            self.dropped += len(batch) - len(kept)
            for start in range(0, len(kept), BATCH_MOST):
                self.dropped += await self.shared.store.append_records(
                    STREAM, kept[start:start + BATCH_MOST], keep=self.max_entries, keep_size=self.max_bytes
                )
            if changes.installed is not None:
                changes.installed.set_pending(len(self._pending))

    async def run(self) -> None:
        """The writer task: gathers entries for BATCH_SECONDS, then writes them in one transaction."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(BATCH_SECONDS)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # the store went away for a moment: those entries are lost, never the process
                log.exception("journal entries could not be written")

    async def select(self, wanted: Filter) -> list[StoredEntry]:  # type: ignore[override]
        """Matching entries of every worker, newest first."""
        await self.flush()
        await self._others_written()
        found = [StoredEntry(i, json.loads(text)) for i, text in await self.shared.store.newest_records(STREAM, self.max_entries)]
        self._stored = await self.shared.store.record_totals(STREAM)
        return [e for e in found if wanted(e)]  # type: ignore[arg-type]

    async def after(self, cursor: int, wanted: Filter, limit: int = 500) -> tuple[list[Any], int]:
        """As Journal.after, over every worker's entries in the store: the records after `cursor` only (an
        index seek), this process's buffer written first."""
        if self._pending:
            await self.flush()
        found = [StoredEntry(i, json.loads(text)) for i, text in await self.shared.store.records_after(STREAM, cursor, limit)]
        return [e for e in found if wanted(e)], (found[-1].id if found else cursor)  # type: ignore[arg-type]

    async def newest_id(self) -> int:
        if self._pending:
            await self.flush()
        newest = await self.shared.store.newest_records(STREAM, 1)
        return newest[0][0] if newest else 0

    async def _others_written(self) -> None:
        """Wait (a little) until the other workers have written what they hold, so a listing shows a request
        any worker answered before it was asked; instances with no common memory wait one batch interval."""
        counter = changes.installed
        if counter is None:
            await asyncio.sleep(3 * BATCH_SECONDS)
            return
        deadline = asyncio.get_running_loop().time() + WAIT_MOST
        while counter.pending() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.005)

    async def clear(self) -> int:  # type: ignore[override]
        """Every worker's entries gone, those answered before this call and not yet written included."""
        await self.flush()
        await self._others_written()
        await self.shared.update(JOURNAL, lambda d: ({**d, "epoch": d["epoch"] + 1}, None), self.defaults())
        self._pending = []
        cleared = await self.shared.store.clear_records(STREAM)
        self._stored = (0, 0)
        return cleared

    async def configure(self, *, enabled: bool | None = None, max_entries: int | None = None,  # type: ignore[override]
                        max_bytes: int | None = None) -> None:
        changes = {k: v for k, v in (("enabled", enabled), ("max_entries", max_entries), ("max_bytes", max_bytes))
                   if v is not None}
        await self.shared.update(JOURNAL, lambda d: ({**d, **changes}, None), self.defaults())
        if max_entries is not None or max_bytes is not None:
            self.dropped += await self.shared.store.append_records(STREAM, [], keep=self.max_entries, keep_size=self.max_bytes)
        self._stored = await self.shared.store.record_totals(STREAM)

    def __len__(self) -> int:
        return self._stored[0]

    @property
    def bytes(self) -> int:
        return self._stored[1]

    def stats(self) -> dict[str, Any]:
        """As Journal's; entries and bytes as the store held them when this process last listed or changed
        it, and `dropped` as this process dropped them."""
        return {**super().stats(), "entries": self._stored[0], "bytes": self._stored[1]}

    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run(), name="journal-writer")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):
                await self.flush()  # what was served before shutdown is recorded

"""Shared state for every process over one database, opaque to the ledger: versioned documents, windowed
counters and record streams (see repo/shared.py). The caller decides what they hold; nothing here knows
of requests, rules or limits. Each operation is one transaction."""
from __future__ import annotations

from collections.abc import Sequence

from .core import LedgerBase
from .repo import shared as shared_sql

# A counter with no window never restarts: its window is longer than any clock can run.
FOREVER = 2**62


class SharedOps(LedgerBase):
    async def shared_version(self) -> int:
        """The version of the newest document write: equal to a reader's own, nothing changed since."""
        return await self.store.read(shared_sql.version)

    async def shared_documents(self) -> tuple[int, dict[str, tuple[int, str]]]:
        """Every document by name, as (its version, its body), and the newest version of them all."""
        return await self.store.read(shared_sql.documents)

    async def put_shared_document(self, name: str, body: str, *, if_version: int | None = None) -> int | None:
        """Write a document; the version readers now see. With `if_version`, only over that version of it
        (0: only if there is none), else nothing is written and None comes back: a read-change-write
        loop over this loses no other process's change."""
        return await self._commit(lambda tx: shared_sql.put(tx, name, body, if_version))

    async def count_up(self, name: str, *, now: int, window: int = FOREVER) -> tuple[int, int]:
        """One more on a named counter, restarting at one once `window` has passed since its start (both
        in the caller's units); its start and count after this one."""
        return await self._commit(lambda tx: shared_sql.count_up(tx, name, now, window))

    async def counters(self, prefix: str) -> dict[str, int]:
        return await self.store.read(lambda tx: shared_sql.counters(tx, prefix))

    async def drop_counters(self, prefix: str) -> int:
        return await self._commit(lambda tx: shared_sql.drop_counters(tx, prefix))

    async def append_records(self, stream: str, records: Sequence[tuple[int, str]], *, keep: int, keep_size: int) -> int:
        """Records (size, body) appended in one transaction; the oldest of the stream then dropped until
        at most `keep` records and `keep_size` in all remain. How many were dropped."""
        return await self._commit(lambda tx: shared_sql.append(tx, stream, records, keep, keep_size))

    async def newest_records(self, stream: str, limit: int) -> list[tuple[int, str]]:
        """(id, body) newest first; ids grow with every append in any process."""
        return await self.store.read(lambda tx: shared_sql.newest(tx, stream, limit))

    async def record_totals(self, stream: str) -> tuple[int, int]:
        """How many records a stream holds and their size in all."""
        return await self.store.read(lambda tx: shared_sql.totals(tx, stream))

    async def clear_records(self, stream: str) -> int:
        return await self._commit(lambda tx: shared_sql.clear(tx, stream))

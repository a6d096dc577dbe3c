"""The store protocol the ledger runs on: one transaction per unit of work, writes serialised, reads
never waiting behind writes. Backends implement it; the ledger never sees a connection."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

R = TypeVar("R")


class Row(Protocol):
    def __getitem__(self, key: str | int) -> Any: ...


class Tx(Protocol):
    """A transaction. SQL uses `?` placeholders; backends translate them."""

    # Appended to a SELECT that claims rows for this transaction alone (work queues such as the outbox):
    # " FOR UPDATE SKIP LOCKED" where several processes share the database, "" where writes are serial.
    skip_locked: str

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement run once per row, in one call (bulk loads): no results, rows' types as the
        columns take them."""
        ...


# A unit of work: `async def work(tx)` whose only awaits are its Tx's calls, so a store may run it to its end
# on a thread of its own (SQLite does); a unit that awaits anything else there fails, naming itself.
Work = Callable[[Tx], Awaitable[R]]
# Told ("read" | "write", sql) for each statement a unit of work runs, and (kind, "BEGIN") as each unit
# starts: how tests count the work an operation does. Called on whatever thread runs the unit.
Observer = Callable[[str, str], None]


class Store(Protocol):
    kind: str
    observer: Observer | None  # see Observer; None (no cost) unless a test is counting

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def write(self, work: Work[R], *, alone: bool = False) -> R:
        """Run `work` in a write transaction; return once it is durably committed. `alone`: only after
        every write transaction in flight in any process has ended, keeping new ones out until it
        commits, so it sees every row that will ever carry a generated id below one it can see."""
        ...

    async def read(self, work: Work[R], *, point: bool = False) -> R:
        """Run `work` in a read transaction over committed data. `point`: the unit is a few lookups on
        unique indexes (a member, its accounts, a token), bounded whatever the data's size; a store may run
        it where handing it to another thread would cost more than the read (SQLite: on the calling
        thread). Anything that may walk many rows (a listing, a count, an audit) is not a point read."""
        ...


class StoreOpenError(Exception):
    """The store could not be opened; the message names the cause in one line."""

"""Running a unit of work to completion on a store thread: a SQLite unit's only awaits are Tx calls that
never suspend, so one coro.send(None) finishes it. Knows nothing of SQL or connections."""
from __future__ import annotations

import asyncio
from typing import Any


class UnitSuspended(RuntimeError):
    """A unit of work awaited something that needs the event loop (a sleep, an event, a network call,
    another store call) while it ran on a store thread, where nothing could ever resume it. A bug in
    that unit, so not a LedgerError: it reaches the client as a 500 and the log names the unit."""


def unit_name(work: Any) -> str:
    return getattr(work, "__qualname__", None) or repr(work)


class _NoLoop:
    """Stands in as the running loop while a unit runs on a store thread: whatever the unit asks of a
    loop (a future, a timer, an executor) is refused at once with an error naming the unit, instead of
    an obscure failure or a wait nothing would ever end."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        raise UnitSuspended(
            f"unit of work {self._name} used the event loop ({attribute}) on a store thread; a store"
            " unit may await only its transaction's calls"
        )


def drive(work: Any, tx: Any) -> Any:
    """Run `work(tx)` to its end on this (store) thread and return its result, or raise what it raised. A
    unit that suspends anyway is closed (its finally blocks run) and refused loudly, never left waiting."""
    name = None
    previous = asyncio._get_running_loop()  # None on a store thread; kept whatever it is
    asyncio._set_running_loop(_NoLoop(unit_name(work)))  # type: ignore[arg-type]
    try:
        coro = work(tx)
        try:
            coro.send(None)
        except StopIteration as done:
            return done.value
        name = unit_name(work)
        coro.close()
    finally:
        asyncio._set_running_loop(previous)
    raise UnitSuspended(
        f"unit of work {name} suspended on a store thread; a store unit may await only its transaction's calls"
    )

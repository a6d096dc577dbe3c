"""The single-writer queue both stores share: write units wait in a queue, one task drains them in
groups of at most `limit`, and the store runs each group as one transaction (one commit)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ..errors import StoreUnavailable
from .base import R, Work

Unit = tuple[Work[Any], "asyncio.Future[Any]"]
_STOP = object()
log = logging.getLogger("gateway.store")


def settle(outcomes: Iterable[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """Hand each unit of a committed group its result, or its own refusal."""
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class _Alone:
    """A unit that must run by itself, in a group of one (see Store.write's `alone`)."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit


class GroupWriter:
    """run_group(units, alone) runs one group as one transaction; `alone` is True for a group of one
    unit that asked to run by itself."""

    def __init__(self, run_group: Callable[[list[Unit], bool], Awaitable[None]], *, limit: int, name: str) -> None:
        self._run_group = run_group
        self._limit = max(1, limit)
        self._name = name
        self._queue: asyncio.Queue[Any] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._drain(), name=self._name)

    async def stop(self) -> None:
        """Finish every unit queued so far, then end the task."""
        if self._task is not None and self._queue is not None:
            await self._queue.put(_STOP)
            await self._task
            self._task = None

    async def submit(self, work: Work[R], *, alone: bool = False) -> R:
        """Queue a unit; return its result once the group it ran in has committed."""
        if self._queue is None or self._task is None or self._task.done():
            raise StoreUnavailable("the store is closed")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Alone((work, future)) if alone else (work, future))
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        assert self._queue is not None
        stopping = False
        carried: Any = None  # a unit to run alone, met while a group was being gathered
        while not stopping:
            first, carried = (carried if carried is not None else await self._queue.get()), None
            if first is _STOP:
                break
            if isinstance(first, _Alone):
                await self._run([first.unit], alone=True)
                continue
            group = [first]
            while len(group) < self._limit and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is _STOP:
                    stopping = True
                    break
                if isinstance(item, _Alone):
                    carried = item
                    break
                group.append(item)
            await self._run(group, alone=False)
        if carried is not None and carried is not _STOP:
            await self._run([carried.unit], alone=True)

    async def _run(self, group: list[Unit], *, alone: bool) -> None:
        try:
            await self._run_group(group, alone)
        except Exception as exc:  # never let one bad group end the writer: later writes must run
            log.exception("a write group failed outside its units")
            failure = StoreUnavailable(f"the write could not be completed: {exc}")
            for _, future in group:
                if not future.done():
                    future.set_exception(failure)

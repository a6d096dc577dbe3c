"""One server's metrics from all its processes. With `serve --workers N` a scrape reaches one worker, yet
must report the whole server: before forking, the supervisor makes a directory and a counter in shared
memory; a scrape bumps the counter and writes its own worker's snapshot there, every other worker (which
looks at the counter every POLL seconds, one read of a machine word) answers by writing its snapshot,
and the scraping worker sums them once all have answered (or WAIT has passed: a worker stuck that long
is reported with its last snapshot, and `loyalty_gateway_workers_reporting` says how many were fresh).
A lone process sums its own snapshot only. Also hooks the ledger's commits to the metrics."""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import multiprocessing
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from .keys import LEDGER, METRICS
from .metrics import Family, ServerMetrics, merged

POLL = 0.05  # how often a worker looks whether a scrape asked for its counts
WAIT = 1.0  # how long a scrape waits for the other workers' counts


class Sharing:
    """Made by the supervisor before the workers are forked: the directory and the shared scrape counter."""

    def __init__(self, directory: Path, workers: int) -> None:
        self.directory = directory
        self.workers = workers
        self._asked = multiprocessing.RawValue(ctypes.c_int64, 0)  # shared, not copied, by fork
        self._lock = multiprocessing.Lock()
        self.index = 0  # which worker this process is, set by install

    @property
    def asked(self) -> int:
        return int(self._asked.value)

    def ask(self) -> int:
        """A scrape's request for every worker's counts; its number."""
        with self._lock:
            self._asked.value += 1
            return int(self._asked.value)

    def publish(self, metrics: ServerMetrics, answered: int) -> None:
        """This worker's snapshot, replacing its last one at once (never half written)."""
        document = {"pid": os.getpid(), "answered": answered, "started": metrics.started,
                    "families": metrics.snapshot()}
        path = self.directory / f"worker-{self.index}.json"
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document), encoding="utf-8")
        os.replace(temporary, path)

    def snapshots(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.directory.glob("worker-*.json")):
            with contextlib.suppress(OSError, ValueError):
                found.append(json.loads(path.read_text(encoding="utf-8")))
        return found


# Set in each worker by gateway/workers.py before its app is made; None in a lone process.
installed: Sharing | None = None


def install(sharing: Sharing | None, index: int = 0) -> None:
    global installed
    installed = sharing
    if sharing is not None:
        sharing.index = index


async def gather(metrics: ServerMetrics) -> tuple[list[Family], int, float]:
    """The whole server's counted metrics, how many processes' fresh counts they sum, and when the
    server started (its first process)."""
    sharing = installed
    if sharing is None:
        return merged([metrics.snapshot()]), 1, metrics.started
    asked = sharing.ask()
    sharing.publish(metrics, asked)
    deadline = time.monotonic() + WAIT
    while True:
        found = sharing.snapshots()
        fresh = sum(1 for s in found if s["answered"] >= asked)
        if fresh >= sharing.workers or time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL / 5)
    return merged(s["families"] for s in found), fresh, min(s["started"] for s in found)


async def _answer_scrapes(sharing: Sharing, metrics: ServerMetrics) -> None:
    answered = -1
    while True:
        asked = sharing.asked
        if asked != answered:
            sharing.publish(metrics, asked)
            answered = asked
        await asyncio.sleep(POLL)


async def metrics_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx, after the ledger's: the ledger's commits counted, and a worker answering scrapes."""
    metrics = app[METRICS]
    app[LEDGER].on_commit = metrics.ledger_committed
    sharing = installed
    task = None if sharing is None else asyncio.create_task(_answer_scrapes(sharing, metrics), name="metrics-answer")
    try:
        yield
    finally:
        app[LEDGER].on_commit = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

"""The upstream side of the app's lifetime (a cleanup_ctx after the ledger's): the shared pool and the
ports, the ledger bound to them, open intents settled before the app serves, the settling loop and the
shadow sender; all closed, cancelled and awaited on cleanup."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

from aiohttp import web

from ..keys import LEDGER, METRICS, SETTINGS, UPSTREAMS
from .declaration import UpstreamDialect
from .ports import Ports
from .record import Recorder
from .settler import settle_at_start, settle_forever
from .shadow import ShadowSender
from .stats import Stats

Context = Callable[[web.Application], AsyncIterator[None]]
SETTLE_BUDGETS = 2  # how many upstream timeouts an unclear write may take to settle before the client is told


def upstream_context(dialects: Mapping[str, UpstreamDialect]) -> Context:
    async def context(app: web.Application) -> AsyncIterator[None]:
        settings, ledger = app[SETTINGS], app[LEDGER]
        timeout = float(settings.upstream_timeout_seconds)
        ports = Ports(dialects, timeout=timeout, retries=int(settings.upstream_read_retries),
                      pool_size=int(settings.upstream_pool_size), stats=Stats(),
                      recorder=Recorder(Path(settings.upstream_record_dir)), metrics=app.get(METRICS))
        await ports.start()
        app[UPSTREAMS] = ports
        ledger.bind_upstreams(ports.resolve, settle_budget=SETTLE_BUDGETS * timeout)
        tasks: set[asyncio.Task[object]] = set()
        try:
            # Before listening: a crash may have left a claim, waited out once (at most one lease), then settled.
            start_budget = SETTLE_BUDGETS * timeout + ledger.claim_lease()
            tasks |= await settle_at_start(ledger, budget=start_budget)  # type: ignore[arg-type]
            tasks.add(asyncio.create_task(settle_forever(ledger, ports), name="upstream-settler"))
            shadows = ShadowSender(ledger, ports, retry_base_seconds=float(settings.shadow_retry_base_seconds),
                                   max_attempts=int(settings.shadow_max_attempts), timeout_seconds=timeout)
            tasks.add(asyncio.create_task(shadows.run(), name="upstream-shadow"))
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await ports.close()

    return context

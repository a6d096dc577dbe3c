"""GET /__admin/metrics: the whole server's metrics in the Prometheus text format (0.0.4). The counted
ones are summed over every worker (see worker_metrics.py); the webhook backlog is read from the ledger's
delivery counts at scrape time, so it is the same whichever worker answers; then when the server
started and what it is (its version)."""
from __future__ import annotations

import platform
from collections.abc import Sequence

from aiohttp import web

from .. import __version__
from ..dialects.descriptor import Dialect
from ..keys import DIALECTS, LEDGER, METRICS
from ..ledger import DELIVERY_STATES, Ledger
from ..metrics import CONTENT_TYPE, PREFIX, Family, render
from ..worker_metrics import gather


async def metrics(request: web.Request) -> web.Response:
    families, reporting, started = await gather(request.config_dict[METRICS])
    families += await webhook_backlog(request.config_dict[LEDGER], request.config_dict[DIALECTS])
    families += about(started, reporting)
    return web.Response(body=render(families).encode(), headers={"Content-Type": CONTENT_TYPE})


async def webhook_backlog(ledger: Ledger, dialects: Sequence[Dialect]) -> list[Family]:
    """Every tenant's deliveries by state, summed per dialect that sends webhooks; the pending ones again
    as the backlog, and how long the oldest of them has waited (by the ledger's clock)."""
    states = Family(f"{PREFIX}webhook_deliveries", "gauge", "Webhook deliveries by state, read from the ledger",
                    ("dialect", "state"))
    backlog = Family(f"{PREFIX}webhook_backlog", "gauge", "Webhook deliveries pending (not yet delivered, refused or"
                     " given up), read from the ledger", ("dialect",))
    oldest = Family(f"{PREFIX}webhook_oldest_pending_age_seconds", "gauge",
                    "How long the oldest pending webhook delivery has waited, by the ledger's clock (0: none)",
                    ("dialect",))
    tenants = await ledger.tenants()
    now = ledger.clock.now()
    for dialect in dialects:
        if dialect.webhooks is None:
            continue
        totals = dict.fromkeys(DELIVERY_STATES, 0)
        first = None
        for tenant in tenants:
            counts = await ledger.delivery_counts(tenant=tenant, channel=dialect.webhooks.channel)
            for state in DELIVERY_STATES:
                totals[state] += counts[state]
            at = counts["oldest_pending_at"]
            if at is not None and (first is None or at < first):
                first = at
        for state, count in totals.items():
            states.set(count, (dialect.name, state))
        backlog.set(totals["pending"], (dialect.name,))
        oldest.set(0 if first is None else max(0.0, (now - first).total_seconds()), (dialect.name,))
    return [states, backlog, oldest]


def about(started: float, reporting: int) -> list[Family]:
    start = Family(f"{PREFIX}start_time_seconds", "gauge", "When the server started, in seconds since the epoch")
    start.set(started)
    build = Family(f"{PREFIX}build_info", "gauge", "The server's version (the value is always 1)",
                   ("version", "python"))
    build.set(1, (__version__, platform.python_version()))
    workers = Family(f"{PREFIX}workers_reporting", "gauge",
                     "How many of the server's processes gave their counts for this scrape")
    workers.set(reporting)
    return [start, build, workers]

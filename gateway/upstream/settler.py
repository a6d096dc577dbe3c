"""Settling intents left open: at startup, before the app serves a write, every upstream tenant's open
intents are settled (a crash may have left some between the call and its outcome); then a background
loop settles, every few seconds, the intents left open while an upstream could not tell."""
from __future__ import annotations

import asyncio
import logging

from ..ledger import Ledger, LedgerError, Tenant
from .declaration import SECTION
from .ports import Ports

log = logging.getLogger("gateway.upstream.settler")
EVERY_SECONDS = 3.0


def upstream_tenants(tenants: list[Tenant]) -> list[Tenant]:
    return [t for t in tenants if t.section(SECTION)]


async def settle(ledger: Ledger, tenant: Tenant) -> dict[str, int]:
    """Settle one tenant's open intents; a failure is logged and leaves them for the next round."""
    try:
        counts = await ledger.settle_open(tenant=tenant)
    except LedgerError as exc:
        log.warning("tenant %s: open upstream writes not settled yet: %s", tenant.name, exc.message)
        return {}
    if counts:
        log.info("tenant %s: settled open upstream writes: %s", tenant.name,
                 ", ".join(f"{state} {n}" for state, n in sorted(counts.items())))
    return counts


async def settle_at_start(ledger: Ledger, budget: float) -> set[asyncio.Task[dict[str, int]]]:
    """Every upstream tenant at once (one slow upstream must not hold the others back), waiting up to
    `budget` seconds. Returns the settlings still running: the ledger keeps their tenants from taking
    forwarded writes until they end (it marks a tenant ready only once its open intents are settled)."""
    tasks = {t.name: asyncio.ensure_future(settle(ledger, t)) for t in upstream_tenants(await ledger.tenants())}
    if not tasks:
        return set()
    _, pending = await asyncio.wait(tasks.values(), timeout=budget)
    for tenant, task in tasks.items():
        if task in pending:
            log.warning("tenant %s: still settling open upstream writes after %g s; its writes wait", tenant, budget)
    return pending


async def settle_forever(ledger: Ledger, ports: Ports, every: float = EVERY_SECONDS) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            tenants = await ledger.tenants()
            ports.prune({t.id for t in tenants})
            await asyncio.gather(*(settle(ledger, t) for t in upstream_tenants(tenants)))  # one slow upstream holds no other
        except LedgerError as exc:
            log.warning("settling upstream writes paused: %s", exc.message)
        except Exception:
            log.exception("settling upstream writes failed; trying again in %g s", every)

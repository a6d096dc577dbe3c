"""create_app(settings): the composition root, the only module that knows the store URL, every
dialect and the admin API. No I/O here: the store opens in cleanup_ctx."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from .admin import create_admin_app
from .dialects import imonggo, memberpoints, pomelo
from .keys import LEDGER, SETTINGS
from .ledger import Ledger, open_store
from .scenario import load_scenario, resolve_scenario
from .settings import Settings

log = logging.getLogger("gateway")


def build_ledger(settings: Settings) -> Ledger:
    store = open_store(
        settings.database,
        synchronous=settings.sqlite_synchronous,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        group_commit_max=settings.group_commit_max,
        pool_size=settings.postgres_pool_size,
    )
    return Ledger(store)


async def _ledger_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    ledger = build_ledger(settings)
    await ledger.start()
    try:
        if not await ledger.tenants():
            path = resolve_scenario(settings.scenario)
            if path is not None:
                names = await load_scenario(ledger, path)
                log.info("empty database: loaded scenario %s (tenants: %s)", path, ", ".join(names))
        app[LEDGER] = ledger
        yield
    finally:
        await ledger.close()


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.defaults()
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_ledger_context)
    app.add_subapp("/__admin", create_admin_app())
    for dialect in (imonggo, pomelo, memberpoints):
        dialect.mount(app)
    return app

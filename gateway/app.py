"""create_app(settings): the composition root, the only module that knows the store URL, every
dialect (the one list of their descriptors, handed to the pipeline, the sandbox, the admin API, the
scenario reader, the settings table and delivery) and the admin API. No I/O here: the store
opens, and the upstream pool starts, in cleanup_ctx."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from . import scenario
from . import settings as settings_table
from .admin import create_admin_app
from .admin.auth import is_loopback
from .console import routes as console_routes
from .delivery import delivery_context
from .dialects import imonggo, memberpoints, pomelo
from .dialects.descriptor import Dialect
from .keys import DIALECTS, LEDGER, METRICS, SANDBOX, SETTINGS
from .ledger import Ledger, open_store
from .metrics import ServerMetrics
from .sandbox.access_log import AccessLog
from .sandbox.pipeline import Pipeline
from .sandbox.redact import access_logger
from .sandbox.shared_app import shared_sandbox
from .sandbox.state import Sandbox
from .scenario import ScenarioError, load_scenario, resolve_scenario
from .settings import Settings, SettingsError
from .upstream import declaration
from .upstream.context import upstream_context
from .worker_metrics import metrics_context

log = logging.getLogger("gateway")
__all__ = ["DIALECT_LIST", "UPSTREAM_DIALECTS", "AccessLog", "access_logger", "build_ledger", "check_exposure",
           "create_app", "load_default_scenario"]

# Every dialect the gateway speaks, each one descriptor: the only list of vendors outside gateway/dialects/.
DIALECT_LIST: tuple[Dialect, ...] = (imonggo.DIALECT, memberpoints.DIALECT, pomelo.DIALECT)
# The dialects a tenant's points can live at: each one's port, the credentials it takes and the shape of
# the contract cases record mode writes for it (that of fixtures/<dialect>/cases.json).
UPSTREAM_DIALECTS = tuple(
    declaration.UpstreamDialect(d.name, d.upstream.connect, d.upstream.credentials, d.upstream.case_format)
    for d in DIALECT_LIST if d.upstream is not None
)
# At import, not in create_app: `loyalty-gateway seed` checks scenarios (and their upstreams) with no app.
declaration.register(*UPSTREAM_DIALECTS)
scenario.register(**{d.name: d.scenario for d in DIALECT_LIST if d.scenario is not None})
settings_table.register(*(s for d in DIALECT_LIST for s in d.settings))


def build_ledger(settings: Settings) -> Ledger:
    store = open_store(
        settings.database,
        synchronous=settings.sqlite_synchronous,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        group_commit_max=settings.group_commit_max,
        readers=settings.sqlite_readers,
        pool_size=settings.postgres_pool_size,
    )
    return Ledger(store)


async def load_default_scenario(ledger: Ledger, settings: Settings) -> None:
    """An empty database gets the settings' scenario (the demo by default); one with tenants is left as it is."""
    if await ledger.tenants():
        return
    path = resolve_scenario(settings.scenario)
    if path is None:
        return
    try:
        names = await load_scenario(ledger, path)
    except ScenarioError:
        await ledger.reload_tenants()
        if not await ledger.tenants():
            raise
        # Another instance started at the same moment and created the tenants first.
        log.info("empty database: scenario %s loaded meanwhile by another instance", path)
    else:
        log.info("empty database: loaded scenario %s (tenants: %s)", path, ", ".join(names))


async def _ledger_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    ledger = build_ledger(settings)
    await ledger.start()
    try:
        await load_default_scenario(ledger, settings)
        app[LEDGER] = ledger
        yield
    finally:
        await ledger.close()


def check_exposure(settings: Settings) -> None:
    """The admin API can rewrite every balance: never serve it beyond loopback without a token."""
    if not is_loopback(settings.host) and not settings.admin_token:
        raise SettingsError(
            f"refusing to listen on {settings.host} without admin_token: /__admin would be open to the network"
            " (set --admin-token or LOYALTY_GATEWAY_ADMIN_TOKEN, or listen on 127.0.0.1)"
        )


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.defaults()
    check_exposure(settings)
    shared = shared_sandbox(settings, DIALECT_LIST)  # None: the sandbox lives in this process's memory, as ever
    sandbox = shared.sandbox if shared is not None else Sandbox.from_settings(settings, DIALECT_LIST)
    app = web.Application(client_max_size=settings.max_body_bytes)
    if shared is not None:  # first: a change made through another worker or instance is seen before anything else
        app.middlewares.append(shared.middleware)
    metrics = ServerMetrics()  # counted by the pipeline, the ledger's commits, delivery and the upstream ports
    app.middlewares.append(Pipeline(app, DIALECT_LIST, sandbox, metrics).middleware)  # the one middleware: see pipeline.py
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[SANDBOX] = sandbox
    app[DIALECTS] = DIALECT_LIST
    app.cleanup_ctx.append(_ledger_context)
    app.cleanup_ctx.append(metrics_context)  # after the ledger: it hooks the ledger's commits
    if shared is not None:
        app.cleanup_ctx.append(shared.context)  # binds it to the ledger, gives the ledger the shared clock
    app.cleanup_ctx.append(upstream_context(declaration.DIALECTS))  # after the ledger: it binds the ledger's ports
    app.cleanup_ctx.append(delivery_context)
    app.add_subapp("/__admin", create_admin_app(DIALECT_LIST))
    if is_loopback(settings.host):  # a newcomer's browser at / lands on the console; beyond loopback / stays unknown
        app.router.add_get("/", console_routes.root_redirect)
    for dialect in DIALECT_LIST:
        dialect.add_routes(app.router)  # flat on the root router: no sub-app, no middleware of its own
    return app

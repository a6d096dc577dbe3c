"""Every typed key of the application's state, in one place."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .ledger import Ledger, Tenant
from .sandbox.state import Sandbox
from .settings import Settings
from .synthetic import Maker
from .upstream.ports import Ports

SETTINGS = web.AppKey("settings", Settings)
LEDGER = web.AppKey("ledger", Ledger)
SANDBOX = web.AppKey("sandbox", Sandbox)  # journal, faults, rate limits
SYNTHETIC: web.AppKey[tuple[Maker, ...]] = web.AppKey("synthetic")  # each dialect's maker of synthetic members
UPSTREAMS = web.AppKey("upstreams", Ports)  # each upstream tenant's port, its statistics and recorder
# The sandbox's fault step, run by common.sandbox_hook between a dialect's auth and its handler.
SANDBOX_AROUND: web.AppKey[Callable[..., Awaitable[web.StreamResponse]]] = web.AppKey("sandbox_around")

# Per-request facts a dialect learns and the sandbox around it reads (journal, faults, rate limits).
# RequestKey, not str: aiohttp 3.14 warns on string request keys, and the test suite turns warnings into errors.
REQUEST_DIALECT = web.RequestKey("gateway.dialect", str)  # imonggo | pomelo | memberpoints
REQUEST_TENANT = web.RequestKey("gateway.tenant", Tenant)  # once the dialect's auth has found it
# What a fault rule did to this request, for the journal (sandbox/middleware.py).
REQUEST_FAULT = web.RequestKey("gateway.fault", dict)

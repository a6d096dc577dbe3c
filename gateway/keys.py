"""Every typed key of the application's state, in one place."""
from __future__ import annotations

from aiohttp import web

from .ledger import Ledger, Tenant
from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
LEDGER = web.AppKey("ledger", Ledger)

# Per-request facts a dialect learns and the sandbox around it reads (journal, faults, rate limits).
# Typed request keys: aiohttp 3.14 warns (an error under our pytest settings) on plain string keys.
REQUEST_DIALECT = web.RequestKey("gateway.dialect", str)  # imonggo | pomelo | memberpoints
REQUEST_TENANT = web.RequestKey("gateway.tenant", Tenant)  # once the dialect's auth has found it

"""Every typed key of the application's state, in one place."""
from __future__ import annotations

import asyncio

from aiohttp import web

from .ledger import Ledger, Tenant
from .metrics import ServerMetrics
from .sandbox.state import Sandbox
from .settings import Settings
from .upstream.ports import Ports

SETTINGS = web.AppKey("settings", Settings)
LEDGER = web.AppKey("ledger", Ledger)
SANDBOX = web.AppKey("sandbox", Sandbox)  # journal, faults, rate limits
UPSTREAMS = web.AppKey("upstreams", Ports)  # each upstream tenant's port, its statistics and recorder
METRICS = web.AppKey("metrics", ServerMetrics)  # what this process counts, for GET /__admin/metrics
# The dialects' descriptors (gateway/dialects/descriptor.py), as app.py lists them, for the admin API.
# Typed tuple, not Dialect: the descriptor module imports this one.
DIALECTS = web.AppKey("dialects", tuple)
# Serialises POST /__admin/provider-states: two set-ups of one tenant name must not interleave their drop and build.
STATE_SETUPS = web.AppKey("state_setups", asyncio.Lock)

# Per-request facts the pipeline learns and its later steps (and handlers) read.
# RequestKey, not str: aiohttp 3.14 warns on string request keys, and the test suite turns warnings into errors.
REQUEST_TENANT = web.RequestKey("gateway.tenant", Tenant)  # once the dialect's credentials have named it
# What a fault rule did to this request, for the journal (sandbox/faultstep.py).
REQUEST_FAULT = web.RequestKey("gateway.fault", dict)
# A JSON body as the documents' check parsed it, (its text, its value), so the handler does not parse it again.
REQUEST_JSON = web.RequestKey("gateway.json_body", tuple)

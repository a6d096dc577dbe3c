"""The imonggo dialect: Imonggo-style XML and JSON REST under /api (customers, customer types, the
Reward API, invoices, the Token API and the read-only catalogue) over the shared ledger."""
from __future__ import annotations

from aiohttp import web

from .routes import create_imonggo_app


def mount(app: web.Application) -> None:
    """Attach this dialect's sub-app to the root application."""
    app.add_subapp("/api", create_imonggo_app())

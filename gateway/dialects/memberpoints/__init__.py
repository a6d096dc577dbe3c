"""The memberpoints dialect (webapps/api JSON): adjustment history and adjustments, and balances, over
the shared ledger."""
from __future__ import annotations

from aiohttp import web

from .routes import PREFIX, create_app


def mount(app: web.Application) -> None:
    """Attach this dialect's sub-app to the root application."""
    app.add_subapp(PREFIX, create_app())

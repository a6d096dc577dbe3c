"""The pomelo dialect: /oauth client-credentials tokens and the /loyalty/v1 JSON API (balance, mint,
burn), plus the reward rule and the signed webhooks the sandbox sends for card-transaction rewards."""
from __future__ import annotations

from aiohttp import web

from .routes import loyalty_app, oauth_app


def mount(app: web.Application) -> None:
    """Attach this dialect's sub-apps to the root application."""
    app.add_subapp("/oauth", oauth_app())
    app.add_subapp("/loyalty/v1", loyalty_app())

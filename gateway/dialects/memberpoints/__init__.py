"""The memberpoints dialect (webapps/api JSON). Routes arrive with issue 4."""
from __future__ import annotations

from aiohttp import web


def mount(app: web.Application) -> None:
    """Attach this dialect's sub-app(s) to the root application."""

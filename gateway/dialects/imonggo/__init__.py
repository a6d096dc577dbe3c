"""The imonggo dialect (Imonggo-style XML and JSON REST under /api). Routes arrive with issue 3."""
from __future__ import annotations

from aiohttp import web


def mount(app: web.Application) -> None:
    """Attach this dialect's sub-app(s) to the root application."""

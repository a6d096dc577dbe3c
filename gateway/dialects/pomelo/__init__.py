"""The pomelo dialect (/oauth and /loyalty/v1 JSON). Routes arrive with issue 5."""
from __future__ import annotations

from aiohttp import web


def mount(app: web.Application) -> None:
    """Attach this dialect's sub-app(s) to the root application."""

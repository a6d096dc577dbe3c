"""The /webapps/api sub-application: routes (with and without a trailing slash) and its middlewares:
errors in the dialect's envelope (outermost), the dialect's own request errors, then apiID/apiKey auth."""
from __future__ import annotations

from aiohttp import web

from ..common import error_middleware, sandbox_hook
from . import handlers
from .auth import authenticate
from .errors import ERRORS, MESSAGES, render_error, request_errors

PREFIX = "/webapps/api"


def create_app() -> web.Application:
    app = web.Application(
        middlewares=[
            error_middleware(ERRORS, render_error, MESSAGES), request_errors, authenticate,
            sandbox_hook("memberpoints", render_error),
        ]
    )
    for path in ("/memberpoints", "/memberpoints/"):
        app.router.add_get(path, handlers.history)
        app.router.add_post(path, handlers.adjust)
    for path in ("/memberpointsbalances", "/memberpointsbalances/"):
        app.router.add_get(path, handlers.balances)
    return app

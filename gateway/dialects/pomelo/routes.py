"""The pomelo sub-apps: /oauth (token and revoke) and /loyalty/v1 (Bearer-protected), each with the
error middleware that speaks Pomelo's envelope."""
from __future__ import annotations

from aiohttp import web

from ..common import error_middleware, sandbox_hook
from . import auth, handlers
from .errors import ERRORS, refusal_middleware, render_error


def oauth_app() -> web.Application:
    app = web.Application(
        middlewares=[error_middleware(ERRORS, render_error), refusal_middleware, sandbox_hook("pomelo", render_error)]
    )
    for path in ("/token", "/v1/token"):
        app.router.add_post(path, auth.issue_token)
    for path in ("/token/revoke", "/v1/token/revoke"):
        app.router.add_post(path, auth.revoke_token)
    return app


def loyalty_app() -> web.Application:
    app = web.Application(
        middlewares=[
            error_middleware(ERRORS, render_error), refusal_middleware, auth.bearer_middleware,
            sandbox_hook("pomelo", render_error),
        ]
    )
    app.router.add_get("/accounts/balance", handlers.balance)
    app.router.add_post("/accounts/{account_type}/mint", handlers.mint)
    app.router.add_post("/accounts/{account_type}/burn", handlers.burn)
    return app

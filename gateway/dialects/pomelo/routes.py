"""The pomelo routes: /oauth (token and revoke) and /loyalty/v1 (Bearer-protected), mounted flat on the
root router; the pipeline puts the Bearer check and Pomelo's envelope around them (see __init__.DIALECT)."""
from __future__ import annotations

from aiohttp import web

from . import auth, handlers

# Every path under /loyalty/ is this dialect's (journaled, answered in its envelope); /loyalty/v1 needs a token.
PREFIXES = (auth.OAUTH + "/", "/loyalty/")


def add_routes(router: web.UrlDispatcher) -> None:
    for path in ("/token", "/v1/token"):
        router.add_post(auth.OAUTH + path, auth.issue_token)
    for path in ("/token/revoke", "/v1/token/revoke"):
        router.add_post(auth.OAUTH + path, auth.revoke_token)
    router.add_get(auth.LOYALTY + "/accounts/balance", handlers.balance)
    router.add_post(auth.LOYALTY + "/accounts/{account_type}/mint", handlers.mint)
    router.add_post(auth.LOYALTY + "/accounts/{account_type}/burn", handlers.burn)

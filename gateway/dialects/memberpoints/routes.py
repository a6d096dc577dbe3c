"""The /webapps/api routes (with and without a trailing slash), mounted flat on the root router; the
pipeline puts apiID/apiKey auth and the dialect's envelope around them (see __init__.DIALECT)."""
from __future__ import annotations

from aiohttp import web

from . import handlers

PREFIX = "/webapps/api"


def add_routes(router: web.UrlDispatcher) -> None:
    for path in ("/memberpoints", "/memberpoints/"):
        router.add_get(PREFIX + path, handlers.history)
        router.add_post(PREFIX + path, handlers.adjust)
    for path in ("/memberpointsbalances", "/memberpointsbalances/"):
        router.add_get(PREFIX + path, handlers.balances)

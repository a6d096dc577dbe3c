"""The /api routes: every route in `.xml` and `.json` (and bare, meaning XML). Mounted flat on the root
router; the pipeline puts Basic auth and the dialect's error shape around them (see __init__.DIALECT)."""
from __future__ import annotations

from aiohttp import web

from ..common import Handler
from . import catalogue, customers, invoices, rewards, tokens

PREFIX = "/api"
EXT = r"{ext:(\.xml|\.json)?}"
ID = r"{id:\d{1,18}}"


def add_routes(router: web.UrlDispatcher) -> None:
    def add(method: str, path: str, handler: Handler, name: str | None = None) -> None:
        router.add_route(method, PREFIX + path, handler, name=name)

    add("GET", f"/customers{EXT}", customers.index)
    add("POST", f"/customers{EXT}", customers.create)
    add("GET", f"/customers/{ID}{EXT}", customers.show)
    add("PUT", f"/customers/{ID}{EXT}", customers.update)
    add("DELETE", f"/customers/{ID}{EXT}", customers.destroy)
    add("GET", f"/customer_types{EXT}", customers.type_index)
    add("GET", f"/customer_types/{ID}{EXT}", customers.type_show)
    add("POST", f"/rewards{EXT}", rewards.spend)
    add("GET", f"/invoices{EXT}", invoices.index)
    add("POST", f"/invoices{EXT}", invoices.create)
    add("GET", f"/invoices/{ID}{EXT}", invoices.show)
    add("DELETE", f"/invoices/{ID}{EXT}", invoices.void)
    add("GET", f"/tokens{EXT}", tokens.show, name=tokens.ROUTE)
    # The catalogue is read-only here: other verbs on these paths are 405 with Allow: GET (as Rails
    # answers a verb its routes do not map for a path they know).
    for resource in catalogue.RESOURCES:
        add("GET", f"/{resource.key}{EXT}", catalogue.index(resource))
        add("GET", f"/{resource.key}/{ID}{EXT}", catalogue.show(resource))
    add("GET", f"/tax_settings{EXT}", catalogue.tax_settings)

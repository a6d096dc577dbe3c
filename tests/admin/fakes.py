"""TEST-ONLY stand-ins for the three dialects: tiny sub-apps on each dialect's real path prefix, each
with an auth middleware that finds the tenant the way that dialect does (imonggo Basic token,
memberpoints apiID/apiKey headers, pomelo client id/secret) and calls remember(), and two routes:
GET .../echo/{customer} (the balance) and POST .../echo/{customer} (credits the body's amount).
They let the sandbox be tested through real HTTP before the real dialects are merged."""
from __future__ import annotations

import base64
from decimal import Decimal

from aiohttp import web

from gateway.dialects.common import ErrorSpec, Handler, error_middleware, read_json, remember, sandbox_hook
from gateway.keys import LEDGER, REQUEST_TENANT
from gateway.ledger import Asset, By, Identity, Tenant, all_error_classes

PATHS = {"imonggo": "/api/echo", "memberpoints": "/webapps/api/echo", "pomelo": "/loyalty/v1/echo"}
# Every ledger error a row of its own, as in a real dialect (a catch-all row alone would log each as unmapped).
TABLE = {cls: ErrorSpec(422) for cls in all_error_classes()}


def render_plain(request: web.Request, status: int, message: str, code: str | None) -> web.StreamResponse:
    return web.json_response({"fake_error": message}, status=status)


def render_imonggo_xml(request: web.Request, status: int, message: str, code: str | None) -> web.StreamResponse:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<errors><error>{message}</error></errors>\n'
    return web.Response(text=body, status=status, content_type="application/xml")


async def _tenant(request: web.Request, dialect: str) -> Tenant | None:
    ledger = request.config_dict[LEDGER]
    if dialect == "imonggo":
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        token = base64.b64decode(value).decode().partition(":")[0]
        return await ledger.authenticate(scheme="imonggo", principal=token)
    if dialect == "memberpoints":
        principal, secret = request.headers.get("apiID"), request.headers.get("apiKey")
    else:
        principal, secret = request.headers.get("X-Client-Id"), request.headers.get("X-Client-Secret")
    if not principal:
        return None
    return await ledger.authenticate(scheme=dialect, principal=principal, secret=secret)


def _auth(dialect: str):  # type: ignore[no-untyped-def]
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        remember(request, dialect=dialect)
        tenant = await _tenant(request, dialect)
        if tenant is None:
            return render_plain(request, 401, "Access denied", None)
        remember(request, dialect=dialect, tenant=tenant)
        return await handler(request)

    return middleware


async def balance(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    found = await ledger.balance(tenant=request[REQUEST_TENANT], member=_member(request))
    return web.json_response({"points": str(found[Asset.POINTS].posted)})


async def credit(request: web.Request) -> web.Response:
    body = await read_json(request)
    ledger = request.config_dict[LEDGER]
    moved = await ledger.credit(
        tenant=request[REQUEST_TENANT], member=_member(request), amount=Decimal(str(body["amount"])),
        note=body.get("note"),
    )
    return web.json_response({"points": str(moved.balance.posted), "entry": moved.entry.id})


def _member(request: web.Request) -> By:
    return By(Identity.CUSTOMER_NO, int(request.match_info["customer"]))


RENDERERS = {"imonggo": render_imonggo_xml, "memberpoints": render_plain, "pomelo": render_plain}


def mount_for(dialect: str, *, hooked: bool = True):  # type: ignore[no-untyped-def]
    """A replacement for gateway.dialects.<dialect>.mount that mounts the fake; `hooked` puts
    sandbox_hook last in its middlewares, as a real dialect does once the integrator wires it."""

    def mount(app: web.Application) -> None:
        middlewares = [error_middleware(TABLE, render_plain), _auth(dialect)]
        if hooked:
            middlewares.append(sandbox_hook(dialect, RENDERERS[dialect]))
        sub = web.Application(middlewares=middlewares)
        sub.router.add_get("/{customer}", balance)
        sub.router.add_post("/{customer}", credit)
        app.add_subapp(PATHS[dialect], sub)

    return mount

"""The pipeline's fault steps: the first matching rule strikes just before the handler (nothing written)
or just after it (its ledger write committed), and the journal is told which. Names no vendor: an error
status is rendered by the request's dialect's own renderer, which the pipeline hands in."""
from __future__ import annotations

import asyncio
import socket
import struct
from http import HTTPStatus

from aiohttp import web

from ..dialects.common import ErrorRenderer, Handler
from ..keys import REQUEST_FAULT, REQUEST_TENANT
from .faults import FaultBook, FaultRule
from .shared import settled  # a shared sandbox's picks reach the store

OUTCOMES = {"latency": "answered", "status": "fault_status", "empty": "empty_reply", "drop": "dropped"}


async def around(book: FaultBook, dialect: str, render: ErrorRenderer, request: web.Request,
                 handler: Handler) -> web.StreamResponse:
    """Fault before -> handler -> fault after. A handler that raises is answered by the error step outside,
    with no fault after it: nothing was written for the fault to follow."""
    rule = await settled(book.pick(when="before", **_facts(request, dialect)))
    if rule is not None:
        _note(request, rule, handler_ran=False, handler_status=None)
        if rule.effect == "latency":
            await asyncio.sleep(rule.latency_seconds(book.random))
        else:
            return await _apply(request, render, rule)
    response = await handler(request)
    rule = await settled(book.pick(when="after", **_facts(request, dialect)))
    if rule is None:
        return response
    _note(request, rule, handler_ran=True, handler_status=response.status)
    if rule.effect == "latency":
        await asyncio.sleep(rule.latency_seconds(book.random))
        return response
    return await _apply(request, render, rule)


def _facts(request: web.Request, dialect: str) -> dict[str, str | None]:
    tenant = request.get(REQUEST_TENANT)  # after the handler too: a login route names its tenant itself
    return {"dialect": dialect, "tenant": getattr(tenant, "name", None), "method": request.method, "path": request.path}


def _note(request: web.Request, rule: FaultRule, *, handler_ran: bool, handler_status: int | None) -> None:
    """Say in the journal whether the handler (and so any ledger write) ran before the fault hit."""
    request[REQUEST_FAULT] = {
        **rule.summary(), "handler_ran": handler_ran, "handler_status": handler_status,
        "outcome": OUTCOMES[rule.effect],
    }


async def _apply(request: web.Request, render: ErrorRenderer, rule: FaultRule) -> web.StreamResponse:
    if rule.effect == "status":
        return render(request, rule.status, rule.message or _reason(rule.status), rule.code)
    await read_body(request)  # read it now, so the journal can still copy it once the socket is gone
    transport = request.transport
    if transport is not None:
        if rule.effect == "drop":
            sock = transport.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends a reset, not an orderly end
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()  # nothing was written: the client sees an empty reply
    # aiohttp's attempt to send this finds the transport closed and gives up quietly.
    return web.Response(status=499)


async def read_body(request: web.Request) -> bytes:
    if not request.body_exists:
        return b""
    try:
        return await request.read()  # cached if the handler read it already
    except Exception:  # too large, or the client went away: the journal copy is best effort, never fatal
        return b""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

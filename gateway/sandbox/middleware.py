"""The sandbox's middlewares. The outer one (root app) journals every dialect request and emulates rate
limits before the dialect sees the request. The fault step runs inside a dialect's sub-app through
common.sandbox_hook (after the dialect's auth, so the tenant is known); for a dialect without the hook,
the outer middleware applies it around the whole dialect instead."""
from __future__ import annotations

import asyncio
import base64
import binascii
import re
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from http import HTTPStatus
from secrets import token_hex

from aiohttp import web

from . import exchanges
from .redact import redact_query
from ..dialects.common import ERROR_RENDERERS, Handler
from ..dialects.upstream_transport import Exchange
from ..keys import LEDGER, REQUEST_DIALECT, REQUEST_FAULT, REQUEST_TENANT, SANDBOX
from ..ledger import Ledger, Tenant
from .faults import FaultRule
from .journal import Body, JournalEntry
from .shared import settled  # a shared sandbox's checks reach the store
from .state import Sandbox

# The dialect a path belongs to, known before its authentication runs.
PREFIXES = (("/webapps/api/", "memberpoints"), ("/api/", "imonggo"), ("/oauth/", "pomelo"), ("/loyalty/", "pomelo"))


# A request id a client sent is echoed when it looks like one (no spaces, no control characters, not
# huge), so a client's own id finds its request in the journal; any other request gets one made here.
REQUEST_ID = "X-Request-Id"
_CLIENTS_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")


def request_id_for(request: web.Request) -> str:
    sent = request.headers.get(REQUEST_ID)
    return sent if sent is not None and _CLIENTS_ID.fullmatch(sent) else f"req-{token_hex(8)}"


def dialect_of(path: str) -> str | None:
    for prefix, dialect in PREFIXES:
        if path.startswith(prefix):
            return dialect
    return None


def render(request: web.Request, dialect: str, status: int, message: str, code: str | None) -> web.StreamResponse:
    """An error in the dialect's own shape if it registered a renderer, else plain JSON."""
    renderer = ERROR_RENDERERS.get(dialect)
    if renderer is not None:
        return renderer(request, status, message, code)
    error: dict[str, object] = {"status": status, "message": message}
    if code:
        error["code"] = code
    return web.json_response({"error": error}, status=status)


def caller_key(dialect: str, request: web.Request) -> str:
    """Whom a vendor counts requests against: the API token, the apiID, the bearer token; else the address."""
    if dialect == "memberpoints" and request.headers.get("apiID"):
        return "id:" + request.headers["apiID"]
    auth = request.headers.get("Authorization", "")
    if dialect == "imonggo" and auth[:6].lower() == "basic ":
        try:
            return "token:" + base64.b64decode(auth[6:].strip(), validate=True).decode("latin-1").partition(":")[0]
        except (binascii.Error, ValueError):
            pass
    if auth:
        return "auth:" + auth
    return "addr:" + (request.remote or "")


async def _counted(request: web.Request, dialect: str, ledger: Ledger) -> tuple[str, Tenant | None]:
    """Whom the vendor counts this request against, and the tenant the counted credentials name (imonggo's
    API token, memberpoints' apiID/apiKey; a pomelo token belongs to one tenant already). The count is
    kept per tenant id, which is never given twice: a tenant reset, deleted or replaced (here or through
    another instance) starts from zero, even under the same credentials."""
    key = caller_key(dialect, request)
    tenant = None
    if key.startswith("token:"):
        tenant = await ledger.authenticate(scheme="imonggo", principal=key[6:])
    elif key.startswith("id:"):
        tenant = await ledger.authenticate(
            scheme="memberpoints", principal=key[3:], secret=request.headers.get("apiKey", "")
        )
    return (key if tenant is None else f"tenant:{tenant.id}:{key}"), tenant


@web.middleware
async def sandbox_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    dialect = dialect_of(request.path)
    if dialect is None:
        return await handler(request)
    config = request.config_dict  # built anew on each access: look it up once
    sandbox = config[SANDBOX]
    started = time.perf_counter()
    request_id = request_id_for(request)
    request[REQUEST_DIALECT] = dialect
    if sandbox.faults.active and not _hooked(request):  # no sandbox_hook in the dialect: apply faults out here
        handler = _with_faults(sandbox, handler)
    response: web.StreamResponse | None = None
    outcome = "answered"
    retry: int | None = None
    tenant: Tenant | None = None
    if sandbox.limits.get(dialect):
        key, tenant = await _counted(request, dialect, config[LEDGER])
        retry = await settled(sandbox.limits.check(dialect, key))
    forwarded, opened = exchanges.begin()  # what the request exchanges with the tenant's upstream
    try:
        if retry is not None:
            outcome = "rate_limited"
            if tenant is not None:  # the request never reaches the dialect's auth: name its tenant here
                request[REQUEST_TENANT] = tenant
            response = render(request, dialect, sandbox.limits.get(dialect).status, sandbox.limits.message(dialect), None)  # type: ignore[union-attr]
            response.headers["Retry-After"] = str(retry)
        else:
            response = await handler(request)
        if not response.prepared:
            response.headers[REQUEST_ID] = request_id
        return response
    except web.HTTPException as exc:
        response = exc
        exc.headers[REQUEST_ID] = request_id
        raise
    except Exception:
        outcome = "error"  # aiohttp answers 500; the journal still records the request
        raise
    finally:
        exchanges.end(opened)
        if sandbox.journal.enabled:
            await _record(request, sandbox, config[LEDGER].clock.now(), dialect, response, outcome, started, forwarded,
                          request_id)


async def _record(
    request: web.Request, sandbox: Sandbox, ledger_time: datetime, dialect: str,
    response: web.StreamResponse | None, outcome: str, started: float, forwarded: list[Exchange], request_id: str,
) -> None:
    journal = sandbox.journal
    fault = request.get(REQUEST_FAULT)
    if fault is not None:
        outcome = fault["outcome"]
    tenant = request.get(REQUEST_TENANT)
    raw_body = await _request_body(request) if journal.body_bytes else b""
    sent = getattr(response, "body", None) if response is not None else None
    entry = JournalEntry(
        id=journal.next_id(),
        at=datetime.now(timezone.utc),
        ledger_time=ledger_time,
        dialect=dialect,
        method=request.method,
        path=request.path,
        query=redact_query(request.query_string),
        tenant=getattr(tenant, "name", None),
        status=_status(outcome, response),
        duration_ms=(time.perf_counter() - started) * 1000,
        request_body=Body.copy(raw_body, journal.body_bytes, request.headers.get("Content-Type", "")),
        response_body=Body.copy(
            sent if isinstance(sent, bytes) else None, journal.body_bytes,
            response.headers.get("Content-Type", "") if response is not None else "",
        ),
        outcome=outcome,
        fault=None if fault is None else {k: v for k, v in fault.items() if k != "outcome"},
        upstream=exchanges.journal_json(forwarded, journal.body_bytes),
        request_id=request_id,
        idempotency_key=_capped_key(request.headers.get("x-idempotency-key")),
    )
    journal.add(entry)


KEY_CAP = 255  # what pomelo accepts; a longer key is refused there, and the journal keeps no more of it


def _capped_key(key: str | None) -> str | None:
    return key if key is None or len(key) <= KEY_CAP else key[:KEY_CAP] + "…"


def _status(outcome: str, response: web.StreamResponse | None) -> int | None:
    """What the client saw: nothing at all for an empty reply or a dropped connection."""
    if outcome in ("empty_reply", "dropped"):
        return None
    if outcome == "error" or response is None:
        return 500
    return response.status


async def _request_body(request: web.Request) -> bytes:
    if not request.body_exists:
        return b""
    try:
        return await request.read()  # cached if the handler read it already
    except Exception:  # too large, or the client went away: the journal copy is best effort, never fatal
        return b""


def _hooked(request: web.Request) -> bool:
    innermost = request.match_info.apps[-1] if request.match_info.apps else None
    return innermost is not None and any(getattr(m, "sandbox_hook", False) for m in innermost.middlewares)


def _with_faults(sandbox: Sandbox, handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        return await fault_step(sandbox, request, handler)

    return wrapped


def fault_step_for(sandbox: Sandbox) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """What common.sandbox_hook runs (app[SANDBOX_AROUND]): the fault step bound to this app's sandbox."""

    async def step(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await fault_step(sandbox, request, handler)

    return step


async def fault_step(sandbox: Sandbox, request: web.Request, handler: Handler) -> web.StreamResponse:
    dialect = request.get(REQUEST_DIALECT)
    if dialect is None or not sandbox.faults.active:
        return await handler(request)
    book = sandbox.faults
    rule = await settled(book.pick(when="before", **_facts(request, dialect)))
    if rule is not None:
        _note(request, rule, handler_ran=False, handler_status=None)
        if rule.effect == "latency":
            await asyncio.sleep(rule.latency_seconds(book.random))
        else:
            return await _apply(request, dialect, rule)
    response = await handler(request)
    rule = await settled(book.pick(when="after", **_facts(request, dialect)))
    if rule is None:
        return response
    _note(request, rule, handler_ran=True, handler_status=response.status)
    if rule.effect == "latency":
        await asyncio.sleep(rule.latency_seconds(book.random))
        return response
    return await _apply(request, dialect, rule)


def _facts(request: web.Request, dialect: str) -> dict[str, str | None]:
    tenant = request.get(REQUEST_TENANT)
    return {"dialect": dialect, "tenant": getattr(tenant, "name", None), "method": request.method, "path": request.path}


OUTCOMES = {"latency": "answered", "status": "fault_status", "empty": "empty_reply", "drop": "dropped"}


def _note(request: web.Request, rule: FaultRule, *, handler_ran: bool, handler_status: int | None) -> None:
    """Say in the journal whether the handler (and so any ledger write) ran before the fault hit."""
    request[REQUEST_FAULT] = {
        **rule.summary(), "handler_ran": handler_ran, "handler_status": handler_status,
        "outcome": OUTCOMES[rule.effect],
    }


async def _apply(request: web.Request, dialect: str, rule: FaultRule) -> web.StreamResponse:
    if rule.effect == "status":
        message = rule.message or _reason(rule.status)
        return render(request, dialect, rule.status, message, rule.code)
    await _request_body(request)  # read it now, so the journal can still copy it once the socket is gone
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


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

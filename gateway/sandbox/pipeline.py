"""The request pipeline: one middleware on the root application runs every dialect request through the
same short list of steps, in this order (the one place to read it):

    find dialect -> identify tenant -> rate limit -> fault before -> handler -> fault after -> journal

with the dialect's errors answered in its own shape around the handler, an X-Request-Id on every
answer, and every request (the admin API's too) counted in the server's metrics by its route's pattern,
never its raw path. Names no vendor: each step asks the request's Dialect descriptor (its prefixes, how it
authenticates, whom it counts, how it renders an error). Paths no dialect owns (the admin API) pass by."""
from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from secrets import token_hex

from aiohttp import web

from ..dialects.common import HTTP_MESSAGES, Handler, answer_error
from ..dialects.descriptor import Dialect
from ..keys import LEDGER, REQUEST_FAULT, REQUEST_TENANT
from ..ledger import Ledger, LedgerError, Tenant
from ..metrics import UNMATCHED, ServerMetrics
from . import exchanges
from .faultstep import around
from .recording import record
from .shared import settled  # a shared sandbox's checks reach the store
from .state import Sandbox

Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

# A request id a client sent is echoed when it looks like one (no spaces, no control characters, not
# huge), so a client's own id finds its request in the journal; any other request gets one made here.
REQUEST_ID = "X-Request-Id"
_CLIENTS_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")


class _RequestIds:
    """Ids unique across processes and restarts without asking the OS for randomness on every request (that
    was 2.6% of a read): a random prefix per process, made again in a forked worker, and a counter."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._prefix, self._count = token_hex(4), itertools.count()

    def next(self) -> str:
        n = next(self._count)
        if n > 0xFFFFFFFF:  # the counter's eight digits are used up: a new prefix, never an id twice
            self.renew()
            n = next(self._count)
        return f"req-{self._prefix}{n:08x}"


_IDS = _RequestIds()


def request_id_for(request: web.Request) -> str:
    sent = request.headers.get(REQUEST_ID)
    return sent if sent is not None and _CLIENTS_ID.fullmatch(sent) else _IDS.next()


class Pipeline:
    """The steps, bound to one application's dialects, sandbox and (once started) ledger."""

    def __init__(self, app: web.Application, dialects: Sequence[Dialect], sandbox: Sandbox,
                 metrics: ServerMetrics | None = None) -> None:
        self.app = app  # the root: its ledger is there once cleanup_ctx has opened it
        self.sandbox = sandbox
        self.metrics = metrics if metrics is not None else ServerMetrics()
        self.owners = tuple((prefix, d) for d in dialects for prefix in d.prefixes)
        self.words = {d.name: {**HTTP_MESSAGES, **d.messages} for d in dialects}

    def dialect_of(self, path: str) -> Dialect | None:
        for prefix, dialect in self.owners:
            if path.startswith(prefix) or path == prefix[:-1]:  # "/api/..." and "/api" itself
                return dialect
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        dialect = self.dialect_of(request.path)
        if dialect is None:
            return await self.passing(request, handler)
        started = time.perf_counter()
        request_id = request_id_for(request)
        ledger = self.app[LEDGER]
        response: web.StreamResponse | None = None
        outcome = "answered"
        forwarded, opened = exchanges.begin()  # what the request exchanges with the tenant's upstream
        try:
            response, outcome = await self.answer(request, handler, dialect, ledger)
            if not response.prepared:
                response.headers[REQUEST_ID] = request_id
            return response
        except web.HTTPException as exc:  # a redirect, answered as aiohttp answers it
            response = exc
            exc.headers[REQUEST_ID] = request_id
            raise
        except Exception:
            outcome = "error"  # aiohttp answers 500; the journal still records the request
            raise
        finally:
            exchanges.end(opened)
            self.count(request, dialect.name, response, started)
            journal = self.sandbox.journal
            if journal.enabled:
                await record(journal, request, ledger.clock.now(), dialect.name, response, outcome, started,
                             forwarded, request_id)

    async def passing(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A path no dialect owns (the admin API): only counted."""
        started = time.perf_counter()
        response: web.StreamResponse | None = None
        try:
            response = await handler(request)
            return response
        except web.HTTPException as exc:
            response = exc
            raise
        finally:
            self.count(request, "none", response, started)

    def count(self, request: web.Request, dialect: str, response: web.StreamResponse | None, started: float) -> None:
        """The request in the metrics: by its route's pattern (bounded, whatever paths clients send) and the
        status the client saw; a fault that dropped the connection or sent nothing is named instead."""
        route = request.match_info.route.resource
        status = "500" if response is None else str(response.status)  # None: raised, and aiohttp answers 500
        if self.sandbox.faults.active:  # only then can a rule have struck (a request's lookup costs a microsecond)
            fault = request.get(REQUEST_FAULT)
            if fault is not None and fault["outcome"] in ("empty_reply", "dropped"):
                status = fault["outcome"]
        self.metrics.request(dialect, UNMATCHED if route is None else route.canonical, request.method, status,
                             time.perf_counter() - started)

    async def answer(self, request: web.Request, handler: Handler, dialect: Dialect,
                     ledger: Ledger) -> tuple[web.StreamResponse, str]:
        """Identify the tenant (once), rate limit, then faults and the handler; every failure in the
        dialect's shape. Returns the answer and the journal's outcome."""
        try:
            found = await dialect.authenticate(request, ledger)
        except Exception as exc:
            return self.failed(request, dialect, exc)
        if isinstance(found, Tenant):
            request[REQUEST_TENANT] = found
        limits = self.sandbox.limits
        limit = limits.get(dialect.name)
        if limit is not None:
            # Counted per tenant id, never given twice: a tenant reset, deleted or replaced (here or through
            # another instance) starts from zero, even under the same credentials.
            key = f"tenant:{found.id}" if isinstance(found, Tenant) else dialect.rate_key(request)
            wait = await settled(limits.check(dialect.name, key))
            if wait is not None:
                response = dialect.render_error(request, limit.status, limits.message(dialect.name), None)
                response.headers["Retry-After"] = str(wait)
                return response, "rate_limited"
        if isinstance(found, web.StreamResponse):  # refused: the credentials name no tenant
            return found, "answered"
        faults = self.sandbox.faults
        if dialect.documents is not None and dialect.documents.check_request is not None:
            handler = _checked(dialect.documents.check_request, handler)
        try:
            if faults.active:
                return await around(faults, dialect.name, dialect.render_error, request, handler), "answered"
            return await handler(request), "answered"
        except Exception as exc:
            return self.failed(request, dialect, exc)

    def failed(self, request: web.Request, dialect: Dialect, exc: Exception) -> tuple[web.StreamResponse, str]:
        """The dialect's answer to a failure; the journal calls one nobody expected (a bug) an error."""
        if dialect.refuse is not None:
            refused = dialect.refuse(request, exc)
            if refused is not None:
                return refused, "answered"
        answer = answer_error(request, exc, dialect.errors, dialect.render_error, self.words[dialect.name])
        return answer, "answered" if isinstance(exc, (LedgerError, web.HTTPException)) else "error"


def _checked(check: Callable[[web.Request], Awaitable[web.StreamResponse | None]], handler: Handler) -> Handler:
    """The handler behind the dialect's request check: a request its documents do not allow is refused in
    its shape before the handler sees it (and after the before-fault, which may answer first)."""

    async def checked(request: web.Request) -> web.StreamResponse:
        refused = await check(request)
        return refused if refused is not None else await handler(request)

    return checked

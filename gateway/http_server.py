"""The HTTP connection layer `serve` runs the app on: aiohttp's server with read timeouts it lacks (a request
header must be complete within header_timeout_seconds, a body within body_timeout_seconds), and malformed
requests logged as one INFO line instead of an ERROR with a traceback. Knows no dialect and no ledger."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from .sandbox.redact import redact_line

log = logging.getLogger("gateway.http")

# What a client gets when its request header is not complete in time (it has no path yet, so no dialect
# could answer in its own shape).
_HEADER_TIMEOUT_TEXT = b"request header not complete in time\n"
_HEADER_TIMEOUT_REPLY = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(_HEADER_TIMEOUT_TEXT)).encode() + b"\r\n\r\n" + _HEADER_TIMEOUT_TEXT
)


@dataclass(frozen=True)
class ReadTimeouts:
    header_seconds: float
    body_seconds: float


class GuardedHandler(RequestHandler):
    """aiohttp's connection handler with two deadlines. The header deadline runs while the connection
    waits for a request (from the moment it opens, and again once a request's body has been read), so
    a client that sends part of a header, or nothing, is closed when it passes; the body deadline runs
    from a request's header to the end of its body, so a body shorter than its Content-Length ends the
    request with 408 (in the dialect's own error shape) and closes the connection."""

    def __init__(self, manager: web.Server, *, timeouts: ReadTimeouts, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._timeouts = timeouts
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0  # bytes of a request header received since the header deadline was armed
        self._body: Any = None  # the payload being received, while its deadline runs
        self._body_timer: asyncio.TimerHandle | None = None
        self._answered_at: float | None = None  # when the last response went out (loop time)
        self._quiet = False

    # -- deadlines -----------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_header()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        seen = self._request_count
        super().data_received(data)
        if self._request_count > seen and self._messages:  # a request header is complete
            self._cancel_header()
            payload = self._messages[-1][1]
            if payload.is_eof():
                self._arm_header()  # no body: wait for the next request's header
            else:
                self._arm_body(payload)
        elif self._body is not None:
            if self._body.is_eof():
                self._cancel_body()
                self._arm_header()
        elif data:
            self._header_bytes += len(data)

    def _arm_header(self, delay: float | None = None) -> None:
        if self._header_timer is None and self._timeouts.header_seconds > 0:
            self._header_bytes = 0
            wait = self._timeouts.header_seconds if delay is None else delay
            self._header_timer = self._loop.call_later(wait, self._header_expired)

    def _cancel_header(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _arm_body(self, payload: Any) -> None:
        self._cancel_body()
        self._body = payload
        if self._timeouts.body_seconds > 0:
            self._body_timer = self._loop.call_later(self._timeouts.body_seconds, self._body_expired)

    def _cancel_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
        self._body_timer, self._body = None, None

    def _disarm(self) -> None:
        self._cancel_header()
        self._cancel_body()

    def _header_expired(self) -> None:
        self._header_timer = None
        if self.transport is None:
            return
        if self._request_in_progress or self._messages:
            # A handler is still answering the last request (a slow one, or an injected latency): the
            # client is not the one being slow. Look again a full period later.
            self._arm_header()
            return
        idle_until = (self._answered_at or 0) + self._timeouts.header_seconds
        if not self._header_bytes and idle_until > self._loop.time():
            # A kept-alive connection gets a whole period after its last response to send the next request.
            self._arm_header(idle_until - self._loop.time())
            return
        if self._header_bytes:
            log.info("closed a connection from %s: its request header was not complete after %g s",
                     self._peer(), self._timeouts.header_seconds)
            self.transport.write(_HEADER_TIMEOUT_REPLY)
        self.force_close()

    def _body_expired(self) -> None:
        payload, self._body_timer, self._body = self._body, None, None
        if payload is None or payload.is_eof() or self.transport is None:
            return
        log.info("ended a request from %s: its body was not complete after %g s",
                 self._peer(), self._timeouts.body_seconds)
        # The handler reading the body gets a 408, rendered in its dialect's shape by the pipeline; the
        # connection closes after the reply, since the rest of the body may still arrive.
        payload.set_exception(web.HTTPRequestTimeout(text="request body not complete in time"))
        payload.feed_eof()
        self.close()

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "an unknown peer"

    async def _handle_request(self, request: BaseRequest, start_time: float | None, request_handler: Any) -> Any:
        try:
            return await super()._handle_request(request, start_time, request_handler)
        finally:
            self._answered_at = self._loop.time()

    # -- malformed requests ------------------------------------------------------------------------

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        """A request aiohttp could not parse is the client's mistake, answered 400: one INFO line, no
        traceback. Anything else is logged as aiohttp logs it."""
        if status < 500 and isinstance(exc, HttpProcessingError):
            log.info("refused a malformed request from %s: %s", request.remote, _one_line(exc))
            self._quiet = True
        try:
            return super().handle_error(request, status, exc, message)
        finally:
            self._quiet = False

    def log_exception(self, *args: Any, **kw: Any) -> None:
        if not self._quiet:
            super().log_exception(*args, **kw)


def _one_line(exc: HttpProcessingError) -> str:
    """aiohttp's parser message, which quotes the request line: its secrets masked before it is cut, so no
    cut can leave part of one (a Token API password) in the log."""
    text = redact_line(" ".join(str(exc.message or exc).split()))
    return text[:300] or type(exc).__name__


class GuardedServer(web.Server):
    def __init__(self, *args: Any, timeouts: ReadTimeouts, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeouts = timeouts

    def __call__(self) -> RequestHandler:
        return GuardedHandler(self, loop=self._loop, timeouts=self.timeouts, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """web.AppRunner whose connections are GuardedHandlers (`_make_server` is BaseRunner's extension point)."""

    def __init__(self, app: web.Application, *, timeouts: ReadTimeouts, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.timeouts = timeouts

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return GuardedServer(
            made.request_handler, request_factory=made.request_factory, handler_cancellation=made.handler_cancellation,
            loop=asyncio.get_running_loop(), timeouts=self.timeouts, **made._kwargs,
        )

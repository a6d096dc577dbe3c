"""A webhook sink for tests: one small HTTP receiver per session, on the server's loop, to which every
fresh tenant's webhooks are sent (one path per tenant and dialect). It checks each signature with the
sending dialect's own verify (its descriptor), answers 200 (403 for a bad signature, so the sandbox retries
and the mismatch shows) and lets a test wait for an event. Names no vendor."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from aiohttp import web

from .loop import LoopThread

Verify = Callable[[str, Mapping[str, str], bytes], bool]
EventOf = Callable[[bytes], "str | None"]


class WebhookTimeout(AssertionError):
    """The awaited webhook did not come in time; the message lists what did."""


@dataclass(frozen=True)
class ReceivedWebhook:
    dialect: str
    event: str | None  # its name as the dialect sends it, None if the body could not be read
    path: str  # with the query, as it was posted
    headers: Mapping[str, str]
    body: bytes
    verified: bool  # the signature checked out with the tenant's secret

    def json(self) -> Any:
        """The body read as JSON (numbers with a fraction as Decimal)."""
        return json.loads(self.body, parse_float=Decimal)

    def __str__(self) -> str:
        return f"{self.event or '(unreadable)'} ({'signature ok' if self.verified else 'BAD SIGNATURE'})"


@dataclass(frozen=True)
class _Subscriber:
    secret: str
    verify: Verify
    event_of: EventOf


class WebhookSink:
    """The session's receiver. Started on the server's loop; `subscribe` tells it a tenant's secret."""

    def __init__(self, loop: LoopThread) -> None:
        self.loop = loop
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._subscribers: dict[tuple[str, str], _Subscriber] = {}  # (tenant, dialect) -> how to check
        self._received: dict[str, list[ReceivedWebhook]] = {}  # tenant -> what came, in order
        self._arrived: asyncio.Condition | None = None

    async def start(self) -> None:
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/{tenant}/{dialect}{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = next(a for a in self._runner.addresses if isinstance(a, tuple))[:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, tenant: str, dialect: str) -> str:
        return f"{self.base_url}/{quote(tenant, safe='')}/{quote(dialect, safe='')}"

    def subscribe(self, tenant: str, dialect: str, secret: str, verify: Verify, event_of: EventOf) -> None:
        self._subscribers[(tenant, dialect)] = _Subscriber(secret, verify, event_of)
        self._received.setdefault(tenant, [])

    def forget(self, tenant: str) -> None:
        for key in [k for k in self._subscribers if k[0] == tenant]:
            del self._subscribers[key]
        self._received.pop(tenant, None)

    def received(self, tenant: str) -> list[ReceivedWebhook]:
        return list(self._received.get(tenant, ()))

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        subscriber = self._subscribers.get((request.match_info["tenant"], request.match_info["dialect"]))
        if subscriber is None:
            return web.json_response({"error": "no tenant of this test session is subscribed here"}, status=404)
        ok = subscriber.verify(subscriber.secret, request.headers, body)
        self._received[request.match_info["tenant"]].append(ReceivedWebhook(
            dialect=request.match_info["dialect"], event=subscriber.event_of(body), path=request.path_qs,
            headers=dict(request.headers), body=body, verified=ok))
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()
        if not ok:
            return web.json_response({"error": "signature mismatch"}, status=403)
        return web.json_response({"received": True})

    async def wait(self, tenant: str, event: str, timeout: float) -> ReceivedWebhook:
        assert self._arrived is not None
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._arrived:
            while True:
                every = self.received(tenant)
                found = next((w for w in every if w.event == event and w.verified), None)
                if found is not None:
                    return found
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    listed = ", ".join(str(w) for w in every) or "nothing"
                    raise WebhookTimeout(f"no {event} webhook with a good signature came for tenant {tenant} within"
                                         f" {timeout:g} s; received: {listed}")
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except asyncio.TimeoutError:
                    pass


class TenantWebhooks:
    """One tenant's webhooks as the sink received them."""

    def __init__(self, sink: WebhookSink, tenant: str) -> None:
        self._sink, self._tenant = sink, tenant

    @property
    def received(self) -> list[ReceivedWebhook]:
        """Every webhook that came for the tenant, in the order it came (bad signatures included)."""
        return self._sink.loop.run(_now(self._sink.received, self._tenant))

    def url(self, dialect: str) -> str:
        """Where the tenant's webhooks in that dialect are sent."""
        return self._sink.url(self._tenant, dialect)

    def wait_for(self, event: str, timeout: float = 5.0) -> ReceivedWebhook:
        """The first webhook of that event with a good signature, waiting for it up to `timeout` seconds."""
        return self._sink.loop.run(self._sink.wait(self._tenant, event, timeout), timeout=timeout + 30)

    async def wait_for_async(self, event: str, timeout: float = 5.0) -> ReceivedWebhook:
        """wait_for, awaited: an async test's loop goes on meanwhile."""
        return await self._sink.loop.run_async(self._sink.wait(self._tenant, event, timeout))


async def _now(read: Callable[[str], list[ReceivedWebhook]], tenant: str) -> list[ReceivedWebhook]:
    return read(tenant)  # read on the sink's loop, where the lists grow

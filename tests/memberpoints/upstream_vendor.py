"""The vendor for the memberpoints client tests: a real `loyalty-gateway serve` process whose demo tenant is
the memberpoints website (apiID demo-api-id), driven through its admin API (reset, faults, rate limits,
journal), and a tiny capture server that records the exact requests a client sends."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.dialects.upstream_transport import Exchange, Transport
from tests import process
from tests.sandbox_vendor import VendorAdmin, vendor_fixture

API_ID, API_KEY = "demo-api-id", "demo-api-key"  # the demo scenario's memberpoints website
CREDENTIALS = {"api_id": API_ID, "api_key": API_KEY}
JUAN, JOHNSON, JASON = 1534, 442531, 445123  # its members: 30511.00, 120.00 and 50.00 points


vendor = vendor_fixture("memberpoints")


class Vendor(VendorAdmin):
    """The memberpoints vendor process, as a test drives it."""

    dialect = "memberpoints"

    async def rate_limit(self, limit: int | None) -> None:
        await self.admin("PUT", "/rate-limits", {"memberpoints": None if limit is None else {"limit": limit}})

    async def finished_post(self) -> dict[str, Any]:
        """The journal entry of the test's one POST, once the vendor is done with it (however the client
        fared): a test must not end while its slow write could still land in the next test's state."""
        deadline = time.monotonic() + 10
        while not (posts := [r for r in await self.requests() if r["method"] == "POST"]):
            assert time.monotonic() < deadline, "the vendor never finished the POST"
            await asyncio.sleep(0.05)
        [post] = posts
        return post

    async def direct(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request to the vendor's own API with the website's credentials (to look, not through the client)."""
        headers = {"apiID": API_ID, "apiKey": API_KEY}
        async with self.session.request(method, f"{self.url}/webapps/api/{path}", headers=headers, **kwargs) as response:
            return json.loads(await response.read())


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as made:
        yield made


@pytest.fixture
async def vendor_api(vendor: process.Server, session: aiohttp.ClientSession) -> Vendor:
    """The vendor, back to its demo state: every test starts from the same website, no fault, no limit."""
    api = Vendor(session, vendor.url)
    await api.admin("POST", "/reset")
    await api.rate_limit(None)
    return api


@dataclass
class Seen:
    """Every exchange the transport handed its observer."""

    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)


@pytest.fixture
def seen() -> Seen:
    return Seen()


TransportFor = Callable[..., Transport]


@pytest.fixture
def transport_to(session: aiohttp.ClientSession, seen: Seen) -> TransportFor:
    def make(url: str, timeout: float = 5.0) -> Transport:
        return Transport(session, url, timeout=timeout, observe=seen, label="the memberpoints upstream")

    return make


@dataclass
class Captured:
    method: str
    raw_path: str
    headers: list[tuple[str, str]]
    body: bytes


class CaptureServer:
    """Answers every request with the next canned reply (status, headers, body) and keeps what came in."""

    def __init__(self) -> None:
        self.requests: list[Captured] = []
        self.replies: list[tuple[int, dict[str, str], bytes]] = []

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.replies.append((status, {"Content-Type": "application/json", **(headers or {})}, raw))

    async def handle(self, request: web.Request) -> web.Response:
        headers = [(name.decode(), value.decode()) for name, value in request.raw_headers]
        self.requests.append(Captured(request.method, request.raw_path, headers, await request.read()))
        status, headers, body = self.replies.pop(0) if self.replies else (500, {}, b"no canned reply")
        return web.Response(status=status, headers=headers, body=body)


@pytest.fixture
async def capture() -> AsyncIterator[tuple[CaptureServer, str]]:
    recorder = CaptureServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield recorder, str(server.make_url("")).rstrip("/")
    await server.close()

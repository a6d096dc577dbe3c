"""The HTTP transport every vendor client uses: answers of any status come back as they are, trouble on
the way becomes the ledger's Upstream errors (saying whether the request may have been applied), and
every exchange reaches the observer with the secrets masked."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web

from gateway.dialects.upstream_transport import MASK, Exchange, Reply, Transport, retry_after
from gateway.ledger import UpstreamFailed, UpstreamTimeout


async def vendor(aiohttp_server):  # type: ignore[no-untyped-def]
    async def answer(request: web.Request) -> web.Response:
        if request.path == "/slow":
            await asyncio.sleep(2)
        if request.path == "/drop":
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0.1)
        body = await request.read()
        return web.Response(status=503, body=b"echo " + body, headers={"X-Request-Id": "req-42", "Retry-After": "7"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return await aiohttp_server(app)


async def test_any_answer_is_a_reply_and_its_headers_are_read_in_any_case(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)
    seen: list[Exchange] = []
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=5, observe=seen.append)
        reply = await transport.send("POST", "/things", params={"token": "s3cret", "a": "b c"},
                                     headers={"Authorization": "Bearer s3cret"}, body=b"key=s3cret", secrets=["s3cret"])
    assert reply.status == 503 and reply.request_id() == "req-42" and retry_after(reply.headers) == 7
    assert reply.body == b"echo key=s3cret"
    (exchange,) = seen
    assert exchange.status == 503 and exchange.error is None
    assert "s3cret" not in repr(exchange) and exchange.request_headers["Authorization"] == MASK
    assert exchange.url.endswith("/things?token=[FILTERED]&a=b+c")


async def test_a_timeout_says_the_request_may_have_been_applied(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)
    seen: list[Exchange] = []
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=0.2, observe=seen.append, label="the vendor")
        with pytest.raises(UpstreamTimeout) as caught:
            await transport.send("POST", "/slow", body=b"{}")
    assert caught.value.sent and "the vendor did not answer POST /slow" in caught.value.message
    assert seen[0].status is None and "0.2" in (seen[0].error or "")


async def test_a_dropped_connection_is_unclear_and_a_refused_one_is_not(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=5)
        with pytest.raises(UpstreamFailed) as dropped:
            await transport.send("POST", "/drop", body=b"{}")
        assert dropped.value.sent
        nobody = Transport(session, "http://127.0.0.1:9", timeout=5)
        with pytest.raises(UpstreamFailed) as refused:
            await nobody.send("GET", "/anything")
        assert not refused.value.sent and "could not be reached" in refused.value.message


def test_retry_after_reads_seconds_dates_and_falls_back() -> None:
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 28 <= retry_after({"retry-after": later}) <= 31
    assert retry_after({"Retry-After": "soon"}, default=3) == 3 and retry_after({}) == 1
    assert Reply(200, {"request-id": "r1"}, b"", "u").request_id() == "r1"


async def test_a_secret_the_reply_hands_out_is_masked_too(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)
    seen: list[Exchange] = []
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=5, observe=seen.append)
        reply = await transport.send("POST", "/oauth/token", body=b"issued-token-9",
                                     reveals=lambda body: [body.decode().removeprefix("echo ")])
    assert reply.body == b"echo issued-token-9"  # the caller gets the token; only the record is masked
    (exchange,) = seen
    assert exchange.response_body == f"echo {MASK}" and "issued-token-9" not in repr(exchange)

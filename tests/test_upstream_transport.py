"""The HTTP transport every vendor client uses: answers of any status come back as they are, trouble on
the way becomes the ledger's Upstream errors (saying whether the request may have been applied), and
every exchange reaches the observer with the secrets masked."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import quote, quote_plus

import aiohttp
import pytest
from aiohttp import web

from gateway.dialects.upstream_transport import (
    BODY_CAP,
    MASK,
    Exchange,
    Reply,
    Transport,
    mask,
    naming,
    retry_after,
    unsent,
)
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


# -- request ids -----------------------------------------------------------------------------------


async def test_each_request_carries_its_own_request_id_which_names_the_answer_when_the_upstream_echoes_none(
    aiohttp_server,  # type: ignore[no-untyped-def]
) -> None:
    arrived: list[str | None] = []

    async def silent(request: web.Request) -> web.Response:
        arrived.append(request.headers.get("X-Request-Id"))
        return web.Response(status=500, text="down")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", silent)
    server = await aiohttp_server(app)
    seen: list[Exchange] = []
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=5, observe=seen.append)
        first = await transport.send("GET", "/a")
        second = await transport.send("GET", "/b")
        mine = await transport.send("GET", "/c", headers={"x-request-id": "caller-7"})
    assert all(re.fullmatch(r"lg-[0-9a-f]{16}", found or "") for found in arrived[:2]) and arrived[0] != arrived[1]
    assert arrived[2] == "caller-7"  # a caller's own id is sent as it is, never a second one beside it
    assert [first.request_id(), second.request_id(), mine.request_id()] == arrived
    assert [e.request_id for e in seen] == arrived
    assert first.naming() == f" (request id {arrived[0]})" and naming(None) == ""


async def test_the_upstreams_own_request_id_wins_over_the_one_sent(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)  # answers X-Request-Id: req-42 whatever came
    seen: list[Exchange] = []
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=5, observe=seen.append)
        reply = await transport.send("GET", "/x")
    assert reply.request_id() == "req-42" and reply.sent_id and reply.sent_id.startswith("lg-")
    assert seen[0].request_id == "req-42"


async def test_a_timeout_and_a_dropped_answer_name_the_request_id(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)
    seen: list[Exchange] = []
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=0.2, observe=seen.append)
        with pytest.raises(UpstreamTimeout) as late:
            await transport.send("POST", "/slow", body=b"{}")
        transport.timeout = 5
        with pytest.raises(UpstreamFailed) as dropped:
            await transport.send("POST", "/drop", body=b"{}")
    for caught, exchange in ((late, seen[0]), (dropped, seen[1])):
        sent = exchange.request_headers["X-Request-Id"]
        assert caught.value.details["request_id"] == sent == exchange.request_id
        assert caught.value.message.endswith(f" (request id {sent})")


# -- masking ---------------------------------------------------------------------------------------


def test_a_secret_is_masked_in_every_spelling_a_body_or_url_may_hold() -> None:
    secret = 'p"a\\ss/wörd&=1'
    for text in (secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
                 json.dumps(secret)[1:-1].replace("/", "\\/"), quote(secret, safe=""), quote_plus(secret)):
        assert mask(f"<{text}>", [secret]) == f"<{MASK}>", text
    assert mask("nothing here", [secret, ""]) == "nothing here" and mask("kept", []) == "kept"


def test_a_secret_straddling_the_cut_is_masked_whole_not_half_kept() -> None:
    secret = "s3cret-client-secret-0123456789"
    text = "x" * 90 + secret + "y" * 50
    assert mask(text, [secret], cap=100) == "x" * 90 + MASK
    assert mask(text, [secret], cap=80) == "x" * 80
    assert mask("a" + secret + "b", [secret], cap=1000) == f"a{MASK}b"


async def test_a_json_escaped_secret_in_a_request_body_is_masked_in_the_exchange(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)
    seen: list[Exchange] = []
    secret = 'se"cr\\et'
    body = json.dumps({"client_secret": secret}).encode()
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=5, observe=seen.append)
        await transport.send("POST", "/oauth/token", body=body, secrets=[secret])
    assert seen[0].request_body == f'{{"client_secret": "{MASK}"}}'
    assert seen[0].response_body == f'echo {{"client_secret": "{MASK}"}}'


async def test_a_body_is_masked_before_it_is_cut_at_the_cap(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)
    seen: list[Exchange] = []
    secret = "k" * 40
    body = b"a" * (BODY_CAP - 10) + secret.encode() + b"tail"
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=5, observe=seen.append)
        await transport.send("POST", "/x", body=body, secrets=[secret])
    assert seen[0].request_body == "a" * (BODY_CAP - 10) + MASK and "kkkk" not in seen[0].request_body


async def test_the_transports_own_secrets_are_masked_in_every_exchange_and_every_message(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    server = await vendor(aiohttp_server)
    seen: list[Exchange] = []
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, str(server.make_url("/")), timeout=5, observe=seen.append, secrets=["api-key-9"])
        reply = await transport.send("POST", "/x", params={"q": "api-key-9"}, headers={"X-Extra": "api-key-9"},
                                     body=b"api-key-9")
    assert reply.body == b"echo api-key-9"  # the caller reads the answer as it came
    assert reply.masked(reply.body.decode()) == f"echo {MASK}"
    assert "api-key-9" not in repr(seen[0]) and "api-key-9" not in reply.url


def test_unsent_says_nothing_was_sent_and_keeps_the_rest() -> None:
    timed_out = UpstreamTimeout("the vendor did not answer", sent=True, request_id="lg-1")
    quiet = unsent(timed_out)
    assert type(quiet) is UpstreamTimeout and not quiet.sent
    assert quiet.message == timed_out.message and quiet.details["request_id"] == "lg-1"
    already = UpstreamFailed("refused", sent=False)
    assert unsent(already) is already

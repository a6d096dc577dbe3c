"""verify's way to a target: the client-side limiter spaces requests, a 429 with Retry-After is waited out
and sent once more (only once), and a target that is not there is one line."""
from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.contracts.compare import header as compare_header
from gateway.contracts.model import Request
from gateway.contracts.transport import Limiter, Target, Unreachable, answer_of, parse_rate


@pytest.mark.parametrize(("text", "rate"), [("100/minute", (100, 60.0)), ("10/s", (10, 1.0)), ("5/2s", (5, 2.0)),
                                            (" 3 / hour ", (3, 3600.0))])
def test_rates_read(text: str, rate: tuple[int, float]) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "0/minute", "10/fortnight", "10", "-1/s"])
def test_a_bad_rate_says_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match="give N/period"):
        parse_rate(text)


async def test_the_limiter_lets_n_through_a_window_then_waits() -> None:
    limiter = Limiter(3, 0.3)
    started = time.monotonic()
    for _ in range(3):
        await limiter.wait()
    assert time.monotonic() - started < 0.1
    await limiter.wait()
    assert time.monotonic() - started >= 0.29


async def _target(answers: list[tuple[int, dict[str, str]]]) -> tuple[TestServer, list[float]]:
    seen: list[float] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(time.monotonic())
        status, headers = answers[min(len(seen), len(answers)) - 1]
        return web.json_response({"n": len(seen)}, status=status, headers=headers)

    app = web.Application()
    app.router.add_get("/x", handle)
    server = TestServer(app)
    await server.start_server()
    return server, seen


async def test_a_429_is_waited_out_and_sent_once_more() -> None:
    server, seen = await _target([(429, {"Retry-After": "0.2"}), (200, {})])
    try:
        async with Target(str(server.make_url(""))) as target:
            answer = await target.send(Request("GET", "/x"))
    finally:
        await server.close()
    assert answer.status == 200 and len(seen) == 2 and seen[1] - seen[0] >= 0.19


async def test_a_503_that_says_when_to_come_back_is_waited_out_too() -> None:
    server, seen = await _target([(503, {"Retry-After": "0"}), (200, {})])
    try:
        async with Target(str(server.make_url(""))) as target:
            assert (await target.send(Request("GET", "/x"))).status == 200
    finally:
        await server.close()
    assert len(seen) == 2


async def test_a_plain_503_is_the_answer() -> None:
    server, seen = await _target([(503, {}), (200, {})])
    try:
        async with Target(str(server.make_url(""))) as target:
            assert (await target.send(Request("GET", "/x"))).status == 503
    finally:
        await server.close()
    assert len(seen) == 1


async def test_a_second_429_is_the_answer() -> None:
    server, seen = await _target([(429, {"Retry-After": "0"})])
    try:
        async with Target(str(server.make_url(""))) as target:
            answer = await target.send(Request("GET", "/x"))
    finally:
        await server.close()
    assert answer.status == 429 and len(seen) == 2


async def test_a_target_that_is_not_there_is_one_line() -> None:
    async with Target("http://127.0.0.1:9") as target:
        with pytest.raises(Unreachable, match=r"^cannot reach http://127.0.0.1:9: connection refused$"):
            await target.send(Request("GET", "/x"))


def test_a_base_that_is_no_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        Target("ftp://x")


async def _raw_target(head: bytes, body: bytes) -> tuple[asyncio.Server, str]:
    """A server that writes one answer byte for byte: header names in its own case, repeated as it likes."""
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\n" + head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_repeated_headers_are_kept_and_content_type_is_read_in_any_case() -> None:
    head = (b"content-type: text/plain\r\nX-Seen: a\r\nx-seen: b\r\n"
            b"Set-Cookie: s=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT\r\nSet-Cookie: t=2\r\n")
    server, url = await _raw_target(head, b'{"looks": "like JSON"}')
    try:
        async with Target(url) as target:
            answer = await target.send(Request("GET", "/x"))
    finally:
        server.close()
        await server.wait_closed()
    assert answer.media == "text"
    assert answer.headers["X-Seen"] == "a, b"
    # a cookie's Expires has a comma of its own: cookies are kept apart, one a line
    assert answer.headers["Set-Cookie"] == "s=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT\nt=2"
    assert compare_header(answer.headers, "content-TYPE") == "text/plain"



def test_an_answer_reads_its_headers_by_name_in_any_case() -> None:
    """aiohttp's parser gives well-known names in their usual case; a name in any other case is read alike."""
    answer = answer_of(200, [("content-type", "text/plain"), ("x-seen", "a"), ("X-SEEN", "b")], b'{"a": 1}')
    assert answer.media == "text" and answer.headers == {"content-type": "text/plain", "x-seen": "a, b"}

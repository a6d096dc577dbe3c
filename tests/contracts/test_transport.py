"""verify's way to a target: the client-side limiter spaces requests, a 429 with Retry-After is waited out
and sent once more (only once), and a target that is not there is one line."""
from __future__ import annotations

import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.contracts.model import Request
from gateway.contracts.transport import Limiter, Target, Unreachable, parse_rate


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

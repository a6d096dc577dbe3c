"""A vendor sandbox names every dialect request it answers: an X-Request-Id on the answer (the client's
own, echoed, when it sent a sensible one; else one made for it) and the same id in its journal entry, so
a person holding a gateway's journal finds the vendor's side of each exchange."""
from __future__ import annotations

import base64
import itertools
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import process

MADE = re.compile(r"req-[0-9a-f]{16}")
IMONGGO = {"Authorization": "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode(),
           "Accept": "application/xml"}
MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    where: Path = tmp_path_factory.mktemp("request-id-vendor")
    server = process.start(["--port", "0", "--database", f"sqlite:///{where / 'vendor.db'}"], where)
    yield server
    server.stop()


@pytest.fixture
async def session(vendor: process.Server) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(vendor.url) as made:
        for path in ("/__admin/reset", "/__admin/faults"):
            async with made.request("POST" if path.endswith("reset") else "DELETE", path) as answer:
                assert answer.status < 300
        async with made.put("/__admin/rate-limits", json={"memberpoints": None}) as answer:
            assert answer.status < 300
        yield made


async def journal(session: aiohttp.ClientSession) -> list[dict[str, Any]]:
    async with session.get("/__admin/requests") as answer:
        return list(reversed((await answer.json())["requests"]))


async def ids_of(session: aiohttp.ClientSession, requests: list[tuple[str, str, dict[str, str]]]) -> list[str]:
    found = []
    for method, path, headers in requests:
        async with session.request(method, path, headers=headers) as answer:
            await answer.read()
            found.append(answer.headers.get("X-Request-Id", ""))
    return found


async def test_every_dialect_request_is_answered_with_its_own_id_and_journaled_under_it(
    session: aiohttp.ClientSession,
) -> None:
    answered = await ids_of(session, [
        ("GET", "/api/customers/1534.xml", IMONGGO),  # answered
        ("GET", "/api/customers/999999.xml", IMONGGO),  # refused by the dialect (404)
        ("GET", "/webapps/api/memberpointsbalances?mbr_id=1534", MEMBERPOINTS),
        ("GET", "/webapps/api/memberpointsbalances", {"apiID": "demo-api-id", "apiKey": "wrong"}),  # 401
        ("GET", "/loyalty/v1/accounts/balance?user_id=x", {}),  # pomelo without a token
        ("GET", "/api/no-such-thing.xml", IMONGGO),  # a path the dialect does not have
    ])
    assert all(MADE.fullmatch(found) for found in answered), answered
    assert len(set(answered)) == len(answered)
    assert [entry["request_id"] for entry in await journal(session)] == answered


async def test_a_clients_own_id_is_echoed_and_one_that_is_no_id_is_replaced(session: aiohttp.ClientSession) -> None:
    mine = "lg-0123456789abcdef"
    answered = await ids_of(session, [
        ("GET", "/api/customers/1534.xml", {**IMONGGO, "X-Request-Id": mine}),
        ("GET", "/api/customers/1534.xml", {**IMONGGO, "x-request-id": "gw/7f3a:2=+_."}),
        ("GET", "/api/customers/1534.xml", {**IMONGGO, "X-Request-Id": "two words"}),
        ("GET", "/api/customers/1534.xml", {**IMONGGO, "X-Request-Id": "x" * 129}),
        ("GET", "/api/customers/1534.xml", {**IMONGGO, "X-Request-Id": ""}),
    ])
    assert answered[:2] == [mine, "gw/7f3a:2=+_."]
    assert all(MADE.fullmatch(found) for found in answered[2:]), answered
    assert [entry["request_id"] for entry in await journal(session)] == answered


async def test_faults_and_the_rate_limit_answer_with_an_id_too(session: aiohttp.ClientSession) -> None:
    async with session.post("/__admin/faults", json={"dialect": "imonggo", "effect": "status", "status": 502,
                                                     "times": 1}) as answer:
        assert answer.status == 201
    async with session.put("/__admin/rate-limits", json={"memberpoints": {"limit": 1}}) as answer:
        assert answer.status < 300
    answered = await ids_of(session, [
        ("GET", "/api/customers/1534.xml", IMONGGO),  # the fault's 502
        ("GET", "/webapps/api/memberpointsbalances?mbr_id=1534", MEMBERPOINTS),
        ("GET", "/webapps/api/memberpointsbalances?mbr_id=1534", MEMBERPOINTS),  # 429
    ])
    entries = await journal(session)
    assert [e["status"] for e in entries] == [502, 200, 429]
    assert all(MADE.fullmatch(found) for found in answered) and [e["request_id"] for e in entries] == answered


def test_made_ids_never_repeat_even_when_the_counter_runs_out() -> None:
    from gateway.sandbox.pipeline import _RequestIds

    ids = _RequestIds()
    made = [ids.next() for _ in range(1000)]
    assert len(set(made)) == 1000 and all(MADE.fullmatch(i) for i in made)
    ids._count = itertools.count(0xFFFFFFFF)  # the last id this prefix can make, then a new prefix
    last, after = ids.next(), ids.next()
    assert last[4:12] != after[4:12] and after not in made and MADE.fullmatch(after)

"""Who may scrape: /__admin/metrics is guarded like every admin route. With an admin_token, only a caller
presenting it; without one, only local callers (a Host or Origin naming anything else is refused). Every
refusal in the admin API's JSON error shape, and no metric in it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests import process
from tests.metrics.scrape import CONTENT_TYPE, samples

pytestmark = pytest.mark.slow
TOKEN = "metrics-token-5e1f"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    folder = tmp_path_factory.mktemp("guarded")
    server = process.start(["--port", "0", "--database", f"sqlite:///{folder / 'g.db'}", "--admin-token", TOKEN],
                           cwd=folder)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    folder = tmp_path_factory.mktemp("local")
    server = process.start(["--port", "0", "--database", f"sqlite:///{folder / 'g.db'}"], cwd=folder)
    try:
        yield server
    finally:
        server.stop()


async def get(url: str, method: str = "GET", **headers: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, url, headers=headers) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.text()


def refused(status: int, content_type: str, text: str, expected: int) -> bool:
    import json

    return (status == expected and content_type.startswith("application/json")
            and json.loads(text)["error"]["status"] == expected and "loyalty_gateway_" not in text)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
async def test_without_the_admin_token_a_scrape_is_refused(guarded: process.Server, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert refused(*await get(f"{guarded.url}/__admin/metrics", **headers), 401)


async def test_with_the_admin_token_a_scrape_is_answered(guarded: process.Server) -> None:
    status, content_type, text = await get(f"{guarded.url}/__admin/metrics", Authorization=f"Bearer {TOKEN}")
    assert (status, content_type) == (200, CONTENT_TYPE)
    assert samples(text)[("loyalty_gateway_workers_reporting", ())] == 1


@pytest.mark.parametrize("headers", [
    {"Host": "metrics.example.com"},  # a DNS-rebound name
    {"Host": "192.0.2.10:8080"},  # a non-loopback address
    {"Origin": "http://evil.example"},  # a web page's request
])
async def test_without_a_token_only_local_callers_may_scrape(local_only: process.Server, headers: dict[str, str]) -> None:
    assert refused(*await get(f"{local_only.url}/__admin/metrics", **headers), 403)


async def test_a_local_caller_may_scrape_without_a_token(local_only: process.Server) -> None:
    status, content_type, _ = await get(f"{local_only.url}/__admin/metrics", Origin="http://127.0.0.1:3000")
    assert (status, content_type) == (200, CONTENT_TYPE)


async def test_a_scrape_is_a_get(local_only: process.Server) -> None:
    assert refused(*await get(f"{local_only.url}/__admin/metrics", "POST"), 405)


def test_a_server_on_a_public_address_without_a_token_does_not_start(tmp_path: Path) -> None:
    done = process.run(["serve", "--host", "0.0.0.0", "--port", "0", "--database", f"sqlite:///{tmp_path / 'g.db'}"],
                       tmp_path)
    assert done.returncode != 0 and "admin_token" in done.stderr

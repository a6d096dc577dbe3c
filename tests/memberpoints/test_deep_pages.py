"""Deep pages over HTTP: a jump to any offset of GET memberpointsbalances and GET memberpoints (with and
without filters) gives exactly the rows a walk from the start gives there; offsets past the end are an empty
page; offsets that are not whole numbers are the dialect's 400 naming `offset`, on both endpoints."""
from __future__ import annotations

import random

import pytest
from aiohttp.test_utils import TestClient

from tests.support import ClientFactory

from .helpers import BALANCES, POINTS, get, headers, tenant_spec

# Member numbers cross the boundaries of the listing counts' ranges (256 and 65,536 keys).
NUMBERS = [n * 301 for n in range(1, 260)]


@pytest.fixture
async def client(app_client: ClientFactory) -> TestClient:
    ours = [{"mbr_id": n, "customer_id": n, "name": f"M{n}", "balances": {"points": f"{n % 97 + 1}.25"}} for n in NUMBERS]
    theirs = [{"mbr_id": n, "customer_id": n, "name": f"O{n}", "balances": {"points": "1"}} for n in range(1, 400, 3)]
    return await app_client({"tenants": [tenant_spec("ours", "ours", 101, ours), tenant_spec("theirs", "theirs", 202, theirs)]})


async def walk(client: TestClient, path: str, **filters: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    while True:
        status, body = await get(client, path, auth=headers("ours"), offset=len(rows), pageSize=200, **filters)
        assert status == 200
        rows.extend(body["data"])
        if body["resultCount"] < 200:
            return rows


@pytest.mark.parametrize(
    ("path", "filters"),
    [(BALANCES, {}), (POINTS, {}), (POINTS, {"after": "01/01/2000"}), (POINTS, {"mbr_id": str(NUMBERS[3])})],
    ids=["balances", "history", "history after a date", "history of one member"],
)
async def test_a_jump_to_any_offset_equals_the_walk(client: TestClient, path: str, filters: dict[str, str]) -> None:
    whole = await walk(client, path, **filters)
    assert len(whole) == (1 if "mbr_id" in filters else len(NUMBERS))
    rng = random.Random(5)
    for offset in [0, 1, 255, 256, len(whole) - 1, len(whole), *rng.sample(range(len(whole)), min(12, len(whole)))]:
        size = rng.choice([1, 7, 200])
        status, body = await get(client, path, auth=headers("ours"), offset=offset, pageSize=size, **filters)
        assert status == 200 and body["offset"] == offset
        assert body["data"] == whole[offset : offset + size], offset


@pytest.mark.parametrize("path", [BALANCES, POINTS])
async def test_an_offset_past_the_end_is_an_empty_page(client: TestClient, path: str) -> None:
    for offset in (len(NUMBERS), len(NUMBERS) + 1, 10**17):
        status, body = await get(client, path, auth=headers("ours"), offset=offset)
        assert status == 200 and body["data"] == [] and body["resultCount"] == 0 and body["offset"] == offset


@pytest.mark.parametrize("path", [BALANCES, POINTS])
@pytest.mark.parametrize("offset", ["-1", "abc", "1.5", "1e3", "", "9" * 19])
async def test_an_offset_that_is_not_a_whole_number_is_400_naming_it(client: TestClient, path: str, offset: str) -> None:
    status, body = await get(client, path, auth=headers("ours"), offset=offset)
    assert status == 400 and body["success"] is False and "offset" in body["message"]

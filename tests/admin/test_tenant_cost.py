"""Creating a tenant costs the same however many tenants exist: `POST /__admin/tenants` reads and writes
the same number of rows with 2 tenants in the store as with 22 (bench/tenant_creation.py times it)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import gateway.app
from gateway.keys import LEDGER
from tests.support import ClientFactory


@dataclass
class Tally:
    statements: int = 0
    rows: int = 0


class CountingTx:
    """A transaction that counts the statements run through it and the rows they returned."""

    def __init__(self, tx: Any, tally: Tally) -> None:
        self._tx, self._tally = tx, tally

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    async def execute(self, sql: str, params: Any = ()) -> Any:
        self._tally.statements += 1
        return await self._tx.execute(sql, params)

    async def fetchone(self, sql: str, params: Any = ()) -> Any:
        self._tally.statements += 1
        row = await self._tx.fetchone(sql, params)
        self._tally.rows += row is not None
        return row

    async def fetchval(self, sql: str, params: Any = ()) -> Any:
        self._tally.statements += 1
        self._tally.rows += 1
        return await self._tx.fetchval(sql, params)

    async def fetchall(self, sql: str, params: Any = ()) -> Any:
        self._tally.statements += 1
        rows = await self._tx.fetchall(sql, params)
        self._tally.rows += len(rows)
        return rows


def count_store_work(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Tally:
    store = client.app[LEDGER].store
    tally = Tally()
    read, write = store.read, store.write

    def counted(work: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        return lambda tx: work(CountingTx(tx, tally))

    monkeypatch.setattr(store, "read", lambda work, **kw: read(counted(work), **kw))
    monkeypatch.setattr(store, "write", lambda work, **kw: write(counted(work), **kw))
    return tally


async def no_delivery(app: web.Application) -> AsyncIterator[None]:
    yield


async def create(client: TestClient, tally: Tally) -> Tally:
    await client.app[LEDGER].reload_tenants()  # so no once-a-second refresh falls inside the creation
    before = Tally(tally.statements, tally.rows)
    response = await client.post("/__admin/tenants", json={})
    assert response.status == 201, await response.text()
    return Tally(tally.statements - before.statements, tally.rows - before.rows)


async def test_creating_a_tenant_touches_as_many_rows_at_22_tenants_as_at_2(
    app_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without webhook delivery: it reads and writes through the same store in the background, more so as
    # tenants (and their events) pile up, and is not what creating a tenant costs.
    monkeypatch.setattr(gateway.app, "delivery_context", no_delivery)
    client = await app_client()
    tally = count_store_work(client, monkeypatch)
    await create(client, tally)
    # The least of three, in case anything else touches the store meanwhile.
    at_three = min([await create(client, tally) for _ in range(3)], key=lambda t: (t.rows, t.statements))
    for _ in range(17):
        await create(client, tally)
    at_many = min([await create(client, tally) for _ in range(3)], key=lambda t: (t.rows, t.statements))
    assert len(await client.app[LEDGER].tenants()) == 25
    assert at_many == at_three


async def test_a_tenant_made_by_another_instance_is_found_here(
    app_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await app_client(), await app_client(scenario="none")
    response = await first.post("/__admin/tenants", json={"name": "job-7"})
    assert response.status == 201
    made = await response.json()
    second.app[LEDGER]._tenants_loaded_at -= 2  # a second has passed since it last looked
    listed = await (await second.get("/__admin/tenants")).json()
    assert "job-7" in {t["name"] for t in listed["tenants"]}
    found = await second.app[LEDGER].authenticate(scheme="imonggo", principal=made["imonggo"]["api_token"])
    assert found is not None and found.name == "job-7"
    assert (await second.delete("/__admin/tenants/job-7")).status == 200
    first.app[LEDGER]._tenants_loaded_at -= 2
    assert await first.app[LEDGER].authenticate(scheme="imonggo", principal=made["imonggo"]["api_token"]) is None

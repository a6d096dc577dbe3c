"""How much store work each hot request does, pinned: transactions and statements counted through the
store's observer while a real request runs through the whole application, on every store. A statement
added back to one of these paths (a second read of an account, a re-select after INSERT ... RETURNING, a
request's own read of the tenant epoch, a second read transaction) fails here."""
from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway import delivery
from gateway.upstream import shadow
from gateway.keys import LEDGER
from gateway.ledger import Asset, By, Identity

BASIC = {"Authorization": "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode()}
MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


@dataclass
class Work:
    """What one request asked of the store: its units of work by kind and every statement they ran."""

    events: list[tuple[str, str]] = field(default_factory=list)

    def units(self, kind: str) -> int:
        return sum(1 for k, sql in self.events if k == kind and sql == "BEGIN")

    def statements(self, kind: str) -> list[str]:
        return [" ".join(sql.split()) for k, sql in self.events if k == kind and sql != "BEGIN"]


@contextmanager
def counting(client: TestClient) -> Iterator[Work]:
    store = client.app[LEDGER].store
    seen = Work()
    store.observer = lambda kind, sql: seen.events.append((kind, sql))
    try:
        yield seen
    finally:
        store.observer = None


@pytest.fixture
async def client(app_client: Any, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    async def idle(self: object) -> None:  # webhook delivery and shadow writes poll the store on their own schedule
        await asyncio.Event().wait()

    monkeypatch.setattr(delivery.Deliverer, "run", idle)
    monkeypatch.setattr(shadow.ShadowSender, "run", idle)
    return await app_client("demo")


async def pomelo_token(client: TestClient) -> dict[str, str]:
    body = {"client_id": "demo-client-id", "client_secret": "demo-client-secret",
            "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}
    response = await client.post("/oauth/token", json=body)
    assert response.status == 200, await response.text()
    return {"Authorization": "Bearer " + (await response.json())["access_token"]}


async def twice(client: TestClient, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Work:
    """The second of two like requests (the first warms the caches a running server has warm)."""
    for attempt in (1, 2):
        if attempt == 2:
            # Each process reads the tenant epoch once a second, whatever the traffic (never once per
            # request); reloaded now, so that read does not fall inside the request counted.
            await client.app[LEDGER].reload_tenants()
            with counting(client) as work:
                response = await client.request(method, path, headers=headers, **kwargs)
                assert response.status == 200, await response.text()
            return work
        response = await client.request(method, path, headers=headers, **kwargs)
        assert response.status == 200, await response.text()
    raise AssertionError("unreachable")


async def test_imonggo_customer_get_is_one_read_of_three_statements(client: TestClient) -> None:
    work = await twice(client, "GET", "/api/customers/1534.xml", BASIC)
    assert (work.units("read"), work.units("write")) == (1, 0), work.events
    member, accounts, programme = work.statements("read")
    assert "FROM members m LEFT JOIN cards" in member  # the member with its cards, one statement
    assert "FROM accounts" in accounts and "FROM programmes" in programme


async def test_memberpoints_balances_get_is_one_read(client: TestClient) -> None:
    work = await twice(client, "GET", "/webapps/api/memberpointsbalances", MEMBERPOINTS)
    assert (work.units("read"), work.units("write")) == (1, 0), work.events
    assert len(work.statements("read")) == 2, work.statements("read")  # the page (deep ones found from listing counts), cards
    assert not any("tenant_epoch" in s for s in work.statements("read"))


async def test_pomelo_balance_get_is_the_token_check_and_one_read(client: TestClient) -> None:
    # The bearer token is checked in a read of its own by the dialect's auth step before the handler
    # runs (a revocation through any instance must count at once, so it is not cached); the balance
    # itself is one read: the member by card with its cards, then its accounts.
    bearer = await pomelo_token(client)
    work = await twice(client, "GET", f"/loyalty/v1/accounts/balance?card_id={CARD}", bearer)
    assert (work.units("read"), work.units("write")) == (2, 0), work.events
    token, member, accounts = work.statements("read")
    assert "FROM access_grants" in token and "LEFT JOIN cards" in member and "FROM accounts" in accounts


def _write_shape(work: Work) -> list[str]:
    """Each write statement by its verb and table, in order."""
    shape = []
    for sql in work.statements("write"):
        words = sql.split()
        if words[0] == "SELECT":
            shape.append("SELECT " + words[words.index("FROM") + 1])
        elif words[0] == "UPDATE":
            shape.append("UPDATE " + words[1])
        else:
            shape.append("INSERT " + words[2])
    return shape


async def test_imonggo_spend_checks_and_moves_the_account_in_one_statement_and_never_reselects_its_entry(client: TestClient) -> None:
    work = await twice(client, "POST", "/api/rewards.xml?q=spend&customer_id=1534&amount=1", BASIC)
    assert (work.units("read"), work.units("write")) == (0, 1), work.events
    assert _write_shape(work) == [
        "SELECT members",  # with its cards
        "SELECT programmes",  # the spend ratio
        "UPDATE accounts",  # only if the balance covers it, RETURNING the account as moved
        "UPDATE members",  # its updated_at
        "INSERT entries",  # RETURNING the entry as stored
        "INSERT outbox",
    ]


async def test_memberpoints_adjustment_is_five_statements(client: TestClient) -> None:
    body = {"mbr_id": 442531, "adjustpoints": 1, "adjustmentnote": "counted"}
    work = await twice(client, "POST", "/webapps/api/memberpoints", MEMBERPOINTS, json=body)
    assert (work.units("read"), work.units("write")) == (0, 1), work.events
    assert _write_shape(work) == ["SELECT members", "UPDATE accounts", "UPDATE members", "INSERT entries", "INSERT outbox"]


async def test_a_spend_the_balance_does_not_cover_reads_the_account_to_say_so_and_moves_nothing(
    client: TestClient,
) -> None:
    await client.app[LEDGER].reload_tenants()
    with counting(client) as work:
        response = await client.post("/api/rewards.xml?q=spend&customer_id=1534&amount=99999999", headers=BASIC)
    assert response.status == 422, await response.text()
    assert _write_shape(work) == ["SELECT members", "SELECT programmes", "UPDATE accounts", "SELECT accounts"]
    ledger = client.app[LEDGER]
    balance = await ledger.balance(tenant=await ledger.tenant("demo"), member=By(Identity.CUSTOMER_NO, 1534))
    assert balance[Asset.POINTS].posted == Decimal("30511.00")  # nothing moved

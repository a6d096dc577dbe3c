"""The tests' own till clients: concurrent first calls on one pomelo client each carry their own idempotency
key (the key is chosen after the token is awaited, so a call waiting for it cannot take another's)."""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from tests.gateway_mode import dialects
from tests.gateway_mode.dialects import Answer, Person, Pomelo

CREDENTIALS = {"pomelo": {"client_id": "c", "client_secret": "s"}}


async def test_concurrent_first_moves_on_one_pomelo_client_send_distinct_keys(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    tokens_fetched: list[str] = []

    async def fake_call(session: Any, method: str, url: str, **kw: Any) -> Answer:
        if url.endswith("/oauth/token"):
            tokens_fetched.append(url)
            for _ in range(3):  # the token takes a while: the other calls start meanwhile
                await asyncio.sleep(0)
            return Answer(200, {}, '{"access_token": "t"}')
        sent.append(kw["headers"]["x-idempotency-key"])
        return Answer(200, {}, '{"updated_balance": 0}')

    monkeypatch.setattr(dialects, "call", fake_call)
    till = Pomelo(None, "http://vendor", CREDENTIALS)  # type: ignore[arg-type]
    who = Person(customer_id=1, mbr_id=1, user_id="u1")
    await asyncio.gather(*(till.credit(who, Decimal(1)) for _ in range(5)))
    assert len(sent) == 5 and len(set(sent)) == 5, sent
    assert len(tokens_fetched) == 1  # one token for the client, however many calls wait for it

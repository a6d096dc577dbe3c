"""A write's JSON body is parsed once per request: the documents' check (check_request) parses it and keeps
it on the request, and the handler reads that (common.parsed_json), in every dialect."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from contract_tests.imonggo.shapes import TOKEN, basic
from contract_tests.pomelo.helpers import CARD, bearer
from gateway.dialects import common
from tests.memberpoints.helpers import DEMO, POINTS
from tests.support import ClientFactory


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every text json.loads reads with Decimals (as parse_json does), wherever it is called from: the store
    reads its own JSON so too, so a test counts the parses of the body it sent (times_parsed)."""
    seen: list[Any] = []
    real = json.loads

    def counted(raw: Any, **kwargs: Any) -> Any:
        if kwargs.get("parse_float") is Decimal:
            seen.append(raw)
        return real(raw, **kwargs)

    monkeypatch.setattr(common.json, "loads", counted)
    return seen


def times_parsed(parses: list[Any], body: str) -> int:
    return sum(1 for raw in parses if (raw.decode() if isinstance(raw, bytes) else raw) == body)


async def test_a_pomelo_mint_parses_its_body_once(app_client: ClientFactory, parses: list[Any]) -> None:
    client = await app_client("demo")
    auth = {**await bearer(client), "x-idempotency-key": "once-1"}
    body = json.dumps({"amount": "2", "reason": "r", "card_id": CARD})
    minted = await client.post("/loyalty/v1/accounts/points/mint", headers=auth, data=body)
    assert minted.status == 200, await minted.text()
    assert times_parsed(parses, body) == 1


async def test_a_memberpoints_adjustment_parses_its_body_once(app_client: ClientFactory, parses: list[Any]) -> None:
    client = await app_client("demo")
    body = json.dumps({"mbr_id": 1534, "adjustpoints": -11, "adjustmentnote": "Product refund through points"})
    for data in (body, {"data": body}):  # raw JSON, and the JSON as a form field
        parses.clear()
        saved = await client.post(POINTS, headers=DEMO, data=data)
        assert saved.status == 200, await saved.text()
        assert times_parsed(parses, body) == 1


async def test_an_imonggo_json_customer_parses_its_body_once(app_client: ClientFactory, parses: list[Any]) -> None:
    client = await app_client("demo")
    body = json.dumps({"customer": {"name": "Once", "email": "once@example.com"}})
    created = await client.post("/api/customers.json", headers={**basic(TOKEN), "Content-Type": "application/json"},
                                data=body)
    assert created.status == 201, await created.text()
    assert times_parsed(parses, body) == 1

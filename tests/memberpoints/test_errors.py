"""Every bad request gets the error envelope {"endPoint", "success": false, "message"} with its status, and
nothing is applied: 400 bad parameter or body, 401 auth, 404 unknown id or path, 405 other verbs."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gateway.dialects.common import missing_from
from gateway.dialects.memberpoints.errors import ERRORS
from gateway.ledger import HistoryQuery
from tests.support import ClientFactory

from .helpers import BALANCES, DEMO, POINTS, demo_tenant, ledger_of


def test_every_ledger_error_has_a_row_in_the_table() -> None:
    assert missing_from(ERRORS) == []


def envelope(body: Any, end_point: str = "memberpoints") -> str:
    assert list(body) == ["endPoint", "success", "message"]
    assert body["endPoint"] == end_point and body["success"] is False and body["message"]
    return str(body["message"])


@pytest.mark.parametrize("path", [POINTS, BALANCES, POINTS + "/", "/webapps/api/nothing-here"])
@pytest.mark.parametrize(
    "auth", [{}, {"apiID": "demo-api-id"}, {"apiID": "demo-api-id", "apiKey": "wrong"}, {"apiID": "x", "apiKey": "demo-api-key"}]
)
async def test_missing_or_wrong_credentials_are_401_on_every_route(
    app_client: ClientFactory, path: str, auth: dict[str, str]
) -> None:
    client = await app_client()
    for method in ("GET", "POST", "DELETE"):
        response = await client.request(method, path, headers=auth, json={"mbr_id": 442531, "adjustpoints": 1})
        assert response.status == 401
        envelope(await response.json(), path.rstrip("/").rsplit("/", 1)[-1])


async def test_header_names_are_case_insensitive(app_client: ClientFactory) -> None:
    client = await app_client()
    response = await client.get(BALANCES, headers={"APIID": "demo-api-id", "apikey": "demo-api-key"})
    assert response.status == 200


BAD_GETS = [
    (POINTS, {"matchType": "~", "adjustdate": "01/01/2021"}, "matchType"),
    (POINTS, {"adjustdate": "2021-13-01"}, "adjustdate"),
    (POINTS, {"adjustdate": "31/02/2021"}, "adjustdate"),
    (POINTS, {"adjustdate": "yesterday"}, "adjustdate"),
    (POINTS, {"adjustdate": "abc", "matchType": "like"}, "adjustdate"),
    (POINTS, {"before": "2021/01/01"}, "before"),
    (POINTS, {"after": "13/13/2021"}, "after"),
    (POINTS, {"includeOrders": "1"}, "mbr_id"),
    (POINTS, {"includeOrders": "yes", "mbr_id": "442531"}, "includeOrders"),
    (POINTS, {"mbr_id": "abc"}, "mbr_id"),
    (POINTS, {"id": "-1"}, "id"),
    (POINTS, {"adjustmentnote": "x", "matchType": ">"}, "matchType"),
    (POINTS, {"offset": "-1"}, "offset"),
    (BALANCES, {"pageSize": "0"}, "pageSize"),
    (BALANCES, {"pageSize": "ten"}, "pageSize"),
    (BALANCES, {"mbr_id": "1.5"}, "mbr_id"),
]


@pytest.mark.parametrize(("path", "params", "named"), BAD_GETS, ids=[f"{p[1]}" for p in BAD_GETS])
async def test_bad_parameters_are_400_naming_the_parameter(
    app_client: ClientFactory, path: str, params: dict[str, str], named: str
) -> None:
    client = await app_client()
    response = await client.get(path, headers=DEMO, params=params)
    assert response.status == 400
    assert named in envelope(await response.json(), path.rsplit("/", 1)[-1])


BAD_POSTS: list[tuple[str, Any, int, str]] = [
    ("malformed JSON", '{"mbr_id": 442531,', 400, "JSON"),
    ("empty body", "", 400, "empty"),
    ("an array", '[{"mbr_id": 442531, "adjustpoints": 1}]', 400, "one JSON object"),
    ("non-numeric points", '{"mbr_id": 442531, "adjustpoints": "ten"}', 400, "adjustpoints"),
    ("over-precise points", '{"mbr_id": 442531, "adjustpoints": 1.005}', 400, "adjustpoints"),
    ("boolean points", '{"mbr_id": 442531, "adjustpoints": true}', 400, "adjustpoints"),
    ("NaN points", '{"mbr_id": 442531, "adjustpoints": NaN}', 400, "JSON"),
    ("huge points", '{"mbr_id": 442531, "adjustpoints": 1e400}', 400, "adjustpoints"),
    ("no points", '{"mbr_id": 442531}', 400, "adjustpoints"),
    ("no member", '{"adjustpoints": 1}', 400, "mbr_id"),
    ("unknown member", '{"mbr_id": 999, "adjustpoints": 1}', 400, "Member not found"),
    ("unknown email", '{"mbr_email": "nobody@example.com", "adjustpoints": 1}', 400, "Member not found"),
    ("bad email", '{"mbr_email": 12, "adjustpoints": 1}', 400, "mbr_email"),
    ("mbr_id text", '{"mbr_id": "abc", "adjustpoints": 1}', 400, "mbr_id"),
    # ids are read as every dialect reads them: up to the stores' largest integer, 999.0 as 999, digit strings too
    ("largest id", '{"mbr_id": 9223372036854775807, "adjustpoints": 1}', 400, "Member not found"),
    ("largest id as text", '{"mbr_id": "9223372036854775807", "adjustpoints": 1}', 400, "Member not found"),
    ("whole id written 999.0", '{"mbr_id": 999.0, "adjustpoints": 1}', 400, "Member not found"),
    ("id past the largest", '{"mbr_id": 9223372036854775808, "adjustpoints": 1}', 400, "mbr_id"),
    ("id with a fraction", '{"mbr_id": 442531.5, "adjustpoints": 1}', 400, "mbr_id"),
    ("id in other digits", '{"mbr_id": "\u0664\u0664", "adjustpoints": 1}', 400, "mbr_id"),
    ("bad date", '{"mbr_id": 442531, "adjustpoints": 1, "adjustdate": "12/31/2021"}', 400, "adjustdate"),
    ("note not text", '{"mbr_id": 442531, "adjustpoints": 1, "adjustmentnote": 5}', 400, "adjustmentnote"),
    ("below zero", '{"mbr_id": 442531, "adjustpoints": -120.01}', 400, "below zero"),
    ("unknown id", '{"id": 999999, "adjustpoints": 1}', 404, "not found"),
    ("id mismatch", '{"id": 1, "pointsadjustid": 2, "adjustpoints": 1}', 400, "different"),
    ("data field not JSON", None, 400, "JSON"),
]


@pytest.mark.parametrize(("case", "body", "status", "says"), BAD_POSTS, ids=[c[0] for c in BAD_POSTS])
async def test_bad_bodies_are_refused_and_nothing_is_applied(
    app_client: ClientFactory, case: str, body: str | None, status: int, says: str
) -> None:
    client = await app_client()
    ledger, tenant = ledger_of(client), await demo_tenant(client)
    before = await ledger.count_history(tenant=tenant, query=HistoryQuery(records_only=False))
    if body is None:
        response = await client.post(POINTS, headers=DEMO, data={"data": "{not json"})
    else:
        response = await client.post(POINTS, headers={**DEMO, "Content-Type": "application/json"}, data=body)
    assert response.status == status
    assert says.lower() in envelope(await response.json()).lower()
    assert await ledger.count_history(tenant=tenant, query=HistoryQuery(records_only=False)) == before
    rows = (await ledger.balances(tenant=tenant)).items
    assert [r.balance for r in rows] == [Decimal("30511.00"), Decimal("120.00"), Decimal("50.00")]


@pytest.mark.parametrize(("method", "path"), [("PUT", POINTS), ("DELETE", POINTS), ("PATCH", POINTS), ("POST", BALANCES), ("DELETE", BALANCES)])
async def test_other_verbs_are_405(app_client: ClientFactory, method: str, path: str) -> None:
    client = await app_client()
    response = await client.request(method, path, headers=DEMO)
    assert response.status == 405 and "GET" in response.headers["Allow"]
    assert envelope(await response.json(), path.rsplit("/", 1)[-1]) == "Method Not Allowed"


async def test_an_unknown_endpoint_is_404_in_the_envelope(app_client: ClientFactory) -> None:
    client = await app_client()
    response = await client.get("/webapps/api/nothing-here", headers=DEMO)
    assert response.status == 404 and envelope(await response.json(), "nothing-here") == "Not Found"


async def test_a_body_over_the_limit_is_413_in_the_envelope(app_client: ClientFactory) -> None:
    client = await app_client(max_body_bytes=1024)
    note = "x" * 2000
    response = await client.post(POINTS, headers=DEMO, json={"mbr_id": 442531, "adjustpoints": 1, "adjustmentnote": note})
    assert response.status == 413
    assert envelope(await response.json()) == "Request body is too large"


async def test_an_id_of_another_account_type_is_not_an_adjustment_here(app_client: ClientFactory) -> None:
    from gateway.ledger import Asset, By, Identity

    client = await app_client()
    ledger, tenant = ledger_of(client), await demo_tenant(client)
    cashback = await ledger.credit(tenant=tenant, member=By(Identity.MEMBER_NO, 1534), amount=Decimal("50"),
                                   asset=Asset.CASHBACK)
    response = await client.post(POINTS, headers=DEMO, json={"id": cashback.entry.id, "adjustpoints": 1000})
    assert response.status == 404
    envelope(await response.json())
    balance = await ledger.balance(tenant=tenant, member=By(Identity.MEMBER_NO, 1534))
    assert balance[Asset.CASHBACK].posted == Decimal("50.00")

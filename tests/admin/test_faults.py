"""Fault injection through real HTTP: rules are added, listed with their hit counts and removed; each
effect (latency, a status in the dialect's error shape, an empty reply, a dropped connection) happens;
and a faulted write either did not happen (fault before the handler) or is visible afterwards (fault
after it), with the journal saying which."""
from __future__ import annotations

import random
import time

import aiohttp
import pytest

from gateway.keys import SANDBOX
from tests.admin.real import imonggo_auth, points, read, write


async def add(client, **rule) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post("/__admin/faults", json=rule)
    assert response.status == 201, await response.text()
    return await response.json()  # type: ignore[no-any-return]


async def last_request(client, path: str) -> dict:  # type: ignore[no-untyped-def]
    body = await (await client.get("/__admin/requests", params={"path": path})).json()
    return body["requests"][0]  # type: ignore[no-any-return]


async def test_a_status_fault_before_the_handler_writes_nothing_and_the_journal_says_so(sandbox_client) -> None:
    client = await sandbox_client()
    rule = await add(client, effect="status", status=503, dialect="imonggo", method="POST", path="/api/rewards*",
                     message="Service down for maintenance")
    assert rule["id"].startswith("flt-") and rule["hits"] == 0

    response = await client.post("/api/rewards.xml?q=spend&customer_id=1534&amount=10", headers=imonggo_auth())
    assert response.status == 503
    assert "<errors>\n  <error>Service down for maintenance</error>\n</errors>" in await response.text()  # imonggo's
    assert await points(client) == "30511.00"

    entry = await last_request(client, "/api/rewards.xml")
    assert entry["status"] == 503 and entry["outcome"] == "fault_status" and entry["tenant"] == "demo"
    assert entry["fault"] == {"id": rule["id"], "effect": "status", "when": "before", "status": 503,
                              "handler_ran": False, "handler_status": None}


async def test_a_status_fault_after_the_handler_leaves_the_write_visible_and_the_journal_says_so(sandbox_client) -> None:
    client = await sandbox_client()
    await add(client, effect="status", status=500, when="after", dialect="memberpoints", method="POST")
    response = await write(client, "memberpoints", "10")
    assert response.status == 500
    assert await points(client) == "30521.00"  # the client saw an error, yet the credit is there

    entry = await last_request(client, "/webapps/api/memberpoints")
    assert entry["fault"]["handler_ran"] is True and entry["fault"]["handler_status"] == 200
    assert (await (await client.get("/__admin/audit")).json())["ok"] is True


async def test_a_status_fault_answers_in_the_dialects_own_error_shape(sandbox_client) -> None:
    # (Every dialect has its renderer in its descriptor: there is no plain-JSON fallback any more.)
    client = await sandbox_client()
    await add(client, effect="status", status=502, dialect="memberpoints", code="UPSTREAM")
    response = await read(client, "memberpoints")
    assert response.status == 502
    assert await response.json() == {"endPoint": "memberpointsbalances", "success": False, "message": "Bad Gateway"}
    await add(client, effect="status", status=502, dialect="pomelo", code="UPSTREAM")
    response = await read(client, "pomelo")
    assert response.status == 502
    assert await response.json() == {"error": {"error_code": "UPSTREAM", "details": [
        {"code": "UPSTREAM", "detail": "Bad Gateway"}]}}


async def test_faults_strike_only_once_the_dialect_has_named_the_tenant(sandbox_client) -> None:
    # The pipeline identifies the tenant before the fault step: wrong credentials get the dialect's own
    # refusal, never the fault; and an after-fault's journal entry names the tenant.
    client = await sandbox_client()
    await add(client, effect="status", status=503, dialect="imonggo")
    response = await read(client, "imonggo", headers=imonggo_auth("wrong"))
    assert response.status == 401 and await response.text() == "HTTP Basic: Access denied."
    await add(client, effect="status", status=500, when="after", dialect="pomelo")
    response = await write(client, "pomelo", "5")
    assert response.status == 500 and await points(client) == "30516.00"
    assert (await last_request(client, "/loyalty/"))["tenant"] == "demo"


async def test_times_limits_the_hits_and_the_listing_counts_them(sandbox_client) -> None:
    client = await sandbox_client()
    rule = await add(client, effect="status", status=429, dialect="memberpoints", times=2)
    statuses = [(await read(client, "memberpoints")).status for _ in range(3)]
    assert statuses == [429, 429, 200]
    [listed] = (await (await client.get("/__admin/faults")).json())["faults"]
    assert (listed["id"], listed["hits"], listed["exhausted"]) == (rule["id"], 2, True)


async def test_probability_fires_on_about_that_share_of_requests(sandbox_client) -> None:
    client = await sandbox_client()
    client.app[SANDBOX].faults.random = random.Random(42)
    await add(client, effect="status", status=503, dialect="pomelo", probability=0.5)
    statuses = [(await read(client, "pomelo")).status for _ in range(40)]
    assert 10 <= statuses.count(503) <= 30 and statuses.count(200) == 40 - statuses.count(503)
    [listed] = (await (await client.get("/__admin/faults")).json())["faults"]
    assert listed["matched"] == 40 and listed["hits"] == statuses.count(503)


async def test_a_rule_for_one_tenant_spares_the_others(sandbox_client) -> None:
    client = await sandbox_client()
    other = await (await client.post("/__admin/tenants", json={"name": "other"})).json()
    await add(client, effect="status", status=503, tenant="other")
    assert (await read(client, "imonggo")).status == 200
    assert (await read(client, "imonggo", other)).status == 503


async def test_fixed_and_random_latency_delay_the_answer(sandbox_client) -> None:
    client = await sandbox_client()
    await add(client, effect="latency", latency_ms=150, dialect="imonggo", times=1)
    headers = imonggo_auth()
    started = time.perf_counter()
    assert (await read(client, "imonggo", headers=headers)).status == 200
    assert time.perf_counter() - started >= 0.15
    await add(client, effect="latency", latency_ms=50, latency_max_ms=120, when="after", dialect="imonggo")
    started = time.perf_counter()
    assert (await read(client, "imonggo", headers=headers)).status == 200
    assert 0.05 <= time.perf_counter() - started
    entry = await last_request(client, "/api/customers/")
    assert entry["duration_ms"] >= 50 and entry["fault"]["effect"] == "latency" and entry["outcome"] == "answered"


async def test_an_empty_reply_closes_the_connection_without_a_byte(sandbox_client) -> None:
    client = await sandbox_client()
    await add(client, effect="empty", dialect="memberpoints", method="POST")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await write(client, "memberpoints", "10", note="empty")
    assert await points(client) == "30511.00"
    entry = await last_request(client, "/webapps/api/memberpoints")
    assert entry["status"] is None and entry["outcome"] == "empty_reply" and entry["fault"]["handler_ran"] is False
    assert entry["request_body"]["text"] == '{"mbr_id": 1534, "adjustpoints": 10, "adjustmentnote": "empty"}'


async def test_a_dropped_connection_after_the_write_leaves_it_committed(sandbox_client) -> None:
    client = await sandbox_client()
    await add(client, effect="drop", when="after", dialect="imonggo", method="POST")
    with pytest.raises(aiohttp.ClientOSError):
        await write(client, "imonggo", "10")
    assert await points(client) == "28511.00"  # 10.00 of value spent: 2,000 points
    entry = await last_request(client, "/api/rewards.json")
    assert entry["outcome"] == "dropped" and entry["fault"]["handler_ran"] is True


async def test_rules_are_removed_one_by_one_or_all_at_once(sandbox_client) -> None:
    client = await sandbox_client()
    first = await add(client, effect="empty", dialect="imonggo")
    await add(client, effect="drop", dialect="pomelo")
    response = await client.delete(f"/__admin/faults/{first['id']}")
    assert await response.json() == {"removed": 1}
    assert (await read(client, "imonggo")).status == 200
    response = await client.delete(f"/__admin/faults/{first['id']}")
    assert response.status == 404
    assert await response.json() == {"error": {"status": 404, "message": f"no fault rule {first['id']}"}}
    assert await (await client.delete("/__admin/faults")).json() == {"removed": 1}
    assert await (await client.get("/__admin/faults")).json() == {"faults": []}


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        pytest.param({}, "effect must be one of", id="no-effect"),
        pytest.param({"effect": "explode"}, "effect must be one of", id="unknown-effect"),
        pytest.param({"effect": "status", "status": 200}, "status must be a whole number from 400 to 599", id="status-200"),
        pytest.param({"effect": "latency"}, "needs latency_ms", id="latency-without-ms"),
        pytest.param({"effect": "latency", "latency_ms": 100, "latency_max_ms": 50}, "latency_max_ms", id="max-below-min"),
        pytest.param({"effect": "drop", "probability": 0}, "probability must be", id="probability-0"),
        pytest.param({"effect": "drop", "times": 0}, "times must be", id="times-0"),
        pytest.param({"effect": "drop", "dialect": "soap"}, "dialect must be one of", id="unknown-dialect"),
        pytest.param({"effect": "drop", "when": "during"}, "when must be before or after", id="unknown-when"),
        pytest.param({"effect": "drop", "path": "api"}, "path must be a glob", id="relative-path"),
        pytest.param({"effect": "drop", "colour": "red"}, "unknown field 'colour'", id="unknown-field"),
    ],
)
async def test_a_bad_rule_is_refused_with_the_field_named(sandbox_client, rule: dict, words: str) -> None:
    client = await sandbox_client()
    response = await client.post("/__admin/faults", json=rule)
    assert response.status == 400
    assert words in (await response.json())["error"]["message"]
    assert await (await client.get("/__admin/faults")).json() == {"faults": []}


async def test_a_rule_body_must_be_a_json_object(sandbox_client) -> None:
    client = await sandbox_client()
    for raw in (b"[1]", b"not json", b""):
        response = await client.post("/__admin/faults", data=raw)
        assert response.status == 400

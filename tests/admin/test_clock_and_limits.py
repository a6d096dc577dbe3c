"""The ledger's clock through the admin API (freeze, shift, back to real time) and the vendors' rate
limits emulated per dialect (off by default; on by setting or through the admin API)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.admin.real import imonggo_auth, memberpoints_auth, points, read, write


async def test_a_frozen_clock_dates_the_entries_and_delete_returns_to_real_time(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.put("/__admin/clock", json={"frozen_at": "2030-02-03T04:05:06Z"})
    assert await response.json() == {"now": "2030-02-03T04:05:06Z", "frozen_at": "2030-02-03T04:05:06Z", "offset_seconds": 0.0}
    await write(client, "memberpoints", "1")
    entries = (await (await client.get("/__admin/entries", params={"member": "1534"})).json())["entries"]
    assert entries[-1]["created_at"] == "2030-02-03T04:05:06Z" and entries[-1]["occurred_at"] == "2030-02-03T04:05:06Z"
    journal = (await (await client.get("/__admin/requests")).json())["requests"]
    assert journal[0]["ledger_time"] == "2030-02-03T04:05:06Z"

    body = await (await client.delete("/__admin/clock")).json()
    assert body["frozen_at"] is None and body["offset_seconds"] == 0
    assert abs(datetime.fromisoformat(body["now"].replace("Z", "+00:00")) - datetime.now(timezone.utc)) < timedelta(seconds=5)


async def test_an_offset_shifts_the_ledgers_time(sandbox_client) -> None:
    client = await sandbox_client()
    body = await (await client.put("/__admin/clock", json={"offset_seconds": 86400})).json()
    now = datetime.fromisoformat(body["now"].replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=59) < now - datetime.now(timezone.utc) < timedelta(hours=24, minutes=1)
    assert (await (await client.get("/__admin/clock")).json())["offset_seconds"] == 86400


@pytest.mark.parametrize(
    "body",
    [{}, {"frozen_at": "2030-01-01T00:00:00"}, {"frozen_at": "tomorrow"}, {"frozen_at": 5},
     {"offset_seconds": "1h"}, {"offset_seconds": 10**12}, {"frozen_at": "2030-01-01T00:00:00Z", "offset_seconds": 1}],
    ids=["empty", "no-timezone", "not-a-time", "number", "text-offset", "huge-offset", "both"],
)
async def test_a_bad_clock_setting_is_refused_and_changes_nothing(sandbox_client, body: dict) -> None:
    client = await sandbox_client()
    response = await client.put("/__admin/clock", json=body)
    assert response.status == 400
    clock = await (await client.get("/__admin/clock")).json()
    assert (clock["frozen_at"], clock["offset_seconds"]) == (None, 0)


async def test_rate_limits_are_off_by_default(sandbox_client) -> None:
    client = await sandbox_client()
    assert await (await client.get("/__admin/rate-limits")).json() == {"imonggo": None, "memberpoints": None, "pomelo": None}
    statuses = {(await read(client, "memberpoints")).status for _ in range(120)}
    assert statuses == {200}


async def test_memberpoints_allows_its_limit_per_minute_then_answers_429_with_retry_after(sandbox_client) -> None:
    client = await sandbox_client(memberpoints_rate_limit=100)
    statuses = [(await read(client, "memberpoints")).status for _ in range(101)]
    assert statuses.count(200) == 100 and statuses[-1] == 429
    response = await read(client, "memberpoints")
    assert response.status == 429 and 1 <= int(response.headers["Retry-After"]) <= 60
    assert "at most 100 API requests per 60 seconds" in await response.text()
    # another apiID is counted apart (so its wrong key reaches the dialect's auth); other dialects are not limited
    assert (await read(client, "memberpoints", headers=memberpoints_auth("x", "y"))).status == 401
    assert (await read(client, "imonggo")).status == 200
    entry = (await (await client.get("/__admin/requests", params={"status": "429", "limit": "1"})).json())["requests"][0]
    assert entry["outcome"] == "rate_limited" and entry["dialect"] == "memberpoints" and entry["tenant"] == "demo"


async def test_imonggo_answers_503_with_retry_after_in_its_own_error_shape(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.put("/__admin/rate-limits", json={"imonggo": {"limit": 2, "window_seconds": 30}})
    assert (await response.json())["imonggo"] == {"limit": 2, "window_seconds": 30, "status": 503}
    statuses = [(await read(client, "imonggo")).status for _ in range(3)]
    assert statuses == [200, 200, 503]
    response = await read(client, "imonggo")
    assert response.status == 503 and 1 <= int(response.headers["Retry-After"]) <= 30
    assert await response.json() == {"error": "Max API call rate exceeded",  # imonggo's JSON error shape
                                     "errors": {"base": ["Max API call rate exceeded"]}}
    entry = (await (await client.get("/__admin/requests", params={"limit": "1"})).json())["requests"][0]
    assert (entry["tenant"], entry["outcome"]) == ("demo", "rate_limited")
    assert (await read(client, "imonggo", headers=imonggo_auth("another-token"))).status == 401  # own window

    await client.put("/__admin/rate-limits", json={"imonggo": None})
    assert (await read(client, "imonggo")).status == 200


async def test_a_limited_write_is_not_applied(sandbox_client) -> None:
    client = await sandbox_client()
    await client.put("/__admin/rate-limits", json={"pomelo": {"limit": 1}})
    assert (await write(client, "pomelo", "1")).status == 200
    assert (await write(client, "pomelo", "1")).status == 429
    assert await points(client) == "30512.00"


@pytest.mark.parametrize(
    "body",
    [{"soap": {"limit": 1}}, {"imonggo": {"limit": 0}}, {"imonggo": {"limit": 1, "per": "hour"}}, {"memberpoints": 100}],
    ids=["unknown-dialect", "zero", "unknown-field", "not-an-object"],
)
async def test_a_bad_rate_limit_is_refused_and_changes_nothing(sandbox_client, body: dict) -> None:
    client = await sandbox_client()
    response = await client.put("/__admin/rate-limits", json=body)
    assert response.status == 400
    assert await (await client.get("/__admin/rate-limits")).json() == {"imonggo": None, "memberpoints": None, "pomelo": None}


async def test_the_imonggo_limit_can_be_switched_on_by_setting(sandbox_client) -> None:
    client = await sandbox_client(imonggo_rate_limit=1, imonggo_rate_window_seconds=5)
    assert (await (await client.get("/__admin/rate-limits")).json())["imonggo"] == {
        "limit": 1, "window_seconds": 5, "status": 503}
    assert (await read(client, "imonggo")).status == 200
    response = await read(client, "imonggo")
    assert response.status == 503 and 1 <= int(response.headers["Retry-After"]) <= 5


async def test_a_tenant_reset_alone_starts_its_count_afresh_under_the_same_credentials(sandbox_client) -> None:
    client = await sandbox_client(memberpoints_rate_limit=2)
    statuses = [(await read(client, "memberpoints")).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert (await client.post("/__admin/reset", json={"tenant": "demo"})).status == 200
    assert (await read(client, "memberpoints")).status == 200


async def test_a_tenant_replaced_through_another_instance_starts_its_count_afresh_here(sandbox_client) -> None:
    import asyncio

    limited = await sandbox_client(imonggo_rate_limit=2, imonggo_rate_window_seconds=60)
    other = await sandbox_client()  # a second instance over the same database
    statuses = [(await read(limited, "imonggo")).status for _ in range(3)]
    assert statuses == [200, 200, 503]
    assert (await other.post("/__admin/reset")).status == 200  # the demo tenant again, same API token
    await asyncio.sleep(1.1)  # this instance reads the tenants again once its copy is a second old
    assert (await read(limited, "imonggo")).status == 200


async def test_a_reset_refused_for_pending_upstream_writes_changes_nothing(sandbox_client, monkeypatch) -> None:
    # The check before the reset passed, then an upstream write opened before the tenants were deleted: the
    # reset is refused (409) and the moved clock and the fault rules stay as they were.
    from gateway.admin import tenants as made
    from gateway.ledger import PendingUpstreamWrites

    client = await sandbox_client()
    await client.put("/__admin/clock", json={"frozen_at": "2030-02-03T04:05:06Z"})
    await client.post("/__admin/faults", json={"dialect": "imonggo", "effect": "status", "status": 503})

    async def opened_meanwhile(*args, **kwargs):
        raise PendingUpstreamWrites("tenant demo has 1 open upstream write")

    monkeypatch.setattr(made, "reset_all", opened_meanwhile)
    assert (await client.post("/__admin/reset")).status == 409
    assert (await (await client.get("/__admin/clock")).json())["frozen_at"] == "2030-02-03T04:05:06Z"
    assert len((await (await client.get("/__admin/faults")).json())["faults"]) == 1

"""The request journal through real HTTP: every dialect request is recorded with its tenant, dialect,
method, path, status, duration and a capped copy of both bodies; it filters, empties, stays within its
caps and can be switched off."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gateway.keys import SANDBOX
from tests.admin.real import imonggo_auth, memberpoints_auth, read, write


async def test_a_dialect_request_is_journaled_with_tenant_dialect_status_and_bodies(sandbox_client) -> None:
    client = await sandbox_client()
    response = await write(client, "memberpoints", "10", note="n")
    assert response.status == 200

    journal = await (await client.get("/__admin/requests")).json()
    [entry] = journal["requests"]
    assert entry["tenant"] == "demo" and entry["dialect"] == "memberpoints"
    assert (entry["method"], entry["path"], entry["status"], entry["outcome"]) == (
        "POST", "/webapps/api/memberpoints", 200, "answered")
    assert entry["duration_ms"] > 0
    sent = '{"mbr_id": 1534, "adjustpoints": 10, "adjustmentnote": "n"}'
    assert entry["request_body"] == {"text": sent, "size": len(sent), "truncated": False}
    assert '"adjustpoints":"10.00"' in entry["response_body"]["text"]
    assert entry["fault"] is None


async def test_unauthenticated_requests_are_journaled_without_a_tenant_and_admin_calls_not_at_all(sandbox_client) -> None:
    client = await sandbox_client()
    assert (await read(client, "memberpoints", headers=memberpoints_auth(api_key="wrong"))).status == 401
    await client.get("/__admin/tenants")
    [entry] = (await (await client.get("/__admin/requests")).json())["requests"]
    assert (entry["dialect"], entry["tenant"], entry["status"]) == ("memberpoints", None, 401)


async def test_the_journal_filters_by_tenant_dialect_path_status_and_since(sandbox_client) -> None:
    client = await sandbox_client()
    await read(client, "imonggo")
    await client.get("/api/customers/999.json", headers=imonggo_auth())  # unknown member: 404
    await read(client, "memberpoints")
    await read(client, "pomelo")

    async def paths(**query: str) -> list[str]:
        body = await (await client.get("/__admin/requests", params=query)).json()
        return [e["path"] for e in body["requests"]]

    balance, balances = "/loyalty/v1/accounts/balance", "/webapps/api/memberpointsbalances"
    assert await paths() == [balance, balances, "/api/customers/999.json", "/api/customers/1534.json"]
    assert await paths(dialect="imonggo") == ["/api/customers/999.json", "/api/customers/1534.json"]
    assert await paths(tenant="demo", dialect="pomelo") == [balance]
    assert await paths(path="/webapps/") == [balances]
    assert await paths(path="/api/customers/1*") == ["/api/customers/1534.json"]
    assert await paths(status="4xx") == ["/api/customers/999.json"]
    assert await paths(status="200", method="get", limit="1") == [balance]
    assert await paths(since="2") == [balance, balances]
    later = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    assert await paths(since=later) == []
    assert await paths(tenant="nobody") == []


async def test_bad_journal_filters_are_named(sandbox_client) -> None:
    client = await sandbox_client()
    for query, words in ((("status", "abc"), "status must be"), (("since", "yesterday"), "since must be"),
                         (("limit", "-1"), "limit must be")):
        response = await client.get("/__admin/requests", params=[query])
        assert response.status == 400
        assert words in (await response.json())["error"]["message"]


async def test_delete_empties_the_journal(sandbox_client) -> None:
    client = await sandbox_client()
    await read(client, "imonggo")
    response = await client.delete("/__admin/requests")
    assert await response.json() == {"cleared": 1}
    assert (await (await client.get("/__admin/requests")).json())["requests"] == []


async def test_the_journal_keeps_its_entry_cap_dropping_the_oldest(sandbox_client) -> None:
    client = await sandbox_client(journal_max_entries=3)
    for _ in range(5):
        await read(client, "imonggo")
    body = await (await client.get("/__admin/requests")).json()
    assert [e["id"] for e in body["requests"]] == [5, 4, 3]
    assert body["journal"]["dropped"] == 2 and body["journal"]["entries"] == 3


async def test_the_journal_keeps_its_byte_cap_and_copies_at_most_body_bytes(sandbox_client) -> None:
    client = await sandbox_client(journal_max_bytes=4000, journal_body_bytes=100)
    note = "x" * 5000
    for _ in range(20):
        await write(client, "memberpoints", "1", note=note)
    body = await (await client.get("/__admin/requests")).json()
    stats = body["journal"]
    assert stats["bytes"] <= 4000 and stats["entries"] + stats["dropped"] == 20 and stats["dropped"] > 0
    copy = body["requests"][0]["request_body"]
    assert copy["truncated"] is True and copy["size"] > 5000 and len(copy["text"]) == 100


async def test_the_journal_can_be_switched_off_by_setting_and_through_the_admin_api(sandbox_client) -> None:
    client = await sandbox_client(journal=False)
    await read(client, "imonggo")
    assert (await (await client.get("/__admin/requests")).json())["requests"] == []

    response = await client.put("/__admin/journal", json={"enabled": True, "max_entries": 10})
    assert (await response.json())["enabled"] is True
    await read(client, "imonggo")
    assert len((await (await client.get("/__admin/requests")).json())["requests"]) == 1
    assert client.app[SANDBOX].journal.max_entries == 10

    response = await client.put("/__admin/journal", json={"enabled": "no"})
    assert response.status == 400 and "enabled must be" in (await response.json())["error"]["message"]
    response = await client.put("/__admin/journal", json={"size": 1})
    assert response.status == 400 and "unknown field 'size'" in (await response.json())["error"]["message"]


async def test_a_request_that_fails_unexpectedly_is_journaled_as_an_error(app_client, monkeypatch) -> None:
    from aiohttp import web

    from gateway.dialects.imonggo import customers

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("bug")

    monkeypatch.setattr(customers, "show", boom)  # the routes are added from the module when the app is made
    client = await app_client()
    response = await client.get("/api/customers/1534.json", headers=imonggo_auth())
    assert response.status == 500 and "Internal Server Error" in await response.text()  # in imonggo's shape
    [entry] = (await (await client.get("/__admin/requests")).json())["requests"]
    assert (entry["path"], entry["status"], entry["outcome"]) == ("/api/customers/1534.json", 500, "error")


async def test_an_idempotency_key_is_journaled_and_a_huge_one_kept_only_in_part(sandbox_client) -> None:
    client = await sandbox_client()
    await write(client, "memberpoints", "1", headers={**memberpoints_auth(), "x-idempotency-key": "k-1"})
    await write(client, "memberpoints", "1", headers={**memberpoints_auth(), "x-idempotency-key": "k" * 6000})
    entries = (await (await client.get("/__admin/requests")).json())["requests"]
    assert entries[1]["idempotency_key"] == "k-1"
    assert entries[0]["idempotency_key"] == "k" * 255 + "…"  # the journal's byte cap is not bypassed by a header

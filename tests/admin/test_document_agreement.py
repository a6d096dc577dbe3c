"""What the admin API's OpenAPI document (/__admin/openapi/admin.json) promises, the server does: input
the document allows is served, input it refuses is a 400 in the admin error shape (never a 500, never
read as something else), and limit=0 asks for a count."""
from __future__ import annotations

import copy
import json

import pytest

from tests.support import FIXTURES

DEMO = json.loads((FIXTURES / "scenarios" / "demo.json").read_text(encoding="utf-8"))


async def refused(response, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status == 400, await response.text()
    body = await response.json()
    assert body["error"]["status"] == 400 and words in body["error"]["message"], body


@pytest.mark.parametrize("path", ["/__admin/members", "/__admin/entries?tenant=demo", "/__admin/requests",
                                  "/__admin/webhooks/deliveries"])
async def test_limit_0_lists_nothing_and_is_not_refused(sandbox_client, path: str) -> None:
    client = await sandbox_client()
    await client.get("/api/customers.json")  # a vendor call, so the journal holds a request to count
    response = await client.get(path, params={"limit": "0"})
    assert response.status == 200, await response.text()
    body = await response.json()
    rows = next(value for key, value in body.items() if isinstance(value, list))
    assert rows == []
    if "total" in body:  # limit=0 still counts: the same total as the request that lists the rows
        counted = {"count": "true"} if path == "/__admin/members" else {}  # its plain listing counts when asked
        everything = await (await client.get(path, params=counted)).json()
        assert body["total"] == everything["total"] > 0


async def test_limit_0_still_counts_the_entries(sandbox_client) -> None:
    client = await sandbox_client()
    everything = await (await client.get("/__admin/entries", params={"tenant": "demo"})).json()
    counted = await (await client.get("/__admin/entries", params={"tenant": "demo", "limit": "0"})).json()
    assert everything["total"] == len(everything["entries"]) > 0
    assert (counted["entries"], counted["total"], counted["limit"]) == ([], everything["total"], 0)


@pytest.mark.parametrize("query", [{"limit": "²"}, {"offset": "9" * 5000}, {"limit": "-1"}, {"limit": "10001"}])
async def test_paging_that_is_no_whole_number_in_range_is_a_400(sandbox_client, query: dict[str, str]) -> None:
    client = await sandbox_client()
    for path in ("/__admin/members", "/__admin/webhooks/deliveries", "/__admin/requests"):
        await refused(await client.get(path, params=query), "must be a whole number from 0 to")


async def test_since_in_another_script_is_a_400_not_a_500(sandbox_client) -> None:
    client = await sandbox_client()
    await refused(await client.get("/__admin/requests", params={"since": "²"}), "since must be an ISO 8601 time")


async def test_a_reset_naming_no_string_tenant_is_refused_and_resets_nothing(sandbox_client) -> None:
    client = await sandbox_client()
    assert (await client.post("/__admin/tenants", json={"name": "kept"})).status == 201
    await refused(await client.post("/__admin/reset", json={"tenant": {}}), "tenant must be a tenant name")
    names = [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]]
    assert "kept" in names  # a full reset would have dropped it


async def test_a_fresh_tenant_whose_name_is_no_string_is_refused(sandbox_client) -> None:
    client = await sandbox_client()
    await refused(await client.post("/__admin/tenants", json={"name": {}}), "name must be a string")
    assert len((await (await client.get("/__admin/tenants")).json())["tenants"]) == 1


async def test_a_scenario_time_of_the_right_shape_that_is_no_real_time_is_a_400(sandbox_client) -> None:
    client = await sandbox_client()
    scenario = {"tenants": [copy.deepcopy(DEMO["tenants"][0])]}
    scenario["tenants"][0].update(name="shop", imonggo={"api_token": "shop-token"},
                                  memberpoints={"api_id": "shop-id", "api_key": "k", "cid": 7},
                                  pomelo={"client_id": "shop-client", "client_secret": "s"})
    scenario["tenants"][0]["members"][0]["created_at"] = "2024-02-30T00:00:00Z"
    await refused(await client.post("/__admin/scenarios", json=scenario),
                  "tenants[0].members[0].created_at: '2024-02-30T00:00:00Z' is no real time")
    assert [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]] == ["demo"]


@pytest.mark.parametrize("rule, words", [
    ({"effect": "drop", "latency_max_ms": 120_001}, "latency_max_ms must be a whole number from 0 to 120000"),
    ({"effect": "empty", "status": 200}, "status must be a whole number from 400 to 599"),
    ({"effect": "latency", "latency_ms": 5, "message": ""}, "message must be a non-empty string"),
])
async def test_a_fault_rule_field_is_checked_whatever_the_effect(sandbox_client, rule: dict, words: str) -> None:
    client = await sandbox_client()
    await refused(await client.post("/__admin/faults", json=rule), words)
    assert (await (await client.get("/__admin/faults")).json())["faults"] == []


async def test_a_json_whole_number_may_be_written_10_0(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.put("/__admin/rate-limits", json={"memberpoints": {"limit": 100.0, "window_seconds": 60.0}})
    assert response.status == 200, await response.text()
    assert (await response.json())["memberpoints"] == {"limit": 100, "window_seconds": 60, "status": 429}
    response = await client.put("/__admin/journal", json={"max_entries": 50.0})
    assert response.status == 200 and (await response.json())["max_entries"] == 50
    assert (await client.post("/__admin/faults", json={"effect": "drop", "times": 2.0})).status == 201
    await refused(await client.put("/__admin/journal", json={"max_entries": 50.5}), "max_entries must be a whole number")


@pytest.mark.parametrize("url", ["http://[::1", "http://a\x1eb/", "http:///path", "ftp://example.com/"])
async def test_a_webhook_url_the_document_refuses_is_a_400(sandbox_client, url: str) -> None:
    client = await sandbox_client()
    await refused(await client.put("/__admin/pomelo/webhooks", json={"url": url}), "url must be an absolute http(s) URL")


async def test_an_empty_tenant_query_means_the_default_tenant(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.get("/__admin/pomelo/webhooks", params={"tenant": ""})
    assert response.status == 200 and (await response.json())["tenant"] == "demo"

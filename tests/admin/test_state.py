"""The admin API over the ledger's state, through real HTTP: reset, scenarios, tenants, members, entries,
audit; its error table and its OpenAPI document."""
from __future__ import annotations

import copy
import json
import re

from gateway.admin.openapi import document
from gateway.admin.routes import ERRORS
from gateway.app import DIALECT_LIST
from gateway.dialects.common import missing_from
from gateway.keys import LEDGER, SANDBOX
from tests.admin.conftest import DEMO_IMONGGO, imonggo_auth
from tests.admin.real import points, read, write
from tests.support import FIXTURES

DOCUMENT = document(DIALECT_LIST)
DEMO = json.loads((FIXTURES / "scenarios" / "demo.json").read_text(encoding="utf-8"))


def scenario(name: str = "shop", token: str = "shop-token") -> dict:
    """The demo tenant under another name and other credentials."""
    spec = copy.deepcopy(DEMO["tenants"][0])
    spec["name"] = name
    spec["imonggo"] = {"api_token": token}
    spec["memberpoints"] = {"api_id": f"{name}-id", "api_key": f"{name}-key", "cid": 7}
    spec["pomelo"] = {"client_id": f"{name}-client", "client_secret": "s"}
    return {"tenants": [spec]}


def test_the_admin_error_table_maps_every_ledger_error() -> None:
    assert missing_from(ERRORS) == []


async def test_the_openapi_document_lists_exactly_the_admin_routes(sandbox_client) -> None:
    client = await sandbox_client()
    served = await (await client.get("/__admin/openapi/admin.json")).json()
    assert served == json.loads(json.dumps(DOCUMENT))
    admin = next(r.get_info()["app"] for r in client.app.router.resources() if r.get_info().get("prefix") == "/__admin")
    routes = {(r.resource.canonical[len("/__admin"):], r.method.lower()) for r in admin.router.routes() if r.method != "HEAD"}
    documented = {(path, method) for path, ops in served["paths"].items() for method in ops if method != "parameters"}
    assert routes == documented, "document every admin route in gateway/admin/openapi.py (and nothing else)"


async def test_tenants_lists_each_with_its_members_and_dialects(sandbox_client) -> None:
    client = await sandbox_client()
    body = await (await client.get("/__admin/tenants")).json()
    [demo] = body["tenants"]
    assert (demo["name"], demo["members"], demo["dialects"]) == ("demo", 3, ["imonggo", "memberpoints", "pomelo"])


async def test_a_scenario_body_adds_its_tenants_and_is_refused_whole_when_a_name_exists(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.post("/__admin/scenarios", json=scenario())
    assert response.status == 201 and await response.json() == {"tenants": ["shop"]}
    assert (await read(client, "imonggo", headers=imonggo_auth("shop-token"))).status == 200

    response = await client.post("/__admin/scenarios", json=scenario())
    assert response.status == 409
    assert await response.json() == {"error": {"status": 409, "message": "a tenant named 'shop' exists already"}}


async def test_a_malformed_scenario_is_refused_naming_the_field(sandbox_client) -> None:
    client = await sandbox_client()
    bad = scenario()
    bad["tenants"][0]["members"][0]["balances"] = {"points": "1.234"}
    response = await client.post("/__admin/scenarios", json=bad)
    assert response.status == 400
    assert "tenants[0].members[0].balances.points" in (await response.json())["error"]["message"]
    assert [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]] == ["demo"]


async def test_a_scenario_reusing_another_tenants_credential_is_refused(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.post("/__admin/scenarios", json=scenario(token="5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"))
    assert response.status == 409 and "belongs to another tenant" in (await response.json())["error"]["message"]


async def test_members_shows_identities_in_every_dialect_and_balances(sandbox_client) -> None:
    client = await sandbox_client()
    body = await (await client.get("/__admin/members", params={"tenant": "demo", "count": "true"})).json()
    assert body["total"] == 3
    juan = body["members"][0]
    assert juan["imonggo"] == {"customer_id": 1534, "customer_type_id": 8}
    assert juan["memberpoints"] == {"mbr_id": 1534, "mbr_email": None}
    assert juan["pomelo"] == {"user_id": "usr-2ay34WhGUtCeoewakpeJTRuVWlx", "card_ids": ["crd-2ay34Uk2fseMY5l3OwddSRX8iR4"]}
    assert juan["balances"]["points"] == {"posted": "30511.00", "pending": "0.00"}

    found = await (await client.get("/__admin/members", params={"q": "EXAMPLE.com"})).json()
    assert [m["name"] for m in found["members"]] == ["Johnson"]
    found = await (await client.get("/__admin/members", params={"q": "crd-2ay34UK0yk"})).json()
    assert [m["name"] for m in found["members"]] == ["Jason"]
    page = await (await client.get("/__admin/members", params={"offset": "1", "limit": "1"})).json()
    assert [m["name"] for m in page["members"]] == ["Johnson"] and page["total"] == 3
    assert (await client.get("/__admin/members", params={"tenant": "nobody"})).status == 404


async def test_entries_shows_the_ledger_paged_and_by_member(sandbox_client) -> None:
    client = await sandbox_client()
    await write(client, "memberpoints", "5", note="welcome")
    body = await (await client.get("/__admin/entries", params={"tenant": "demo"})).json()
    assert body["total"] == 4 and [e["kind"] for e in body["entries"]] == ["opening"] * 3 + ["adjustment"]
    mine = await (await client.get("/__admin/entries", params={"member": "usr-2ay34WhGUtCeoewakpeJTRuVWlx"})).json()
    assert [(e["amount"], e["note"]) for e in mine["entries"]] == [("30511.00", "Opening balance"), ("5.00", "welcome")]
    page = await (await client.get("/__admin/entries", params={"member": "1534", "offset": "1", "limit": "1"})).json()
    assert [e["amount"] for e in page["entries"]] == ["5.00"] and page["total"] == 2
    by_email = await (await client.get("/__admin/entries", params={"member": "test@example.com"})).json()
    assert [e["customer_id"] for e in by_email["entries"]] == [442531]

    response = await client.get("/__admin/entries", params={"member": "9999"})
    assert response.status == 404 and "no member" in (await response.json())["error"]["message"]
    response = await client.get("/__admin/entries", params={"member": "somebody"})
    assert response.status == 400
    response = await client.get("/__admin/entries", params={"asset": "gold"})
    assert response.status == 400


async def test_entries_needs_a_tenant_name_when_there_are_several(sandbox_client) -> None:
    client = await sandbox_client()
    await client.post("/__admin/scenarios", json=scenario())
    response = await client.get("/__admin/entries")
    assert response.status == 400 and "?tenant=" in (await response.json())["error"]["message"]


async def test_audit_reports_the_invariants_and_names_a_violation(sandbox_client) -> None:
    client = await sandbox_client()
    body = await (await client.get("/__admin/audit")).json()
    assert body["ok"] is True and body["violations"] == [] and body["checked"]["members"] == 3

    ledger = client.app[LEDGER]
    await ledger.store.write(lambda tx: tx.execute("UPDATE accounts SET posted = posted + 1 WHERE member_id = 1 AND asset = 'points'"))
    body = await (await client.get("/__admin/audit")).json()
    assert body["ok"] is False
    assert body["violations"] == ["posted balance differs from the sum of confirmed entries: 1:points (3051101 != 3051100)"]
    await ledger.store.write(lambda tx: tx.execute("UPDATE accounts SET posted = posted - 1 WHERE member_id = 1 AND asset = 'points'"))


async def test_reset_of_one_tenant_brings_back_its_scenario_state_only(sandbox_client) -> None:
    client = await sandbox_client()
    assert (await client.post("/__admin/scenarios", json=scenario())).status == 201
    for token in (DEMO_IMONGGO, "shop-token"):  # both moved, so a reset that did nothing cannot pass
        moved = await write(client, "imonggo", "10", headers=imonggo_auth(token))
        assert (await moved.json())["points-available"] == "28511.0"

    response = await client.post("/__admin/reset", json={"tenant": "shop"})
    assert await response.json() == {"reset": ["shop"]}
    shop = await read(client, "imonggo", headers=imonggo_auth("shop-token"))
    assert (await shop.json())["available_points"] == "30511.0"  # same credentials still work after the reset
    assert await points(client, "demo") == "28511.00"

    response = await client.post("/__admin/reset", json={"tenant": "demo"})  # from the startup scenario
    assert response.status == 200
    assert (await (await read(client, "imonggo")).json())["available_points"] == "30511.0"
    response = await client.post("/__admin/reset", json={"tenant": "nobody"})
    assert response.status == 404


async def test_reset_of_everything_returns_to_the_startup_scenario_and_clears_the_sandbox(sandbox_client) -> None:
    client = await sandbox_client()
    # Each change is checked as made, so a reset that cleared nothing cannot pass below.
    assert (await client.post("/__admin/scenarios", json=scenario())).status == 201
    assert (await write(client, "memberpoints", "10")).status == 200
    assert (await client.post("/__admin/faults", json={"effect": "latency", "latency_ms": 1})).status == 201
    assert (await client.put("/__admin/clock", json={"offset_seconds": 3600})).status == 200
    sandbox = client.app[SANDBOX]
    assert len(sandbox.faults.rules()) == 1 and client.app[LEDGER].clock.state["offset_seconds"] == 3600

    response = await client.post("/__admin/reset")
    assert (await response.json())["reset"] == ["demo"]
    assert [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]] == ["demo"]
    assert (await (await read(client, "imonggo")).json())["available_points"] == "30511.0"
    assert sandbox.faults.rules() == [] and len(sandbox.journal) == 1  # only the request just made
    assert client.app[LEDGER].clock.state["offset_seconds"] == 0


async def test_a_tenant_without_a_known_scenario_cannot_be_reset(sandbox_client, tmp_path) -> None:
    client = await sandbox_client("none")
    ledger = client.app[LEDGER]
    await ledger.create_tenant(name="handmade")
    response = await client.post("/__admin/reset", json={"tenant": "handmade"})
    assert response.status == 404 and "no scenario is known" in (await response.json())["error"]["message"]
    response = await client.post("/__admin/reset")
    assert await response.json() == {"reset": [], "journal": "cleared", "faults": "cleared", "clock": "real"}
    assert await ledger.tenants() == []


async def test_delete_tenant_removes_it_and_its_credentials_stop_working(sandbox_client) -> None:
    client = await sandbox_client()
    made = await (await client.post("/__admin/tenants", json={"name": "gone"})).json()
    assert (await client.delete("/__admin/tenants/gone")).status == 200
    assert (await read(client, "memberpoints", made)).status == 401
    assert (await client.delete("/__admin/tenants/gone")).status == 404


async def test_admin_paths_and_verbs_that_do_not_exist_answer_in_json(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.get("/__admin/nothing")
    assert response.status == 404 and (await response.json())["error"]["status"] == 404
    response = await client.get("/__admin/reset")
    assert response.status == 405 and "POST" in response.headers["Allow"]


def test_the_readme_session_uses_only_documented_admin_paths() -> None:
    readme = (FIXTURES.parent / "README.md").read_text(encoding="utf-8")
    session = readme.split("## Admin API", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    used = set(re.findall(r"\$A(/[\w/.-]*\w)", session))
    assert used and used <= set(DOCUMENT["paths"]), used - set(DOCUMENT["paths"])
    assert "curl -u 5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X http://127.0.0.1:8080/api/customers/1534.xml" in session


async def test_a_scenario_is_refused_whole_when_a_later_tenant_is_refused(sandbox_client) -> None:
    client = await sandbox_client()
    doc = scenario("first")
    doc["tenants"] += scenario("second", token="5c4fc5805eb643716bbc17dad456a0c6cf2e23fa")["tenants"]  # demo's token
    response = await client.post("/__admin/scenarios", json=doc)
    assert response.status == 409 and "belongs to another tenant" in (await response.json())["error"]["message"]
    assert [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]] == ["demo"]


async def test_a_startup_scenario_gone_bad_costs_no_tenant_on_reset(sandbox_client, tmp_path) -> None:
    path = tmp_path / "start.json"
    path.write_text(json.dumps(scenario()), encoding="utf-8")
    client = await sandbox_client(path)
    path.write_text("{not json", encoding="utf-8")
    response = await client.post("/__admin/reset")
    assert response.status == 400 and "not valid JSON" in (await response.json())["error"]["message"]
    assert [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]] == ["shop"]

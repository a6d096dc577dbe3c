"""Fresh tenants for parallel CI: POST /__admin/tenants copies a scenario's tenant with newly generated
credentials for every dialect, and jobs sharing one server never see each other's state.

These drive the ledger through each real dialect's credential scheme (a read and a write each, see
tests/admin/real.py)."""
from __future__ import annotations

import asyncio
import base64
import re
from decimal import Decimal

from gateway.keys import LEDGER
from gateway.ledger import Asset, By, Identity
from tests.admin.conftest import DEMO_IMONGGO
from tests.admin.real import points_moved, seen_points, write

DIALECTS = ("imonggo", "memberpoints", "pomelo")


async def test_a_fresh_tenant_gets_new_credentials_for_every_dialect(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.post("/__admin/tenants", json={})
    assert response.status == 201
    made = await response.json()
    assert re.fullmatch(r"demo-[0-9a-f]{8}", made["name"]) and made["members"] == 3
    assert re.fullmatch(r"[0-9a-f]{40}", made["imonggo"]["api_token"]) and made["imonggo"]["api_token"] != DEMO_IMONGGO
    assert made["imonggo"]["account"] == made["name"]
    assert made["memberpoints"]["api_id"].isdigit() and len(made["memberpoints"]["api_key"]) == 32
    assert isinstance(made["memberpoints"]["cid"], int)
    assert made["pomelo"]["client_id"] != "demo-client-id" and made["pomelo"]["client_secret"]
    assert len(base64.b64decode(made["pomelo"]["webhook_api_secret"])) == 32
    ledger = client.app[LEDGER]
    tenant = await ledger.tenant(made["name"])
    assert tenant.section("memberpoints")["cid"] == made["memberpoints"]["cid"]
    assert tenant.section("pomelo")["webhook_api_key"] == made["pomelo"]["webhook_api_key"]
    assert tenant.section("pomelo")["rewards"] == {"points": "1"}  # the rest of the scenario's config is kept


async def test_a_fresh_tenant_from_a_given_scenario_and_name(sandbox_client) -> None:
    client = await sandbox_client()
    doc = {"tenants": [{"name": "a", "members": [{"customer_id": 1, "balances": {"points": "5"}}]},
                       {"name": "b", "members": [{"customer_id": 2}, {"customer_id": 3}]}]}
    made = await (await client.post("/__admin/tenants", json={"scenario": doc, "tenant": "b", "name": "job-7"})).json()
    assert (made["name"], made["members"]) == ("job-7", 2)
    response = await client.post("/__admin/tenants", json={"scenario": doc, "tenant": "b", "name": "job-7"})
    assert response.status == 409
    for body, words in (({"scenario": doc, "tenant": "c"}, "no tenant named 'c'"),
                        ({"scenario": "other"}, 'scenario must be a scenario document or "demo"'),
                        ({"scenario": {"tenants": [{}]}}, "field tenants[0]"),
                        ({"name": "bad name!"}, "field tenants[0].name")):
        response = await client.post("/__admin/tenants", json=body)
        assert response.status == 400 and words in (await response.json())["error"]["message"], body


async def test_parallel_jobs_never_see_each_other(sandbox_client) -> None:
    """Four jobs create their tenants at once and each moves points through every dialect; every job
    sees exactly its own movements, at ledger level (each credential scheme) and over HTTP."""
    client = await sandbox_client()
    ledger = client.app[LEDGER]
    made = await asyncio.gather(*(client.post("/__admin/tenants", json={"name": f"job-{i}"}) for i in range(4)))
    jobs = [await r.json() for r in made]
    assert len({j["imonggo"]["api_token"] for j in jobs}) == 4

    # ledger level: each dialect's credentials authenticate their own tenant and nobody else's
    for job in jobs:
        found = {
            "imonggo": await ledger.authenticate(scheme="imonggo", principal=job["imonggo"]["api_token"]),
            "memberpoints": await ledger.authenticate(
                scheme="memberpoints", principal=job["memberpoints"]["api_id"], secret=job["memberpoints"]["api_key"]),
            "pomelo": await ledger.authenticate(
                scheme="pomelo", principal=job["pomelo"]["client_id"], secret=job["pomelo"]["client_secret"]),
        }
        assert {d: t.name for d, t in found.items() if t} == {d: job["name"] for d in DIALECTS}
        other = next(j for j in jobs if j is not job)
        assert await ledger.authenticate(
            scheme="memberpoints", principal=job["memberpoints"]["api_id"], secret=other["memberpoints"]["api_key"]
        ) is None

    # every job moves points in every dialect, all at once
    async def run(i: int, job: dict) -> None:
        for n, dialect in enumerate(DIALECTS, start=1):
            response = await write(client, dialect, str(i * 10 + n), job)
            assert response.status == 200, await response.text()

    await asyncio.gather(*(run(i, job) for i, job in enumerate(jobs)))
    demo = await ledger.balance(tenant=await ledger.tenant("demo"), member=By(Identity.CUSTOMER_NO, 1534))
    assert demo[Asset.POINTS].posted == Decimal("30511.00")
    for i, job in enumerate(jobs):
        moves = [points_moved(dialect, i * 10 + n) for n, dialect in enumerate(DIALECTS, start=1)]
        for dialect in DIALECTS:
            assert await seen_points(client, dialect, job) == Decimal("30511") + sum(moves), (job["name"], dialect)
        entries = await (await client.get("/__admin/entries", params={"tenant": job["name"], "member": "1534"})).json()
        assert [Decimal(e["amount"]) for e in entries["entries"][1:]] == moves
        journal = await (await client.get("/__admin/requests", params={"tenant": job["name"]})).json()
        assert journal["total"] == 6 and {e["dialect"] for e in journal["requests"]} == set(DIALECTS)


async def test_a_name_deleted_through_another_instance_can_be_taken_again_at_once(app_client) -> None:
    here, there = await app_client(), await app_client()  # two instances over one database
    assert (await here.post("/__admin/tenants", json={"name": "job-7"})).status == 201
    assert (await here.get("/__admin/tenants")).status == 200  # this instance has its copy of the tenants
    assert (await there.delete("/__admin/tenants/job-7")).status == 200
    again = await here.post("/__admin/tenants", json={"name": "job-7"})
    assert again.status == 201, await again.text()
    refused = await here.post("/__admin/tenants", json={"name": "job-7"})
    assert refused.status == 409  # while it exists, the name stays taken


async def test_a_field_the_request_does_not_take_is_refused_not_dropped(sandbox_client) -> None:
    # An upstream given beside the name (rather than in the scenario's tenant) would otherwise be lost
    # without a word, and the tenant would keep its points here.
    client = await sandbox_client()
    reply = await client.post("/__admin/tenants", json={
        "name": "tills", "upstream": {"dialect": "pomelo", "base_url": "http://127.0.0.1:9", "credentials": {}},
    })
    assert reply.status == 400
    assert "unknown field(s) upstream" in (await reply.json())["error"]["message"]
    assert (await client.get("/__admin/tenants/tills")).status == 404

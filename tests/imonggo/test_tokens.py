"""The Token API: `GET /api/tokens.xml?email=...&password=...` needs no Basic auth and answers the user's
API token, `<hash><api_token>...</api_token></hash>` (JSON `{"api_token": ...}`); a wrong login is 404
Not Found. The password is kept only as a salted hash, never shown, never journaled; a fresh copy of a
tenant gets a login of its own, returned once in the 201 reply."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from contract_tests.imonggo.shapes import TOKEN, assert_error, basic
from gateway.keys import LEDGER
from gateway.ledger import check_password
from gateway.scenario import ScenarioError, read_scenario
from tests.support import ClientFactory

LOGIN = "/api/tokens.{}?email=demo@example.com&password=demo-password"


async def test_the_demo_user_gets_the_api_token_without_basic_auth(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.get(LOGIN.format("xml"))
    assert response.status == 200
    assert await response.read() == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<hash>\n  <api_token>' + TOKEN.encode() + b"</api_token>\n</hash>\n")
    as_json = await client.get("/api/tokens.json?email=Demo@Example.com&password=demo-password")
    assert await as_json.json() == {"api_token": TOKEN}
    token = (await as_json.json())["api_token"]
    assert (await client.get("/api/customers/1534.json", headers=basic(token))).status == 200


@pytest.mark.parametrize(
    "query,status,message",
    [
        ("email=demo@example.com&password=Demo-password", 404, "Not Found"),
        ("email=nobody@example.com&password=demo-password", 404, "Not Found"),
        ("email=demo@example.com&password=demo-password%20", 404, "Not Found"),
        ("email=&password=demo-password", 422, "Email can't be blank"),
        ("password=demo-password", 422, "Email can't be blank"),
        ("email=demo@example.com", 422, "Password can't be blank"),
        ("email=demo@example.com&password=", 422, "Password can't be blank"),
    ],
)
async def test_a_wrong_or_missing_login_in_the_vendors_shape(
    app_client: ClientFactory, query: str, status: int, message: str
) -> None:
    client = await app_client("demo")
    for suffix in ("xml", "json"):
        await assert_error(await client.get(f"/api/tokens.{suffix}?{query}"), status, message)


async def test_the_password_is_in_no_reply_no_journal_and_no_configuration(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    await client.get(LOGIN.format("xml"))
    journal = await (await client.get("/__admin/requests?path=/api/tokens*")).json()
    assert journal["requests"][0]["query"] == "email=demo@example.com&password=[FILTERED]"
    tenant = await client.app[LEDGER].tenant("demo")
    stored = json.dumps(dict(tenant.config))
    assert "demo-password" not in stored
    user = tenant.section("imonggo")["users"][0]
    assert user["password_hash"].startswith("scrypt$") and check_password("demo-password", user["password_hash"])
    for path in ("/__admin/tenants", "/__admin/requests"):
        assert b"scrypt$" not in await (await client.get(path)).read(), path
    listing = await (await client.get("/__admin/tenants")).json()
    assert listing["tenants"][0]["dialects"] == ["imonggo", "memberpoints", "pomelo"]


async def test_a_fresh_copy_gets_its_own_login_and_reset_keeps_it(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    made = await client.post("/__admin/tenants", json={"name": "job-1"})
    assert made.status == 201
    creds = (await made.json())["imonggo"]
    assert creds["users"][0]["email"] == "demo+job-1@example.com" and len(creds["users"][0]["password"]) >= 16
    login = f"/api/tokens.json?email=demo%2Bjob-1@example.com&password={creds['users'][0]['password']}"
    assert await (await client.get(login)).json() == {"api_token": creds["api_token"]}
    # the copy's stored scenario (what reset rebuilds from) holds only a hash
    tenant = await client.app[LEDGER].tenant("job-1")
    assert creds["users"][0]["password"] not in json.dumps(dict(tenant.config))
    # the demo login still names the demo tenant; the copy's password is no good for it
    assert await (await client.get(LOGIN.format("json"))).json() == {"api_token": TOKEN}
    wrong = f"/api/tokens.json?email=demo@example.com&password={creds['users'][0]['password']}"
    await assert_error(await client.get(wrong), 404, "Not Found")
    assert (await client.post("/__admin/reset", json={"tenant": "job-1"})).status == 200
    assert await (await client.get(login)).json() == {"api_token": creds["api_token"]}
    assert (await client.delete("/__admin/tenants/job-1")).status == 200
    await assert_error(await client.get(login), 404, "Not Found")


async def test_a_full_reset_rebuilds_the_catalogue_and_the_login(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    assert (await client.post("/__admin/reset")).status == 200
    assert await (await client.get(LOGIN.format("json"))).json() == {"api_token": TOKEN}
    assert await (await client.get("/api/products.json?q=count", headers=basic())).json() == {"count": 8}


async def test_a_scenario_password_is_hashed_when_loaded(app_client: ClientFactory) -> None:
    scenario = {"tenants": [{"name": "shop", "imonggo": {"api_token": "a" * 40, "users": [
        {"id": 7, "name": "Owner", "email": "owner@shop.test", "password": "open sesame"}]}}]}
    client = await app_client(scenario)
    response = await client.get("/api/tokens.xml?email=owner@shop.test&password=open%20sesame")
    assert etree.fromstring(await response.read()).findtext("api_token") == "a" * 40
    tenant = await client.app[LEDGER].tenant("shop")
    assert "open sesame" not in json.dumps(dict(tenant.config))
    # two tenants cannot share a login: the second scenario is refused whole
    other = {"tenants": [{"name": "copycat", "imonggo": {"api_token": "b" * 40, "users": [
        {"id": 1, "name": "X", "email": "OWNER@shop.test", "password": "x"}]}}]}
    refused = await client.post("/__admin/scenarios", json=other)
    assert refused.status == 409 and "owner@shop.test" in (await refused.json())["error"]["message"]
    assert [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]] == ["shop"]


@pytest.mark.parametrize(
    "imonggo,words",
    [
        ({"users": [{"id": 1, "name": "A", "email": "a@x.test"}]}, "users[0]: needs a password"),
        ({"users": [{"id": 1, "name": "A", "email": "a@x.test", "password": "p", "password_hash": "scrypt$1"}]},
         "users[0]"),
        ({"users": [{"id": 1, "name": "A", "email": "a@x.test", "password_hash": "scrypt$not-a-hash"}]},
         "users[0]: needs a password or a valid password_hash"),
        ({"users": [{"id": 1, "name": "A", "email": "a@x.test", "password": "p"},
                    {"id": 2, "name": "B", "email": "A@X.test", "password": "q"}]}, "users[1].email"),
        ({"products": [{"id": 1, "name": "A"}, {"id": 1, "name": "B"}]}, "products[1].id: 1 appears twice"),
        ({"products": [{"id": 1, "name": "A", "retail_price": "1.005"}]}, "products[0].retail_price"),
        ({"tax_settings": {"tax_rates": [{"id": 1, "name": "VAT"}]}}, "tax_settings.tax_rates[0]"),
        ({"branches": [{"id": 0, "name": "A"}]}, "branches[0].id"),
    ],
)
def test_a_bad_catalogue_is_refused_naming_the_field(tmp_path: Path, imonggo: dict[str, object], words: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"tenants": [{"name": "t", "imonggo": {"api_token": "t", **imonggo}}]}), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        read_scenario(path)
    assert words in str(caught.value) and str(path) in str(caught.value)


def _stored_hash(n: int, r: int, p: int) -> str:
    """A hash in the stored form with the given scrypt parameters (its salt and digest are dummies)."""
    return f"scrypt${n}${r}${p}$c2FsdHNhbHRzYWx0c2FsdA==${'A' * 43}="


@pytest.mark.parametrize(
    "n,r,p",
    [
        (2**20, 32, 16),  # 4 GiB of memory: OpenSSL refuses it, so every login would be a 500
        (2**20, 8, 1),  # 1 GiB
        (2**17, 32, 1),  # 512 MiB, each parameter within its own bound
        (2**18, 8, 16),  # fits in memory but costs 512 strong checks' time per login
        (2**16, 1, 1),  # little memory, but scrypt takes N below 2**(16*r) only
    ],
)
async def test_a_stored_hash_too_dear_to_check_is_refused_when_the_scenario_is_loaded(
    app_client: ClientFactory, n: int, r: int, p: int
) -> None:
    client = await app_client("demo")
    scenario = {"tenants": [{"name": "dear", "imonggo": {"api_token": "d" * 40, "users": [
        {"id": 1, "name": "A", "email": "a@dear.test", "password_hash": _stored_hash(n, r, p)}]}}]}
    refused = await client.post("/__admin/scenarios", json=scenario)
    assert refused.status == 400
    assert "users[0]: needs a password or a valid password_hash" in (await refused.json())["error"]["message"]
    assert [t["name"] for t in (await (await client.get("/__admin/tenants")).json())["tenants"]] == ["demo"]


async def test_a_stored_hash_at_the_strong_cost_is_accepted_and_checked(app_client: ClientFactory) -> None:
    from gateway.ledger import hash_password
    scenario = {"tenants": [{"name": "shop", "imonggo": {"api_token": "s" * 40, "users": [
        {"id": 1, "name": "A", "email": "a@shop.test", "password_hash": hash_password("right")}]}}]}
    client = await app_client(scenario)
    ok = await client.get("/api/tokens.json?email=a@shop.test&password=right")
    assert await ok.json() == {"api_token": "s" * 40}
    await assert_error(await client.get("/api/tokens.json?email=a@shop.test&password=wrong"), 404, "Not Found")

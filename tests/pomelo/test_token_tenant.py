"""A Pomelo access token belongs to the one tenant it was issued to: once that tenant is deleted, a new
tenant that takes its place (even under the same internal id) is out of the token's reach."""
from __future__ import annotations

from tests.support import ClientFactory

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


async def token_for(client, credentials) -> str:  # type: ignore[no-untyped-def]
    response = await client.post("/oauth/token", json={
        "client_id": credentials["client_id"], "client_secret": credentials["client_secret"],
        "audience": "https://api.pomelo.la", "grant_type": "client_credentials"})
    assert response.status == 200
    return (await response.json())["access_token"]


async def test_a_deleted_tenants_token_does_not_reach_its_successor(app_client: ClientFactory) -> None:
    client = await app_client()
    alpha = await (await client.post("/__admin/tenants", json={"name": "alpha"})).json()
    token = await token_for(client, alpha["pomelo"])
    balance = await client.get("/loyalty/v1/accounts/balance", params={"card_id": CARD},
                               headers={"Authorization": f"Bearer {token}"})
    assert balance.status == 200
    assert (await client.delete("/__admin/tenants/alpha")).status == 200
    beta = await client.post("/__admin/tenants", json={"name": "beta"})
    assert beta.status == 201
    stale = await client.get("/loyalty/v1/accounts/balance", params={"card_id": CARD},
                             headers={"Authorization": f"Bearer {token}"})
    assert stale.status == 401
    assert (await stale.json())["error"]["error_code"]


async def test_after_a_full_reset_the_token_endpoint_hands_out_a_token_that_works(app_client: ClientFactory) -> None:
    client = await app_client()
    demo = {"client_id": "demo-client-id", "client_secret": "demo-client-secret"}
    before = await token_for(client, demo)
    assert (await client.post("/__admin/reset")).status == 200
    after = await token_for(client, demo)
    balance = await client.get("/loyalty/v1/accounts/balance", params={"card_id": CARD},
                               headers={"Authorization": f"Bearer {after}"})
    assert balance.status == 200, await balance.text()
    assert after != before  # the old token died with the tenant it was issued to


async def test_a_client_id_that_is_not_text_is_an_unknown_client_not_a_crash(app_client: ClientFactory) -> None:
    client = await app_client()
    body = b'{"client_id": "\\ud800", "client_secret": "\\udfff", "audience": "a", "grant_type": "client_credentials"}'
    for path in ("/oauth/token", "/oauth/token/revoke"):
        response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
        assert response.status == 401, await response.text()
        assert (await response.json())["error"]["error_code"] == "UNAUTHORIZED"

"""Pomelo access tokens across real `loyalty-gateway serve` processes over one PostgreSQL database, as a
load balancer would spread a client's calls: a token from one instance opens the balance on the other,
and the other hands out the same token on a repeat request; a token revoked on one is refused on both;
a restarted instance accepts a token it never saw issued; a tenant deleted (or reset) through one
instance takes its tokens with it on both, and a tenant created again under its name does not inherit
them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from tests.process import Server, start

pytestmark = pytest.mark.slow
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"
DEMO = {"client_id": "demo-client-id", "client_secret": "demo-client-secret"}


def serve(database: str, cwd: Path) -> Server:
    return start(["--database", database, "--port", "0", "--access-log", "false"], cwd=cwd)


async def token(http: ClientSession, server: Server, client: dict[str, str]) -> str:
    body = {**client, "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}
    async with http.post(f"{server.url}/oauth/token", json=body) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def balance(http: ClientSession, server: Server, bearer: str) -> int:
    """The status of a balance call with this token (200, or 401 with Pomelo's error envelope)."""
    headers = {"Authorization": f"Bearer {bearer}"}
    async with http.get(f"{server.url}/loyalty/v1/accounts/balance", params={"card_id": CARD}, headers=headers) as response:
        body = await response.json()
        if response.status == 401:
            assert body["error"]["error_code"] == "UNAUTHORIZED", body
        return response.status


async def admin(http: ClientSession, server: Server, method: str, path: str, **kwargs: Any) -> Any:
    async with http.request(method, f"{server.url}/__admin{path}", **kwargs) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()


async def test_a_token_from_one_instance_works_on_the_other_until_revoked_and_survives_a_restart(
    pg_url: str, tmp_path: Path
) -> None:
    a, b = serve(pg_url, tmp_path), serve(pg_url, tmp_path)
    try:
        async with ClientSession() as http:
            issued = await token(http, a, DEMO)
            assert await balance(http, b, issued) == 200
            assert await token(http, b, DEMO) == issued  # Pomelo: the same token until it expires

            async with http.post(f"{b.url}/oauth/token/revoke", json=DEMO) as response:
                assert response.status == 200 and (await response.json())["revoked"] == 1
            assert await balance(http, a, issued) == 401
            assert await balance(http, b, issued) == 401

            fresh = await token(http, a, DEMO)
            assert fresh != issued
            assert a.stop() == 0, a.output
            a = serve(pg_url, tmp_path)  # restarted: it never saw the token issued
            assert await balance(http, a, fresh) == 200
            assert await balance(http, b, fresh) == 200
    finally:
        for server in (a, b):
            assert server.stop() == 0, server.output


async def test_a_deleted_or_reset_tenants_tokens_are_refused_on_every_instance(pg_url: str, tmp_path: Path) -> None:
    a, b = serve(pg_url, tmp_path), serve(pg_url, tmp_path)
    try:
        async with ClientSession() as http:
            job = await admin(http, a, "POST", "/tenants", json={"name": "ci-job"})
            job_token = await token(http, b, job["pomelo"])
            assert await balance(http, a, job_token) == 200
            await admin(http, b, "DELETE", "/tenants/ci-job")
            assert await balance(http, a, job_token) == 401
            assert await balance(http, b, job_token) == 401
            again = await admin(http, a, "POST", "/tenants", json={"name": "ci-job"})
            assert await balance(http, a, job_token) == 401  # the newcomer does not inherit it
            assert await balance(http, b, job_token) == 401
            assert await balance(http, b, await token(http, b, again["pomelo"])) == 200

            demo_token = await token(http, a, DEMO)
            await admin(http, b, "POST", "/reset")  # the demo tenant again, under the same credentials
            assert await balance(http, a, demo_token) == 401
            assert await balance(http, b, demo_token) == 401
            after = await token(http, a, DEMO)
            assert after != demo_token
            assert await balance(http, b, after) == 200
    finally:
        for server in (a, b):
            assert server.stop() == 0, server.output

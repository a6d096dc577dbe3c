"""The pipeline's order, seen from outside: a request's credentials are looked at once, even with the
rate-limit emulation on (which counts per tenant); over the limit, the answer is the vendor's, whether
or not the credentials were good."""
from __future__ import annotations

from typing import Any

import pytest

from gateway.keys import LEDGER
from tests.admin.real import imonggo_auth, memberpoints_auth, read
from tests.support import ClientFactory


@pytest.mark.parametrize("dialect", ["imonggo", "memberpoints"])
async def test_credentials_are_checked_once_per_request_with_rate_limits_on(
    app_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, dialect: str
) -> None:
    client = await app_client("demo", imonggo_rate_limit=100, memberpoints_rate_limit=100)
    ledger = client.app[LEDGER]
    calls: list[Any] = []
    checked = ledger.authenticate

    async def counted(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return await checked(**kwargs)

    monkeypatch.setattr(ledger, "authenticate", counted)
    assert (await read(client, dialect)).status == 200
    assert len(calls) == 1, calls


async def test_over_the_limit_good_and_bad_credentials_alike_get_the_vendors_answer(app_client: ClientFactory) -> None:
    client = await app_client("demo", memberpoints_rate_limit=1)
    assert (await read(client, "memberpoints")).status == 200
    limited = await read(client, "memberpoints")
    assert limited.status == 429 and "Retry-After" in limited.headers and "X-Request-Id" in limited.headers
    # a wrong key is counted against the apiID it names, apart from the tenant's own count
    assert (await read(client, "memberpoints", headers=memberpoints_auth("demo-api-id", "wrong"))).status == 401
    assert (await read(client, "memberpoints", headers=memberpoints_auth("demo-api-id", "wrong"))).status == 429
    assert (await read(client, "imonggo", headers=imonggo_auth())).status == 200  # another dialect: no limit

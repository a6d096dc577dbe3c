"""Fixtures for the admin API tests: the whole app with TEST-ONLY fake dialects mounted (tests/admin/fakes.py)
and helpers for each dialect's credentials."""
from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.dialects import imonggo, memberpoints, pomelo
from gateway.dialects.common import ERROR_RENDERERS
from tests.admin import fakes
from tests.support import ClientFactory

DEMO_IMONGGO = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"


@pytest.fixture
def sandbox_client(
    app_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Awaitable[TestClient]]]:
    """Like app_client, with the fake dialects mounted in place of the real ones (`hooked=False`: without
    sandbox_hook, so the root applies faults around the whole dialect)."""
    saved = dict(ERROR_RENDERERS)
    ERROR_RENDERERS.clear()  # the real dialects register theirs when mounted; these tests use the fakes' only

    async def make(scenario: Any = "demo", *, hooked: bool = True, **settings: Any) -> TestClient:
        for module in (imonggo, memberpoints, pomelo):
            monkeypatch.setattr(module, "mount", fakes.mount_for(module.__name__.rsplit(".", 1)[1], hooked=hooked))
        return await app_client(scenario, **settings)

    yield make
    ERROR_RENDERERS.clear()
    ERROR_RENDERERS.update(saved)


def imonggo_auth(token: str = DEMO_IMONGGO) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:X".encode()).decode()}


def memberpoints_auth(api_id: str = "demo-api-id", api_key: str = "demo-api-key") -> dict[str, str]:
    return {"apiID": api_id, "apiKey": api_key}


def pomelo_auth(client_id: str = "demo-client-id", secret: str = "demo-client-secret") -> dict[str, str]:
    return {"X-Client-Id": client_id, "X-Client-Secret": secret}


def auth_for(dialect: str, creds: dict[str, Any]) -> dict[str, str]:
    """Headers for the fake dialect from the credentials POST /__admin/tenants returned."""
    if dialect == "imonggo":
        return imonggo_auth(creds["imonggo"]["api_token"])
    if dialect == "memberpoints":
        return memberpoints_auth(creds["memberpoints"]["api_id"], creds["memberpoints"]["api_key"])
    return pomelo_auth(creds["pomelo"]["client_id"], creds["pomelo"]["client_secret"])

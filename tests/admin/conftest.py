"""Fixtures for the admin API tests: the whole app with its real dialects (tests/admin/real.py drives them)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.admin.real import DEMO, imonggo_auth, memberpoints_auth
from tests.support import ClientFactory

DEMO_IMONGGO = DEMO["imonggo"]["api_token"]
__all__ = ["DEMO_IMONGGO", "imonggo_auth", "memberpoints_auth", "sandbox_client"]


@pytest.fixture
def sandbox_client(app_client: ClientFactory) -> Callable[..., Awaitable[TestClient]]:
    """app_client under the name these tests use: the real app, the demo scenario by default."""

    async def make(scenario: Any = "demo", **settings: Any) -> TestClient:
        return await app_client(scenario, **settings)

    return make

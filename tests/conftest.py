"""Fixtures for tests/: the shared ones from tests/support.py plus a small seeded tenant."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger import Asset, Credential, Ledger, Member, Tenant
from tests.support import app_client, ledger, store_url  # noqa: F401  (fixtures)


@pytest.fixture
async def tenant(ledger: Ledger) -> Tenant:
    return await ledger.create_tenant(
        name="t1",
        credentials=[Credential("imonggo", "token-1"), Credential("memberpoints", "api-1", "key-1")],
        config={"memberpoints": {"cid": 42}},
    )


@pytest.fixture
async def gold(ledger: Ledger, tenant: Tenant) -> int:
    await ledger.upsert_programme(
        tenant=tenant, number=8, name="Gold", spend_ratio=Decimal("200"), earn_unit=Decimal("10")
    )
    return 8


@pytest.fixture
async def member(ledger: Ledger, tenant: Tenant, gold: int) -> Member:
    created = await ledger.create_member(
        tenant=tenant, name="Juan Cruz", customer_no=1534, programme_no=gold, card_refs=["crd-1"]
    )
    await ledger.credit(tenant=tenant, member=created, amount=Decimal("100.00"), asset=Asset.POINTS)
    return created

"""The ledger fixtures of a tenant whose points live at a fake upstream (programme 8, Gold) and its member
Juan (upstream id usr-9, 100 points there), shared by the forwarding and shadow-event tests."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger import Asset, Credential, Ledger, Member, Tenant
from tests.ledger.fake_upstream import FakeUpstream

P = Asset.POINTS


@pytest.fixture
def fake() -> FakeUpstream:
    return FakeUpstream()


@pytest.fixture
async def up(ledger: Ledger, fake: FakeUpstream) -> Tenant:
    """A tenant whose points live at `fake`; its programme 8 spends 200 points per unit, earns 1 per 10."""
    tenant = await ledger.create_tenant(name="up", credentials=[Credential("imonggo", "token-up")])
    await ledger.upsert_programme(tenant=tenant, number=8, name="Gold", spend_ratio=Decimal("200"), earn_unit=Decimal("10"))
    ledger.bind_upstreams(lambda t: fake if t.id == tenant.id else None)
    ledger.mark_ready(tenant)
    return tenant


@pytest.fixture
async def juan(ledger: Ledger, up: Tenant, fake: FakeUpstream) -> Member:
    created = await ledger.create_member(tenant=up, name="Juan", customer_no=1534, programme_no=8, upstream_ref="usr-9")
    fake.kept[("usr-9", P)] = Decimal("100.00")
    return created

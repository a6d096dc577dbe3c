"""Tenants seen from several instances over one store: one made elsewhere is found at once, one deleted
elsewhere stops authenticating within a second."""
from __future__ import annotations

import asyncio

from gateway.ledger import Ledger


async def test_a_tenant_deleted_by_another_instance_stops_authenticating_here(ledger: Ledger, store_url: str) -> None:
    from gateway.ledger import Credential, open_store

    other = Ledger(open_store(store_url))
    await other.start()
    try:
        made = await ledger.create_tenant(name="shared", credentials=[Credential("imonggo", "tok-shared")])
        await asyncio.sleep(0.06)  # a miss looks again once the other instance's cache is 50 ms old
        assert (await other.authenticate(scheme="imonggo", principal="tok-shared")) is not None
        await ledger.delete_tenants(tenants=[made])
        other._tenants_loaded_at -= 2  # a second has passed since the other instance last looked
        assert await other.authenticate(scheme="imonggo", principal="tok-shared") is None
    finally:
        await other.close()

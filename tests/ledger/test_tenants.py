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



async def test_a_reload_that_read_before_a_tenant_was_made_here_does_not_undo_it(ledger: Ledger, store_url: str) -> None:
    """A background reload (the webhook deliverer's, say) that read the tenants before this instance made
    one must not put back its older picture when it finishes after the write."""
    from gateway.ledger import Credential, open_store
    from gateway.ledger.repo import tenants as tenant_sql

    other = Ledger(open_store(store_url))
    await other.start()
    try:
        await other.create_tenant(name="elsewhere", credentials=[Credential("imonggo", "tok-elsewhere")])
        real_read, read, go_on, held = ledger.store.read, asyncio.Event(), asyncio.Event(), []

        async def read_then_hold(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            result = await real_read(fn, *args, **kwargs)
            if fn is tenant_sql.load_all and not held:  # the first full read finishes late
                held.append(True)
                read.set()
                await go_on.wait()
            return result

        ledger.store.read = read_then_hold  # type: ignore[method-assign]
        reload = asyncio.create_task(ledger.reload_tenants())  # sees the other instance's change
        await read.wait()
        await ledger.create_tenant(name="made-here", credentials=[Credential("imonggo", "tok-here")])
        go_on.set()
        await reload
        assert (await ledger.tenant("made-here")).name == "made-here"
        assert await ledger.authenticate(scheme="imonggo", principal="tok-here") is not None
    finally:
        ledger.store.read = real_read  # type: ignore[method-assign]
        await other.close()

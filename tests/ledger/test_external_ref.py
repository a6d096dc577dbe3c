"""A member's external_ref (a code the client assigns) is unique in its tenant when set: a second member
with it, by create or update, is DuplicateIdentity naming the identity; none (None or "") is never a
duplicate; another tenant may hold the same code; a member can be found by it."""
from __future__ import annotations

import pytest

from gateway.ledger import By, Credential, DuplicateIdentity, Identity, Ledger, Tenant


async def test_a_taken_external_ref_is_refused_on_create_and_update(ledger: Ledger, tenant: Tenant) -> None:
    ana = await ledger.create_member(tenant=tenant, name="Ana", external_ref="VIP-1")
    with pytest.raises(DuplicateIdentity) as refused:
        await ledger.create_member(tenant=tenant, name="Ben", external_ref="VIP-1")
    assert refused.value.details["identity"] == "external_ref"
    ben = await ledger.create_member(tenant=tenant, name="Ben")
    with pytest.raises(DuplicateIdentity):
        await ledger.update_member(tenant=tenant, member=ben.id, changes={"external_ref": "VIP-1", "name": "Benny"})
    assert (await ledger.find_member(tenant=tenant, member=ben.id)).name == "Ben"
    assert (await ledger.update_member(tenant=tenant, member=ana.id, changes={"external_ref": "VIP-1"})).external_ref == "VIP-1"
    found = await ledger.find_member(tenant=tenant, member=By(Identity.EXTERNAL_REF, "VIP-1"))
    assert found.id == ana.id


async def test_no_external_ref_is_never_a_duplicate_and_clearing_frees_it(ledger: Ledger, tenant: Tenant) -> None:
    made = [await ledger.create_member(tenant=tenant, name=f"M{n}", external_ref=ref) for n, ref in enumerate((None, "", None, ""))]
    assert [m.external_ref for m in made] == [None] * 4
    await ledger.update_member(tenant=tenant, member=made[0].id, changes={"external_ref": "X"})
    cleared = await ledger.update_member(tenant=tenant, member=made[0].id, changes={"external_ref": ""})
    assert cleared.external_ref is None
    assert (await ledger.update_member(tenant=tenant, member=made[1].id, changes={"external_ref": "X"})).external_ref == "X"


async def test_another_tenant_may_hold_the_same_external_ref(ledger: Ledger, tenant: Tenant) -> None:
    other = await ledger.create_tenant(name="other", credentials=[Credential("imonggo", "other-token")])
    await ledger.create_member(tenant=tenant, name="Ana", external_ref="SHARED")
    assert (await ledger.create_member(tenant=other, name="Ana", external_ref="SHARED")).external_ref == "SHARED"

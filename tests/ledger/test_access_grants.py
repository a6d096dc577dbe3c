"""Access grants are kept in the store: any ledger over the same database (another instance, or this one
restarted) accepts a token until it expires or is revoked, a repeat request gets the same token, and a
token dies with its tenant, whose successor under the same name and credentials does not inherit it."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from gateway.ledger import AccessGrant, Credential, InvalidArgument, Ledger, Tenant, open_store

CLIENT = Credential("oauthish", "client-1", "secret-1")
SCOPES = ("read", "write")
DAY = timedelta(days=1)


async def issue(ledger: Ledger, scopes: tuple[str, ...] = SCOPES) -> AccessGrant:
    grant = await ledger.grant_access(credential=CLIENT, scopes=scopes, lifetime=DAY)
    assert grant is not None and grant.token
    return grant


@pytest.fixture
async def owner(ledger: Ledger) -> Tenant:
    return await ledger.create_tenant(name="owner", credentials=[CLIENT])


@pytest.fixture
async def other(store_url: str):  # type: ignore[no-untyped-def]
    """A second instance over the same database."""
    second = Ledger(open_store(store_url))
    await second.start()
    yield second
    await second.close()


async def test_a_token_is_accepted_by_another_instance_and_a_restarted_one(
    ledger: Ledger, owner: Tenant, other: Ledger, store_url: str
) -> None:
    grant = await issue(ledger)
    assert grant.token
    found = await other.check_access(token=grant.token)
    assert found is not None
    tenant, seen = found
    assert (tenant.name, seen.client, seen.scopes) == ("owner", "client-1", SCOPES)
    restarted = Ledger(open_store(store_url))
    await restarted.start()
    try:
        assert await restarted.check_access(token=grant.token) is not None
    finally:
        await restarted.close()


async def test_the_store_keeps_only_a_hash_of_the_token(ledger: Ledger, owner: Tenant) -> None:
    grant = await issue(ledger)
    assert grant.token
    rows = await ledger.store.read(lambda tx: tx.fetchall("SELECT * FROM access_grants"))
    stored = [str(value) for row in rows for value in tuple(row)]
    assert hashlib.sha256(grant.token.encode()).hexdigest() in stored
    assert not any(grant.token in value for value in stored)


async def test_a_repeat_request_on_any_instance_gets_the_same_token_until_it_expires(
    ledger: Ledger, owner: Tenant, other: Ledger
) -> None:
    first = await issue(ledger)
    again = await issue(other)
    assert again.token == first.token and again.expires_at == first.expires_at
    narrower = await issue(ledger, SCOPES[:1])
    assert narrower.token != first.token  # another grant: other scopes
    ledger.clock.shift(DAY)
    assert await ledger.check_access(token=first.token) is None  # expired on the ledger clock
    renewed = await issue(ledger)
    assert renewed.token != first.token and await ledger.check_access(token=renewed.token) is not None
    ledger.clock.reset()
    assert await ledger.check_access(token=first.token) is None  # replaced, not merely expired


async def test_a_token_revoked_on_one_instance_is_refused_on_the_other(
    ledger: Ledger, owner: Tenant, other: Ledger
) -> None:
    full = await issue(ledger)
    narrow = await issue(ledger, SCOPES[:1])
    assert await other.revoke_access(credential=CLIENT) == 2
    for token in (full.token, narrow.token):
        assert await ledger.check_access(token=token) is None
        assert await other.check_access(token=token) is None
    fresh = await issue(ledger)
    assert fresh.token != full.token


async def test_a_deleted_tenants_tokens_die_with_it_and_a_successor_does_not_inherit_them(
    ledger: Ledger, owner: Tenant, other: Ledger
) -> None:
    grant = await issue(ledger)
    assert await other.check_access(token=grant.token) is not None
    await other.delete_tenants(tenants=[await other.tenant("owner")])
    assert await ledger.check_access(token=grant.token) is None
    successor = await other.create_tenant(name="owner", credentials=[CLIENT])  # same name, same secret
    assert successor.id != owner.id  # a tenant id is never given twice
    for instance in (ledger, other):
        assert await instance.check_access(token=grant.token) is None
    count = await ledger.store.read(lambda tx: tx.fetchval("SELECT count(*) FROM access_grants"))
    assert count == 0
    mine = await issue(other)
    assert mine.token != grant.token


async def test_only_a_credential_a_tenant_holds_with_its_secret_gets_a_grant_with_word_scopes(
    ledger: Ledger, owner: Tenant
) -> None:
    assert await ledger.grant_access(credential=Credential("oauthish", "client-1", "guess"), scopes=SCOPES,
                                     lifetime=DAY) is None
    assert await ledger.grant_access(credential=Credential("oauthish", "nobody", "secret-1"), scopes=SCOPES,
                                     lifetime=DAY) is None
    assert await ledger.revoke_access(credential=Credential("oauthish", "client-1", "guess")) is None
    with pytest.raises(InvalidArgument):
        await ledger.grant_access(credential=Credential("oauthish", "client-1"), scopes=SCOPES, lifetime=DAY)
    with pytest.raises(InvalidArgument):
        await ledger.grant_access(credential=CLIENT, scopes=("two words",), lifetime=DAY)
    with pytest.raises(InvalidArgument):
        await ledger.grant_access(credential=CLIENT, scopes=SCOPES, lifetime=timedelta(0))
    assert await ledger.check_access(token="") is None
    assert await ledger.check_access(token="never-issued") is None


async def test_an_instance_that_has_not_yet_seen_a_tenant_replaced_grants_for_the_new_one(
    ledger: Ledger, owner: Tenant, other: Ledger
) -> None:
    assert await other.tenant("owner")  # the other instance has its copy of the tenants now
    await ledger.delete_tenants(tenants=[owner])
    successor = await ledger.create_tenant(name="owner", credentials=[CLIENT])  # a reset: same credentials
    grant = await issue(other)  # within its second
    assert grant.tenant_id == successor.id
    found = await other.check_access(token=grant.token)
    assert found is not None and found[0].id == successor.id
    assert await other.revoke_access(credential=CLIENT) == 1


async def test_a_tenant_id_is_never_given_twice(ledger: Ledger) -> None:
    a = await ledger.create_tenant(name="a")
    b = await ledger.create_tenant(name="b")
    await ledger.delete_tenants(tenants=[b])  # the highest id goes
    c = await ledger.create_tenant(name="c")
    await ledger.delete_tenants(tenants=[a, c])  # every tenant goes
    d = await ledger.create_tenant(name="d")
    assert len({a.id, b.id, c.id, d.id}) == 4 and a.id < b.id < c.id < d.id


async def test_what_is_remembered_for_a_tenant_goes_when_another_instance_deletes_it(
    ledger: Ledger, owner: Tenant, other: Ledger
) -> None:
    for n in (1, 2, 3):
        await ledger.create_member(tenant=owner, member_no=n, customer_no=n)
    await ledger.balances(tenant=owner, limit=2)

    async def counted(tx: Any) -> int:  # what paging keeps for a tenant: its listing counts, in the database
        return await tx.fetchval("SELECT count(*) FROM listing_counts WHERE tenant_id = ?", (owner.id,))

    assert await ledger.store.read(counted) > 0
    await other.delete_tenants(tenants=[await other.tenant("owner")])
    await ledger.reload_tenants()  # what every lookup does once the cache is a second old
    assert await ledger.store.read(counted) == 0

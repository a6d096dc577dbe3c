"""Tenant, programme and member operations of the ledger: create, change, find, list, balances."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from .core import LedgerBase, MemberRef
from .errors import DuplicateIdentity, InvalidArgument, PendingUpstreamWrites, UnknownProgramme, UnknownTenant
from .models import Asset, Balance, BalanceRow, Credential, Identity, Member, Page, Programme, Tenant
from .money import from_cents, to_cents
from .repo import entries as entry_sql
from .repo import intents as intent_sql
from .repo import members as member_sql
from .repo import tenants as tenant_sql
from .store.base import Tx

MAX_PAGE = 10_000


def check_page(offset: int, limit: int) -> None:
    if offset < 0:
        raise InvalidArgument("offset must not be negative")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit must be between 1 and {MAX_PAGE}")


async def _refuse_pending(tx: Tx, tenants: list[Tenant]) -> None:
    pending = await intent_sql.pending(tx, [t.id for t in tenants])
    if not pending:
        return
    names = {t.id: t.name for t in tenants}
    each = {names[i]: counts for i, counts in sorted(pending.items())}
    opened, unsettled = (sum(c[state] for c in each.values()) for state in ("open", "unsettled"))
    told = "; ".join(f"tenant {name}: {c['open']} open, {c['unsettled']} unsettled" for name, c in each.items())
    raise PendingUpstreamWrites(
        f"writes forwarded to the upstream are not settled yet ({told}); deleting or resetting would lose them."
        " Open ones are carried out by the gateway once the upstream answers; unsettled ones need a person to"
        " settle them",
        tenants=each, open=opened, unsettled=unsettled,
    )


class MemberOps(LedgerBase):
    # -- tenants ------------------------------------------------------------------------------

    async def create_tenant(
        self, *, name: str, credentials: Iterable[Credential] = (), config: Mapping[str, Any] | None = None
    ) -> Tenant:
        creds = list(credentials)

        async def work(tx: Tx) -> tuple[int, Tenant]:
            if await tx.fetchval("SELECT 1 FROM tenants WHERE name = ?", (name,)):
                raise DuplicateIdentity(f"a tenant named {name!r} exists already")
            tenant_id = await tenant_sql.insert(tx, name, config or {}, self.clock.now())
            await member_sql.start_versions(tx, tenant_id)
            for c in creds:
                if not await tenant_sql.add_credential(tx, tenant_id, c):
                    raise DuplicateIdentity(f"the {c.scheme} credential {c.principal!r} belongs to another tenant")
            created = await tenant_sql.load_one(tx, tenant_id)
            assert created is not None
            return await tenant_sql.bump(tx), created

        epoch, created = await self._commit(work)
        await self._tenants_changed(epoch, changed=[created])
        return created

    async def update_tenant_config(self, *, tenant: Tenant, section: str, values: Mapping[str, Any]) -> Tenant:
        """Replace one named section of a tenant's configuration (opaque to the ledger)."""

        async def work(tx: Tx) -> tuple[int, Tenant]:
            current = await tenant_sql.load_one(tx, tenant.id)
            if current is None:
                raise UnknownTenant(f"no tenant named {tenant.name!r}")
            config = dict(current.config)
            config[section] = dict(values)
            await tenant_sql.set_config(tx, tenant.id, config)
            return await tenant_sql.bump(tx), replace(current, config=config)

        epoch, updated = await self._commit(work)
        await self._tenants_changed(epoch, changed=[updated])
        return updated

    async def delete_tenants(self, *, tenants: Iterable[Tenant]) -> None:
        """Delete tenants and everything they own; refused whole (PendingUpstreamWrites) while any of them
        has writes forwarded to its upstream that are not settled, checked in the deleting transaction."""
        chosen = list(tenants)
        ids = [t.id for t in chosen]

        async def work(tx: Tx) -> int:
            await _refuse_pending(tx, chosen)
            await tenant_sql.delete(tx, ids)
            return await tenant_sql.bump(tx)

        await self._tenants_changed(await self._commit(work), removed=ids)

    async def check_deletable(self, *, tenants: Iterable[Tenant]) -> None:
        """Raise PendingUpstreamWrites if deleting these tenants now would be refused (a caller that must
        not half-do a larger reset asks first; delete_tenants checks again as it deletes)."""
        chosen = list(tenants)
        await self._read(lambda tx: _refuse_pending(tx, chosen))

    # -- programmes -----------------------------------------------------------------------------

    async def upsert_programme(
        self,
        *,
        tenant: Tenant,
        number: int,
        name: str,
        spend_ratio: Decimal | None = None,
        earn_unit: Decimal | None = None,
        discount: Decimal = Decimal("0"),
        data: Mapping[str, Any] | None = None,
        status: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> Programme:
        if spend_ratio is not None and spend_ratio <= 0:
            raise InvalidArgument("spend ratio must be positive")
        if earn_unit is not None and earn_unit <= 0:
            raise InvalidArgument("earn unit must be positive")
        fields = {
            "number": number, "name": name, "discount": discount, "data": data or {}, "status": status,
            "spend_ratio": None if spend_ratio is None else to_cents(spend_ratio),
            "earn_unit": None if earn_unit is None else to_cents(earn_unit),
            "created_at": created_at, "updated_at": updated_at,
        }

        async def work(tx: Tx) -> Programme:
            await member_sql.upsert_programme(tx, tenant.id, fields, self.clock.now())
            found = await member_sql.get_programme(tx, tenant.id, number)
            assert found is not None
            return found

        return await self._commit(work)

    async def programme(self, *, tenant: Tenant, number: int) -> Programme:
        found = await self._read(lambda tx: member_sql.get_programme(tx, tenant.id, number), point=True)
        if found is None:
            raise UnknownProgramme(f"no programme {number}")
        return found

    async def programmes(
        self, *, tenant: Tenant, offset: int = 0, limit: int = 50, active_only: bool = False
    ) -> Page[Programme]:
        check_page(offset, limit)
        items = await self._read(
            lambda tx: member_sql.list_programmes(tx, tenant.id, offset=offset, limit=limit, active_only=active_only)
        )
        return Page(items, offset, limit)

    # -- members --------------------------------------------------------------------------------

    async def create_member(
        self,
        *,
        tenant: Tenant,
        name: str = "",
        email: str | None = None,
        customer_no: int | None = None,
        member_no: int | None = None,
        user_ref: str | None = None,
        card_refs: Iterable[str] = (),
        programme_no: int | None = None,
        profile: Mapping[str, Any] | None = None,
        external_ref: str | None = None,
        upstream_ref: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> Member:
        """A new member; `upstream_ref` is its identity at the tenant's upstream, when it has one."""
        cards = list(card_refs)

        async def work(tx: Tx) -> Member:
            now = self.clock.now()
            number = await member_sql.next_number(tx, tenant.id)
            c_no = customer_no if customer_no is not None else (member_no if member_no is not None else number)
            m_no = member_no if member_no is not None else c_no
            fields = {
                "customer_no": c_no, "member_no": m_no, "email": email or None,
                "user_ref": user_ref or self.ids.ksuid("usr-"), "name": name, "programme_no": programme_no,
                "profile": dict(profile or {}), "created_at": created_at, "updated_at": updated_at,
                "external_ref": external_ref or None, "upstream_ref": upstream_ref or None,
            }
            await self._check_unique(tx, tenant, fields, cards, exclude=None)
            if programme_no is not None and await member_sql.get_programme(tx, tenant.id, programme_no) is None:
                raise UnknownProgramme(f"no programme {programme_no}")
            member_id = await member_sql.insert(tx, tenant.id, fields, now)
            for card in cards:
                await member_sql.add_card(tx, tenant.id, member_id, card)
            return await self._member(tx, tenant, member_id)

        return await self._commit(work)

    async def _check_unique(
        self, tx: Tx, tenant: Tenant, fields: Mapping[str, Any], cards: list[str], exclude: int | None
    ) -> None:
        checks = [
            (Identity.CUSTOMER_NO, fields.get("customer_no")),
            (Identity.MEMBER_NO, fields.get("member_no")),
            (Identity.EMAIL, fields.get("email")),
            (Identity.USER_REF, fields.get("user_ref")),
            (Identity.EXTERNAL_REF, fields.get("external_ref")),
            (Identity.UPSTREAM_REF, fields.get("upstream_ref")),
            *((Identity.CARD_REF, card) for card in cards),
        ]
        for identity, value in checks:
            if value is None:
                continue
            other = await member_sql.find(tx, tenant.id, identity, value)
            if other is not None and other.id != exclude:
                raise DuplicateIdentity(f"{identity.value} {value} belongs to another member", identity=identity.value)

    async def update_member(
        self,
        *,
        tenant: Tenant,
        member: MemberRef,
        changes: Mapping[str, Any] | Callable[[Member], Mapping[str, Any]],
    ) -> Member:
        """Change any of: name, email, customer_no, member_no, programme_no, profile (merged), deleted,
        external_ref, upstream_ref (empty clears either).
        `changes` may be a function of the member as it stands inside the transaction, for changes that
        depend on its current values (so two concurrent partial updates never undo each other)."""

        async def work(tx: Tx) -> Member:
            current = await self._member(tx, tenant, member, include_deleted=True)
            fields = dict(changes(current) if callable(changes) else changes)
            unknown = set(fields) - {
                "name", "email", "customer_no", "member_no", "programme_no", "profile", "deleted", "external_ref",
                "upstream_ref",
            }
            if unknown:
                raise InvalidArgument(f"cannot change {', '.join(sorted(unknown))}")
            for key in ("email", "external_ref", "upstream_ref"):
                if key in fields:
                    fields[key] = fields[key] or None
            if "profile" in fields:
                fields["profile"] = {**current.profile, **fields["profile"]}
            await self._check_unique(tx, tenant, fields, [], exclude=current.id)
            number = fields.get("programme_no")
            if number is not None and await member_sql.get_programme(tx, tenant.id, number) is None:
                raise UnknownProgramme(f"no programme {number}")
            await member_sql.update(tx, current.id, fields, self.clock.now())
            return await self._member(tx, tenant, current.id, include_deleted=True)

        return await self._commit(work)

    async def link_members(self, *, tenant: Tenant, links: Sequence[tuple[int, str]]) -> int:
        """Set the upstream identity of members (by member id), all in one transaction; returns how many
        changed. A ref another member of the tenant holds (and keeps) is DuplicateIdentity, nothing linked."""
        wanted = [(member_id, ref.strip()) for member_id, ref in links]
        if any(not ref for _, ref in wanted):
            raise InvalidArgument("an upstream identity must not be empty")
        refs = [ref for _, ref in wanted]
        if len(set(refs)) != len(refs) or len({m for m, _ in wanted}) != len(wanted):
            raise DuplicateIdentity("a member or an upstream identity appears twice in the links", identity="upstream_ref")

        async def work(tx: Tx) -> int:
            changed = 0
            members = {m: await self._member(tx, tenant, m, include_deleted=True) for m, _ in wanted}
            # Clear first, so refs may move between the linked members in one call.
            moving = [m for m, ref in wanted if members[m].upstream_ref not in (None, ref)]
            for member_id in moving:
                await member_sql.update(tx, member_id, {"upstream_ref": None}, self.clock.now())
            for member_id, ref in wanted:
                if members[member_id].upstream_ref == ref:
                    continue
                other = await member_sql.find(tx, tenant.id, Identity.UPSTREAM_REF, ref)
                if other is not None and other.id != member_id:
                    raise DuplicateIdentity(f"upstream_ref {ref} belongs to another member", identity="upstream_ref")
                await member_sql.update(tx, member_id, {"upstream_ref": ref}, self.clock.now())
                changed += 1
            return changed

        return await self._commit(work)

    async def find_member(self, *, tenant: Tenant, member: MemberRef, include_deleted: bool = True) -> Member:
        return await self._read(lambda tx: self._member(tx, tenant, member, include_deleted=include_deleted), point=True)

    async def members(
        self,
        *,
        tenant: Tenant,
        offset: int = 0,
        limit: int = 100,
        active_only: bool = False,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
        order_by: str = "customer_no",
        after_customer_no: int | None = None,
    ) -> Page[Member]:
        """A page of members. `after_customer_no` (in the default customer_no order): those after that customer
        number, found by the index, so a walk through every member costs the same per page at any depth."""
        check_page(offset, limit)
        items = await self._read(
            lambda tx: member_sql.list_page(
                tx, tenant.id, offset=offset, limit=limit, active_only=active_only,
                updated_after=updated_after, updated_before=updated_before, order_by=order_by,
                after_customer_no=after_customer_no,
            )
        )
        return Page(items, offset, limit)

    async def count_members(
        self,
        *,
        tenant: Tenant,
        active_only: bool = False,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
    ) -> int:
        return await self._read(
            lambda tx: member_sql.count(
                tx, tenant.id, active_only=active_only, updated_after=updated_after, updated_before=updated_before
            )
        )

    async def balance(
        self, *, tenant: Tenant, member: MemberRef, include_deleted: bool = False, with_programme: bool = False
    ) -> Balance:
        """A member's accounts. A deleted member is not found unless `include_deleted` (its record still shows
        them). `with_programme`: its programme too, in the same read, for a caller that shows both."""

        async def work(tx: Tx) -> Balance:
            found = await self._member(tx, tenant, member, include_deleted=include_deleted)
            accounts = await entry_sql.accounts(tx, found.id)
            programme = None
            if with_programme and found.programme_no is not None:
                programme = await member_sql.get_programme(tx, tenant.id, found.programme_no)
            return Balance(found, accounts, programme)

        return await self._read(work, point=True)

    async def balances(
        self,
        *,
        tenant: Tenant,
        asset: Asset = Asset.POINTS,
        member_no: int | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> Page[BalanceRow]:
        """Balances of live members by ascending member number. A deep page costs about what the first one
        does: the store's listing counts say where it starts (see paging.py); nothing is remembered here."""
        check_page(offset, limit)

        async def work(tx: Tx) -> list[tuple[Member, int]]:
            return await member_sql.balance_page(tx, tenant.id, asset, member_no=member_no, offset=offset, limit=limit)

        # Bounded whatever the offset (the listing counts find the start; then at most 255 index steps and
        # `limit` rows): a point read.
        found = await self._read(work, point=True)
        return Page([BalanceRow(m, from_cents(c)) for m, c in found], offset, limit)

"""The base every ledger operation builds on: the store, the clock, ids, the tenant cache, the
idempotent write path, and posting one entry together with its outbox event in the caller's
transaction."""
from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from .clock import Clock, IdGenerator, to_text
from .commits import CommitHook, Noting
from .errors import IdempotencyConflict, IdempotencyInFlight, InsufficientFunds, UnknownMember, UnknownTenant
from .models import AccountBalance, Asset, Credential, Entry, Identity, Idempotency, Kind, Member, Outcome, Status, Tenant
from .money import from_cents, to_cents
from .repo import entries as entry_sql
from .repo import events as event_sql
from .repo import members as member_sql
from .repo import tenants as tenant_sql
from .store.base import Store, Tx

R = TypeVar("R")


@dataclass(frozen=True)
class By:
    """A reference to a member by one of its identities, resolved inside the operation's transaction."""

    identity: Identity
    value: object

    @classmethod
    def id(cls, value: int) -> By:
        return cls(Identity.ID, value)


MemberRef = By | Member | int


def insufficient(asset: Asset, available: Decimal, needed: Decimal) -> InsufficientFunds:
    return InsufficientFunds(
        f"insufficient {asset.value}: {available} available, {needed} needed", available=available, needed=needed
    )


def _raw(text: str) -> bytes:
    """Text as bytes for a constant-time comparison; a lone surrogate (JSON "\\ud800", or a header byte
    that is not UTF-8) compares unequal instead of raising."""
    return text.encode("utf-8", "surrogatepass")


class LedgerBase:
    def __init__(self, store: Store, *, clock: Clock | None = None, ids: IdGenerator | None = None) -> None:
        self.store = store
        self.clock = clock or Clock()
        self.ids = ids or IdGenerator(self.clock)
        self._tenants: dict[int, Tenant] = {}
        self._tenant_names: dict[str, Tenant] = {}
        self._tenant_principals: dict[tuple[str, str], tuple[Tenant, Credential]] = {}
        self._tenant_epoch = -1  # the store's tenant epoch the cache reflects; -1: never loaded
        self._tenants_loaded_at = 0.0
        self._inflight: set[tuple[int, str, str]] = set()
        self._tenant_lock = asyncio.Lock()
        # Forwarding (forwarding.py): who holds each tenant's points; None for every tenant until bound.
        self._resolve: Callable[[Tenant], Any] | None = None
        self._ready: set[int] = set()  # tenants whose open intents were settled once since start
        self._readying: dict[int, asyncio.Task[Any]] = {}
        self._settle_budget = 10.0
        self.on_commit: CommitHook | None = None  # see CommitHook

    async def _commit(self, work: Callable[[Tx], Awaitable[R]], *, alone: bool = False) -> R:
        """The store's write, telling the commit hook (if any) what it published once it has committed.
        Every write of the ledger goes through here (a test holds it to that). `alone` is named to the store
        only when asked for, so the store's write is called exactly as the ledger always called it (a store,
        or a test's stand-in for its write, taking only the work keeps working)."""
        hook = self.on_commit
        published: list[tuple[str, str]] = []

        async def noted(tx: Tx) -> R:
            noting = Noting(tx)
            result = await work(noting)
            published[:] = noting.published  # a unit run again (a conflict) counts its last run only
            return result

        unit = work if hook is None else noted
        result = await (self.store.write(unit, alone=True) if alone else self.store.write(unit))
        if hook is not None and published:
            hook(published)
        return result

    @property
    def kind(self) -> str:
        return self.store.kind

    async def start(self) -> None:
        await self.store.open()
        await self.reload_tenants()

    async def close(self) -> None:
        await self.store.close()

    # -- tenants (cached: every request authenticates against them) -------------------------------

    async def reload_tenants(self) -> None:
        """Bring the cache up to date. One read of the tenant epoch when nothing changed, so the cost does
        not grow with the number of tenants; all of them are read again only when another instance (or a
        write this cache has not seen) moved the epoch."""
        if await self.store.read(tenant_sql.epoch, point=True) != self._tenant_epoch:
            at, loaded = await self.store.read(tenant_sql.load_all)
            if at < self._tenant_epoch:  # a write of ours (or a later reload) got in while this one read
                return
            self._index({t.id: t for t in loaded}, at)
        self._tenants_loaded_at = time.monotonic()

    def _index(self, tenants: dict[int, Tenant], epoch: int) -> None:
        self._tenants, self._tenant_names, self._tenant_principals = {}, {}, {}
        for tenant in tenants.values():
            self._remember(tenant)
        self._tenant_epoch = epoch

    def _remember(self, tenant: Tenant) -> None:
        self._forget(tenant.id)
        self._tenants[tenant.id] = tenant
        self._tenant_names[tenant.name] = tenant
        # Keyed by principal: a dict lookup (hashed with a per-process random key) reveals nothing usable
        # about other principals, and the secret is still compared in constant time.
        for c in tenant.credentials:
            self._tenant_principals[(c.scheme, c.principal)] = (tenant, c)

    def _forget(self, tenant_id: int) -> None:
        old = self._tenants.pop(tenant_id, None)
        if old is not None:
            self._tenant_names.pop(old.name, None)
            for c in old.credentials:
                self._tenant_principals.pop((c.scheme, c.principal), None)

    async def _tenants_changed(self, epoch: int, changed: Iterable[Tenant] = (), removed: Iterable[int] = ()) -> None:
        """After this instance's own tenant write, which moved the store's epoch to `epoch`: apply just that
        change when the cache was current right before it (no other write came between), otherwise read
        everything again. A cache already past `epoch` holds the change. Either way the cost of one
        change does not grow with the number of tenants unless another instance changed them meanwhile."""
        if epoch <= self._tenant_epoch:
            return
        if epoch != self._tenant_epoch + 1:
            await self.reload_tenants()
            return
        for tenant_id in removed:
            self._forget(tenant_id)
        for tenant in changed:
            self._remember(tenant)
        self._tenant_epoch = epoch

    async def _maybe_reload(self, older_than: float = 1.0) -> None:
        """Read the tenants again if the cache is older than `older_than` seconds: another instance may
        have added, changed or deleted one. Every lookup refreshes a cache a second old; a miss always
        asks (one read of the epoch), so a tenant just made elsewhere is found."""
        if time.monotonic() - self._tenants_loaded_at > older_than:
            async with self._tenant_lock:
                if time.monotonic() - self._tenants_loaded_at > older_than:
                    await self.reload_tenants()

    async def tenants(self) -> list[Tenant]:
        await self._maybe_reload()  # another instance may have added or deleted one
        return sorted(self._tenants.values(), key=lambda t: t.id)

    async def tenant(self, name: str) -> Tenant:
        await self._maybe_reload()  # another instance may have deleted or changed it
        found = self._tenant_names.get(name)
        if found is None:
            # Naming a tenant is an admin's act, never a hot path: a miss always asks the store's epoch (one
            # read), so a tenant made through another instance a moment ago is found however fast it came.
            await self._maybe_reload(older_than=0.0)
            found = self._tenant_names.get(name)
        if found is None:
            raise UnknownTenant(f"no tenant named {name!r}")
        return found

    async def _tenant_by_id(self, tenant_id: int) -> Tenant | None:
        """The tenant with an id a row just read from the store carries: a miss means this copy of the
        tenants is older than that tenant (made through another instance), so it is read again at once."""
        await self._maybe_reload()
        if tenant_id not in self._tenants:
            async with self._tenant_lock:  # requests that miss together read the tenants once
                if tenant_id not in self._tenants:
                    await self.reload_tenants()
        return self._tenants.get(tenant_id)

    async def authenticate(self, *, scheme: str, principal: str, secret: str | None = None) -> Tenant | None:
        """The tenant whose `scheme` credential has this principal (and secret, when it has one). The cache is
        read again once it is a second old, so a tenant deleted through another instance stops
        authenticating here within a second."""
        await self._maybe_reload()
        found = self._tenant_principals.get((scheme, principal))
        if found is None:
            # A miss asks the store's epoch (one small read; everything is read again only when it moved), so
            # credentials made through another instance a moment ago work at once, however quick the caller.
            await self._maybe_reload(older_than=0.0)
            found = self._tenant_principals.get((scheme, principal))
        if found is None:
            return None
        tenant, credential = found
        if credential.secret is None or (
            secret is not None and hmac.compare_digest(_raw(credential.secret), _raw(secret))
        ):
            return tenant
        return None

    # -- transactions ------------------------------------------------------------------------------

    async def _read(self, work: Callable[[Tx], Awaitable[R]], *, point: bool = False) -> R:
        return await self.store.read(work, point=point)

    async def _write(
        self, tenant: Tenant, work: Callable[[Tx], Awaitable[R]], idempotency: Idempotency | None = None
    ) -> Any:
        """Run `work` in one write transaction. With `idempotency`, run it at most once per key: a stored
        response is replayed, a different request under the same key is refused, and a duplicate that
        arrives while the first is still running is refused as in flight. Refused work stores nothing."""
        if idempotency is None:
            return await self._commit(work)
        slot = (tenant.id, idempotency.scope, idempotency.key)
        if slot in self._inflight:
            raise IdempotencyInFlight("a request with this idempotency key is still in flight")
        self._inflight.add(slot)
        try:

            async def once(tx: Tx) -> Outcome[R]:
                stored = await event_sql.idempotency_get(tx, tenant.id, idempotency.scope, idempotency.key)
                if stored is not None:
                    if not hmac.compare_digest(stored["fingerprint"], idempotency.fingerprint):
                        raise IdempotencyConflict("this idempotency key was used with a different request")
                    return Outcome(response=bytes(stored["response"]), replayed=True)
                result = await work(tx)
                response = idempotency.render(result)
                await event_sql.idempotency_put(
                    tx, tenant.id, idempotency.scope, idempotency.key, idempotency.fingerprint, response,
                    self.clock.now(),
                )
                return Outcome(response=response, replayed=False, result=result)

            return await self._commit(once)
        finally:
            self._inflight.discard(slot)

    # -- helpers used inside transactions ------------------------------------------------------------

    async def _member(self, tx: Tx, tenant: Tenant, ref: MemberRef, *, include_deleted: bool = False) -> Member:
        if isinstance(ref, Member):
            ref = By.id(ref.id)
        elif isinstance(ref, int):
            ref = By.id(ref)
        found = await member_sql.find(tx, tenant.id, ref.identity, ref.value)
        if found is None or (found.deleted and not include_deleted):
            raise UnknownMember(f"no member with {ref.identity.value} {ref.value}")
        return found

    async def _post(
        self,
        tx: Tx,
        tenant: Tenant,
        member: Member,
        asset: Asset,
        amount: Decimal,
        *,
        kind: Kind,
        status: Status = Status.CONFIRMED,
        now: datetime,
        record_id: int | None = None,
        record_amount: Decimal | None = None,
        reference: str | None = None,
        note: str | None = None,
        origin: str | None = None,
        value: Decimal | None = None,
        order_id: int | None = None,
        reverses_id: int | None = None,
        public_ref: str | None = None,
        occurred_at: datetime | None = None,
        data: Mapping[str, Any] | None = None,
        offset: int = 0,
        covered: bool = False,
    ) -> tuple[Entry, AccountBalance]:
        """Write one entry, move the account, publish the entry's event. The caller checked the rules.
        `offset` (cents): what the upstream's balance moved by besides this entry (a mirrored account).
        `covered`: a confirmed debit the balance must cover, checked by the move itself (one statement
        instead of a read and a move); InsufficientFunds, nothing applied, when it does not."""
        cents = to_cents(amount)
        touch = kind is not Kind.OPENING  # an opening balance belongs to the record as it was loaded
        if covered and status is Status.CONFIRMED and not offset:
            row = await entry_sql.move(tx, member.id, asset, posted=cents, now=now, touch=touch, floor=True)
            if row is None:
                short = await entry_sql.account(tx, member.id, asset)
                raise insufficient(asset, from_cents(short["posted"]), -amount)
        elif status is Status.CONFIRMED:
            if covered:
                await self._require_cover(tx, member, asset, -amount)
            row = await entry_sql.move(tx, member.id, asset, posted=cents, now=now, touch=touch, offset=offset)
        else:
            row = await entry_sql.move(tx, member.id, asset, pending=cents, now=now, touch=touch)
        entry = await entry_sql.insert(
            tx,
            {
                "tenant_id": tenant.id, "member_id": member.id, "asset": asset, "amount": cents,
                "record_id": record_id, "record_amount": to_cents(record_amount if record_amount is not None else amount),
                "kind": kind, "status": status, "reference": reference, "note": note, "origin": origin,
                "value": None if value is None else to_cents(value), "order_id": order_id, "reverses_id": reverses_id,
                "public_ref": public_ref, "occurred_at": occurred_at or now, "created_at": now, "data": data,
            },
            member_no=member.member_no, customer_no=member.customer_no,
        )
        balance = entry_sql.to_balance(asset, row)
        await self._publish(tx, tenant, "entry.created", entry, balance, now)
        return entry, balance

    async def _require_cover(self, tx: Tx, member: Member, asset: Asset, amount: Decimal) -> None:
        """InsufficientFunds unless the member's posted balance holds `amount`."""
        available = from_cents((await entry_sql.account(tx, member.id, asset))["posted"])
        if available < amount:
            raise insufficient(asset, available, amount)

    async def _publish(
        self, tx: Tx, tenant: Tenant, topic: str, entry: Entry, balance: AccountBalance, now: datetime
    ) -> None:
        payload = {
            "entry_id": entry.id, "public_ref": entry.public_ref, "member_id": entry.member_id,
            "asset": entry.asset.value, "amount": str(entry.amount), "kind": entry.kind.value,
            "status": entry.status.value if topic == "entry.created" else topic.split(".")[1],
            "reference": entry.reference, "origin": entry.origin, "record_id": entry.record_id,
            "reverses_id": entry.reverses_id, "value": None if entry.value is None else str(entry.value),
            "posted": str(balance.posted), "pending": str(balance.pending),
            "occurred_at": to_text(entry.occurred_at), "data": dict(entry.data),
        }
        await event_sql.publish(tx, tenant.id, topic, entry.id, payload, now)

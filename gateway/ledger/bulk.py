"""Members added in bulk: a batch of new members with their cards, accounts and history written in one
transaction of a few executemany statements, instead of one ledger call per member. What the audit
checks holds by construction: an account's balance is the sum of the entries given (never negative at
any point of them), every entry has its one creation event, every member its three accounts. Knows no
vendor and no generator: it is handed the members."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .clock import to_text
from .commits import Noting, note
from .core import LedgerBase
from .errors import DuplicateIdentity, InvalidArgument
from .models import MANUAL_KINDS, Asset, Kind, Tenant
from .money import from_cents
from .repo import bulk as bulk_sql
from .repo import entries as entry_sql
from .repo import members as member_sql
from .repo.rows import dumps
from .store.base import Tx

MAX_BATCH = 20_000  # members per transaction: big enough to amortise a commit, small enough to hold in memory


@dataclass(frozen=True)
class NewEntry:
    """One confirmed movement of a new member's account, in integer hundredths (negative spends)."""

    asset: Asset
    cents: int
    occurred_at: datetime
    kind: Kind = Kind.ADJUSTMENT
    note: str | None = None


@dataclass(frozen=True)
class NewMember:
    """A member to add; its customer and member numbers are the ledger's to give (the next free ones)."""

    name: str
    user_ref: str
    created_at: datetime
    email: str | None = None
    card_refs: tuple[str, ...] = ()
    profile: Mapping[str, Any] = field(default_factory=dict)
    programme_no: int | None = None
    external_ref: str | None = None
    entries: tuple[NewEntry, ...] = ()  # in the order they happened


def _check(members: Sequence[NewMember]) -> None:
    """The batch's own rules, before anything is written: numbers whole, balances never below zero,
    identities unique within the batch."""
    if not 1 <= len(members) <= MAX_BATCH:
        raise InvalidArgument(f"a bulk batch holds 1 to {MAX_BATCH} members, not {len(members)}")
    seen: dict[str, set[str]] = {"user_ref": set(), "email": set(), "card_ref": set(), "external_ref": set()}
    for m in members:
        if not m.user_ref:
            raise InvalidArgument("every member needs a user_ref")
        for key, value in (("user_ref", m.user_ref), ("email", (m.email or "").lower() or None),
                           ("external_ref", m.external_ref), *(("card_ref", c) for c in m.card_refs)):
            if value is None:
                continue
            if value in seen[key]:
                raise DuplicateIdentity(f"{key} {value} appears twice in the batch", identity=key)
            seen[key].add(value)
        running: dict[Asset, int] = {}
        for e in m.entries:
            if type(e.cents) is not int or e.cents == 0:  # noqa: E721 - bool and Decimal are no cents
                raise InvalidArgument(f"entry amounts are non-zero integer hundredths, not {e.cents!r}")
            if e.kind not in MANUAL_KINDS:
                raise InvalidArgument(f"bulk entries are opening balances or adjustments, not {e.kind.value}")
            running[e.asset] = running.get(e.asset, 0) + e.cents
            if running[e.asset] < 0:
                raise InvalidArgument(f"member {m.user_ref}: {e.asset.value} would fall below zero")


async def _refuse_taken(tx: Tx, tenant_id: int, members: Sequence[NewMember]) -> None:
    """Identities another member of the tenant holds already (the indexes are the last word; this names
    the culprit instead of failing the whole transaction with an engine's message)."""
    wanted = {
        "user_ref": [m.user_ref for m in members],
        "email": [m.email.lower() for m in members if m.email],
        "external_ref": [m.external_ref for m in members if m.external_ref],
        "card_ref": [c for m in members for c in m.card_refs],
    }
    for column, values in wanted.items():
        found = await bulk_sql.taken(tx, tenant_id, column, values)
        if found:
            raise DuplicateIdentity(f"{column} {found[0]} belongs to another member", identity=column)


# The entry.created event's payload: the document the ledger publishes for an entry it writes one at a time
# (core._publish, through rows.dumps: sorted keys, no spaces), filled in rather than encoded, since a
# million of them are written at once; a test holds the two equal.
_PAYLOAD = (
    '{"amount":"%s","asset":"%s","data":{},"entry_id":%d,"kind":"%s","member_id":%d,"occurred_at":"%s",'
    '"origin":%s,"pending":"0.00","posted":"%s","public_ref":null,"record_id":%d,"reference":null,'
    '"reverses_id":null,"status":"confirmed","value":null}'
)  # record_id: a first entry is its own record


def event_payload(entry_id: int, member_id: int, e: NewEntry, posted: int, origin_json: str, at: str) -> str:
    """`origin_json`: the origin as JSON (encoded once per batch); `at`: the entry's time as stored."""
    return _PAYLOAD % (
        from_cents(e.cents), e.asset._value_, entry_id, e.kind._value_, member_id, at, origin_json, from_cents(posted),
        entry_id,
    )


def _stored(moment: datetime) -> str:
    """clock.to_text, by isoformat (C) for the UTC times generated data carries: a million members have
    some six million times to write. Any other zone goes the ordinary way."""
    if moment.tzinfo is timezone.utc:
        return moment.isoformat(" ", "microseconds")[:26]
    return to_text(moment)


async def _write_batch(
    tx: Tx, kind: str, tenant: Tenant, members: Sequence[NewMember], origin: str, check_taken: bool
) -> int:
    if check_taken:
        await _refuse_taken(tx, tenant.id, members)
    first = await member_sql.next_number(tx, tenant.id)
    last_no = first + len(members) - 1
    paused = await bulk_sql.pause_row_counting(tx, kind)
    member_rows, entry_rows, times = [], [], []
    for n, m in enumerate(members, first):
        created = _stored(m.created_at)
        moved = [e.occurred_at for e in m.entries if e.kind is not Kind.OPENING]
        updated = max(m.created_at, *moved) if moved else m.created_at  # an opening balance is the record as loaded
        member_rows.append((
            tenant.id, n, n, m.email, m.user_ref, m.name, m.programme_no, dumps(m.profile), 0,
            created, created if updated is m.created_at else _stored(updated), m.external_ref,
        ))
        times.append(created)
    ids = await bulk_sql.insert_members(tx, tenant.id, member_rows, first, last_no)
    member_ids = [ids[n] for n in range(first, first + len(members))]
    await bulk_sql.insert_cards(tx, [(tenant.id, c, mid) for m, mid in zip(members, member_ids) for c in m.card_refs])
    entry_times = []
    for m, mid, created in zip(members, member_ids, times):
        for e in m.entries:
            # Most entries are opening balances at the member's own joining time: its text, already made.
            at = created if e.occurred_at == m.created_at else _stored(e.occurred_at)
            entry_times.append(at)
            # _value_, not .value: the enum's property costs a Python call per read, a million times over
            entry_rows.append(
                (tenant.id, mid, e.asset._value_, e.cents, e.cents, e.kind._value_, "confirmed", e.note, origin, at, at,
                 "{}")
            )
    entry_ids = await bulk_sql.insert_entries(tx, kind, tenant.id, entry_rows, member_ids) if entry_rows else []
    events, accounts, counted = [], [], []
    origin_json = json.dumps(origin)
    assets = [a.value for a in Asset]
    k = 0
    for m, mid in zip(members, member_ids):
        running: dict[str, int] = {}  # by the asset's value: an enum member hashes through a Python call
        last: dict[str, str] = {}
        for e in m.entries:
            entry_id, at = entry_ids[k], entry_times[k]
            k += 1
            asset = e.asset._value_
            running[asset] = posted = running.get(asset, 0) + e.cents
            last[asset] = at
            events.append((tenant.id, "entry.created", entry_id, event_payload(entry_id, mid, e, posted, origin_json, at), at))
            counted.append((entry_id, f"{asset}/{e.kind._value_}/confirmed"))
        accounts.extend([(mid, a, running.get(a, 0), 0, last.get(a)) for a in assets])
    if k != len(entry_ids):
        raise RuntimeError(f"the store gave {len(entry_ids)} entry ids for {k} entries")
    await bulk_sql.insert_events(tx, events)
    if isinstance(tx, Noting):  # counted only when a commit hook listens: a million entries may pass here
        for kind, times in Counter(e.kind._value_ for m in members for e in m.entries).items():
            note(tx, "entry.created", kind, times)
    await bulk_sql.insert_accounts(tx, accounts)
    # the batch's listing counts, grouped
    await bulk_sql.resume_row_counting(tx, paused, tenant.id, range(first, last_no + 1), counted)
    await member_sql.bump_roster(tx, tenant.id)  # listings remembered under the old roster start again
    await entry_sql.bump_history(tx, tenant.id)
    return len(members)


async def add_members_in_bulk(
    ledger: LedgerBase, *, tenant: Tenant, members: Sequence[NewMember], origin: str = "bulk",
    check_taken: bool = True,
) -> int:
    """Add a batch of members in one transaction; returns how many. Numbers continue from the tenant's
    highest, so members created later through any dialect never collide with them. `check_taken=False`
    skips asking the store whether another member holds one of the batch's identities, for a caller that
    knows none can (it made the tenant itself and every identity in it); the store's unique indexes
    still refuse a collision, then as a failed write."""
    _check(members)
    return await ledger._commit(lambda tx: _write_batch(tx, ledger.kind, tenant, members, origin, check_taken))

"""Frozen records the ledger hands out: tenants, programmes, members, balances, entries, orders, pages,
events. Plain data; the dialects render them field by field."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .upstream import Cause, Direction

T = TypeVar("T")


class Asset(str, Enum):
    POINTS = "points"
    CASHBACK = "cashback"
    MILES = "miles"


class Status(str, Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Kind(str, Enum):
    """Why an entry exists. MANUAL kinds are adjustments; ORDER kinds come from purchases."""

    OPENING = "opening"
    ADJUSTMENT = "adjustment"
    ORDER_EARN = "order_earn"
    ORDER_SPEND = "order_spend"
    REWARD = "reward"
    REVERSAL = "reversal"


MANUAL_KINDS = frozenset({Kind.OPENING, Kind.ADJUSTMENT})
ORDER_KINDS = frozenset({Kind.ORDER_EARN, Kind.ORDER_SPEND, Kind.REWARD, Kind.REVERSAL})


class Identity(str, Enum):
    """The handles a member can be found by; one per dialect's way of naming people."""

    CUSTOMER_NO = "customer_no"
    MEMBER_NO = "member_no"
    EMAIL = "email"
    USER_REF = "user_ref"
    CARD_REF = "card_ref"
    # A code the client assigns to a member, unique in its tenant when set (absent or empty is no code).
    EXTERNAL_REF = "external_ref"
    # The member's identity at its tenant's upstream, when declared (unique in the tenant when set).
    UPSTREAM_REF = "upstream_ref"
    ID = "id"


@dataclass(frozen=True)
class Credential:
    scheme: str
    principal: str
    secret: str | None = None


@dataclass(frozen=True)
class Tenant:
    id: int
    name: str
    config: Mapping[str, Any]
    credentials: tuple[Credential, ...]
    created_at: datetime

    def credential(self, scheme: str) -> Credential | None:
        return next((c for c in self.credentials if c.scheme == scheme), None)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.config.get(name, {})
        return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class AccessGrant:
    """A bearer token issued to one of a tenant's clients: which client, what it may do (scopes are the
    caller's words, opaque here), until when. The store keeps a hash of the token, never the token:
    `token` is set only on the grant `grant_access` hands back, for the caller to give its client."""

    tenant_id: int
    client: str
    scopes: tuple[str, ...]
    expires_at: datetime
    created_at: datetime
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Programme:
    """A membership programme (customer type): how points are spent and earned."""

    tenant_id: int
    number: int
    name: str
    spend_ratio: Decimal | None  # points per currency unit spent
    earn_unit: Decimal | None  # currency amount that earns one point; None earns nothing
    discount: Decimal
    data: Mapping[str, Any]
    status: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Member:
    id: int
    tenant_id: int
    customer_no: int
    member_no: int
    email: str | None
    user_ref: str
    card_refs: tuple[str, ...]
    name: str
    programme_no: int | None
    profile: Mapping[str, Any]
    deleted: bool
    created_at: datetime
    updated_at: datetime
    external_ref: str | None = None  # Identity.EXTERNAL_REF: unique in the tenant when set
    upstream_ref: str | None = None  # Identity.UPSTREAM_REF: who the member is at the tenant's upstream


@dataclass(frozen=True)
class AccountBalance:
    asset: Asset
    posted: Decimal  # spendable
    pending: Decimal  # awaiting confirmation; never spendable
    updated_at: datetime | None


@dataclass(frozen=True)
class Balance:
    member: Member
    accounts: Mapping[Asset, AccountBalance]
    # The member's programme, when the caller asked for it (read in the same transaction); None otherwise,
    # or when the member has none or its number names no programme.
    programme: Programme | None = None

    def __getitem__(self, asset: Asset) -> AccountBalance:
        return self.accounts[asset]

    @property
    def updated_at(self) -> datetime:
        stamps = [a.updated_at for a in self.accounts.values() if a.updated_at is not None]
        return max(stamps, default=self.member.updated_at)


@dataclass(frozen=True)
class Entry:
    """One immutable movement. `record_id` names the logical record it belongs to (itself unless it
    revises an earlier entry); `record_amount` is that record's value after this entry."""

    id: int
    tenant_id: int
    member_id: int
    asset: Asset
    amount: Decimal
    record_id: int
    record_amount: Decimal
    kind: Kind
    status: Status
    reference: str | None
    note: str | None
    origin: str | None
    value: Decimal | None
    order_id: int | None
    reverses_id: int | None
    public_ref: str | None
    occurred_at: datetime
    created_at: datetime
    data: Mapping[str, Any]
    member_no: int = 0
    customer_no: int = 0


@dataclass(frozen=True)
class Order:
    id: int
    tenant_id: int
    number: int
    reference: str | None
    member_id: int | None
    value: Decimal
    earned: Decimal
    voided: bool
    void_reason: str | None
    data: Mapping[str, Any]
    occurred_at: datetime
    created_at: datetime
    voided_at: datetime | None


@dataclass(frozen=True)
class Movement:
    """What a write returns: the entry it made, the account after it, and the member."""

    entry: Entry
    balance: AccountBalance
    member: Member


@dataclass(frozen=True)
class SpendResult:
    movement: Movement
    points: Decimal
    value: Decimal


@dataclass(frozen=True)
class OrderResult:
    order: Order
    movement: Movement | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    offset: int
    limit: int


@dataclass(frozen=True)
class BalanceRow:
    member: Member
    balance: Decimal


@dataclass(frozen=True)
class Event:
    id: int
    tenant_id: int
    topic: str
    entry_id: int | None
    payload: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Idempotency:
    """Ask the ledger to run a write at most once per (scope, key). `render` turns the write's result
    into the opaque bytes the caller wants replayed; it runs inside the write's transaction."""

    scope: str
    key: str
    fingerprint: str
    render: Any  # Callable[[result], bytes]


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The result of an idempotent write: the stored response, and the result if it ran now."""

    response: bytes
    replayed: bool
    result: T | None = None


@dataclass(frozen=True)
class AuditReport:
    violations: tuple[str, ...] = field(default_factory=tuple)
    checked: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class NewDelivery:
    """A message to send for an outbox event: where to, under which receiver-side key, with which body."""

    tenant_id: int
    event_id: int | None
    channel: str
    label: str
    target: str
    key: str
    body: str


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    status: int | None  # the receiver's status code, None when no answer came
    error: str | None


@dataclass(frozen=True)
class Delivery:
    """One message and its sending state: pending (with the next try), delivered, failed (out of tries) or
    refused (the receiver said no for good: never tried again)."""

    id: int
    tenant_id: int
    event_id: int | None
    channel: str
    label: str
    target: str
    key: str
    body: str
    state: str
    attempts: int
    next_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    history: tuple[Attempt, ...] = ()
    claim: str | None = None  # the token of the latest claim; only its holder may record the attempt
    outcome: dict[str, Any] | None = None  # what the receiver answered besides a status (JSON), when it says more
    # When just claimed: the claim before this one (None: never claimed before). A delivery claimed before with no
    # attempt recorded may have been sent by a worker that died: a careful sender asks before sending again.
    earlier_claim: str | None = None


INTENT_STATES = ("open", "applied", "refused", "not_applied", "unsettled")


@dataclass(frozen=True)
class Intent:
    """One write forwarded to a tenant's upstream, recorded before the upstream is called. `state`: open
    (outcome not known yet: the gateway carries it out, exactly once, when the upstream answers), applied,
    refused (the upstream said no), not_applied (surely never applied), unsettled (unclear and never
    resent: a person settles it). `answered`: what the client was told
    (applied, refused, unavailable, ...), None while the call is in flight. `outcome`: what is known of
    the result (the upstream's ref and balance, an error's code and message, the local entry)."""

    id: int
    tenant_id: int
    member_id: int
    key: str
    direction: Direction
    asset: Asset
    points: Decimal
    cause: Cause
    value: Decimal | None
    note: str | None
    reference: str | None
    state: str
    answered: str | None
    outcome: Mapping[str, Any]
    client_scope: str | None
    client_key: str | None
    created_at: datetime
    updated_at: datetime
    settled_by: str | None
    reverses: str | None = None
    member_ref: str = ""  # the member's identity at the upstream the write was sent under
    sent_at: datetime | None = None  # last sent or given up on (database clock): "not applied" waits a grace after it
    claimed_until: datetime | None = None  # while a worker holds it (see settling.py), when its lease ends

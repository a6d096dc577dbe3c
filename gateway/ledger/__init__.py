"""The ledger core: members, accounts, immutable entries, holds, orders, idempotency and the outbox.
It knows no HTTP, no XML and no vendor's field names; dialects import only from here."""
from __future__ import annotations

from .bulk import NewEntry, NewMember, add_members_in_bulk
from .clock import Clock, IdGenerator
from .core import By, MemberRef
from .errors import (
    AlreadyResolved,
    DuplicateIdentity,
    DuplicateReference,
    IdempotencyConflict,
    IdempotencyInFlight,
    InsufficientFunds,
    InvalidAmount,
    InvalidArgument,
    LedgerError,
    NotInProgramme,
    NotReversible,
    OrderVoided,
    PendingUpstreamWrites,
    StoreUnavailable,
    UnknownEntry,
    UnknownMember,
    UnknownOrder,
    UnknownProgramme,
    UnknownTenant,
    all_error_classes,
)
from .models import (
    INTENT_STATES,
    MANUAL_KINDS,
    ORDER_KINDS,
    AccessGrant,
    AccountBalance,
    Asset,
    Attempt,
    AuditReport,
    Balance,
    BalanceRow,
    Credential,
    Delivery,
    Entry,
    Event,
    Identity,
    Idempotency,
    Intent,
    Kind,
    Member,
    Movement,
    NewDelivery,
    Order,
    OrderResult,
    Outcome,
    Page,
    Programme,
    SpendResult,
    Status,
    Tenant,
)
from .passwords import GENERATED, check_password, hash_password, is_password_hash
from .money import from_cents, parse_amount, parse_number, round_down, round_half_up, to_cents
from .repo.entries import PERIOD_OPERATORS, HistoryQuery, Period
from .deliveries import DELIVERY_STATES, SentAttempt
from .recording import APPLIED_TOPIC
from .service import Ledger
from .upstream import (
    Applied,
    Cause,
    Direction,
    Forward,
    RemoteMember,
    Upstream,
    UpstreamCannotExpress,
    UpstreamCredentialsRefused,
    UpstreamError,
    UpstreamFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from .store import SCHEMES, Store, StoreOpenError, open_store

# Explicit, so a submodule (movements, store ...) is never part of the public API by accident: the
# architecture test lets code outside the ledger import exactly these names and nothing else.
__all__ = [
    "MANUAL_KINDS", "ORDER_KINDS", "PERIOD_OPERATORS", "SCHEMES", "AccessGrant", "AccountBalance",
    "all_error_classes",
    "AlreadyResolved", "Asset", "Attempt", "AuditReport", "Balance", "BalanceRow", "By", "Clock",
    "Credential", "Delivery", "DuplicateIdentity", "DuplicateReference", "Entry", "Event", "from_cents",
    "HistoryQuery", "Idempotency", "IdempotencyConflict", "IdempotencyInFlight", "Identity", "IdGenerator",
    "InsufficientFunds", "InvalidAmount", "InvalidArgument", "Kind", "Ledger", "LedgerError", "Member",
    "MemberRef", "Movement", "NewDelivery", "NotInProgramme", "NotReversible", "open_store", "Order",
    "OrderResult", "OrderVoided", "Outcome",
    "PendingUpstreamWrites", "Page", "parse_amount", "parse_number", "Period", "Programme", "round_down",
    "round_half_up", "SentAttempt", "SpendResult", "Status", "Store", "StoreOpenError", "StoreUnavailable", "Tenant",
    "to_cents", "UnknownEntry", "UnknownMember", "UnknownOrder", "UnknownProgramme", "UnknownTenant",
    "GENERATED", "check_password", "hash_password", "is_password_hash",
    "Applied", "Cause", "Direction", "Forward", "RemoteMember", "Upstream", "UpstreamCannotExpress",
    "UpstreamCredentialsRefused", "UpstreamError", "UpstreamFailed", "UpstreamRateLimited", "UpstreamTimeout",
    "UpstreamUnavailable", "Intent", "INTENT_STATES",
    "NewEntry", "NewMember", "add_members_in_bulk",
    "APPLIED_TOPIC", "DELIVERY_STATES",
]

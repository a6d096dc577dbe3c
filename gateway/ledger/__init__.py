"""The ledger core: members, accounts, immutable entries, holds, orders, idempotency and the outbox.
It knows no HTTP, no XML and no vendor's field names; dialects import only from here."""
from __future__ import annotations

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
    StoreUnavailable,
    UnknownEntry,
    UnknownMember,
    UnknownOrder,
    UnknownProgramme,
    UnknownTenant,
    all_error_classes,
)
from .models import (
    MANUAL_KINDS,
    ORDER_KINDS,
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
from .money import from_cents, parse_amount, parse_number, round_down, round_half_up, to_cents
from .repo.entries import PERIOD_OPERATORS, HistoryQuery, Period
from .service import Ledger
from .store import SCHEMES, Store, StoreOpenError, open_store

__all__ = [name for name in dir() if not name.startswith("_")]

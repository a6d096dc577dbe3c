"""Domain errors of the ledger: a stable code and a human message each. No transport status in here;
every dialect maps these classes to its own wire shape through a table."""
from __future__ import annotations


class LedgerError(Exception):
    code = "ledger_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidAmount(LedgerError):
    code = "invalid_amount"


class InvalidArgument(LedgerError):
    code = "invalid_argument"


class UnknownTenant(LedgerError):
    code = "unknown_tenant"


class UnknownMember(LedgerError):
    code = "unknown_member"


class UnknownProgramme(LedgerError):
    code = "unknown_programme"


class UnknownEntry(LedgerError):
    code = "unknown_entry"


class UnknownOrder(LedgerError):
    code = "unknown_order"


class NotInProgramme(LedgerError):
    """The member has no programme whose rule the operation needs (e.g. no spend ratio)."""

    code = "not_in_programme"


class InsufficientFunds(LedgerError):
    code = "insufficient_funds"


class AlreadyResolved(LedgerError):
    code = "already_resolved"


class NotReversible(LedgerError):
    code = "not_reversible"


class DuplicateReference(LedgerError):
    code = "duplicate_reference"


class DuplicateIdentity(LedgerError):
    code = "duplicate_identity"


class OrderVoided(LedgerError):
    code = "order_voided"


class IdempotencyConflict(LedgerError):
    """The same idempotency key came back with a different request."""

    code = "idempotency_conflict"


class IdempotencyInFlight(LedgerError):
    """The first request with this idempotency key has not finished yet."""

    code = "idempotency_in_flight"


class PendingUpstreamWrites(LedgerError):
    """A tenant cannot be deleted or reset while writes forwarded to its upstream are not settled (open:
    the gateway is still carrying them out; unsettled: a person must say what happened): they would be
    lost. Details: `tenants` {name: {"open": n, "unsettled": m}}, and the totals `open`, `unsettled`."""

    code = "pending_upstream_writes"


class StoreUnavailable(LedgerError):
    """The store could not take the write (locked by another process past the busy timeout, disk error)."""

    code = "store_unavailable"


def all_error_classes() -> list[type[LedgerError]]:
    """Every concrete LedgerError subclass, for the dialects' completeness tests."""
    found: list[type[LedgerError]] = []
    pending = [LedgerError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            pending.append(sub)
    return sorted(found, key=lambda c: c.__name__)

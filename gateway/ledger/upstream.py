"""The port through which a tenant whose points live elsewhere is served: what the ledger asks of that
upstream (a balance, one write under a key, the outcome of an unclear write, its members) and the errors
it can answer with. The ledger knows no transport; whoever implements the port does."""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Protocol

from .errors import LedgerError
from .models import Asset, Member


class Direction(str, Enum):
    CREDIT = "credit"
    DEBIT = "debit"


class Cause(str, Enum):
    """What the client asked for, so an upstream can pick its own operation (or refuse, naming its limit)."""

    ADJUSTMENT = "adjustment"  # points given or taken by hand (a signed adjustment, a mint, a burn)
    SPEND = "spend"  # a currency amount spent as points (`value` holds the amount)
    ORDER_EARN = "order_earn"  # points earned by a purchase (`value` holds the purchase's total)
    ORDER_VOID = "order_void"  # taking back what a voided purchase earned
    REWARD = "reward"  # a confirmed pending reward


@dataclass(frozen=True)
class Forward:
    """One write to carry out at the upstream. `key` is the same for every attempt of this write, so an
    upstream with idempotency keys applies it once, and one without can find it again in its history."""

    key: str
    member: str  # the member's identity at the upstream
    direction: Direction
    asset: Asset
    points: Decimal  # > 0, in the tenant's programme units
    cause: Cause = Cause.ADJUSTMENT
    value: Decimal | None = None  # the currency amount behind it, for SPEND and ORDER_EARN
    note: str | None = None
    reference: str | None = None
    reverses: str | None = None  # the upstream's ref of the movement this one takes back (ORDER_VOID)


@dataclass(frozen=True)
class Applied:
    """A write the upstream has applied (now, or earlier under the same key)."""

    balance: Decimal | None = None  # the asset's balance at the upstream after it, when the answer says
    ref: str | None = None  # the upstream's own id for the movement
    points: Decimal | None = None  # what the upstream actually moved, when it decides (an order's earning)


@dataclass(frozen=True)
class RemoteMember:
    """A member as an upstream that can list its members shows it, for linking."""

    ref: str
    email: str | None = None
    name: str | None = None


class Upstream(Protocol):
    """One tenant's upstream. Refusals come back as the ledger's own errors (InsufficientFunds,
    UnknownMember, UpstreamCannotExpress ...); transport trouble as the Upstream* errors below."""

    name: str  # what messages call it, e.g. "the <vendor> upstream at https://api.example"
    settles: bool  # True when an unclear write can be settled by asking (a replayed key, a history lookup)
    lists_members: bool

    def member_ref(self, member: Member) -> str:
        """The member's identity at the upstream: its declared one (member.upstream_ref), else the identity
        the upstream's own kind of API names people by (a customer number, a member number, a user id)."""
        ...

    async def balance(self, member: str, asset: Asset) -> Decimal: ...

    async def balances(self, member: str) -> Mapping[Asset, Decimal]:
        """Every asset's balance of the member in ONE read of the upstream (an asset the upstream does not
        keep reads as 0): what a balance read through any dialect asks, one request as a careful client
        would make it."""
        ...

    async def apply(self, forward: Forward) -> Applied: ...

    async def settle(self, forward: Forward) -> Applied | None:
        """Whether an earlier, unclear attempt of `forward` was applied: the Applied if so, None if it
        surely was not (nothing applied, nothing sent that could still apply). Raises the Upstream*
        errors while the upstream cannot tell, and UpstreamCannotExpress where it never can."""
        ...

    def members(self) -> AsyncIterator[RemoteMember]: ...

    async def close(self) -> None: ...


class UpstreamError(LedgerError):
    """Something went wrong between the gateway and a tenant's upstream. `sent` in details: the request
    may have reached the upstream, so a write's outcome is unclear."""

    code = "upstream_error"

    @property
    def sent(self) -> bool:
        return bool(self.details.get("sent"))


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer within the timeout."""

    code = "upstream_timeout"


class UpstreamFailed(UpstreamError):
    """The upstream answered with a server error, an answer that could not be read, or dropped the connection."""

    code = "upstream_failed"


class UpstreamCredentialsRefused(UpstreamError):
    """The upstream refused the gateway's own credentials for the tenant (not the client's)."""

    code = "upstream_credentials_refused"


class UpstreamRateLimited(UpstreamError):
    """The upstream asked to slow down; `retry_after` (whole seconds) in details."""

    code = "upstream_rate_limited"


class UpstreamUnavailable(UpstreamError):
    """The upstream cannot be reached now; a write's outcome is settled later (or by a person)."""

    code = "upstream_unavailable"


class UpstreamCannotExpress(LedgerError):
    """The upstream has no operation for what the client asked (its message names the upstream's limit)."""

    code = "upstream_cannot_express"


def upstream_errors() -> tuple[type[LedgerError], ...]:
    return (UpstreamTimeout, UpstreamFailed, UpstreamCredentialsRefused, UpstreamRateLimited,
            UpstreamUnavailable, UpstreamCannotExpress)


__all__ = [
    "Applied", "Cause", "Direction", "Forward", "RemoteMember", "Upstream", "UpstreamCannotExpress",
    "UpstreamCredentialsRefused", "UpstreamError", "UpstreamFailed", "UpstreamRateLimited", "UpstreamTimeout",
    "UpstreamUnavailable", "upstream_errors",
]

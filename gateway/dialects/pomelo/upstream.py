"""A tenant's points kept at Pomelo: the ledger's Upstream port over PomeloClient. Credits become mints, debits
burns, each under the forward's key as x-idempotency-key, so settling an unclear write is replaying it under
that key; Pomelo's refusals become the ledger's own errors. Pomelo cannot list its members."""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from decimal import Decimal

from ...ledger import (
    Applied,
    Asset,
    Cause,
    Direction,
    Forward,
    InsufficientFunds,
    InvalidArgument,
    LedgerError,
    Member,
    RemoteMember,
    UnknownMember,
    Upstream,
    UpstreamCannotExpress,
    UpstreamFailed,
)
from ..upstream_transport import Transport
from .client import Adjustment, Balances, PomeloApiError, PomeloClient, holder

CREDENTIAL_NAMES = ("client_id", "client_secret", "audience")
ACCOUNT_TYPE = {Asset.POINTS: "points", Asset.CASHBACK: "cashback", Asset.MILES: "miles"}
# The reason a mint or burn carries when the forward has no note of its own (the SDK's own example reason
# for a hand-made one). It must come out the same on every attempt: a replay is compared byte for byte.
REASON = {Cause.ADJUSTMENT: "Manual adjustment", Cause.SPEND: "spend", Cause.ORDER_EARN: "order earning",
          Cause.ORDER_VOID: "order void", Cause.REWARD: "reward"}


def connect(transport: Transport, credentials: Mapping[str, str]) -> Upstream:
    """The port for one tenant whose points live at the Pomelo API behind `transport`."""
    unknown = sorted(set(credentials) - set(CREDENTIAL_NAMES))
    if unknown:
        raise InvalidArgument(f"a pomelo upstream takes the credentials {', '.join(CREDENTIAL_NAMES)}; "
                              f"{', '.join(unknown)} is not one of them")
    missing = [n for n in CREDENTIAL_NAMES if not isinstance(credentials.get(n), str) or not credentials[n]]
    if missing:
        raise InvalidArgument(f"a pomelo upstream needs the credentials {', '.join(CREDENTIAL_NAMES)}; "
                              f"{', '.join(missing)} is missing or empty")
    return PomeloUpstream(PomeloClient(transport, client_id=credentials["client_id"],
                                       client_secret=credentials["client_secret"], audience=credentials["audience"]))


def reason(forward: Forward) -> str:
    """The forward's note, else what it is for and its reference: 'spend INV-7', 'order earning SO-12'."""
    if forward.note:
        return forward.note
    return " ".join(p for p in (REASON[forward.cause], forward.reference) if p)


class PomeloUpstream:
    """The Upstream port at a Pomelo loyalty API (see gateway.ledger.upstream)."""

    settles = True
    lists_members = False

    def __init__(self, client: PomeloClient) -> None:
        self.client = client
        self.name = client.name

    def member_ref(self, member: Member) -> str:
        # upstream_ref: the declared identity at the upstream (a user_id, or a card_id crd-...)
        declared = getattr(member, "upstream_ref", None)
        return declared or member.user_ref

    async def balance(self, member: str, asset: Asset) -> Decimal:
        account = self._account(asset)
        return (await self._balances(member)).of(account)

    async def balances(self, member: str) -> Mapping[Asset, Decimal]:
        """One GET of the member's balance answers every account type: points, cashback and miles."""
        found = await self._balances(member)
        return {asset: found.of(ACCOUNT_TYPE[asset]) if asset in ACCOUNT_TYPE else Decimal("0") for asset in Asset}

    async def _balances(self, member: str) -> Balances:
        try:
            return await self.client.balance(member)
        except PomeloApiError as exc:
            raise self._refusal(exc, member) from None

    async def apply(self, forward: Forward) -> Applied:
        try:
            return _applied(await self._send(forward))
        except PomeloApiError as exc:
            if exc.status == 409:  # the same key is still being applied there: the outcome is unclear
                raise self._unclear(exc) from None
            raise self._refusal(exc, forward.member) from None

    async def settle(self, forward: Forward) -> Applied | None:
        """Replay the write under its key: Pomelo answers the stored result if the first attempt applied, and
        applies it now if it did not; either way it is applied once. A refusal now means it never applied."""
        try:
            return _applied(await self._send(forward))
        except PomeloApiError as exc:
            if exc.status in (409, 422):  # still in flight there, or the key holds a different write
                raise self._unclear(exc) from None
            return None

    def members(self) -> AsyncIterator[RemoteMember]:
        raise UpstreamCannotExpress(
            f"{self.name} cannot list its members: Pomelo's loyalty API reads one member at a time by user_id "
            "or card_id and has no listing, so link each member by its upstream_id"
        )

    async def close(self) -> None:
        self.client.forget_token()  # the session is the caller's; a token is never kept past its port

    # -- translation -------------------------------------------------------------------------------

    async def _send(self, forward: Forward) -> Adjustment:
        account = self._account(forward.asset)
        write = self.client.mint if forward.direction is Direction.CREDIT else self.client.burn
        return await write(account, forward.member, forward.points, reason(forward), key=forward.key)

    def _account(self, asset: Asset) -> str:
        account = ACCOUNT_TYPE.get(asset)
        if account is None:
            raise UpstreamCannotExpress(f"{self.name} keeps only points, cashback and miles accounts, not {asset.value}")
        return account

    def _refusal(self, exc: PomeloApiError, member: str) -> LedgerError:
        said = {"status": exc.status, "error_code": exc.error_code, "request_id": exc.request_id}
        if exc.error_code == "INSUFFICIENT_BALANCE":
            return InsufficientFunds(f"Insufficient points: {exc.upstream} says {exc.detail}", **said)
        if exc.status == 404:
            field, ref = holder(member)
            return UnknownMember(f"{exc.upstream} has no member with {field} {ref}: {exc.detail}", **said)
        return InvalidArgument(f"{exc.upstream} said: {exc.detail}", **said)

    def _unclear(self, exc: PomeloApiError) -> UpstreamFailed:
        return UpstreamFailed(f"{exc} (cannot tell yet whether this write applied)", sent=True,
                              status=exc.status, request_id=exc.request_id)


def _applied(done: Adjustment) -> Applied:
    return Applied(balance=done.updated_balance, ref=done.id, points=done.amount)

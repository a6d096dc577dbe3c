"""A memberpoints website as a tenant's upstream (the ledger's Upstream port): every write is one signed
adjustment whose note ends in ` [lg:KEY]`, so an unclear write is settled by finding that marker in the
member's history; balances and members come from memberpointsbalances. Only points exist there."""
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from decimal import Decimal
from typing import TypeVar

from ...ledger import (
    Applied,
    Asset,
    Cause,
    Direction,
    Forward,
    InsufficientFunds,
    InvalidArgument,
    Member,
    RemoteMember,
    Upstream,
    UnknownMember,
    UpstreamCannotExpress,
    UpstreamError,
    UpstreamUnavailable,
)
from ..upstream_transport import Transport
from .client import PAGE_SIZE, Adjustment, MemberpointsClient, Refused

CREDENTIAL_NAMES = ("api_id", "api_key")
MBR_ID = re.compile(r"^[1-9][0-9]{0,17}$")
MAX_NOTE = 2000  # characters of adjustmentnote the gateway sends (the marker always fits at the end)
LARGEST = Decimal("99999999.99")  # adjustpoints is decimal(10,2) at the vendor
MAX_REMEMBERED = 10_000  # unclear attempts whose settling waits out the grace
CAUSE_NOTES = {
    Cause.ADJUSTMENT: "Points adjustment",
    Cause.SPEND: "Points redeemed",
    Cause.ORDER_EARN: "Points earned",
    Cause.ORDER_VOID: "Points taken back from a voided order",
    Cause.REWARD: "Reward points",
}
T = TypeVar("T")


def marker(key: str) -> str:
    """What ends the note of a forwarded write: the key the ledger gave it, findable in the history."""
    return f" [lg:{key}]"


def note_for(forward: Forward) -> str:
    """The adjustment's note: the client's own note, else one said from the cause (with the purchase's
    amount and reference when known); then the marker."""
    text = forward.note
    if not text:
        text = CAUSE_NOTES[forward.cause]
        if forward.value is not None and forward.cause in (Cause.SPEND, Cause.ORDER_EARN):
            text += f" on a purchase of {forward.value}"
        if forward.reference:
            text += f" ({forward.reference})"
    tail = marker(forward.key)
    return text[: MAX_NOTE - len(tail)] + tail


def _is_insufficient(message: str) -> bool:
    lowered = message.lower()
    return "insufficient" in lowered or "below zero" in lowered or "not enough" in lowered


def _is_unknown_member(message: str) -> bool:
    lowered = message.lower()
    return "member" in lowered and ("not found" in lowered or "unknown" in lowered or "no such" in lowered)


class MemberpointsUpstream:
    """The Upstream port over one memberpoints website."""

    settles = True
    lists_members = True

    def __init__(self, client: MemberpointsClient, *, page_size: int = PAGE_SIZE,
                 settle_grace: float | None = None) -> None:
        self.client = client
        self.name = client.name
        self.page_size = page_size
        # How long after an unclear attempt "not in the history" is believed: a request the gateway gave up
        # on may still be written by a slow vendor, and a resend then would apply it twice.
        self.settle_grace = client.transport.timeout if settle_grace is None else settle_grace
        self._unclear: dict[str, float] = {}  # key -> when an attempt of it ended without a clear answer
        self._closed = False

    def member_ref(self, member: Member) -> str:
        # upstream_ref: the member's declared mbr_id (a column the core adds); else the gateway's member number
        return getattr(member, "upstream_ref", None) or str(member.member_no)

    async def balance(self, member: str, asset: Asset) -> Decimal:
        if asset is not Asset.POINTS:
            return Decimal("0")  # a memberpoints website keeps points only: nothing else is ever held there
        mbr_id = self._mbr_id(member)
        self._open()
        page = await self._asking(self.client.balances(mbr_id=mbr_id))
        for row in page.rows:
            if row.mbr_id == mbr_id:
                return row.balance
        raise UnknownMember(f"{self.name} has no member with mbr_id {mbr_id}", member=member)

    async def balances(self, member: str) -> Mapping[Asset, Decimal]:
        """One memberpointsbalances read: the member's points; a website keeps no other asset."""
        points = await self.balance(member, Asset.POINTS)
        return {asset: points if asset is Asset.POINTS else Decimal("0") for asset in Asset}

    async def apply(self, forward: Forward) -> Applied:
        points = self._signed(forward)
        mbr_id = self._mbr_id(forward.member)
        self._open()
        try:
            saved = await self._asking(self.client.adjust(mbr_id=mbr_id, points=points, note=note_for(forward)))
        except UpstreamError as unclear:
            if unclear.sent:
                self._remember(forward.key)
            raise
        self._unclear.pop(forward.key, None)
        return Applied(balance=None, ref=str(saved.id), points=abs(saved.points))

    async def settle(self, forward: Forward) -> Applied | None:
        """Looks through the member's whole history (oldest first, the vendor's only order) for the marker;
        right after an unclear attempt, a miss is looked again once settle_grace has passed since it."""
        if forward.asset is not Asset.POINTS or not MBR_ID.match(forward.member):
            return None  # apply refuses these before sending anything
        self._open()
        found = await self._find(int(forward.member), marker(forward.key))
        if found is None and (wait := self._grace_left(forward.key)) > 0:
            await asyncio.sleep(wait)
            found = await self._find(int(forward.member), marker(forward.key))
        self._unclear.pop(forward.key, None)
        if found is None:
            return None
        balance = await self.balance(forward.member, Asset.POINTS)
        return Applied(balance=balance, ref=str(found.id), points=abs(found.points))

    async def members(self) -> AsyncIterator[RemoteMember]:
        self._open()
        async for row in self.client.every_balance(page_size=self.page_size):
            yield RemoteMember(ref=str(row.mbr_id), email=row.email, name=row.name)

    async def close(self) -> None:
        # the transport's session is shared by every upstream of the server (its owner closes it); a port
        # that was closed refuses further calls rather than send on a session that may be gone
        self._closed = True

    # -- helpers -------------------------------------------------------------------------------------

    def _remember(self, key: str) -> None:
        self._unclear.pop(key, None)  # re-inserted last: the dict stays in the order attempts ended
        if len(self._unclear) >= MAX_REMEMBERED:  # forget the oldest: a port must not grow without bound
            del self._unclear[next(iter(self._unclear))]
        self._unclear[key] = time.monotonic()

    def _grace_left(self, key: str) -> float:
        ended = self._unclear.get(key)
        return 0.0 if ended is None else max(0.0, ended + self.settle_grace - time.monotonic())

    def _open(self) -> None:
        if self._closed:
            raise UpstreamUnavailable(f"{self.name} is closed: the tenant's upstream was reconfigured or the server stops",
                                      sent=False)

    def _mbr_id(self, member: str) -> int:
        if not MBR_ID.match(member):
            raise UnknownMember(
                f"{self.name} names members by a whole-number mbr_id; {member!r} is none", member=member,
            )
        return int(member)

    def _signed(self, forward: Forward) -> Decimal:
        if forward.asset is not Asset.POINTS:
            raise UpstreamCannotExpress(
                f"{self.name} keeps points only: it cannot hold {forward.asset.value}", asset=forward.asset.value,
            )
        points = forward.points
        if not points > 0:
            raise InvalidArgument(f"a write forwarded to {self.name} must move more than 0 points, not {points}")
        if points > LARGEST:
            raise UpstreamCannotExpress(f"{self.name} takes at most {LARGEST} points in one adjustment")
        if points != points.quantize(Decimal("0.01")):
            raise UpstreamCannotExpress(
                f"{self.name} keeps points to two decimal places: {points} points cannot be sent as they are",
            )
        return points if forward.direction is Direction.CREDIT else -points

    async def _find(self, mbr_id: int, tail: str) -> Adjustment | None:
        async for row in self._walk(mbr_id):
            if row.note.rstrip().endswith(tail.strip()):
                return row
        return None

    async def _walk(self, mbr_id: int) -> AsyncIterator[Adjustment]:
        try:
            async for row in self.client.every_adjustment(mbr_id=mbr_id, page_size=self.page_size):
                yield row
        except Refused as refused:
            raise self._refusal(refused) from None

    async def _asking(self, call: Awaitable[T]) -> T:
        """Awaits one client call, the vendor's refusals said as the ledger's errors."""
        try:
            return await call
        except Refused as refused:
            raise self._refusal(refused) from None

    def _refusal(self, refused: Refused) -> Exception:
        if _is_insufficient(refused.message):
            return InsufficientFunds(f"{self.name}: {refused.message}", upstream_status=refused.status)
        if _is_unknown_member(refused.message):
            return UnknownMember(f"{self.name}: {refused.message}", upstream_status=refused.status)
        return InvalidArgument(f"{self.name} refused the request ({refused.status}): {refused.message}",
                               upstream_status=refused.status)


def connect(transport: Transport, credentials: Mapping[str, str]) -> Upstream:
    """The port for one memberpoints website, from its apiID/apiKey (credentials `api_id`, `api_key`)."""
    missing = [name for name in CREDENTIAL_NAMES if not isinstance(credentials.get(name), str) or not credentials[name]]
    if missing:
        raise InvalidArgument(f"a memberpoints upstream needs credentials {', '.join(CREDENTIAL_NAMES)}; "
                              f"missing: {', '.join(missing)}")
    return MemberpointsUpstream(MemberpointsClient(transport, credentials["api_id"], credentials["api_key"]))

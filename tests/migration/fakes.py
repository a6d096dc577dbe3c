"""A fake upstream port for the migration's unit tests: balances in memory, writes applied every time they
are sent (like a vendor without idempotency keys), settle finding a key in its history; faults scripted."""
from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

from gateway.ledger import (
    Applied,
    Asset,
    Direction,
    Forward,
    RemoteMember,
    UnknownMember,
    UpstreamFailed,
    UpstreamRateLimited,
)


class FakePort:
    def __init__(self, balances: dict[str, Decimal], *, lists_members: bool = True) -> None:
        self.name = "the fake upstream"
        self.settles = True
        self.lists_members = lists_members
        self.points = dict(balances)
        self.history: dict[str, Forward] = {}
        self.applies: list[Forward] = []
        self.settled: list[str] = []
        self.reads: list[str] = []
        self.faults: list[str] = []  # for the next apply calls: "drop-after", "fail-before", "rate-limited"

    def member_ref(self, member):  # type: ignore[no-untyped-def]
        return str(member.member_no)

    async def balance(self, member: str, asset: Asset) -> Decimal:
        self.reads.append(member)
        if member not in self.points:
            raise UnknownMember(f"no member {member}")
        return self.points[member]

    async def balances(self, member: str):  # type: ignore[no-untyped-def]
        return {Asset.POINTS: await self.balance(member, Asset.POINTS)}

    async def apply(self, forward: Forward) -> Applied:
        fault = self.faults.pop(0) if self.faults else None
        if fault == "rate-limited":
            raise UpstreamRateLimited("slow down", retry_after=3, sent=False)
        if fault == "fail-before":
            raise UpstreamFailed("503", sent=True)
        if forward.member not in self.points:
            raise UnknownMember(f"no member {forward.member}")
        self.applies.append(forward)
        sign = 1 if forward.direction is Direction.CREDIT else -1
        self.points[forward.member] += sign * forward.points
        self.history[forward.key] = forward
        if fault == "drop-after":
            raise UpstreamFailed("dropped after applying", sent=True)
        return Applied(balance=self.points[forward.member], ref=f"ref-{len(self.applies)}")

    async def settle(self, forward: Forward) -> Applied | None:
        self.settled.append(forward.key)
        return Applied(ref="found") if forward.key in self.history else None

    async def members(self) -> AsyncIterator[RemoteMember]:
        for ref in self.points:
            yield RemoteMember(ref=ref)

    async def close(self) -> None:
        pass

"""An in-memory upstream for the forwarding tests: balances in a dict, every write applied at most once per
key, and switches that make it refuse, drop answers after applying, lose requests, or be unreachable."""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.ledger import (
    Applied,
    Asset,
    Direction,
    Forward,
    InsufficientFunds,
    LedgerError,
    Member,
    RemoteMember,
    UnknownMember,
    UpstreamCannotExpress,
    UpstreamFailed,
    UpstreamTimeout,
)


class Crash(BaseException):
    """The process dies right here (nothing after it runs, no except clause for errors catches it)."""


@dataclass
class FakeUpstream:
    name: str = "the fake upstream"
    settles: bool = True
    lists_members: bool = False
    kept: dict[tuple[str, Asset], Decimal] = field(default_factory=dict)  # (member, asset) -> its balance
    known: set[str] = field(default_factory=set)  # members it knows; empty: it knows everyone
    applied: dict[str, Applied] = field(default_factory=dict)  # key -> what applying it answered
    forwards: dict[str, Forward] = field(default_factory=dict)
    writes: Counter[str] = field(default_factory=Counter)  # key -> times it really moved points
    apply_calls: list[str] = field(default_factory=list)
    settle_calls: list[str] = field(default_factory=list)
    balance_reads: list[str] = field(default_factory=list)  # member of every balance read, in order
    keyless: bool = False  # like memberpoints: a write sent again under its key is applied again
    refuse: LedgerError | None = None  # the next applies are refused with this
    drop_next: int = 0  # the next applies are applied, their answers lost (UpstreamFailed, sent)
    timeout: float = 0.5  # what a timing out request takes before the client gives up (half a budget of 1 s)
    lose_next: int = 0  # the next applies never arrive (UpstreamTimeout after `timeout`, sent): nothing applied
    late_next: float = 0.0  # the next apply times out (after `timeout`) yet lands this many seconds after that
    crash_next: str | None = None  # "before" | "after": the process dies before or after the write applies
    down: bool = False  # unreachable: nothing is sent (UpstreamFailed, not sent)
    cannot: frozenset[Asset] = frozenset()  # assets it cannot express
    earns: Decimal | None = None  # what an order earns here, when it decides (else what was asked)
    omit_balance: bool = False  # answers without the balance after the write

    def member_ref(self, member: Member) -> str:
        return member.upstream_ref or member.user_ref

    def figure(self, member: str, asset: Asset = Asset.POINTS) -> Decimal:
        return self.kept.get((member, asset), Decimal("0.00"))

    def _reachable(self) -> None:
        if self.down:
            raise UpstreamFailed(f"{self.name} refused the connection", sent=False)

    async def balance(self, member: str, asset: Asset) -> Decimal:
        self.balance_reads.append(member)
        self._reachable()
        if asset in self.cannot:
            raise UpstreamCannotExpress(f"{self.name} keeps no {asset.value}")
        if self.known and member not in self.known:
            raise UnknownMember(f"{self.name} knows no member {member}")
        return self.figure(member, asset)

    async def balances(self, member: str) -> dict[Asset, Decimal]:
        """Every asset in one read; one it cannot express reads as 0."""
        self.balance_reads.append(member)
        self._reachable()
        if self.known and member not in self.known:
            raise UnknownMember(f"{self.name} knows no member {member}")
        return {a: Decimal("0.00") if a in self.cannot else self.figure(member, a) for a in Asset}

    async def apply(self, forward: Forward) -> Applied:
        self.apply_calls.append(forward.key)
        self._reachable()
        if self.crash_next == "before":
            self.crash_next = None
            raise Crash()
        if self.lose_next:
            self.lose_next -= 1
            await asyncio.sleep(self.timeout)  # the client waits its timeout out before it gives up
            raise UpstreamTimeout(f"{self.name} did not answer", sent=True)
        if self.late_next:
            delay, self.late_next = self.late_next, 0.0
            self.pending = asyncio.ensure_future(self._land_late(forward, self.timeout + delay))
            await asyncio.sleep(self.timeout)
            raise UpstreamTimeout(f"{self.name} did not answer in time", sent=True)
        if forward.key in self.applied and not self.keyless:
            return self.applied[forward.key]  # a replay under the same key: applied once
        if self.refuse is not None:
            raise self.refuse
        if self.known and forward.member not in self.known:
            raise UnknownMember(f"{self.name} knows no member {forward.member}")
        points = self.earns if self.earns is not None else forward.points
        now = self.figure(forward.member, forward.asset)
        if forward.direction is Direction.DEBIT:
            if now < points:
                raise InsufficientFunds(f"{self.name}: {now} available, {points} needed")
            points = -points
        self.kept[(forward.member, forward.asset)] = now + points
        self.writes[forward.key] += 1
        self.forwards[forward.key] = forward
        answer = Applied(
            balance=None if self.omit_balance else now + points, ref=f"up-{len(self.applied) + 1}",
            points=abs(points) if self.earns is not None else None,
        )
        self.applied[forward.key] = answer
        if self.crash_next == "after":
            self.crash_next = None
            raise Crash()
        if self.drop_next:
            self.drop_next -= 1
            raise UpstreamFailed(f"{self.name} dropped the connection (status none)", sent=True)
        return answer

    async def _land_late(self, forward: Forward, delay: float) -> None:
        """A slow request landing after the client gave up: like an upstream without keys, it applies
        whatever was applied before under its key (what a blind resend would make a double write)."""
        await asyncio.sleep(delay)
        now = self.figure(forward.member, forward.asset)
        signed = forward.points if forward.direction is Direction.CREDIT else -forward.points
        self.kept[(forward.member, forward.asset)] = now + signed
        self.writes[forward.key] += 1
        self.forwards[forward.key] = forward
        self.applied[forward.key] = Applied(balance=now + signed, ref=f"up-{len(self.applied) + 1}")

    async def settle(self, forward: Forward) -> Applied | None:
        self.settle_calls.append(forward.key)
        if self.down:
            raise UpstreamTimeout(f"{self.name} did not answer", sent=True)
        return self.applied.get(forward.key)

    async def members(self) -> AsyncIterator[RemoteMember]:
        for ref in sorted(self.known):
            yield RemoteMember(ref)

    async def close(self) -> None:
        return None

"""The migration run: for each member (N at a time, the target's calls under a client-side rate limit), read
the two balances, record the movement in the checkpoint, then carry it out exactly once: a movement whose
outcome is unclear (a dropped answer, a 5xx after sending, a kill before `done` was written) is settled at the
target under its key before anything is sent again, as the gateway's forwarding does. At a target that keeps
no keys (it settles by searching its history, after a grace), a movement an earlier process sent is settled
only once that send's timeout and a margin have passed: a slow vendor may still commit it. Backs off on
429/503, honouring Retry-After."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO, TypeVar

from ..contracts.transport import Limiter
from ..ledger import (
    Applied,
    Asset,
    Direction,
    Forward,
    LedgerError,
    Upstream,
    UpstreamCredentialsRefused,
    UpstreamError,
    UpstreamRateLimited,
)
from ..progress import ProgressLine
from .checkpoint import Checkpoint, Plan
from .endpoints import MigrationError
from .members import Pair
from .plan import key_for, movement

ATTEMPTS = 8  # tries of one call through transient trouble before the member is left for a rerun
FIRST_PAUSE = 0.5  # seconds before the first retry; doubled each time, up to MAX_PAUSE
MAX_PAUSE = 30.0
LONGEST_WAIT = 300.0  # a Retry-After beyond this (a vendor down for hours) leaves the member for a rerun
PREFLIGHT_ATTEMPTS = 3  # reads of the first member before a busy upstream is called unusable
LANDING_MARGIN = 5.0  # seconds past a send's timeout in which a slow vendor may still commit it
ASSET = Asset.POINTS  # every upstream keeps points; the other assets are not every vendor's
T = TypeVar("T")


class Unfinished(Exception):
    """A member whose movement could not be carried out (or settled) now; a rerun finishes it."""


@dataclass
class Outcome:
    moved: int = 0  # movements applied by this run
    unchanged: int = 0  # nothing to move
    before: int = 0  # finished by an earlier run of the same checkpoint
    failed: dict[str, str] = field(default_factory=dict)  # source_id -> the refusal
    unfinished: dict[str, str] = field(default_factory=dict)  # source_id -> the trouble; rerun to finish

    def total(self) -> int:
        return self.moved + self.unchanged + self.before + len(self.failed) + len(self.unfinished)


class Migrator:
    def __init__(self, source: Upstream, target: Upstream, *, mode: str, concurrency: int = 4,
                 limiter: Limiter | None = None, progress: TextIO | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.source, self.target = source, target
        self.mode = mode
        self.concurrency = max(1, concurrency)
        self.limiter = limiter
        self.progress = progress
        self.sleep = sleep
        self.clock = clock

    async def check_reachable(self, first: Pair) -> None:
        """Reads the first member at both ends once: an upstream that cannot be reached or refuses the
        credentials stops the migration before anything is planned (a refusal about the member does not)."""
        for port, member in ((self.source, first.source_id), (self.target, first.target_id)):
            for attempt in range(PREFLIGHT_ATTEMPTS):
                try:
                    await port.balance(member, ASSET)
                    break
                except UpstreamError as exc:
                    # a 429 or a 5xx answer is the upstream busy, not wrong: asked again; no answer is fatal
                    busy = isinstance(exc, UpstreamRateLimited) or (exc.details.get("status") or 0) >= 500
                    if not busy or attempt == PREFLIGHT_ATTEMPTS - 1:
                        raise MigrationError(exc.message) from None
                    told = exc.details.get("retry_after")
                    if isinstance(told, (int, float)) and told > LONGEST_WAIT:
                        raise MigrationError(f"{exc.message} (asked to wait {told:g} s: run again later)") from None
                    await self.sleep(float(told) if isinstance(told, (int, float)) and told > 0 else FIRST_PAUSE)
                except LedgerError:
                    break

    async def plan_only(self, pairs: Sequence[Pair], checkpoint: Checkpoint) -> list[str]:
        """--dry-run: what each member's movement would be (the recorded one where the checkpoint has it);
        reads only, writes nothing."""
        async def line(pair: Pair) -> str:
            if pair.source_id in checkpoint.done:
                return f"{pair.source_id} -> {pair.target_id}: done by run {checkpoint.run and checkpoint.run['run']}"
            plan = checkpoint.plans.get(pair.source_id)
            if plan is None:
                try:
                    source, target = await self.balances(pair)
                except LedgerError as exc:
                    return f"{pair.source_id} -> {pair.target_id}: cannot be planned: {exc.message}"
                except Unfinished as exc:  # the upstream stayed busy or down through every retry
                    return f"{pair.source_id} -> {pair.target_id}: cannot be planned now: {exc}"
                plan = Plan(pair.source_id, pair.target_id, source, target, movement(self.mode, source, target), "")
            said = ("nothing to move" if plan.points == 0 else
                    f"{'credit' if plan.points > 0 else 'debit'} {abs(plan.points)}")
            return (f"{pair.source_id} -> {pair.target_id}: source {plan.source_balance}, target "
                    f"{plan.target_opening}: {said}{' (recorded, unconfirmed)' if plan.key else ''}")
        return list(await self.each(pairs, line))

    async def run(self, pairs: Sequence[Pair], checkpoint: Checkpoint, run: str) -> Outcome:
        outcome = Outcome()

        async def one(pair: Pair) -> None:
            try:
                await self._member(pair, checkpoint, run, outcome)
            except Unfinished as exc:
                outcome.unfinished[pair.source_id] = str(exc)

        await self.each(pairs, one)
        return outcome

    async def _member(self, pair: Pair, checkpoint: Checkpoint, run: str, outcome: Outcome) -> None:
        if pair.source_id in checkpoint.done:
            outcome.before += 1
            return
        plan = checkpoint.plans.get(pair.source_id)
        unclear = plan is not None  # recorded before an earlier run stopped: it may have been applied
        if plan is None:
            try:
                source, target = await self.balances(pair)
            except LedgerError as exc:
                checkpoint.refused(pair.source_id, exc.message)
                outcome.failed[pair.source_id] = exc.message
                return
            plan = Plan(pair.source_id, pair.target_id, source, target, movement(self.mode, source, target),
                        key_for(run, pair.source_id, pair.target_id), at=self.clock())
            checkpoint.planned(plan)  # durable before anything is sent: a resume never recomputes it
        if plan.points == 0:
            checkpoint.finished(plan.source_id, ref=None, balance=plan.target_opening)
            outcome.unchanged += 1
            return
        forward = Forward(key=plan.key, member=plan.target_id,
                          direction=Direction.CREDIT if plan.points > 0 else Direction.DEBIT,
                          asset=ASSET, points=abs(plan.points), note=f"Balance migrated (run {run})")
        if unclear:
            await self._until_landed(plan)

        def resending() -> None:
            checkpoint.sent(plan.source_id, self.clock())
        try:
            applied = await self._carry(forward, unclear, resending)
        except LedgerError as exc:
            checkpoint.refused(plan.source_id, exc.message)
            outcome.failed[plan.source_id] = exc.message
            return
        # a keyed target replaying a movement an earlier run applied (its checkpoint lost, the same derived keys)
        # answers with the balance it left then, which this plan read as its opening: nothing moved now
        replayed = applied.balance is not None and applied.balance == plan.target_opening
        checkpoint.finished(plan.source_id, ref=applied.ref, balance=applied.balance, replayed=replayed)
        if replayed:
            outcome.before += 1
        else:
            outcome.moved += 1

    async def _until_landed(self, plan: Plan) -> None:
        """Before settling a movement an earlier process sent, at a target that settles by its history: waits
        until that send could no longer be committed (its timeout, the port's settle grace, and a margin)."""
        grace = getattr(self.target, "settle_grace", None)
        if grace is None:
            return  # the target keeps idempotency keys: a late write and a resend are the same write
        wait = (plan.at or 0.0) + float(grace) + LANDING_MARGIN - self.clock()
        if plan.at is None:  # an older checkpoint: when it was sent is unknown, so the whole wait
            wait = float(grace) + LANDING_MARGIN
        if wait > 0:
            await self.sleep(wait)

    async def _carry(self, forward: Forward, unclear: bool, resending: Callable[[], None]) -> Applied:
        """Applies `forward` once: after any attempt that may have reached the target, settle first; every
        send but the first of a fresh plan is recorded (`resending`) before it goes."""
        fresh = not unclear

        async def attempt() -> Applied:
            nonlocal unclear, fresh
            try:
                if unclear:
                    await self._limit()
                    settled = await self.target.settle(forward)
                    if settled is not None:
                        return settled
                    unclear = False
                await self._limit()
                if not fresh:
                    resending()
                fresh = False
                return await self.target.apply(forward)
            except UpstreamError as exc:
                unclear = unclear or exc.sent
                raise
        return await self._retried(attempt, f"the movement to {forward.member}")

    async def balances(self, pair: Pair) -> tuple[Decimal, Decimal]:
        source = await self._retried(lambda: self.source.balance(pair.source_id, ASSET),
                                     f"the source balance of {pair.source_id}")

        async def target() -> Decimal:
            await self._limit()
            return await self.target.balance(pair.target_id, ASSET)
        return source, await self._retried(target, f"the target balance of {pair.target_id}")

    async def _retried(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        pause = FIRST_PAUSE
        for attempt in range(ATTEMPTS):
            try:
                return await call()
            except UpstreamCredentialsRefused as exc:
                raise MigrationError(exc.message) from None
            except UpstreamError as exc:
                if attempt == ATTEMPTS - 1:
                    raise Unfinished(f"{what}: {exc.message}") from None
                told = exc.details.get("retry_after")
                if isinstance(told, (int, float)) and told > LONGEST_WAIT:
                    raise Unfinished(f"{what}: {exc.message} (asked to wait {told:g} s, more than "
                                     f"{LONGEST_WAIT:g}: run again later)") from None
                await self.sleep(float(told) if isinstance(told, (int, float)) and told > 0 else pause)
                pause = min(pause * 2, MAX_PAUSE)
        raise AssertionError("unreachable")

    async def _limit(self) -> None:
        if self.limiter is not None:
            await self.limiter.wait()

    async def each(self, pairs: Sequence[Pair], work: Callable[[Pair], Awaitable[T]], unit: str = "members") -> list[T]:
        """`work` for every pair, `concurrency` at a time, in order of the list; progress on the stream."""
        results: list[T | None] = [None] * len(pairs)
        progress = ProgressLine(self.progress, len(pairs), unit=unit) if self.progress is not None else None
        done = 0
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(len(pairs)):
            queue.put_nowait(index)

        async def worker() -> None:
            nonlocal done
            while not queue.empty():
                index = queue.get_nowait()
                results[index] = await work(pairs[index])
                done += 1
                if progress is not None:
                    progress.update(done)

        workers = [asyncio.create_task(worker()) for _ in range(min(self.concurrency, len(pairs)) or 1)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
        if progress is not None:
            progress.done()
        return results  # type: ignore[return-value]

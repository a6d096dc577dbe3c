"""The drift report's gathering (gateway/upstream/drift.py) over a real ledger holding shadow writes in every
state, with fake ports standing in for the two upstreams: which members it pages through, what it lists per
member (exactly the differing movements, and separately what is in flight), a member unknown at the shadow,
an unread balance, the lag and the totals; a movement landing while the balances are read, and an intent still
open at the primary, are in flight, not drift."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from gateway.ledger import (APPLIED_TOPIC, Applied, Asset, Forward, Ledger, LedgerError, Member, NewDelivery, SentAttempt, Tenant,
                            UnknownMember)
from gateway.ledger.repo import events as event_sql
from gateway.ledger.upstream import UpstreamTimeout
from gateway.upstream import drift
from gateway.upstream.shadow import CHANNEL, CONSUMER, label_of
from tests.ledger.fake_upstream import FakeUpstream
from tests.upstream.conftest import upstream

pytestmark = pytest.mark.usefixtures("registered")


class FakePort:
    """An upstream that knows some members' balances; the rest are unknown to it, or cannot be read."""

    def __init__(self, name: str, prefix: str, balances: Mapping[str, str], broken: set[str] = frozenset()) -> None:
        self.name, self.prefix = name, prefix
        self.known = {ref: {Asset.POINTS: Decimal(v)} for ref, v in balances.items()}
        self.broken = broken

    def member_ref(self, member: Member) -> str:
        return member.upstream_ref or f"{self.prefix}{member.customer_no}"

    async def balances(self, member: str) -> Mapping[Asset, Decimal]:
        if member in self.broken:
            raise UpstreamTimeout("the upstream did not answer within 2 s", sent=False)
        if member not in self.known:
            raise UnknownMember(f"no member {member}")
        return self.known[member]


class FakePorts:
    def __init__(self, primary: FakePort | None, shadow: FakePort | None) -> None:
        self.primary, self.shadow = primary, shadow

    def resolve(self, tenant: Tenant) -> FakePort | None:
        return self.primary

    def resolve_shadow(self, tenant: Tenant) -> FakePort | None:
        return self.shadow


@pytest.fixture
async def shop(ledger: Ledger) -> Tenant:
    declared = {**upstream("pomelo"), "shadow": upstream("memberpoints", "http://127.0.0.1:10/")}
    return await ledger.create_tenant(name="shop", credentials=[], config={"upstream": declared})


async def members(ledger: Ledger, tenant: Tenant, count: int) -> list[Member]:
    return [await ledger.create_member(tenant=tenant, name=f"M{n}", customer_no=100 + n) for n in range(count)]


async def written(ledger: Ledger, tenant: Tenant, member: Member, key: str, direction: str, points: str,
                  outcome: dict[str, Any] | None) -> None:
    """A shadow write of one movement the primary applied: left pending (outcome None), delivered (applied)
    or refused for good; `state: failed` exhausts its tries."""
    body = {"intent": 1, "key": key, "member_id": member.id, "direction": direction, "asset": "points",
            "points": points, "cause": "adjustment", "value": None, "note": None, "reference": f"R-{key}",
            "reverses": None, "reverses_key": None, "ref": f"P-{key}", "balance": None, "entry_id": 1}
    await ledger.enqueue_deliveries(consumer=CONSUMER, upto=0, items=[NewDelivery(
        tenant.id, None, CHANNEL, label_of(member.id), "http://shadow", key, json.dumps(body))])
    if outcome is None:
        return
    (claimed,) = [d for d in await ledger.claim_deliveries(channel=CHANNEL, limit=100) if d.key == key]
    ok = outcome["state"] == "applied"
    await ledger.record_attempts(attempts=[SentAttempt(claimed.id, claimed.claim, ok, error=None if ok else "no",
                                                       outcome=outcome, final=outcome["state"] != "failed")],
                                 max_attempts=1)


APPLIED = {"state": "applied", "ref": "S-1", "balance": None, "shadow_member": "x"}
REFUSED = {"state": "refused", "code": "insufficient_funds", "message": "not enough points", "shadow_member": "x"}


async def test_each_member_is_judged_and_only_the_differing_movements_are_named(ledger: Ledger, shop: Tenant) -> None:
    even, refused, pending, missing, unread = await members(ledger, shop, 5)
    await written(ledger, shop, even, "k1", "credit", "10", APPLIED)
    await written(ledger, shop, refused, "k2", "credit", "10", APPLIED)
    await written(ledger, shop, refused, "k3", "debit", "30", REFUSED)
    await written(ledger, shop, pending, "k4", "credit", "5", None)
    await written(ledger, shop, missing, "k5", "credit", "7", {**REFUSED, "code": "unknown_member"})
    await written(ledger, shop, unread, "k6", "credit", "1", APPLIED)
    primary = FakePort("primary", "P", {"P100": "10", "P101": "-20", "P102": "5", "P103": "7", "P104": "1"})
    shadow = FakePort("shadow", "S", {"S100": "10", "S101": "10", "S102": "0", "S104": "1"}, broken={"S104"})

    got = await drift.report(ledger, FakePorts(primary, shadow), shop)  # type: ignore[arg-type]

    verdicts = {m.member_id: m.verdict for m in got.members}
    assert verdicts == {even.id: "in_sync", refused.id: "drift", pending.id: "in_flight", missing.id: "drift",
                        unread.id: "unreadable"}
    by_id = {m.member_id: m for m in got.members}
    assert [d.key for d in by_id[refused.id].differing] == ["k3"]
    assert by_id[refused.id].differing[0].shadow["code"] == "insufficient_funds"
    assert [(p.key, p.where) for p in by_id[pending.id].in_flight] == [("k4", "shadow")]
    assert by_id[missing.id].missing_at_shadow and [d.key for d in by_id[missing.id].differing] == ["k5"]
    (points,) = by_id[missing.id].balances  # the primary's balance, the shadow's missing, and why
    assert (points.primary, points.shadow) == (Decimal("7.00"), None)
    assert by_id[missing.id].reasons[0] == "member S103 is unknown at the shadow (no member S103)"
    assert by_id[unread.id].unreadable == {"shadow": "the upstream did not answer within 2 s"}
    assert all(not by_id[m].differing for m in (even.id, pending.id, unread.id))
    assert got.verdict == "drift"
    assert got.lag.pending == 1 and got.lag.oldest_pending_at is not None
    assert {k: got.totals[k] for k in ("members", "members_differing", "movements", "applied", "pending", "refused",
                                       "differing")} == {
        "members": 5, "members_differing": 2, "movements": 6, "applied": 3, "pending": 1, "refused": 2, "differing": 2}


async def test_members_are_paged_in_id_order_and_a_filter_names_them(ledger: Ledger, shop: Tenant) -> None:
    people = await members(ledger, shop, 5)
    for n, person in enumerate(people):
        await written(ledger, shop, person, f"k{n}", "credit", "1", APPLIED)
    ports = FakePorts(FakePort("p", "P", {f"P{100 + n}": "1" for n in range(5)}),
                      FakePort("s", "S", {f"S{100 + n}": "1" for n in range(5)}))

    first = await drift.report(ledger, ports, shop, offset=0, limit=2)  # type: ignore[arg-type]
    last = await drift.report(ledger, ports, shop, offset=4, limit=2)  # type: ignore[arg-type]
    chosen = await drift.report(ledger, ports, shop, members=[people[3].id, people[1].id])  # type: ignore[arg-type]

    assert [m.member_id for m in first.members] == [people[0].id, people[1].id]
    assert (first.matched, first.next_offset, last.next_offset) == (5, 2, None)
    assert [m.member_id for m in chosen.members] == [people[1].id, people[3].id] and chosen.next_offset is None
    assert first.verdict == "in_sync" and {m.verdict for m in chosen.members} == {"in_sync"}
    with pytest.raises(UnknownMember):
        await drift.report(ledger, ports, shop, members=[999_999])  # type: ignore[arg-type]


async def test_a_tenant_without_upstream_or_without_shadow_says_why(ledger: Ledger, shop: Tenant) -> None:
    no_shadow = FakePorts(FakePort("p", "P", {}), None)
    no_upstream = FakePorts(None, None)
    assert "has no shadow: declare upstream.shadow" in (drift.unshadowed(no_shadow, shop) or "")  # type: ignore[arg-type]
    assert "no upstream" in (drift.unshadowed(no_upstream, shop) or "")  # type: ignore[arg-type]
    with pytest.raises(LedgerError):
        await drift.report(ledger, no_shadow, shop)  # type: ignore[arg-type]


class MovingPrimary(FakePort):
    """A primary at which one more movement lands while the report reads its balance: the movement's shadow
    write is enqueued (pending) just before the balance, which includes it, is answered."""

    def __init__(self, ledger: Ledger, tenant: Tenant, member: Member, balances: Mapping[str, str]) -> None:
        super().__init__("primary", "P", balances)
        self.ledger, self.tenant, self.member = ledger, tenant, member

    async def balances(self, member: str) -> Mapping[Asset, Decimal]:
        await written(self.ledger, self.tenant, self.member, "k-late", "credit", "10", None)
        self.known[member] = {Asset.POINTS: self.known[member][Asset.POINTS] + 10}
        return await super().balances(member)


async def test_a_movement_applied_while_the_balances_are_read_is_in_flight_not_drift(
    ledger: Ledger, shop: Tenant
) -> None:
    (person,) = await members(ledger, shop, 1)
    await written(ledger, shop, person, "k1", "credit", "10", APPLIED)
    primary = MovingPrimary(ledger, shop, person, {"P100": "10"})
    shadow = FakePort("shadow", "S", {"S100": "10"})

    got = await drift.report(ledger, FakePorts(primary, shadow), shop)  # type: ignore[arg-type]

    (found,) = got.members
    assert found.verdict == "in_flight" and found.differing == ()  # the second look at the ledger saw k-late
    assert [(p.key, p.where, p.state) for p in found.in_flight] == [("k-late", "shadow", "pending")]
    assert found.balances[0].difference == Decimal("10.00") and found.balances[0].unexplained == 0


class HeldPrimary(FakeUpstream):
    """A primary that applies a write and then holds its answer until released: the intent stays open."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.applying = asyncio.Event()

    async def apply(self, forward: Forward) -> Applied:
        answer = await super().apply(forward)
        self.applying.set()
        await self.release.wait()
        return answer


async def test_an_intent_still_open_at_the_primary_is_in_flight_there(ledger: Ledger, shop: Tenant) -> None:
    held = HeldPrimary()
    ledger.bind_upstreams(lambda t: held if t.id == shop.id else None)
    ledger.mark_ready(shop)
    person = await ledger.create_member(tenant=shop, name="M0", customer_no=100, upstream_ref="usr-9")
    held.kept[("usr-9", Asset.POINTS)] = Decimal("10.00")
    await written(ledger, shop, person, "k1", "credit", "10", APPLIED)
    crediting = asyncio.create_task(ledger.credit(tenant=shop, member=person, amount=Decimal("5")))
    await held.applying.wait()
    try:
        got = await drift.report(ledger, FakePorts(held, FakePort("shadow", "S", {"S100": "10"})),  # type: ignore[arg-type]
                                 shop)
    finally:
        held.release.set()
        await crediting
    (found,) = got.members
    assert found.verdict == "in_flight" and got.verdict == "in_flight" and got.totals["open_at_primary"] == 1
    assert [(p.where, p.state, p.points) for p in found.in_flight] == [("primary", "open", Decimal("5.00"))]
    assert found.balances[0].difference == Decimal("5.00")


async def test_a_page_reads_only_its_own_members_shadow_writes(ledger: Ledger, shop: Tenant,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A tenant with 100k shadow writes gets its report a page at a time: never a read of every write (with
    its attempts); the totals are counted in the database all the same."""
    people = await members(ledger, shop, 4)
    for n, person in enumerate(people):
        await written(ledger, shop, person, f"k{n}", "credit", "1", APPLIED if n != 2 else REFUSED)
    ports = FakePorts(FakePort("p", "P", {f"P{100 + n}": "1" for n in range(4)}),
                      FakePort("s", "S", {f"S{100 + n}": "1" if n != 2 else "0" for n in range(4)}))
    asked: list[list[str]] = []
    page_of = ledger.deliveries_of_labels

    async def every_write(**_: object) -> None:
        raise AssertionError("the report read every shadow write of the tenant")

    async def some_writes(**kw: Any) -> Any:
        asked.append(list(kw["labels"]))
        return await page_of(**kw)

    monkeypatch.setattr(ledger, "deliveries", every_write)
    monkeypatch.setattr(ledger, "deliveries_of_labels", some_writes)
    got = await drift.report(ledger, ports, shop, offset=2, limit=1)  # type: ignore[arg-type]

    assert [m.member_id for m in got.members] == [people[2].id] and got.members[0].verdict == "drift"
    assert asked == [[f"member-{people[2].id}"]] * 2  # the two looks framing the balance reads
    assert (got.totals["members"], got.totals["movements"], got.totals["refused"], got.totals["members_differing"],
            got.totals["applied"]) == (4, 4, 1, 1, 3)


async def test_a_movement_the_sender_has_not_taken_up_yet_is_in_flight_not_drift(ledger: Ledger, shop: Tenant) -> None:
    """The primary applied two credits of 10; the shadow sender has sent the first and not yet read the
    second's event from the outbox: the shadow is 10 behind, and that is noise, counted in the lag."""
    (person,) = await members(ledger, shop, 1)
    await written(ledger, shop, person, "k1", "credit", "10", APPLIED)
    payload = {"intent": 2, "key": "k2", "member_id": person.id, "direction": "credit", "asset": "points",
               "points": "10", "cause": "adjustment", "value": None, "note": None, "reference": "R-k2",
               "reverses": None, "reverses_key": None, "ref": "P-k2", "balance": "20", "entry_id": None}
    now = ledger.clock.now()
    await ledger.store.write(lambda tx: event_sql.publish(tx, shop.id, APPLIED_TOPIC, None, payload, now))
    ports = FakePorts(FakePort("p", "P", {"P100": "20"}), FakePort("s", "S", {"S100": "10"}))

    got = await drift.report(ledger, ports, shop)  # type: ignore[arg-type]

    (member,) = got.members
    assert member.verdict == "in_flight" and not member.differing
    assert [(p.key, p.where) for p in member.in_flight] == [("k2", "shadow")]
    assert got.verdict == "in_flight" and got.lag.pending == 1
    assert (got.totals["movements"], got.totals["pending"]) == (2, 1)

"""How one member is judged between a primary upstream and its shadow (gateway/upstream/drift_rules.py):
a refusal is drift, a difference that pending movements account for is in flight (noise), a difference
nothing accounts for is drift, an unread balance is neither; and the report's overall verdict."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from gateway.ledger import Asset
from gateway.upstream.drift_rules import DRIFT, IN_FLIGHT, IN_SYNC, UNREADABLE, Movement, Pending, judge, overall

AT = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)
P = Asset.POINTS


def movement(key: str, direction: str, points: str, state: str = "delivered", shadow: Any = None,
             asset: Asset = P) -> Movement:
    return Movement(key=key, intent=1, member_id=7, direction=direction, asset=asset, points=Decimal(points),
                    cause="adjustment", reference=None, primary_ref=f"ref-{key}", at=AT, state=state,
                    shadow=shadow if shadow is not None else ({"state": "applied"} if state == "delivered" else None))


def refused(key: str, direction: str, points: str, code: str = "insufficient_funds") -> Movement:
    return movement(key, direction, points, "refused", {"state": "refused", "code": code, "message": "no"})


def pending(key: str, direction: str, points: str, where: str = "shadow", settled: bool = False) -> Pending:
    return Pending(key, where, "pending", 7, direction, P, Decimal(points), AT, settled_while_read=settled)


def balances(points: str, **more: str) -> dict[Asset, Decimal]:
    return {P: Decimal(points), **{Asset(k): Decimal(v) for k, v in more.items()}}


def judged(primary: Any, shadow: Any, movements: Any = (), in_flight: Any = (), **extra: Any) -> Any:
    return judge(member_id=7, primary_id="C7", shadow_id="M7", primary=primary, shadow=shadow,
                 movements=list(movements), in_flight=list(in_flight), **extra)


def test_equal_balances_with_every_movement_applied_at_both_are_in_sync() -> None:
    got = judged(balances("100"), balances("100"), [movement("a", "credit", "10"), movement("b", "debit", "5")])
    assert got.verdict == IN_SYNC and got.reasons == () and got.differing == ()
    (points,) = got.balances
    assert (points.primary, points.shadow, points.difference, points.unexplained) == (
        Decimal("100.00"), Decimal("100.00"), Decimal("0.00"), Decimal("0.00"))


def test_a_refused_movement_is_drift_and_is_listed_with_the_shadows_reason() -> None:
    got = judged(balances("90"), balances("110"), [movement("a", "credit", "10"), refused("b", "debit", "20")])
    assert got.verdict == DRIFT
    assert [m.key for m in got.differing] == ["b"]
    assert got.differing[0].shadow == {"state": "refused", "code": "insufficient_funds", "message": "no"}
    assert got.reasons == ("1 movement refused at the shadow",)
    (points,) = got.balances  # the refused debit accounts for the whole difference
    assert (points.difference, points.explained, points.unexplained) == (
        Decimal("-20.00"), Decimal("-20.00"), Decimal("0.00"))


def test_failed_and_unclear_writes_are_drift_too() -> None:
    failed = movement("f", "credit", "5", "failed", {"state": "failed", "code": "upstream_timeout", "message": "t"})
    unclear = movement("u", "credit", "5", "refused", {"state": "unclear", "code": "upstream_failed", "message": "?"})
    got = judged(balances("10"), balances("5"), [failed, unclear])
    assert got.verdict == DRIFT and {m.key for m in got.differing} == {"f", "u"}
    assert got.reasons == ("1 movement failed at the shadow", "1 movement unclear at the shadow")
    assert got.balances[0].unexplained == 0  # either may have reached the shadow: 5 of 10 is within reach


def test_a_difference_pending_writes_account_for_is_in_flight_not_drift() -> None:
    got = judged(balances("130"), balances("100"), [movement("a", "credit", "30", "pending")],
                 [pending("a", "credit", "30")])
    assert got.verdict == IN_FLIGHT and got.differing == ()
    assert got.reasons == ("1 movement in flight",)
    assert (got.balances[0].in_flight_low, got.balances[0].in_flight_high) == (Decimal("0.00"), Decimal("30.00"))


def test_a_pending_write_the_shadow_may_already_have_applied_is_in_flight_with_no_difference() -> None:
    got = judged(balances("130"), balances("130"), [], [pending("a", "credit", "30")])
    assert got.verdict == IN_FLIGHT


def test_an_intent_still_open_at_the_primary_accounts_for_a_difference_either_way() -> None:
    got = judged(balances("80"), balances("100"), [], [pending("k", "debit", "20", where="primary")])
    assert got.verdict == IN_FLIGHT and got.balances[0].in_flight_low == Decimal("-20.00")


def test_a_difference_beyond_what_is_in_flight_is_drift() -> None:
    got = judged(balances("150"), balances("100"), [], [pending("a", "credit", "30")])
    assert got.verdict == DRIFT
    assert got.balances[0].unexplained == Decimal("20.00")
    assert got.reasons == ("points differ by 50.00 (20.00 beyond what the movements account for)",)


def test_a_difference_with_nothing_in_flight_is_drift_in_any_asset() -> None:
    got = judged(balances("100", cashback="3.50"), balances("100"))
    assert got.verdict == DRIFT
    assert [(b.asset, b.difference) for b in got.balances] == [(P, Decimal("0.00")), (Asset.CASHBACK, Decimal("3.50"))]


def test_a_smaller_balance_at_the_shadow_plus_refusals_is_drift_for_both_reasons() -> None:
    got = judged(balances("500"), balances("40"), [refused("b", "debit", "60")])
    assert got.verdict == DRIFT
    assert got.reasons == ("1 movement refused at the shadow",
                           "points differ by 460.00 (520.00 beyond what the movements account for)")


def test_a_member_unknown_at_the_shadow_is_drift_even_before_any_refusal() -> None:
    got = judged(balances("100"), None, [], missing_at_shadow="no member M7")
    assert got.verdict == DRIFT
    assert got.reasons == ("member M7 is unknown at the shadow (no member M7)",)


def test_a_member_unknown_at_the_shadow_still_shows_the_primary_balances() -> None:
    got = judged(balances("100", miles="3"), None, [refused("a", "credit", "10")], missing_at_shadow="no member M7")
    shown = {b.asset: (b.primary, b.shadow, b.difference, b.unexplained) for b in got.balances}
    assert shown == {P: (Decimal("100.00"), None, None, None), Asset.MILES: (Decimal("3.00"), None, None, None)}
    assert got.balances[0].explained == Decimal("10")  # what the refusals account for is known all the same


def test_an_unread_balance_is_unreadable_neither_drift_nor_in_sync() -> None:
    got = judged(balances("100"), None, [movement("a", "credit", "1")], unreadable={"shadow": "it timed out"})
    assert got.verdict == UNREADABLE
    assert got.reasons == ("the shadow balance could not be read: it timed out",)


def test_a_known_refusal_still_makes_an_unreadable_member_drift() -> None:
    got = judged(None, balances("1"), [refused("b", "debit", "2")], unreadable={"primary": "down"})
    assert got.verdict == DRIFT


def test_the_overall_verdict_is_the_worst_and_counts_what_lies_beyond_the_page() -> None:
    assert overall([]) == IN_SYNC
    assert overall([IN_SYNC, IN_FLIGHT]) == IN_FLIGHT
    assert overall([IN_SYNC, UNREADABLE, IN_FLIGHT]) == UNREADABLE
    assert overall([IN_FLIGHT, DRIFT, UNREADABLE]) == DRIFT
    assert overall([IN_SYNC], pending=3) == IN_FLIGHT
    assert overall([IN_SYNC], differing=1) == DRIFT

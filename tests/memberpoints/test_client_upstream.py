"""A memberpoints website as a tenant's upstream (the port the ledger forwards to), against a real vendor
process: balances read there, every write one adjustment whose note ends in ` [lg:KEY]`, an unclear write
settled by finding that marker in the member's history, and each of the vendor's refusals said as the
ledger's own error."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from decimal import Decimal
import time
from typing import Any

import pytest

from gateway.dialects.memberpoints.client import MemberpointsClient
from gateway.dialects.memberpoints.upstream import CREDENTIAL_NAMES, MemberpointsUpstream, connect, note_for
from gateway.ledger import (
    Applied,
    Asset,
    Cause,
    Direction,
    Forward,
    InsufficientFunds,
    InvalidArgument,
    Member,
    RemoteMember,
    UnknownMember,
    UpstreamCannotExpress,
    UpstreamCredentialsRefused,
    UpstreamFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tests import process
from tests.memberpoints.upstream_vendor import (  # noqa: F401  (fixtures)
    API_ID,
    API_KEY,
    CREDENTIALS,
    JASON,
    JOHNSON,
    JUAN,
    CaptureServer,
    Seen,
    TransportFor,
    Vendor,
    capture,
    seen,
    session,
    transport_to,
    vendor,
    vendor_api,
)

pytestmark = pytest.mark.slow
GRACE = 1.0  # the test upstream's timeout, and so how long "not in the history" waits after an unclear write


@pytest.fixture
def upstream(vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor) -> MemberpointsUpstream:
    made = connect(transport_to(vendor.url, timeout=GRACE), CREDENTIALS)
    assert isinstance(made, MemberpointsUpstream) and made.settle_grace == GRACE  # the transport's timeout
    return made


def forward(key: str, member: int | str, direction: Direction, points: str, **more: Any) -> Forward:
    return Forward(key=key, member=str(member), direction=direction, asset=more.pop("asset", Asset.POINTS),
                   points=Decimal(points), **more)


async def notes(vendor_api: Vendor, mbr_id: int) -> list[str]:
    return [row["adjustmentnote"] for row in (await vendor_api.direct("GET", "memberpoints", params={"mbr_id": mbr_id}))["data"]]


async def balance_at_vendor(vendor_api: Vendor, mbr_id: int) -> str:
    body = await vendor_api.direct("GET", "memberpointsbalances", params={"mbr_id": mbr_id})
    return body["data"][0]["mbr_points_balance"]


# -- Connecting -------------------------------------------------------------------------------------


def test_a_memberpoints_upstream_needs_the_websites_api_id_and_api_key(transport_to: TransportFor) -> None:
    assert CREDENTIAL_NAMES == ("api_id", "api_key")
    with pytest.raises(InvalidArgument, match="needs credentials api_id, api_key; missing: api_key"):
        connect(transport_to("http://127.0.0.1:9"), {"api_id": API_ID})
    with pytest.raises(InvalidArgument, match="missing: api_id, api_key"):
        connect(transport_to("http://127.0.0.1:9"), {"api_id": "", "api_key": 5})  # type: ignore[dict-item]


def test_it_settles_by_history_lists_its_members_and_names_itself_by_url(upstream: MemberpointsUpstream,
                                                                          vendor: process.Server) -> None:
    assert (upstream.settles, upstream.lists_members) == (True, True)
    assert upstream.name == f"the memberpoints upstream at {vendor.url}"


@dataclass(frozen=True)
class _Declared(Member):
    upstream_ref: str | None = None  # what the core's Member carries once members.upstream_ref exists


def member(upstream_ref: str | None = None) -> Member:
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    base = Member(id=1, tenant_id=1, customer_no=77, member_no=JOHNSON, email=None, user_ref="usr-x", card_refs=(),
                  name="Johnson", programme_no=None, profile={}, deleted=False, created_at=now, updated_at=now)
    if "upstream_ref" in {f.name for f in fields(Member)}:
        return replace(base, upstream_ref=upstream_ref)  # type: ignore[call-arg]
    return _Declared(**{f.name: getattr(base, f.name) for f in fields(Member)}, upstream_ref=upstream_ref)


def test_a_member_is_known_there_by_its_declared_id_else_by_its_member_number(upstream: MemberpointsUpstream) -> None:
    assert upstream.member_ref(member()) == str(JOHNSON)
    assert upstream.member_ref(member(upstream_ref="445123")) == "445123"


# -- Balances ---------------------------------------------------------------------------------------


async def test_a_balance_is_the_members_memberpointsbalances_row(upstream: MemberpointsUpstream) -> None:
    assert await upstream.balance(str(JOHNSON), Asset.POINTS) == Decimal("120.00")
    assert await upstream.balance(str(JUAN), Asset.POINTS) == Decimal("30511.00")


async def test_other_assets_are_never_held_there_so_their_balance_is_zero_without_asking(
    upstream: MemberpointsUpstream, seen: Seen,
) -> None:
    assert await upstream.balance(str(JOHNSON), Asset.CASHBACK) == Decimal("0")
    assert await upstream.balance(str(JOHNSON), Asset.MILES) == Decimal("0")
    assert seen.exchanges == []


async def test_a_member_the_website_does_not_have_is_unknown(upstream: MemberpointsUpstream, seen: Seen) -> None:
    with pytest.raises(UnknownMember, match="has no member with mbr_id 999999"):
        await upstream.balance("999999", Asset.POINTS)
    with pytest.raises(UnknownMember, match="names members by a whole-number mbr_id; 'usr-abc' is none"):
        await upstream.balance("usr-abc", Asset.POINTS)
    assert len(seen.exchanges) == 1  # the second was never asked


# -- Writes -----------------------------------------------------------------------------------------


async def test_a_credit_is_a_positive_adjustment_whose_note_ends_in_the_key(
    upstream: MemberpointsUpstream, vendor_api: Vendor,
) -> None:
    applied = await upstream.apply(forward("k-credit-1", JOHNSON, Direction.CREDIT, "10", note="Product refund"))
    assert applied.points == Decimal("10.00") and applied.ref and applied.ref.isdigit() and applied.balance is None
    assert (await notes(vendor_api, JOHNSON))[-1] == "Product refund [lg:k-credit-1]"
    assert await balance_at_vendor(vendor_api, JOHNSON) == "130.00"


async def test_a_debit_is_a_negative_adjustment_and_a_spend_says_what_was_bought(
    upstream: MemberpointsUpstream, vendor_api: Vendor,
) -> None:
    spend = forward("k-spend-1", JASON, Direction.DEBIT, "20", cause=Cause.SPEND, value=Decimal("4000.00"), reference="INV-9")
    applied = await upstream.apply(spend)
    assert applied.points == Decimal("20.00")
    [row] = [r for r in (await vendor_api.direct("GET", "memberpoints", params={"mbr_id": JASON}))["data"]
             if r["pointsadjustid"] == int(applied.ref or 0)]
    assert (row["adjustpoints"], row["adjustmentnote"]) == ("-20.00", "Points redeemed on a purchase of 4000.00 (INV-9) [lg:k-spend-1]")
    assert await balance_at_vendor(vendor_api, JASON) == "30.00"


def test_a_long_note_is_cut_so_the_marker_always_survives() -> None:
    long = note_for(forward("key-9", 1, Direction.CREDIT, "1", note="x" * 5000))
    assert len(long) == 2000 and long.endswith("x [lg:key-9]")


async def test_a_debit_beyond_the_balance_is_insufficient_funds_and_nothing_moves(
    upstream: MemberpointsUpstream, vendor_api: Vendor,
) -> None:
    with pytest.raises(InsufficientFunds, match=r"memberpoints upstream at .*: Insufficient points"):
        await upstream.apply(forward("k-short", JASON, Direction.DEBIT, "50.01"))
    assert await balance_at_vendor(vendor_api, JASON) == "50.00"


async def test_a_write_for_a_member_the_website_does_not_have_is_unknown_member(upstream: MemberpointsUpstream) -> None:
    with pytest.raises(UnknownMember, match="Member not found"):
        await upstream.apply(forward("k-nobody", 999999, Direction.CREDIT, "1"))


async def test_what_memberpoints_cannot_hold_is_refused_naming_its_limit_before_anything_is_sent(
    upstream: MemberpointsUpstream, vendor: process.Server, seen: Seen,
) -> None:
    with pytest.raises(UpstreamCannotExpress, match=f"the memberpoints upstream at {vendor.url} keeps points only: it cannot hold cashback"):
        await upstream.apply(forward("k-cash", JOHNSON, Direction.CREDIT, "5", asset=Asset.CASHBACK))
    with pytest.raises(UpstreamCannotExpress, match="keeps points to two decimal places: 1.005 points"):
        await upstream.apply(forward("k-fine", JOHNSON, Direction.CREDIT, "1.005"))
    with pytest.raises(UpstreamCannotExpress, match="at most 99999999.99 points in one adjustment"):
        await upstream.apply(forward("k-huge", JOHNSON, Direction.CREDIT, "100000000"))
    with pytest.raises(InvalidArgument, match="must move more than 0 points, not 0"):
        await upstream.apply(forward("k-zero", JOHNSON, Direction.CREDIT, "0"))
    assert seen.exchanges == []


async def test_another_refusal_is_invalid_argument_saying_which_upstream_said_it(
    upstream: MemberpointsUpstream, vendor_api: Vendor, vendor: process.Server,
) -> None:
    await vendor_api.fault(effect="status", status=400, message="adjustmentnote must be text of at most 2000 characters", times=1)
    with pytest.raises(InvalidArgument) as refused:
        await upstream.apply(forward("k-400", JOHNSON, Direction.CREDIT, "1"))
    assert refused.value.message == (f"the memberpoints upstream at {vendor.url} refused the request (400): "
                                     "adjustmentnote must be text of at most 2000 characters")


# -- Transport trouble ------------------------------------------------------------------------------


async def test_refused_credentials_are_the_gateways_problem_not_the_clients(
    vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor,
) -> None:
    wrong = connect(transport_to(vendor.url), {"api_id": API_ID, "api_key": "stale-key"})
    with pytest.raises(UpstreamCredentialsRefused, match="refused the gateway's apiID/apiKey"):
        await wrong.balance(str(JOHNSON), Asset.POINTS)
    with pytest.raises(UpstreamCredentialsRefused):
        await wrong.apply(forward("k-cred", JOHNSON, Direction.CREDIT, "1"))


async def test_the_vendors_rate_limit_is_upstream_rate_limited_with_its_retry_after(
    upstream: MemberpointsUpstream, vendor_api: Vendor,
) -> None:
    await vendor_api.rate_limit(1)
    await upstream.balance(str(JOHNSON), Asset.POINTS)
    with pytest.raises(UpstreamRateLimited) as limited:
        await upstream.apply(forward("k-rate", JOHNSON, Direction.CREDIT, "1"))
    assert 55 <= limited.value.details["retry_after"] <= 60 and not limited.value.sent


async def test_a_5xx_is_upstream_failed_and_a_write_refused_before_the_handler_settles_as_not_applied(
    upstream: MemberpointsUpstream, vendor_api: Vendor,
) -> None:
    await vendor_api.fault(effect="status", status=500, method="POST", times=1)
    write = forward("k-500", JOHNSON, Direction.CREDIT, "4")
    with pytest.raises(UpstreamFailed, match=r"answered 500 \(request id lg-[0-9a-f]{16}\): Internal Server Error") as failed:
        await upstream.apply(write)
    assert failed.value.sent and failed.value.details["status"] == 500
    assert await upstream.settle(write) is None


async def test_a_5xx_after_the_write_landed_settles_as_applied(upstream: MemberpointsUpstream, vendor_api: Vendor) -> None:
    await vendor_api.fault(effect="status", when="after", status=502, method="POST", times=1)
    write = forward("k-502-after", JOHNSON, Direction.CREDIT, "4")
    with pytest.raises(UpstreamFailed, match="answered 502"):
        await upstream.apply(write)
    settled = await upstream.settle(write)
    assert settled is not None and (settled.balance, settled.points) == (Decimal("124.00"), Decimal("4.00"))


# -- Settling an unclear write ----------------------------------------------------------------------


async def test_an_answer_dropped_after_the_write_applied_is_found_by_settle_and_never_resent(
    upstream: MemberpointsUpstream, vendor_api: Vendor,
) -> None:
    await vendor_api.fault(effect="drop", when="after", method="POST", path="/webapps/api/memberpoints", times=1)
    write = forward("k-dropped", JOHNSON, Direction.DEBIT, "20", cause=Cause.SPEND)
    with pytest.raises(UpstreamFailed) as dropped:
        await upstream.apply(write)
    assert dropped.value.sent
    settled = await upstream.settle(write)
    [row] = [r for r in (await vendor_api.direct("GET", "memberpoints", params={"mbr_id": JOHNSON}))["data"]
             if r["adjustmentnote"].endswith("[lg:k-dropped]")]
    assert settled == Applied(balance=Decimal("100.00"), ref=str(row["pointsadjustid"]), points=Decimal("20.00"))
    assert await balance_at_vendor(vendor_api, JOHNSON) == "100.00"  # applied once


async def test_a_connection_dropped_before_the_vendor_wrote_settles_as_not_applied(
    upstream: MemberpointsUpstream, vendor_api: Vendor,
) -> None:
    await vendor_api.fault(effect="drop", when="before", method="POST", times=1)
    write = forward("k-lost", JOHNSON, Direction.CREDIT, "9")
    with pytest.raises(UpstreamFailed) as dropped:
        await upstream.apply(write)
    assert dropped.value.sent  # the gateway cannot tell: the history can
    started = time.monotonic()
    assert await upstream.settle(write) is None
    assert time.monotonic() - started >= GRACE * 0.8  # a slow vendor got its grace before "not applied" was believed
    assert await upstream.apply(write) == Applied(balance=None, ref=(await upstream.settle(write)).ref, points=Decimal("9.00"))  # type: ignore[union-attr]


async def test_a_write_whose_answer_came_too_late_is_found_by_settle(
    vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor,
) -> None:
    slow = connect(transport_to(vendor.url, timeout=0.5), CREDENTIALS)
    await vendor_api.fault(effect="latency", when="after", latency_ms=1500, method="POST", times=1)
    write = forward("k-slow", JOHNSON, Direction.CREDIT, "6")
    with pytest.raises(UpstreamTimeout) as timed_out:
        await slow.apply(write)
    assert timed_out.value.sent
    settled = await slow.settle(write)  # the vendor wrote it before it dawdled: the history has it now
    assert settled is not None and settled.balance == Decimal("126.00")
    assert (await vendor_api.finished_post())["status"] == 200


async def test_settling_right_after_a_timeout_waits_for_a_dawdling_vendor_and_agrees_with_what_it_did(
    vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor,
) -> None:
    # After a `before` latency the vendor may still read the abandoned request and write it, or fail to
    # read it. Settling at once, a miss is only believed once the grace has passed, by when the vendor is done.
    slow = MemberpointsUpstream(MemberpointsClient(transport_to(vendor.url, timeout=0.5), API_ID, API_KEY), settle_grace=3.0)
    await vendor_api.fault(effect="latency", when="before", latency_ms=1200, method="POST", times=1)
    write = forward("k-slow-before", JOHNSON, Direction.CREDIT, "6")
    with pytest.raises(UpstreamTimeout):
        await slow.apply(write)
    settled = await slow.settle(write)
    post = await vendor_api.finished_post()
    if post["status"] == 200:
        assert settled is not None and settled.balance == Decimal("126.00")
    else:
        assert settled is None and await balance_at_vendor(vendor_api, JOHNSON) == "120.00"


async def test_a_write_that_lands_during_the_grace_is_found_by_the_second_look(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    late = {"adjustmentnote": "Points adjustment [lg:k-late]", "pointsadjustid": 9003, "mbr_id": JOHNSON,
            "adjustpoints": "5.00", "id": 9003, "adjustdate": "2022-03-01 08:00:00.000000", "cid": 1}
    recorder.reply(503, {"endPoint": "memberpoints", "success": False, "message": "busy"})  # the POST: unclear
    recorder.reply(200, {"endPoint": "memberpoints", "resultCount": 0, "offset": 0, "pageSize": 200, "data": [], "success": True})
    recorder.reply(200, {"endPoint": "memberpoints", "resultCount": 1, "offset": 0, "pageSize": 200, "data": [late], "success": True})
    recorder.reply(200, {"endPoint": "memberpointsbalances", "resultCount": 1, "offset": 0, "pageSize": 200, "success": True,
                         "data": [{"mbr_email": "", "mbr_name": "Johnson", "mbr_id": JOHNSON, "mbr_points_balance": "125.00"}]})
    upstream = MemberpointsUpstream(MemberpointsClient(transport_to(url), API_ID, API_KEY), settle_grace=0.3)
    write = forward("k-late", JOHNSON, Direction.CREDIT, "5")
    with pytest.raises(UpstreamFailed, match=r"answered 503 \(request id lg-[0-9a-f]{16}\): busy"):
        await upstream.apply(write)
    assert await upstream.settle(write) == Applied(balance=Decimal("125.00"), ref="9003", points=Decimal("5.00"))
    assert [r.raw_path.split("?")[0] for r in recorder.requests] == [
        "/webapps/api/memberpoints", "/webapps/api/memberpoints", "/webapps/api/memberpoints", "/webapps/api/memberpointsbalances"]


async def test_without_an_unclear_attempt_here_a_miss_is_believed_at_once(
    upstream: MemberpointsUpstream, seen: Seen,
) -> None:
    started = time.monotonic()
    assert await upstream.settle(forward("k-from-before-a-restart", JOHNSON, Direction.CREDIT, "1")) is None
    assert time.monotonic() - started < GRACE / 2 and len(seen.exchanges) == 1


async def test_settle_pages_through_the_whole_history_oldest_first(
    vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor,
) -> None:
    small_pages = MemberpointsUpstream(MemberpointsClient(transport_to(vendor.url), API_ID, API_KEY), page_size=2)
    for n in range(4):
        await small_pages.apply(forward(f"k-page-{n}", JASON, Direction.CREDIT, "1"))
    await vendor_api.admin("DELETE", "/requests")
    settled = await small_pages.settle(forward("k-page-3", JASON, Direction.CREDIT, "1"))
    assert settled is not None and settled.balance == Decimal("54.00")
    assert await small_pages.settle(forward("k-page-never", JASON, Direction.CREDIT, "1")) is None
    gets = [r["query"] for r in await vendor_api.requests() if r["path"] == "/webapps/api/memberpoints"]
    walk = [f"mbr_id={JASON}&offset={o}&pageSize=2" for o in (0, 2, 4)]
    assert gets == walk + walk


async def test_a_write_that_was_never_sendable_settles_as_not_applied_without_asking(
    upstream: MemberpointsUpstream, seen: Seen,
) -> None:
    assert await upstream.settle(forward("k-c", JOHNSON, Direction.CREDIT, "1", asset=Asset.MILES)) is None
    assert await upstream.settle(forward("k-u", "usr-abc", Direction.CREDIT, "1")) is None
    assert seen.exchanges == []


async def test_settle_while_the_vendor_is_down_raises_rather_than_guess(upstream: MemberpointsUpstream, vendor_api: Vendor) -> None:
    await vendor_api.fault(effect="status", status=503, times=1)
    with pytest.raises(UpstreamFailed, match="answered 503"):
        await upstream.settle(forward("k-down", JOHNSON, Direction.CREDIT, "1"))


# -- Members ----------------------------------------------------------------------------------------


async def test_members_are_every_balance_row_with_their_email_and_name(upstream: MemberpointsUpstream) -> None:
    assert [m async for m in upstream.members()] == [
        RemoteMember(ref=str(JUAN), email=None, name="Juan Cruz"),
        RemoteMember(ref=str(JOHNSON), email="test@example.com", name="Johnson"),
        RemoteMember(ref=str(JASON), email="Jason@exmapleemail.com", name="Jason"),
    ]


async def test_members_of_a_big_website_come_page_by_page(
    vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor,
) -> None:
    members = [{"mbr_id": 1000 + n, "name": f"Member {n}", "email": f"m{n}@example.com"} for n in range(401)]
    website = {"name": "big", "memberpoints": {"api_id": "big-id", "api_key": "big-key", "cid": 7}, "members": members}
    await vendor_api.admin("POST", "/scenarios", {"tenants": [website]})  # gone again at the next test's reset
    big = connect(transport_to(vendor.url), {"api_id": "big-id", "api_key": "big-key"})
    found = [m async for m in big.members()]
    assert [m.ref for m in found] == [str(1000 + n) for n in range(401)]
    assert found[400] == RemoteMember(ref="1400", email="m400@example.com", name="Member 400")
    pages = [r["query"] for r in await vendor_api.requests() if r["tenant"] == "big"]
    assert pages == [f"offset={o}&pageSize=200" for o in (0, 200, 400)]


# -- Closing and secrets ----------------------------------------------------------------------------


async def test_a_closed_upstream_refuses_further_calls(upstream: MemberpointsUpstream, seen: Seen) -> None:
    await upstream.close()
    with pytest.raises(UpstreamUnavailable, match="is closed"):
        await upstream.balance(str(JOHNSON), Asset.POINTS)
    with pytest.raises(UpstreamUnavailable):
        await upstream.apply(forward("k-closed", JOHNSON, Direction.CREDIT, "1"))
    assert seen.exchanges == []


async def test_no_exchange_of_any_call_shows_the_api_key(upstream: MemberpointsUpstream, vendor_api: Vendor, seen: Seen) -> None:
    await upstream.balance(str(JOHNSON), Asset.POINTS)
    await upstream.apply(forward("k-secret", JOHNSON, Direction.CREDIT, "1", note=f"key {API_KEY}"))
    await upstream.settle(forward("k-secret", JOHNSON, Direction.CREDIT, "1"))
    _ = [m async for m in upstream.members()]
    assert len(seen.exchanges) == 5
    assert not [e for e in seen.exchanges if API_KEY in repr(e)]


async def test_all_of_a_members_balances_are_one_memberpointsbalances_read(
    upstream: MemberpointsUpstream, vendor_api: Vendor, seen: Seen,
) -> None:
    """The port's balances(member): the member's points from one request; a website keeps no other asset."""
    assert await upstream.balances(str(JOHNSON)) == {Asset.POINTS: Decimal("120.00"), Asset.CASHBACK: Decimal("0"),
                                                     Asset.MILES: Decimal("0")}
    [read] = seen.exchanges
    assert read.method == "GET" and read.url.endswith(f"/webapps/api/memberpointsbalances?mbr_id={JOHNSON}")
    assert [r["path"] for r in await vendor_api.requests()] == ["/webapps/api/memberpointsbalances"]

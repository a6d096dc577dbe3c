"""The ledger's Upstream port at Pomelo, `connect(transport, credentials)`, against a real `loyalty-gateway serve`
playing Pomelo: credits mint and debits burn under the forward's key, an unclear write is settled by replaying
that key (Pomelo answers what it applied the first time), and Pomelo's refusals are the ledger's own errors."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from gateway.dialects.pomelo.upstream import CREDENTIAL_NAMES, connect
from gateway.dialects.upstream_transport import Transport
from gateway.ledger import (
    Asset,
    Cause,
    Direction,
    Forward,
    InsufficientFunds,
    InvalidArgument,
    Member,
    UnknownMember,
    Upstream,
    UpstreamCannotExpress,
    UpstreamCredentialsRefused,
    UpstreamFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from tests.pomelo.test_client import CREDENTIALS, JOHNSON, JUAN, JUAN_CARD, Vendor, pomelo, vendor  # noqa: F401
from tests import process

pytestmark = pytest.mark.slow


@pytest.fixture
async def transport(vendor: process.Server) -> AsyncIterator[Transport]:  # noqa: F811
    async with aiohttp.ClientSession() as session:
        yield Transport(session, vendor.url, timeout=5, label="the pomelo upstream")


@pytest.fixture
async def upstream(transport: Transport) -> AsyncIterator[Upstream]:
    port = connect(transport, CREDENTIALS)
    yield port
    await port.close()


def burn(points: str, key: str, member: str = JUAN, **more: Any) -> Forward:
    return Forward(key=key, member=member, direction=Direction.DEBIT, asset=Asset.POINTS, points=Decimal(points), **more)


def mint(points: str, key: str, member: str = JUAN, **more: Any) -> Forward:
    return Forward(key=key, member=member, direction=Direction.CREDIT, asset=Asset.POINTS, points=Decimal(points), **more)


async def bodies(vendor: Vendor) -> list[tuple[str, str]]:  # noqa: F811
    """Each mint and burn that reached Pomelo: ("points/burn", its JSON body)."""
    return [(r["path"].removeprefix("/loyalty/v1/accounts/"), r["request_body"]["text"])
            for r in await vendor.requests("/loyalty/v1/accounts/") if r["method"] == "POST"]


# -- declaring it ----------------------------------------------------------------------------------


def test_a_pomelo_upstream_takes_pomelos_own_credential_names(transport: Transport) -> None:
    assert CREDENTIAL_NAMES == ("client_id", "client_secret", "audience")
    with pytest.raises(InvalidArgument, match="client_secret is missing"):
        connect(transport, {"client_id": "x", "audience": "https://api.pomelo.la"})
    with pytest.raises(InvalidArgument, match="api_key is not one of them"):
        connect(transport, {**CREDENTIALS, "api_key": "x"})


def test_a_member_is_named_by_its_declared_upstream_id_else_its_pomelo_user_id(upstream: Upstream) -> None:
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    member = Member(id=1, tenant_id=1, customer_no=1534, member_no=1534, email=None, user_ref=JUAN, card_refs=(),
                    name="Juan Cruz", programme_no=None, profile={}, deleted=False, created_at=moment, updated_at=moment)
    assert upstream.member_ref(member) == JUAN
    declared = SimpleNamespace(**{**member.__dict__, "upstream_ref": JUAN_CARD})  # Member.upstream_ref, set
    assert upstream.member_ref(declared) == JUAN_CARD  # type: ignore[arg-type]
    assert upstream.member_ref(replace(member, user_ref="usr-other")) == "usr-other"


def test_pomelo_cannot_list_its_members_and_says_so(upstream: Upstream, transport: Transport) -> None:
    assert (upstream.settles, upstream.lists_members) == (True, False)
    with pytest.raises(UpstreamCannotExpress, match=f"the pomelo upstream at {transport.base_url} cannot list"):
        upstream.members()


# -- reads and writes ------------------------------------------------------------------------------


async def test_the_balance_of_each_asset_is_its_account_type_at_pomelo(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    assert await upstream.balance(JUAN, Asset.POINTS) == Decimal("30511")
    assert await upstream.balance(JUAN_CARD, Asset.CASHBACK) == Decimal("0")
    applied = await upstream.apply(replace(mint("7.25", "cb-1"), asset=Asset.CASHBACK))
    assert applied.balance == Decimal("7.25") and await upstream.balance(JUAN, Asset.CASHBACK) == Decimal("7.25")
    assert (await bodies(pomelo))[-1][0] == "cashback/mint"


async def test_credits_are_mints_and_debits_burns_with_a_reason_saying_what_for(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    earned = await upstream.apply(mint("15", "k-earn", cause=Cause.ORDER_EARN, value=Decimal("150"), reference="SO-12"))
    spent = await upstream.apply(burn("2000", "k-spend", cause=Cause.SPEND, value=Decimal("10"), reference="INV-7"))
    noted = await upstream.apply(burn("1", "k-note", note="Goodwill correction"))
    by_hand = await upstream.apply(mint("1", "k-hand"))
    assert (earned.balance, spent.balance, noted.balance, by_hand.balance) == (
        Decimal("30526"), Decimal("28526"), Decimal("28525"), Decimal("28526"))
    assert earned.ref and earned.ref.startswith("lye-") and earned.points == Decimal("15")
    assert await bodies(pomelo) == [
        ("points/mint", f'{{"amount":"15","reason":"order earning SO-12","user_id":"{JUAN}"}}'),
        ("points/burn", f'{{"amount":"2000","reason":"spend INV-7","user_id":"{JUAN}"}}'),
        ("points/burn", f'{{"amount":"1","reason":"Goodwill correction","user_id":"{JUAN}"}}'),
        ("points/mint", f'{{"amount":"1","reason":"Manual adjustment","user_id":"{JUAN}"}}'),
    ]


async def test_the_forwards_key_is_pomelos_idempotency_key_so_a_second_apply_moves_nothing(
    pomelo: Vendor, upstream: Upstream,  # noqa: F811
) -> None:
    first = await upstream.apply(burn("100", "intent-41"))
    again = await upstream.apply(burn("100", "intent-41"))
    assert again == first and await pomelo.points(JUAN) == Decimal("30411")


# -- refusals ------------------------------------------------------------------------------------


async def test_burning_beyond_the_balance_is_insufficient_funds(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    with pytest.raises(InsufficientFunds, match="the pomelo upstream at .* says"):
        await upstream.apply(burn("120.01", "k", member=JOHNSON))
    assert await pomelo.points(JOHNSON) == Decimal("120.00")


async def test_a_member_pomelo_does_not_know_is_an_unknown_member(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    with pytest.raises(UnknownMember, match="has no member with card_id crd-nobody"):
        await upstream.balance("crd-nobody", Asset.POINTS)
    with pytest.raises(UnknownMember, match="has no member with user_id usr-nobody"):
        await upstream.apply(mint("1", "k", member="usr-nobody"))


async def test_any_other_refusal_is_invalid_argument_in_pomelos_words(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    with pytest.raises(InvalidArgument, match=r"^the pomelo upstream at http://\S+ said: amount .*decimal") as refused:
        await upstream.apply(mint("0.001", "k"))
    assert refused.value.details["status"] == 400


async def test_refused_gateway_credentials_are_upstream_credentials_refused(pomelo: Vendor, transport: Transport) -> None:  # noqa: F811
    port = connect(transport, {**CREDENTIALS, "client_secret": "wrong"})
    with pytest.raises(UpstreamCredentialsRefused):
        await port.apply(mint("1", "k"))
    assert await pomelo.requests("/loyalty/") == []


async def test_a_rate_limited_write_is_not_applied_and_says_when_to_retry(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    await pomelo.admin("PUT", "/rate-limits", {"pomelo": {"limit": 1, "window_seconds": 20}})
    await upstream.balance(JUAN, Asset.POINTS)
    with pytest.raises(UpstreamRateLimited) as limited:
        await upstream.apply(burn("1", "k"))
    assert 15 <= limited.value.details["retry_after"] <= 20 and not limited.value.sent
    assert await pomelo.points(JUAN) == Decimal("30511")


# -- unclear writes and settling -------------------------------------------------------------------


async def test_an_answer_dropped_after_the_burn_applied_is_settled_as_applied_once(
    pomelo: Vendor, upstream: Upstream,  # noqa: F811
) -> None:
    await pomelo.fault(effect="drop", when="after", times=1, path="/loyalty/v1/accounts/points/burn")
    with pytest.raises(UpstreamFailed) as dropped:
        await upstream.apply(burn("2000", "intent-7"))
    assert dropped.value.sent
    settled = await upstream.settle(burn("2000", "intent-7"))
    assert settled is not None and settled.balance == Decimal("28511")
    assert await pomelo.points(JUAN) == Decimal("28511")


async def test_an_answer_slower_than_the_timeout_is_settled_as_applied_once(
    pomelo: Vendor, upstream: Upstream, transport: Transport,  # noqa: F811
) -> None:
    await upstream.balance(JUAN, Asset.POINTS)  # the token first, so only the mint is slow
    await pomelo.fault(effect="latency", when="after", latency_ms=2000, times=1, path="/loyalty/v1/accounts/points/mint")
    transport.timeout = 1
    with pytest.raises(UpstreamTimeout) as slow:
        await upstream.apply(mint("50", "intent-8"))
    assert slow.value.sent
    transport.timeout = 5
    settled = await upstream.settle(mint("50", "intent-8"))
    assert settled is not None and settled.balance == Decimal("30561")
    await pomelo.finished("/loyalty/v1/accounts/points/mint")
    assert await pomelo.points(JUAN) == Decimal("30561")


async def test_a_write_dropped_before_pomelo_applied_it_is_applied_by_the_settling_replay(
    pomelo: Vendor, upstream: Upstream,  # noqa: F811
) -> None:
    await pomelo.fault(effect="drop", when="before", times=1, path="/loyalty/v1/accounts/points/burn")
    with pytest.raises(UpstreamFailed):
        await upstream.apply(burn("11", "intent-9"))
    assert await pomelo.points(JUAN) == Decimal("30511")
    settled = await upstream.settle(burn("11", "intent-9"))
    assert settled is not None and settled.balance == Decimal("30500")
    assert await upstream.settle(burn("11", "intent-9")) == settled  # and settling again moves nothing


async def test_a_key_still_in_flight_at_pomelo_cannot_be_settled_yet(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    await pomelo.fault(effect="status", status=409, code="IDEMPOTENCY_IN_FLIGHT", times=1,
                       path="/loyalty/*", message="a request with this x-idempotency-key is still in progress")
    with pytest.raises(UpstreamFailed, match="cannot tell yet") as unclear:
        await upstream.settle(burn("1", "intent-10"))
    assert unclear.value.sent and unclear.value.details["status"] == 409


async def test_a_replay_pomelo_refuses_was_never_applied(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    assert await upstream.settle(burn("999", "intent-11", member=JOHNSON)) is None
    assert await pomelo.points(JOHNSON) == Decimal("120.00")


async def test_a_5xx_is_upstream_failed_naming_pomelos_status(pomelo: Vendor, upstream: Upstream) -> None:  # noqa: F811
    await pomelo.fault(effect="status", status=500, times=1, path="/loyalty/*")
    with pytest.raises(UpstreamFailed, match="answered 500 INTERNAL_ERROR: Internal Server Error") as failed:
        await upstream.balance(JUAN, Asset.POINTS)
    assert failed.value.details["status"] == 500

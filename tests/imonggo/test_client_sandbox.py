"""The Imonggo upstream port against a real `loyalty-gateway serve` playing Imonggo (the demo scenario:
customer 1534, Gold, 30511 points, 200 points per 1 spent, 1 point per 10 bought). Read like the Reward
API page: look the customer up, spend $10, and then every way it can go wrong, made real with the
vendor process's own fault rules and rate limit."""
from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from gateway.dialects.imonggo.client import ImonggoClient
from gateway.dialects.imonggo.upstream import CREDENTIAL_NAMES, connect
from gateway.dialects.upstream_transport import Exchange, Transport
from gateway.ledger import (
    Applied,
    Asset,
    Cause,
    Direction,
    DuplicateReference,
    Forward,
    InsufficientFunds,
    NotInProgramme,
    OrderVoided,
    RemoteMember,
    UnknownMember,
    UnknownOrder,
    Upstream,
    UpstreamCannotExpress,
    UpstreamCredentialsRefused,
    UpstreamFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from tests import process
from tests.sandbox_vendor import vendor_fixture

pytestmark = pytest.mark.slow

TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
TIMEOUT = 0.5


vendor = vendor_fixture("imonggo")


def admin(vendor: process.Server, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{vendor.url}/__admin{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture(autouse=True)
def fresh_vendor(vendor: process.Server) -> Iterator[None]:
    """Each test starts from the demo scenario, with no faults and no rate limit."""
    admin(vendor, "PUT", "/rate-limits", {"imonggo": None})
    admin(vendor, "POST", "/reset")
    yield
    admin(vendor, "PUT", "/rate-limits", {"imonggo": None})


@pytest.fixture
async def exchanges() -> list[Exchange]:
    return []


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.fixture
def imonggo(vendor: process.Server, session: aiohttp.ClientSession, exchanges: list[Exchange]) -> Upstream:
    return connect(Transport(session, vendor.url, timeout=TIMEOUT, observe=exchanges.append), {"api_token": TOKEN})


def debit(points: str, *, value: str | None = None, cause: Cause = Cause.SPEND, member: str = "1534",
          key: str = "lg-1", reference: str | None = "X-1") -> Forward:
    return Forward(key=key, member=member, direction=Direction.DEBIT, asset=Asset.POINTS, points=Decimal(points),
                   cause=cause, value=None if value is None else Decimal(value), reference=reference)


def earning(value: str, *, points: str = "10", reference: str = "ORD-1") -> Forward:
    return Forward(key="lg-earn", member="1534", direction=Direction.CREDIT, asset=Asset.POINTS, points=Decimal(points),
                   cause=Cause.ORDER_EARN, value=Decimal(value), reference=reference)


def _basic(token: str) -> str:
    return base64.b64encode(f"{token}:x".encode()).decode()


def journal(vendor: process.Server, path: str) -> list[dict[str, Any]]:
    return [r for r in admin(vendor, "GET", "/requests")["requests"] if r["path"] == path]


# -- the Reward API page, through the port ------------------------------------------------------------


async def test_the_port_needs_the_api_token_only(imonggo: Upstream) -> None:
    assert CREDENTIAL_NAMES == ("api_token",)
    assert (imonggo.settles, imonggo.lists_members) == (False, True)
    assert imonggo.name.startswith("the imonggo upstream at http://127.0.0.1:")


async def test_customer_1534_has_30511_points(imonggo: Upstream) -> None:
    assert await imonggo.balance("1534", Asset.POINTS) == Decimal("30511")
    assert await imonggo.balance("1534", Asset.CASHBACK) == Decimal("0")  # Imonggo keeps points only


async def test_spending_10_takes_2000_points_as_the_page_shows(imonggo: Upstream, vendor: process.Server) -> None:
    applied = await imonggo.apply(debit("2000", value="10"))
    assert applied == Applied(balance=Decimal("28511"), points=Decimal("2000"))
    assert await imonggo.balance("1534", Asset.POINTS) == Decimal("28511")
    [spend] = journal(vendor, "/api/rewards.xml")
    assert (spend["method"], spend["query"], spend["request_body"]["text"]) == (
        "POST", "q=spend&customer_id=1534&amount=10&reference=X-1", "")


async def test_points_taken_by_hand_are_spent_as_their_amount_at_the_customers_ratio(imonggo: Upstream, vendor: process.Server) -> None:
    """300 points at 200 points per 1 is a spend of 1.5; the key stands in for a missing reference."""
    applied = await imonggo.apply(debit("300", cause=Cause.ADJUSTMENT, reference=None, key="lg-adj-7"))
    assert applied == Applied(balance=Decimal("30211"), points=Decimal("300"))
    assert journal(vendor, "/api/rewards.xml")[0]["query"] == "q=spend&customer_id=1534&amount=1.5&reference=lg-adj-7"


async def test_points_that_are_not_a_whole_number_of_cents_are_refused_naming_the_ratio(imonggo: Upstream, vendor: process.Server) -> None:
    with pytest.raises(UpstreamCannotExpress) as refused:
        await imonggo.apply(debit("2001", cause=Cause.ADJUSTMENT))
    assert refused.value.message == (
        f"{imonggo.name} spends currency amounts at 200 points per 1 (the customer's point_to_amount_ratio); "
        "2001 points is not a whole number of cents")
    assert journal(vendor, "/api/rewards.xml") == []


async def test_an_amount_that_does_not_match_the_points_is_spent_as_the_points_say(imonggo: Upstream, vendor: process.Server) -> None:
    """The tenant's programme and the customer's type disagree: the upstream's ratio decides the amount."""
    await imonggo.apply(debit("400", value="10"))
    assert journal(vendor, "/api/rewards.xml")[0]["query"].startswith("q=spend&customer_id=1534&amount=2&")


# -- earning and voiding through invoices ------------------------------------------------------------


async def test_an_order_earns_through_an_invoice(imonggo: Upstream, vendor: process.Server, session: aiohttp.ClientSession) -> None:
    """$100 at the Gold type's $10 a point earns 10 points; the invoice id is the movement's ref."""
    applied = await imonggo.apply(earning("100.00"))
    assert applied.points == Decimal("10") and applied.balance == Decimal("30521") and applied.ref
    async with session.get(f"{vendor.url}/api/invoices/{applied.ref}.json",
                           headers={"Authorization": "Basic " + _basic(TOKEN)}) as reply:
        invoice = await reply.json(loads=lambda t: json.loads(t, parse_float=Decimal))
    assert (invoice["reference"], invoice["customer_id"], Decimal(str(invoice["amount_with_tax"])), invoice["status"]) == (
        "ORD-1", 1534, Decimal("100"), "S")


async def test_an_invoice_reference_is_taken_once(imonggo: Upstream) -> None:
    """Imonggo enforces unique invoice references (unlike spend references)."""
    await imonggo.apply(earning("20.00", reference="ORD-9"))
    with pytest.raises(DuplicateReference, match="said: Reference has already been taken"):
        await imonggo.apply(earning("20.00", reference="ORD-9"))


async def test_voiding_the_invoice_takes_its_points_back(imonggo: Upstream) -> None:
    earned = await imonggo.apply(earning("100.00"))
    void = Forward(key="lg-void", member="1534", direction=Direction.DEBIT, asset=Asset.POINTS, points=Decimal(10),
                   cause=Cause.ORDER_VOID, reverses=earned.ref)
    assert await imonggo.apply(void) == Applied(balance=Decimal("30511"), ref=earned.ref, points=Decimal("10"))
    with pytest.raises(OrderVoided):
        await imonggo.apply(void)
    with pytest.raises(UnknownOrder, match="has no invoice 999"):
        await imonggo.apply(Forward(key="lg-v2", member="1534", direction=Direction.DEBIT, asset=Asset.POINTS,
                                    points=Decimal(1), cause=Cause.ORDER_VOID, reverses="999"))


async def test_points_cannot_be_credited_other_than_by_an_invoice(imonggo: Upstream) -> None:
    gift = Forward(key="lg-2", member="1534", direction=Direction.CREDIT, asset=Asset.POINTS, points=Decimal(50))
    with pytest.raises(UpstreamCannotExpress) as refused:
        await imonggo.apply(gift)
    assert refused.value.message == f"{imonggo.name} earns points only through invoices; it cannot be credited 50 points"
    with pytest.raises(UpstreamCannotExpress, match="keeps points only; it cannot hold miles"):
        await imonggo.apply(Forward(key="lg-3", member="1534", direction=Direction.DEBIT, asset=Asset.MILES, points=Decimal(5)))


async def test_customers_are_listed_for_linking(imonggo: Upstream, vendor: process.Server) -> None:
    assert [m async for m in imonggo.members()] == [
        RemoteMember(ref="1534", email=None, name="Juan Cruz"),
        RemoteMember(ref="442531", email="test@example.com", name="Johnson"),
        RemoteMember(ref="445123", email="Jason@exmapleemail.com", name="Jason"),
    ]
    assert [r["query"] for r in journal(vendor, "/api/customers.xml")] == ["page=1&per_page=100&active_only=1"]


async def test_the_customer_api_pages_with_page_and_per_page(vendor: process.Server, session: aiohttp.ClientSession) -> None:
    client = ImonggoClient(Transport(session, vendor.url), TOKEN)
    assert [c.id async for c in client.all_customers(per_page=2)] == ["1534", "442531", "445123"]
    assert [r["query"] for r in journal(vendor, "/api/customers.xml")] == [
        "page=2&per_page=2&active_only=1", "page=1&per_page=2&active_only=1"]  # the journal lists newest first


# -- refusals, in the ledger's words ---------------------------------------------------------------------


async def test_spending_more_than_the_customer_has_is_insufficient(imonggo: Upstream) -> None:
    with pytest.raises(InsufficientFunds, match="said: Insufficient points"):
        await imonggo.apply(debit("40000", value="200"))
    assert await imonggo.balance("1534", Asset.POINTS) == Decimal("30511")


async def test_an_unknown_customer_is_an_unknown_member(imonggo: Upstream) -> None:
    with pytest.raises(UnknownMember, match="has no customer 99"):
        await imonggo.balance("99", Asset.POINTS)
    with pytest.raises(UnknownMember, match="has no customer 99"):
        await imonggo.apply(debit("2000", value="10", member="99"))
    with pytest.raises(UnknownMember, match="names customers by number; 'crd-1' is none"):
        await imonggo.balance("crd-1", Asset.POINTS)


async def test_a_customer_without_a_points_membership_cannot_spend(imonggo: Upstream) -> None:
    with pytest.raises(NotInProgramme, match="customer 442531 has no membership that pays with points"):
        await imonggo.apply(debit("200", value="1", member="442531"))


async def test_a_wrong_api_token_is_the_gateways_problem_not_the_clients(vendor: process.Server, session: aiohttp.ClientSession) -> None:
    port = connect(Transport(session, vendor.url), {"api_token": "0" * 40})
    with pytest.raises(UpstreamCredentialsRefused) as refused:
        await port.balance("1534", Asset.POINTS)
    assert "refused the gateway's API token: 401 HTTP Basic: Access denied." in refused.value.message


# -- transport trouble, made real by the vendor process ------------------------------------------------


async def test_a_server_error_is_a_failure_naming_the_status(imonggo: Upstream, vendor: process.Server) -> None:
    admin(vendor, "POST", "/faults", {"effect": "status", "status": 500, "path": "/api/rewards.xml", "times": 1})
    with pytest.raises(UpstreamFailed) as failed:
        await imonggo.apply(debit("2000", value="10"))
    [answered] = journal(vendor, "/api/rewards.xml")  # the vendor's journal holds the id the message names
    assert failed.value.message.endswith("answered POST /api/rewards.xml with 500 Internal Server Error "
                                         f"(request id {answered['request_id']})")
    assert failed.value.sent  # a 5xx to a write: whether it applied is not known


async def test_an_answer_later_than_the_timeout_is_a_timeout_with_the_write_sent(imonggo: Upstream, vendor: process.Server) -> None:
    admin(vendor, "POST", "/faults", {"effect": "latency", "when": "after", "latency_ms": int(TIMEOUT * 4000),
                                      "path": "/api/rewards.xml", "times": 1})
    with pytest.raises(UpstreamTimeout) as timed_out:
        await imonggo.apply(debit("2000", value="10"))
    assert timed_out.value.sent
    assert await imonggo.balance("1534", Asset.POINTS) == Decimal("28511")  # it was applied


async def test_a_read_before_the_spend_that_times_out_sent_nothing(imonggo: Upstream, vendor: process.Server) -> None:
    admin(vendor, "POST", "/faults", {"effect": "latency", "latency_ms": int(TIMEOUT * 4000), "method": "GET",
                                      "path": "/api/customers/*", "times": 1})
    with pytest.raises(UpstreamTimeout) as timed_out:
        await imonggo.apply(debit("2000", value="10"))
    assert not timed_out.value.sent
    assert journal(vendor, "/api/rewards.xml") == []


async def test_a_spend_whose_answer_is_dropped_is_unclear_and_cannot_be_settled(imonggo: Upstream, vendor: process.Server) -> None:
    """Imonggo has no idempotency key and no spend history: the gateway must not resend, a person settles."""
    admin(vendor, "POST", "/faults", {"effect": "drop", "when": "after", "method": "POST", "path": "/api/rewards.xml",
                                      "times": 1})
    forward = debit("2000", value="10")
    with pytest.raises(UpstreamFailed) as failed:
        await imonggo.apply(forward)
    assert failed.value.sent and "dropped the connection during POST /api/rewards.xml" in failed.value.message
    [landed] = journal(vendor, "/api/rewards.xml")
    assert failed.value.message.endswith(f"(request id {landed['request_id']})")
    assert await imonggo.balance("1534", Asset.POINTS) == Decimal("28511")  # the upstream did apply it
    with pytest.raises(UpstreamCannotExpress, match="must be settled by a person"):
        await imonggo.settle(forward)


async def test_the_rate_limit_is_passed_on_with_its_retry_after(imonggo: Upstream, vendor: process.Server) -> None:
    admin(vendor, "PUT", "/rate-limits", {"imonggo": {"limit": 2, "window_seconds": 30}})
    await imonggo.balance("1534", Asset.POINTS)
    await imonggo.balance("1534", Asset.POINTS)
    with pytest.raises(UpstreamRateLimited) as limited:
        await imonggo.apply(debit("2000", value="10"))
    assert 1 <= limited.value.details["retry_after"] <= 30 and not limited.value.sent
    assert "Max API call rate exceeded" in limited.value.message


async def test_the_api_token_is_in_no_exchange(imonggo: Upstream, exchanges: list[Exchange]) -> None:
    await imonggo.balance("1534", Asset.POINTS)
    await imonggo.apply(debit("2000", value="10"))
    earned = await imonggo.apply(earning("50.00"))
    await imonggo.apply(Forward(key="lg-v", member="1534", direction=Direction.DEBIT, asset=Asset.POINTS,
                                points=Decimal(5), cause=Cause.ORDER_VOID, reverses=earned.ref))
    _ = [m async for m in imonggo.members()]
    assert len(exchanges) >= 10
    for exchange in exchanges:
        shown = repr(exchange)
        assert TOKEN not in shown and _basic(TOKEN) not in shown

"""The Imonggo client on the wire: the exact bytes of every request it makes (read off a raw socket, so
nothing is normalised away), and how it reads every kind of answer the vendor gives: its error
documents, 401, 5xx with a request id, 503 with and without Retry-After, bodies that are not safe XML."""
from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from gateway import __version__
from gateway.dialects.imonggo.client import ImonggoClient, ImonggoRefusal, NewInvoice
from gateway.dialects.imonggo.upstream import connect
from gateway.dialects.upstream_transport import Exchange, Transport
from gateway.ledger import (
    Applied,
    Asset,
    Cause,
    Direction,
    Forward,
    InvalidArgument,
    Member,
    UpstreamCredentialsRefused,
    UpstreamFailed,
    UpstreamRateLimited,
)

TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
BASIC = "Basic " + base64.b64encode(f"{TOKEN}:x".encode()).decode()
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imonggo"
CUSTOMER_1534 = (FIXTURES / "customer-1534.xml").read_bytes()
SPEND_HASH = (FIXTURES / "seed-spend-10-X-1.xml").read_bytes()
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    """A request as it arrived, but its X-Request-Id (each request's own) kept apart from the other headers."""

    request_line: str
    headers: dict[str, str]
    body: bytes
    request_id: str | None = None


class Vendor:
    """A socket that plays Imonggo: it keeps each request exactly as it arrived and answers the next
    scripted answer."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.received: list[Received] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                line, *rest = head.decode("latin-1").split("\r\n")
                headers = dict(h.split(": ", 1) for h in rest if h)
                body = await reader.readexactly(int(headers.get("Content-Length", "0")))
                self.received.append(Received(line, headers, body, headers.pop("X-Request-Id", None)))
                answer = self.answers.pop(0)
                extra = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
                writer.write(
                    f"HTTP/1.1 {answer.status} X\r\nContent-Type: application/xml; charset=utf-8\r\n{extra}"
                    f"Content-Length: {len(answer.body)}\r\n\r\n".encode() + answer.body
                )
                await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def vendor() -> AsyncIterator[Vendor]:
    double = Vendor()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def exchanges() -> list[Exchange]:
    return []


@pytest.fixture
async def client(vendor: Vendor, exchanges: list[Exchange]) -> AsyncIterator[ImonggoClient]:
    async with aiohttp.ClientSession() as session:
        yield ImonggoClient(Transport(session, vendor.url, timeout=5, observe=exchanges.append), TOKEN)


def headers_sent(vendor: Vendor, *, body: int | None = None) -> dict[str, str]:
    """What every request carries: the vendor guide's Accept and Content-Type, our User-Agent, Basic auth
    with the token as user and `x` as password, and what HTTP itself needs."""
    expected = {
        "Host": vendor.url.removeprefix("http://"),
        "Accept": "application/xml",
        "Content-Type": "application/xml",
        "User-Agent": f"loyalty-gateway/{__version__}",
        "Authorization": BASIC,
        "Accept-Encoding": "gzip, deflate",
    }
    if body is not None:
        expected["Content-Length"] = str(body)
    return expected


def customer_xml(customer_id: int, points: str, ratio: str | None = "200.0", type_id: str | None = "8") -> bytes:
    ratio_element = f"<point_to_amount_ratio>{ratio}</point_to_amount_ratio>" if ratio else ""
    type_element = f"<customer_type_id>{type_id}</customer_type_id>" if type_id else '<customer_type_id nil="true"></customer_type_id>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<customer><available_points>{points}</available_points>'
        f"{type_element}<email></email><id>{customer_id}</id><name>Juan Cruz</name>{ratio_element}"
        "<status nil=\"true\"></status></customer>\n"
    ).encode()


# -- each call, as it goes out -----------------------------------------------------------------------


async def test_get_a_customer_as_the_reward_api_page_shows(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(body=CUSTOMER_1534))
    customer = await client.customer("1534")
    assert (customer.id, customer.name, customer.available_points, customer.point_to_amount_ratio) == (
        "1534", "Juan Cruz", Decimal("30511.0"), Decimal("200.0"))
    assert customer.customer_type_id == "8" and customer.email is None and not customer.deleted
    [sent] = vendor.received
    assert sent.request_line == "GET /api/customers/1534.xml HTTP/1.1"
    assert sent.headers == headers_sent(vendor) and sent.body == b""


async def test_spend_ten_from_customer_1534_as_the_reward_api_page_does(vendor: Vendor, client: ImonggoClient) -> None:
    """curl -X POST ".../api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=X-1": the
    parameters in the query string, the body empty."""
    vendor.answers.append(Answer(body=SPEND_HASH))
    spent = await client.spend("1534", Decimal("10.00"), "X-1")
    assert (spent.points_spent, spent.amount_spent, spent.points_available) == (
        Decimal("2000.0"), Decimal("10.0"), Decimal("28511.0"))
    [sent] = vendor.received
    assert sent.request_line == "POST /api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=X-1 HTTP/1.1"
    assert sent.headers == headers_sent(vendor, body=0) and sent.body == b""


async def test_a_reference_is_query_encoded(vendor: Vendor, client: ImonggoClient) -> None:
    """Form encoding, as Rails reads a query; `/` may stand as it is in a query (RFC 3986), `#` and `&` not."""
    vendor.answers.append(Answer(body=SPEND_HASH))
    await client.spend("1534", Decimal("2.5"), "till 4/#9 & co")
    assert vendor.received[0].request_line == (
        "POST /api/rewards.xml?q=spend&customer_id=1534&amount=2.5&reference=till+4/%239+%26+co HTTP/1.1")


async def test_get_a_customer_type(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(body=XML_DECLARATION + (
        b"<customer_type><discount_percent>0.0</discount_percent><id>8</id><name>Gold</name><status></status>"
        b"<point_to_amount_ratio>200.0</point_to_amount_ratio></customer_type>")))
    kind = await client.customer_type("8")
    assert (kind.id, kind.name, kind.point_to_amount_ratio) == ("8", "Gold", Decimal("200.0"))
    assert vendor.received[0].request_line == "GET /api/customer_types/8.xml HTTP/1.1"
    assert vendor.received[0].headers == headers_sent(vendor)


async def test_customers_are_read_page_by_page_until_a_short_page(vendor: Vendor, client: ImonggoClient) -> None:
    """page is 1-based, per_page sets the size; a page shorter than per_page is the last one."""
    page = XML_DECLARATION + b'<customers type="array">' + b"".join(
        b"<customer><id>%d</id><name>C%d</name><email>c%d@example.com</email></customer>" % (n, n, n) for n in (1, 2)
    ) + b"</customers>"
    vendor.answers += [Answer(body=page), Answer(body=XML_DECLARATION + b"<customers/>\n")]
    found = [c async for c in client.all_customers(per_page=2)]
    assert [(c.id, c.email) for c in found] == [("1", "c1@example.com"), ("2", "c2@example.com")]
    assert [r.request_line for r in vendor.received] == [
        "GET /api/customers.xml?page=1&per_page=2&active_only=1 HTTP/1.1",
        "GET /api/customers.xml?page=2&per_page=2&active_only=1 HTTP/1.1",
    ]


async def test_an_invoice_is_one_line_and_one_payment(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(status=201, body=XML_DECLARATION + (
        b"<invoice><id>9001</id><reference>ORD-7</reference><customer_id>1534</customer_id>"
        b"<amount_with_tax>100.0</amount_with_tax><status>S</status></invoice>")))
    invoice = await client.create_invoice(NewInvoice(customer_id="1534", product_id="54", amount=Decimal("100.00"),
                                                     reference="ORD-7", remark="web order"))
    assert (invoice.id, invoice.reference, invoice.customer_id, invoice.amount_with_tax, invoice.status) == (
        "9001", "ORD-7", "1534", Decimal("100.0"), "S")
    [sent] = vendor.received
    assert sent.request_line == "POST /api/invoices.xml HTTP/1.1"
    assert sent.body == XML_DECLARATION + (
        b"<invoice><reference>ORD-7</reference><customer_id>1534</customer_id><tax_inclusive>true</tax_inclusive>"
        b"<remark>web order</remark>"
        b'<invoice_lines type="array"><invoice_line><product_id>54</product_id><quantity>1</quantity>'
        b"<retail_price>100</retail_price></invoice_line></invoice_lines>"
        b'<payments type="array"><payment><payment_type_id>1</payment_type_id><amount>100</amount></payment>'
        b"</payments></invoice>")
    assert sent.headers == headers_sent(vendor, body=len(sent.body))


async def test_void_an_invoice_with_a_reason(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(body=XML_DECLARATION + b"<invoice><id>9001</id><status>V</status></invoice>"))
    voided = await client.void_invoice("9001", "returned goods")
    assert (voided.id, voided.status) == ("9001", "V")
    assert vendor.received[0].request_line == "DELETE /api/invoices/9001.xml?reason=returned+goods HTTP/1.1"
    assert vendor.received[0].headers == headers_sent(vendor, body=0)


async def test_the_active_products(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(body=XML_DECLARATION + b'<products type="array"><product><id>1</id><name>Coffee</name></product></products>'))
    assert [(p.id, p.name) for p in await client.products(per_page=1)] == [("1", "Coffee")]
    assert vendor.received[0].request_line == "GET /api/products.xml?page=1&per_page=1&active_only=1 HTTP/1.1"


# -- how answers are read ------------------------------------------------------------------------------


async def test_rails_validation_errors_are_read_into_the_message(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(status=422, body=XML_DECLARATION + b"<errors><error>Amount can't be blank</error>"
                                 b"<error>Reference is too long</error></errors>"))
    with pytest.raises(ImonggoRefusal) as refused:
        await client.spend("1534", Decimal(1), "r")
    assert refused.value.status == 422
    assert refused.value.messages == ("Amount can't be blank", "Reference is too long")


async def test_a_refused_api_token_is_the_gateways_credentials_not_the_clients(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(status=401, body=b"HTTP Basic: Access denied.",
                                 headers={"WWW-Authenticate": 'Basic realm="Application"'}))
    with pytest.raises(UpstreamCredentialsRefused) as refused:
        await client.customer("1534")
    assert refused.value.message == (f"the imonggo upstream at {vendor.url} refused the gateway's API token: "
                                     f"401 HTTP Basic: Access denied. (request id {vendor.received[0].request_id})")
    assert not refused.value.sent


async def test_a_server_error_names_its_status_and_request_id(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(status=500, body=b"<html>oops</html>", headers={"X-Request-Id": "req-4711"}))
    with pytest.raises(UpstreamFailed) as failed:
        await client.spend("1534", Decimal(10), "X-1")
    assert failed.value.message == (f"the imonggo upstream at {vendor.url} answered POST /api/rewards.xml with "
                                    "500 Internal Server Error (request id req-4711)")
    assert failed.value.sent and failed.value.details["request_id"] == "req-4711"


async def test_the_rate_limit_is_a_503_with_retry_after(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(status=503, headers={"Retry-After": "7"},
                                 body=XML_DECLARATION + b"<errors><error>Max API call rate exceeded</error></errors>"))
    with pytest.raises(UpstreamRateLimited) as limited:
        await client.spend("1534", Decimal(10), "X-1")
    assert limited.value.details["retry_after"] == 7 and not limited.value.sent
    assert "Max API call rate exceeded" in limited.value.message


async def test_retry_after_may_be_a_date(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    with pytest.raises(UpstreamRateLimited) as limited:
        await client.customer("1534")
    assert limited.value.details["retry_after"] == 0  # a moment already past: retry now


async def test_a_503_without_retry_after_is_a_failure_not_a_rate_limit(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers.append(Answer(status=503, body=b"Service Unavailable"))
    with pytest.raises(UpstreamFailed) as failed:
        await client.customer("1534")
    assert "503 Service Unavailable" in failed.value.message


@pytest.mark.parametrize(
    ("body", "why"),
    [
        pytest.param(b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x "boom">]><customer><id>&x;</id></customer>',
                     "must not contain a DTD", id="an entity declaration is never parsed"),
        pytest.param(b"<customer><id>1534</id>", "not well-formed", id="a truncated document"),
        pytest.param(b'{"id": 1534}', "not well-formed", id="json where xml was asked for"),
        pytest.param(XML_DECLARATION + b"<hash><id>1</id></hash>", "<hash> where <customer> was expected", id="another root"),
        pytest.param(XML_DECLARATION + b"<customer><id>1</id><available_points>lots</available_points></customer>",
                     "which is not a number", id="points that are not a number"),
    ],
)
async def test_an_answer_that_cannot_be_read_safely_is_a_failure(vendor: Vendor, client: ImonggoClient, body: bytes, why: str) -> None:
    vendor.answers.append(Answer(body=body))
    with pytest.raises(UpstreamFailed) as failed:
        await client.customer("1534")
    assert why in failed.value.message


async def test_the_token_never_reaches_an_exchange(vendor: Vendor, client: ImonggoClient, exchanges: list[Exchange]) -> None:
    vendor.answers += [Answer(body=CUSTOMER_1534), Answer(status=401, body=b"HTTP Basic: Access denied."),
                       Answer(body=SPEND_HASH)]
    await client.customer("1534")
    with pytest.raises(UpstreamCredentialsRefused):
        await client.customer("1534")
    await client.spend("1534", Decimal(10), TOKEN)  # even a reference that happens to hold it
    assert len(exchanges) == 3
    for exchange in exchanges:
        shown = repr(exchange)
        assert TOKEN not in shown and BASIC.split()[1] not in shown
        assert exchange.request_headers["Authorization"] == "[FILTERED]"
    assert exchanges[2].url.endswith("reference=[FILTERED]")


# -- the port, where only a scripted vendor can make the case -----------------------------------------


async def test_an_earning_whose_balance_cannot_be_read_afterwards_still_stands(vendor: Vendor) -> None:
    """The invoice was created, so the write is applied; only what it earned is unknown."""
    vendor.answers += [
        Answer(body=customer_xml(1534, "100.0")),
        Answer(body=XML_DECLARATION + b'<products type="array"><product><id>54</id><name>Beans</name></product></products>'),
        Answer(status=201, body=XML_DECLARATION + b"<invoice><id>9001</id><status>S</status></invoice>"),
        Answer(status=500, body=b""),
    ]
    async with aiohttp.ClientSession() as session:
        port = connect(Transport(session, vendor.url), {"api_token": TOKEN})
        applied = await port.apply(Forward(key="k-1", member="1534", direction=Direction.CREDIT, asset=Asset.POINTS,
                                           points=Decimal(10), cause=Cause.ORDER_EARN, value=Decimal(100)))
    assert applied == Applied(ref="9001")


async def test_the_ratio_comes_from_the_customer_type_when_the_customer_record_hides_it(vendor: Vendor) -> None:
    vendor.answers += [
        Answer(body=customer_xml(1534, "5000.0", ratio=None)),
        Answer(body=XML_DECLARATION + b"<customer_type><id>8</id><name>Gold</name>"
               b"<point_to_amount_ratio>4</point_to_amount_ratio></customer_type>"),
        Answer(body=XML_DECLARATION + b'<hash><points-spent type="decimal">10.0</points-spent>'
               b'<amount-spent type="decimal">2.5</amount-spent><points-available type="decimal">4990.0</points-available></hash>'),
    ]
    async with aiohttp.ClientSession() as session:
        port = connect(Transport(session, vendor.url), {"api_token": TOKEN})
        applied = await port.apply(Forward(key="k-2", member="1534", direction=Direction.DEBIT, asset=Asset.POINTS,
                                           points=Decimal(10)))
    assert applied == Applied(balance=Decimal("4990.0"), points=Decimal("10.0"))
    assert [r.request_line.split()[1] for r in vendor.received] == [
        "/api/customers/1534.xml", "/api/customer_types/8.xml",
        "/api/rewards.xml?q=spend&customer_id=1534&amount=2.5&reference=k-2",
    ]


async def test_a_read_that_fails_before_a_write_leaves_nothing_unclear(vendor: Vendor) -> None:
    vendor.answers.append(Answer(status=502, body=b"Bad Gateway"))
    async with aiohttp.ClientSession() as session:
        port = connect(Transport(session, vendor.url), {"api_token": TOKEN})
        with pytest.raises(UpstreamFailed) as failed:
            await port.apply(Forward(key="k-3", member="1534", direction=Direction.DEBIT, asset=Asset.POINTS,
                                     points=Decimal(2000), cause=Cause.SPEND, value=Decimal(10)))
    assert not failed.value.sent and "502" in failed.value.message


async def test_the_port_wants_the_api_token_by_its_imonggo_name() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(InvalidArgument, match=r"needs credentials.api_token"):
            connect(Transport(session, "http://127.0.0.1:9"), {"token": TOKEN})


async def test_a_member_is_its_declared_upstream_id_else_its_customer_number() -> None:
    moment = datetime(2013, 5, 25, tzinfo=timezone.utc)
    juan = Member(id=1, tenant_id=1, customer_no=1534, member_no=1534, email=None, user_ref="usr-1", card_refs=(),
                  name="Juan Cruz", programme_no=8, profile={}, deleted=False, created_at=moment, updated_at=moment)
    async with aiohttp.ClientSession() as session:
        port = connect(Transport(session, "http://127.0.0.1:9"), {"api_token": TOKEN})
    assert port.member_ref(juan) == "1534"
    declared = SimpleNamespace(upstream_ref="77", customer_no=1534)
    assert port.member_ref(declared) == "77"  # type: ignore[arg-type]  # Member.upstream_ref comes with the core's change


async def test_imonggos_words_quoting_the_token_reach_no_message(vendor: Vendor, client: ImonggoClient) -> None:
    vendor.answers += [Answer(status=422, body=XML_DECLARATION + f"<errors><error>Token {TOKEN} is read only</error>"
                                                                 "</errors>".encode()),
                       Answer(status=500, body=f"token {TOKEN} overloaded".encode())]
    with pytest.raises(ImonggoRefusal) as refused:
        await client.spend("1534", Decimal(1), "r")
    assert refused.value.messages == ("Token [FILTERED] is read only",)
    with pytest.raises(UpstreamFailed) as failed:
        await client.customer("1534")
    assert TOKEN not in failed.value.message and "token [FILTERED] overloaded" in failed.value.message


async def test_a_server_error_without_imonggos_request_id_names_the_one_the_gateway_sent(
    vendor: Vendor, client: ImonggoClient,
) -> None:
    vendor.answers.append(Answer(status=502, body=b"<html>bad gateway</html>"))
    with pytest.raises(UpstreamFailed) as failed:
        await client.customer("1534")
    sent = vendor.received[0].request_id
    assert sent and sent.startswith("lg-") and failed.value.details["request_id"] == sent
    assert failed.value.message.endswith(f"with 502 Bad Gateway (request id {sent})")


async def test_all_of_a_customers_balances_are_one_read_of_the_customer(vendor: Vendor) -> None:
    """The port's balances(member): the customer's points from one GET; Imonggo keeps no cashback or miles."""
    vendor.answers.append(Answer(body=CUSTOMER_1534))
    async with aiohttp.ClientSession() as session:
        upstream = connect(Transport(session, vendor.url, timeout=5), {"api_token": TOKEN})
        assert await upstream.balances("1534") == {Asset.POINTS: Decimal("30511.0"), Asset.CASHBACK: Decimal("0"),
                                                   Asset.MILES: Decimal("0")}
    [sent] = vendor.received
    assert sent.request_line == "GET /api/customers/1534.xml HTTP/1.1"

"""What the Pomelo client puts on the wire, byte for byte, read off a bare socket playing Pomelo (token, balance,
mint, burn, as Pomelo's docs and SDK send them), and what it makes of answers the sandbox vendor never gives:
a request id on a 5xx, a body that is not JSON, a 401 a new token cures and one it does not."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import aiohttp
import pytest

from gateway import __version__
from gateway.dialects.pomelo.client import PomeloApiError, PomeloClient
from gateway.dialects.pomelo.upstream import PomeloUpstream
from gateway.dialects.upstream_transport import Exchange, Transport
from gateway.ledger import Asset, UpstreamCredentialsRefused, UpstreamFailed, UpstreamRateLimited

TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZW1vIn0."
SECRET = "s3cr3t-client-secret"
USER = "usr-2ay34WhGUtCeoewakpeJTRuVWlx"
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


@dataclass
class Seen:
    """One request as it arrived: the request line, the header lines (name as sent) but the X-Request-Id
    every request carries (kept apart, as it differs each time), the body."""

    line: str
    headers: dict[str, str]
    body: bytes
    request_id: str | None = None


def answer(status: int, body: bytes | dict[str, object], **headers: str) -> bytes:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(raw)}", "Content-Type: application/json",
            *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + raw


TOKEN_ANSWER = answer(200, {"access_token": TOKEN, "scope": "arg:loyalty:get-balance", "expires_in": 86400,
                            "token_type": "Bearer"})


@dataclass
class FakePomelo:
    """A socket that records every request and answers from a script, one answer per request in order."""

    script: list[bytes] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *lines = head.decode().split("\r\n")[:-2]
                headers = dict(h.split(": ", 1) for h in lines)
                body = await reader.readexactly(int(headers.get("Content-Length", "0")))
                self.seen.append(Seen(line, headers, body, headers.pop("X-Request-Id", None)))
                writer.write(self.script.pop(0))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def pomelo() -> AsyncIterator[FakePomelo]:
    fake = FakePomelo()
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    fake.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield fake


@pytest.fixture
async def exchanges() -> list[Exchange]:
    return []


@pytest.fixture
async def client(pomelo: FakePomelo, exchanges: list[Exchange]) -> AsyncIterator[PomeloClient]:
    async with aiohttp.ClientSession() as session:
        transport = Transport(session, pomelo.url, timeout=5, observe=exchanges.append, label="the pomelo upstream")
        yield PomeloClient(transport, client_id="demo-client-id", client_secret=SECRET,
                           audience="https://api.pomelo.la")


def host(pomelo: FakePomelo) -> str:
    return pomelo.url.removeprefix("http://")


COMMON = {"Accept": "application/json", "User-Agent": f"loyalty-gateway/{__version__}",
          "Accept-Encoding": "gzip, deflate"}


async def test_the_token_request_is_a_json_client_credentials_grant(pomelo: FakePomelo, client: PomeloClient) -> None:
    pomelo.script = [TOKEN_ANSWER]
    assert await client.token() == TOKEN
    (sent,) = pomelo.seen
    assert sent.line == "POST /oauth/token HTTP/1.1"
    assert sent.headers == {"Host": host(pomelo), **COMMON, "Content-Type": "application/json",
                            "Content-Length": str(len(sent.body))}
    assert sent.body == (b'{"client_id":"demo-client-id","client_secret":"s3cr3t-client-secret",'
                         b'"audience":"https://api.pomelo.la","grant_type":"client_credentials"}')


async def test_the_balance_is_read_by_user_id_or_by_card_id_in_the_query(pomelo: FakePomelo, client: PomeloClient) -> None:
    pomelo.script = [TOKEN_ANSWER, answer(200, b'{"points": 30511, "cashback": 250.5, "user_id": "%s"}' % USER.encode()),
                     answer(200, b'{"points": "12.25"}')]
    by_user = await client.balance(USER)
    by_card = await client.balance(CARD)
    assert (by_user.points, by_user.cashback, by_user.miles, by_user.user_id) == (
        Decimal("30511"), Decimal("250.5"), Decimal("0"), USER)
    assert by_card.points == Decimal("12.25")
    _, user_read, card_read = pomelo.seen
    assert user_read.line == f"GET /loyalty/v1/accounts/balance?user_id={USER} HTTP/1.1"
    assert card_read.line == f"GET /loyalty/v1/accounts/balance?card_id={CARD} HTTP/1.1"
    assert user_read.headers == {"Host": host(pomelo), **COMMON, "Authorization": f"Bearer {TOKEN}"}
    assert user_read.body == b""


async def test_mint_and_burn_send_the_amount_as_a_decimal_string_under_the_idempotency_key(
    pomelo: FakePomelo, client: PomeloClient,
) -> None:
    minted = {"points": 1000.5, "cashback": 0, "updatedBalance": 5000, "updated_balance": 5000,
              "id": "lye-38WileXCmO8aODJY0BjlndumK0x", "account_type": "points", "operation": "MINT",
              "amount": 1000.5}
    pomelo.script = [TOKEN_ANSWER, answer(200, minted), answer(200, {"points": 5, "updatedBalance": "4995.00"})]
    done = await client.mint("points", CARD, Decimal("1000.50"), "Manual adjustment", key="fRwX12Dg3345AD")
    assert (done.id, done.operation, done.amount, done.updated_balance) == (
        "lye-38WileXCmO8aODJY0BjlndumK0x", "MINT", Decimal("1000.5"), Decimal("5000"))
    burnt = await client.burn("cashback", USER, Decimal("5"), "spend INV-7", key="k-2")
    assert (burnt.operation, burnt.amount, burnt.updated_balance) == ("BURN", Decimal("5"), Decimal("4995.00"))
    _, mint, burn = pomelo.seen
    assert mint.line == "POST /loyalty/v1/accounts/points/mint HTTP/1.1"
    assert mint.headers == {"Host": host(pomelo), **COMMON, "Authorization": f"Bearer {TOKEN}",
                            "Content-Type": "application/json", "x-idempotency-key": "fRwX12Dg3345AD",
                            "Content-Length": str(len(mint.body))}
    assert mint.body == b'{"amount":"1000.5","reason":"Manual adjustment","card_id":"crd-2ay34Uk2fseMY5l3OwddSRX8iR4"}'
    assert burn.line == "POST /loyalty/v1/accounts/cashback/burn HTTP/1.1"
    assert burn.body == b'{"amount":"5","reason":"spend INV-7","user_id":"usr-2ay34WhGUtCeoewakpeJTRuVWlx"}'


async def test_a_write_answered_without_a_balance_is_still_a_write_done(pomelo: FakePomelo, client: PomeloClient) -> None:
    pomelo.script = [TOKEN_ANSWER, answer(200, {"result": "APPLIED"})]
    done = await client.mint("miles", USER, Decimal("3"), "r", key="k")
    assert (done.amount, done.operation, done.account_type, done.updated_balance) == (Decimal("3"), "MINT", "miles", None)


async def test_a_5xx_names_the_status_and_the_request_id_pomelo_gave(pomelo: FakePomelo, client: PomeloClient) -> None:
    pomelo.script = [TOKEN_ANSWER, answer(503, {"error": {"error_code": "SERVICE_UNAVAILABLE", "details": [
        {"code": "SERVICE_UNAVAILABLE", "detail": "try later"}]}}, X_Request_Id="req-8c1e")]
    with pytest.raises(UpstreamFailed) as failed:
        await client.burn("points", USER, Decimal("1"), "r", key="k")
    assert "503" in failed.value.message and "req-8c1e" in failed.value.message and "try later" in failed.value.message
    assert failed.value.sent and failed.value.details["status"] == 503
    assert "retry_after" not in failed.value.details  # it said no time: the caller's own backoff decides


async def test_a_5xx_with_retry_after_passes_the_wait_on(pomelo: FakePomelo, client: PomeloClient) -> None:
    pomelo.script = [TOKEN_ANSWER, answer(503, {"error": {"error_code": "SERVICE_UNAVAILABLE"}}, Retry_After="7")]
    with pytest.raises(UpstreamFailed) as failed:
        await client.burn("points", USER, Decimal("1"), "r", key="k")
    assert failed.value.details["retry_after"] == 7 and failed.value.sent


async def test_a_2xx_that_is_not_json_is_a_failed_answer_not_a_success(pomelo: FakePomelo, client: PomeloClient) -> None:
    pomelo.script = [TOKEN_ANSWER, answer(200, b"<html>maintenance</html>")]
    with pytest.raises(UpstreamFailed, match="not a JSON object") as failed:
        await client.mint("points", USER, Decimal("1"), "r", key="k")
    assert failed.value.sent


async def test_a_401_gets_a_new_token_and_the_same_request_once_more(pomelo: FakePomelo, client: PomeloClient) -> None:
    expired = answer(401, {"error": {"error_code": "UNAUTHORIZED", "details": [{"code": "UNAUTHORIZED", "detail": "expired"}]}})
    fresh = answer(200, {"access_token": "second-token", "expires_in": 86400, "token_type": "Bearer"})
    pomelo.script = [TOKEN_ANSWER, expired, fresh, answer(200, {"points": 1, "updatedBalance": 9})]
    done = await client.mint("points", USER, Decimal("1"), "r", key="same-key")
    assert done.updated_balance == Decimal("9")
    _, first, token_again, second = pomelo.seen
    assert token_again.line == "POST /oauth/token HTTP/1.1"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}" and second.headers["Authorization"] == "Bearer second-token"
    assert (first.body, first.headers["x-idempotency-key"]) == (second.body, second.headers["x-idempotency-key"])


async def test_a_401_that_a_new_token_does_not_cure_is_the_gateways_credentials_refused(
    pomelo: FakePomelo, client: PomeloClient,
) -> None:
    refused = answer(401, {"error": {"error_code": "UNAUTHORIZED", "details": [{"code": "UNAUTHORIZED", "detail": "revoked"}]}})
    pomelo.script = [TOKEN_ANSWER, refused, TOKEN_ANSWER, refused]
    with pytest.raises(UpstreamCredentialsRefused, match="401 UNAUTHORIZED: revoked"):
        await client.balance(USER)
    assert len(pomelo.seen) == 4  # never a third try


async def test_a_429_with_an_http_date_retry_after_still_gives_whole_seconds(pomelo: FakePomelo, client: PomeloClient) -> None:
    pomelo.script = [TOKEN_ANSWER, answer(429, {"error": {"error_code": "TOO_MANY_REQUESTS"}},
                                          Retry_After="Wed, 21 Oct 2015 07:28:00 GMT")]
    with pytest.raises(UpstreamRateLimited) as limited:
        await client.balance(USER)
    assert limited.value.details["retry_after"] == 0 and not limited.value.sent  # a date in the past: now


async def test_no_secret_reaches_an_exchange_record(pomelo: FakePomelo, client: PomeloClient,
                                                    exchanges: list[Exchange]) -> None:
    pomelo.script = [TOKEN_ANSWER, answer(200, {"points": 1})]
    await client.balance(USER)
    token_exchange, read = exchanges
    assert SECRET not in token_exchange.request_body and '"client_secret":"[FILTERED]"' in token_exchange.request_body
    assert TOKEN not in token_exchange.response_body and '"access_token": "[FILTERED]"' in token_exchange.response_body
    assert read.request_headers["Authorization"] == "[FILTERED]"
    everything = repr(exchanges)
    assert SECRET not in everything and TOKEN not in everything


async def test_pomelos_words_quoting_a_secret_reach_no_message(pomelo: FakePomelo, client: PomeloClient) -> None:
    """A vendor that quotes what it was sent in its refusal: the message the gateway passes on masks it."""
    pomelo.script = [answer(401, {"error": {"error_code": "INVALID_CLIENT", "details": [
        {"code": "INVALID_CLIENT", "detail": f"client_secret {SECRET} is not {json.dumps(SECRET)[1:-1]}'s"}]}}),
        TOKEN_ANSWER, answer(400, {"error": {"error_code": "BAD_REQUEST", "details": [
            {"code": "BAD_REQUEST", "detail": f"token {TOKEN} may not burn"}]}})]
    with pytest.raises(UpstreamCredentialsRefused) as refused:
        await client.token()
    assert SECRET not in refused.value.message and "client_secret [FILTERED] is not [FILTERED]'s" in refused.value.message
    with pytest.raises(PomeloApiError) as said:
        await client.burn("points", USER, Decimal("1"), "r", key="k")
    assert TOKEN not in str(said.value) and said.value.detail == "token [FILTERED] may not burn"


async def test_a_5xx_without_pomelos_request_id_names_the_one_the_gateway_sent(pomelo: FakePomelo,
                                                                             client: PomeloClient) -> None:
    pomelo.script = [TOKEN_ANSWER, answer(502, b"bad gateway")]
    with pytest.raises(UpstreamFailed) as failed:
        await client.burn("points", USER, Decimal("1"), "r", key="k")
    sent = pomelo.seen[1].request_id
    assert sent and sent.startswith("lg-") and sent != pomelo.seen[0].request_id
    assert failed.value.message.endswith(f"answered 502 bad gateway (request id {sent})")
    assert failed.value.details["request_id"] == sent


async def test_all_of_a_members_balances_are_one_get(pomelo: FakePomelo, client: PomeloClient) -> None:
    """The port's balances(member): points, cashback and miles from the one answer Pomelo gives for them all."""
    upstream = PomeloUpstream(client)
    pomelo.script = [TOKEN_ANSWER, answer(200, {"points": 30511, "cashback": "250.50", "miles": 7, "user_id": USER}),
                     answer(200, {"points": 1})]
    assert await upstream.balances(USER) == {Asset.POINTS: Decimal("30511"), Asset.CASHBACK: Decimal("250.50"),
                                             Asset.MILES: Decimal("7")}
    _, read = pomelo.seen
    assert read.line == f"GET /loyalty/v1/accounts/balance?user_id={USER} HTTP/1.1"
    assert await upstream.balances(USER) == {Asset.POINTS: Decimal("1"), Asset.CASHBACK: Decimal("0"),
                                             Asset.MILES: Decimal("0")}
    assert len(pomelo.seen) == 3  # the token once, then one GET a read

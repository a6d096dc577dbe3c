"""The Pomelo client against a real `loyalty-gateway serve` playing Pomelo (the demo tenant): one token, then
balance, mint and burn as documented, a new token when the vendor stops taking the old one, every refusal read
into what it means. The vendor's journal shows what arrived; its faults, rate limit and clock make failures real."""
from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from gateway.dialects.pomelo.client import PomeloApiError, PomeloClient
from gateway.dialects.upstream_transport import Exchange, Transport
from gateway.ledger import UpstreamCredentialsRefused, UpstreamFailed, UpstreamRateLimited, UpstreamTimeout
from tests import process
from tests.sandbox_vendor import VendorAdmin, vendor_fixture

pytestmark = pytest.mark.slow
JUAN = "usr-2ay34WhGUtCeoewakpeJTRuVWlx"  # 30511 points in the demo scenario
JUAN_CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"
JOHNSON = "usr-2ay34Wmxezt4L0WHMn2JajHJgiM"  # 120.00 points
CREDENTIALS = {"client_id": "demo-client-id", "client_secret": "demo-client-secret", "audience": "https://api.pomelo.la"}


vendor = vendor_fixture("pomelo")


class Vendor(VendorAdmin):
    """The pomelo vendor process: back to the demo scenario, fault rules, rate limit, clock, journal."""

    dialect = "pomelo"

    async def finished(self, path: str) -> None:
        """Wait until a request held back by a latency fault has answered, so no test sees it land later."""
        for _ in range(100):
            if await self.requests(path):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"nothing reached {path}")

    async def points(self, user_id: str) -> Decimal:
        found = await self.admin("GET", f"/members?tenant=demo&q={user_id}")
        (member,) = found["members"]
        return Decimal(member["balances"]["points"]["posted"])


@pytest.fixture
async def pomelo(vendor: process.Server) -> AsyncIterator[Vendor]:
    async with aiohttp.ClientSession() as session:
        admin = Vendor(session, vendor.url)
        await admin.admin("PUT", "/rate-limits", {"pomelo": None})
        await admin.admin("POST", "/reset")  # the demo scenario again; faults, clock and journal cleared
        yield admin


@pytest.fixture
async def exchanges() -> list[Exchange]:
    return []


@pytest.fixture
async def transport(vendor: process.Server, exchanges: list[Exchange]) -> AsyncIterator[Transport]:
    async with aiohttp.ClientSession() as session:
        yield Transport(session, vendor.url, timeout=5, observe=exchanges.append, label="the pomelo upstream")


@pytest.fixture
def client(transport: Transport) -> PomeloClient:
    return PomeloClient(transport, **CREDENTIALS)


# -- the calls -----------------------------------------------------------------------------------


async def test_a_members_balance_by_user_id_and_by_card_id(pomelo: Vendor, client: PomeloClient) -> None:
    by_user = await client.balance(JUAN)
    by_card = await client.balance(JUAN_CARD)
    assert (by_user.points, by_user.cashback, by_user.miles) == (Decimal("30511"), Decimal("0"), Decimal("0"))
    assert (by_user.user_id, by_card.card_id, by_card.points) == (JUAN, JUAN_CARD, Decimal("30511"))
    reads = await pomelo.requests("/loyalty/v1/accounts/balance")
    assert [(r["method"], r["query"], r["status"]) for r in reads] == [
        ("GET", f"user_id={JUAN}", 200), ("GET", f"card_id={JUAN_CARD}", 200)]


async def test_mint_credits_and_burn_debits_the_account_type_named_in_the_path(pomelo: Vendor, client: PomeloClient) -> None:
    minted = await client.mint("points", JUAN, Decimal("100.50"), "Manual adjustment", key="mint-1")
    burnt = await client.burn("points", JUAN_CARD, Decimal("2000"), "spend INV-7", key="burn-1")
    assert (minted.operation, minted.amount, minted.updated_balance) == ("MINT", Decimal("100.5"), Decimal("30611.5"))
    assert (burnt.operation, burnt.amount, burnt.updated_balance) == ("BURN", Decimal("2000"), Decimal("28611.5"))
    assert minted.id and minted.id.startswith("lye-")
    assert await pomelo.points(JUAN) == Decimal("28611.5")
    writes = await pomelo.requests("/loyalty/v1/accounts/points/")
    assert [(w["path"], w["request_body"]["text"]) for w in writes] == [
        ("/loyalty/v1/accounts/points/mint", f'{{"amount":"100.5","reason":"Manual adjustment","user_id":"{JUAN}"}}'),
        ("/loyalty/v1/accounts/points/burn", f'{{"amount":"2000","reason":"spend INV-7","card_id":"{JUAN_CARD}"}}'),
    ]


async def test_the_same_idempotency_key_again_answers_the_first_result_and_applies_nothing(
    pomelo: Vendor, client: PomeloClient,
) -> None:
    first = await client.burn("points", JUAN, Decimal("2000"), "spend", key="once")
    again = await client.burn("points", JUAN, Decimal("2000"), "spend", key="once")
    assert again == first and await pomelo.points(JUAN) == Decimal("28511")


# -- the token -----------------------------------------------------------------------------------


async def test_one_token_serves_every_call_until_shortly_before_it_expires(pomelo: Vendor, transport: Transport) -> None:
    now = [1000.0]
    client = PomeloClient(transport, **CREDENTIALS, now=lambda: now[0])
    await client.balance(JUAN)
    await client.balance(JOHNSON)
    assert len(await pomelo.requests("/oauth/token")) == 1
    now[0] += 86400 - 61  # the vendor's expires_in is 86400: still well inside it
    await client.balance(JUAN)
    assert len(await pomelo.requests("/oauth/token")) == 1
    now[0] += 2  # within a minute of the end: fetch a fresh one before it lapses mid-call
    await client.balance(JUAN)
    assert len(await pomelo.requests("/oauth/token")) == 2


async def test_calls_made_at_once_share_one_token_request(pomelo: Vendor, client: PomeloClient) -> None:
    found = await asyncio.gather(*(client.balance(who) for who in (JUAN, JOHNSON, JUAN_CARD, JUAN, JOHNSON)))
    assert [b.points for b in found] == [Decimal("30511"), Decimal("120"), Decimal("30511"), Decimal("30511"), Decimal("120")]
    assert len(await pomelo.requests("/oauth/token")) == 1


async def test_a_token_the_vendor_stopped_accepting_is_fetched_again_once(pomelo: Vendor, client: PomeloClient) -> None:
    await client.balance(JUAN)
    await pomelo.admin("PUT", "/clock", {"offset_seconds": 2 * 86400})  # the vendor's token has expired there
    assert (await client.burn("points", JUAN, Decimal("11"), "spend", key="after-expiry")).updated_balance == Decimal("30500")
    seen = [(r["path"], r["status"]) for r in await pomelo.requests()]
    assert seen == [("/oauth/token", 200), ("/loyalty/v1/accounts/balance", 200),
                    ("/loyalty/v1/accounts/points/burn", 401), ("/oauth/token", 200),
                    ("/loyalty/v1/accounts/points/burn", 200)]


async def test_wrong_client_credentials_are_the_gateways_credentials_refused(pomelo: Vendor, transport: Transport) -> None:
    client = PomeloClient(transport, **{**CREDENTIALS, "client_secret": "not-the-secret"})
    with pytest.raises(UpstreamCredentialsRefused, match="refused the gateway's client credentials .*401") as refused:
        await client.balance(JUAN)
    assert not refused.value.sent and "invalid client_id or client_secret" in refused.value.message


async def test_a_403_for_a_call_is_the_gateways_credentials_refused(pomelo: Vendor, client: PomeloClient) -> None:
    await pomelo.fault(effect="status", status=403, path="/loyalty/*", message="the token's scope does not include arg:loyalty:burn")
    with pytest.raises(UpstreamCredentialsRefused, match="403 FORBIDDEN: the token's scope does not include"):
        await client.burn("points", JUAN, Decimal("1"), "spend", key="k")


# -- refusals and failures -------------------------------------------------------------------------


async def test_an_unknown_member_is_pomelos_404(pomelo: Vendor, client: PomeloClient) -> None:
    with pytest.raises(PomeloApiError) as unknown:
        await client.balance("usr-nobody")
    assert (unknown.value.status, unknown.value.error_code) == (404, "NOT_FOUND")


async def test_burning_more_than_the_balance_is_pomelos_insufficient_balance(pomelo: Vendor, client: PomeloClient) -> None:
    with pytest.raises(PomeloApiError) as refused:
        await client.burn("points", JOHNSON, Decimal("120.01"), "spend", key="too-much")
    assert (refused.value.status, refused.value.error_code) == (400, "INSUFFICIENT_BALANCE")
    assert await pomelo.points(JOHNSON) == Decimal("120.00")


async def test_a_5xx_is_upstream_failed_with_the_status_and_pomelos_words(pomelo: Vendor, client: PomeloClient) -> None:
    await pomelo.fault(effect="status", status=503, path="/loyalty/*", message="down for maintenance")
    with pytest.raises(UpstreamFailed) as failed:
        await client.mint("points", JUAN, Decimal("1"), "r", key="k")
    assert failed.value.sent and failed.value.details["status"] == 503
    [answered] = await pomelo.requests("/loyalty/v1/accounts/points/mint")  # the vendor's journal names it too
    assert failed.value.message == (f"the pomelo upstream at {pomelo.url} answered 503 "
                                    f"SERVICE_UNAVAILABLE: down for maintenance (request id {answered['request_id']})")
    assert failed.value.details["request_id"] == answered["request_id"]


async def test_an_answer_slower_than_the_timeout_is_upstream_timeout_and_may_have_applied(
    pomelo: Vendor, client: PomeloClient, transport: Transport,
) -> None:
    await client.token()
    transport.timeout = 1
    await pomelo.fault(effect="latency", when="after", latency_ms=2000, path="/loyalty/v1/accounts/points/burn")
    with pytest.raises(UpstreamTimeout) as slow:
        await client.burn("points", JUAN, Decimal("5"), "spend", key="slow")
    assert slow.value.sent and await pomelo.points(JUAN) == Decimal("30506")
    await pomelo.finished("/loyalty/v1/accounts/points/burn")


async def test_a_dropped_answer_is_upstream_failed_and_may_have_applied(pomelo: Vendor, client: PomeloClient) -> None:
    await pomelo.fault(effect="drop", when="after", path="/loyalty/v1/accounts/points/mint")
    with pytest.raises(UpstreamFailed, match="dropped the connection") as dropped:
        await client.mint("points", JUAN, Decimal("5"), "Manual adjustment", key="dropped")
    assert dropped.value.sent and await pomelo.points(JUAN) == Decimal("30516")
    [landed] = await pomelo.requests("/loyalty/v1/accounts/points/mint")  # no answer, but the id it was sent with
    assert re.fullmatch(r"lg-[0-9a-f]{16}", landed["request_id"])
    assert dropped.value.message.endswith(f"(request id {landed['request_id']})")


async def test_a_token_request_that_times_out_leaves_no_write_unclear(
    pomelo: Vendor, client: PomeloClient, transport: Transport,
) -> None:
    transport.timeout = 1
    await pomelo.fault(effect="latency", latency_ms=2000, path="/oauth/token")
    with pytest.raises(UpstreamTimeout) as slow:
        await client.burn("points", JUAN, Decimal("5"), "spend", key="never-sent")
    assert not slow.value.sent
    await pomelo.finished("/oauth/token")
    assert await pomelo.requests("/loyalty/") == []


async def test_the_vendors_rate_limit_is_upstream_rate_limited_with_its_retry_after(pomelo: Vendor, client: PomeloClient) -> None:
    await pomelo.admin("PUT", "/rate-limits", {"pomelo": {"limit": 1, "window_seconds": 30}})
    await client.balance(JUAN)
    with pytest.raises(UpstreamRateLimited) as limited:
        await client.balance(JUAN)
    assert 25 <= limited.value.details["retry_after"] <= 30 and not limited.value.sent
    assert "429 Too Many Requests" in limited.value.message


# -- secrets ---------------------------------------------------------------------------------------


async def test_no_exchange_record_shows_the_client_secret_or_a_token(
    pomelo: Vendor, client: PomeloClient, exchanges: list[Exchange],
) -> None:
    await client.balance(JUAN)
    first = await client.token()
    await pomelo.admin("PUT", "/clock", {"offset_seconds": 2 * 86400})
    await client.mint("points", JUAN, Decimal("1"), "Manual adjustment", key="k")  # a 401, a second token
    second = await client.token()
    assert first != second and len(exchanges) == 5
    shown = repr(exchanges)
    for secret in (CREDENTIALS["client_secret"], first, second):
        assert secret not in shown
    assert all(e.request_headers.get("Authorization") == "[FILTERED]" for e in exchanges if "/loyalty/" in e.url)

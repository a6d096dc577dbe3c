"""Serving a client through another vendor, for every directed pair of dialects and each dialect to itself
(a recording proxy): a till speaks its own dialect to the gateway with the gateway tenant's credentials;
the points live at a vendor tenant speaking the upstream dialect, checked through the vendor's own API,
its ledger and its journal. Two real processes over real HTTP, the gateway on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.gateway_mode.conftest import PairFactory, gateway_workdir
from tests.gateway_mode.dialects import Answer, call
from tests.gateway_mode.harness import JOHNSON, JOHNSON_AT_VENDOR, JUAN, NOBODY, START, Pair, secrets_of

pytestmark = pytest.mark.slow

DIALECTS = ("imonggo", "memberpoints", "pomelo")
PAIRS = [pytest.param(c, u, id=f"{c}->{u}") for c in DIALECTS for u in DIALECTS]
SETTLING = [p for p in PAIRS if p.values[1] != "imonggo"]  # upstreams that can tell whether a write applied
TO_IMONGGO = [p for p in PAIRS if p.values[1] == "imonggo"]

# The vendor's own operation each kind of write becomes, as its journal shows it.
DEBIT_CALL = {"imonggo": ("POST", "/api/rewards.xml"), "memberpoints": ("POST", "/webapps/api/memberpoints"),
              "pomelo": ("POST", "/loyalty/v1/accounts/points/burn")}
CREDIT_CALL = {"imonggo": ("POST", "/api/invoices.xml"), "memberpoints": ("POST", "/webapps/api/memberpoints"),
               "pomelo": ("POST", "/loyalty/v1/accounts/points/mint")}
TAKE, GIVE = Decimal("400"), Decimal("50")  # a spend of 2.00 at Gold's 200 points; five coffee bags' earning


def writes(requests: list[dict], call_: tuple[str, str]) -> list[dict]:
    method, path = call_
    return [r for r in requests if r["method"] == method and r["path"].startswith(path.rsplit(".", 1)[0])]


def moved(entries: list[dict]) -> list[Decimal]:
    """The points movements the vendor applied (not the opening balance the scenario loaded)."""
    return [Decimal(e["amount"]) for e in entries if e["asset"] == "points" and e["kind"] != "opening"]


async def assert_once(pair: Pair, call_: tuple[str, str], delta: Decimal, before: list[Decimal]) -> None:
    """The vendor moved Juan's points by `delta`, in one movement, and his balance shows it."""
    after = moved(await pair.vendor_entries(JUAN))
    assert after[len(before):] == [delta], f"the vendor's movements after the write: {after[len(before):]}"
    assert await pair.vendor_points(JUAN) == START[JUAN] + delta


# -- reads ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_a_balance_read_shows_the_vendors_balance(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)
    # The gateway tenant holds no points of its own: 30511 and 120 can only come from the vendor.
    assert p.till.points(await p.till.balance(JUAN)) == START[JUAN]
    assert p.till.points(await p.till.balance(JOHNSON)) == START[JOHNSON_AT_VENDOR]  # found by his upstream_id
    # Points moved at the vendor by someone else show at once.
    assert (await p.vendor.debit(JUAN, Decimal("200"))).status == 200
    assert p.till.points(await p.till.balance(JUAN)) == START[JUAN] - 200


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_a_balance_read_is_one_request_at_the_vendor(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)
    assert (await p.till.balance(JUAN)).status == 200  # a pomelo upstream's token is fetched here, once
    before = await p.vendor_requests(method="GET")

    assert (await p.till.balance(JUAN)).status == 200

    # as a careful hand-written client would ask: one balance request, not one per account type
    after = await p.vendor_requests(method="GET")
    assert len(after) - len(before) == 1, [(r["method"], r["path"], r["query"]) for r in after[len(before):]]


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_movements_made_at_the_vendor_by_others_show_in_the_balance_not_in_the_history(
    pair: PairFactory, upstream: str
) -> None:
    p = await pair("memberpoints", upstream)
    assert (await p.vendor.debit(JUAN, Decimal("200"))).status == 200  # someone else, at the vendor
    assert (await p.till.adjust(JUAN, -TAKE, "refund at the till")).status == 200  # through the gateway

    history = await p.till.history(JUAN)

    assert history.status == 200, history
    assert [(r["adjustpoints"], r["adjustmentnote"]) for r in history.json()["data"]] == [
        (f"{-TAKE:.2f}", "refund at the till")
    ]
    assert p.till.points(await p.till.balance(JUAN)) == START[JUAN] - 200 - TAKE


# -- writes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_a_debit_becomes_the_vendors_own_operation_once(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)
    before = moved(await p.vendor_entries(JUAN))

    answer = await p.till.debit(JUAN, TAKE)

    assert answer.status == 200, answer
    assert p.till.balance_after(answer) in (None, START[JUAN] - TAKE), answer  # the vendor's balance after it
    assert len(writes(await p.vendor_requests(), DEBIT_CALL[upstream])) == 1
    await assert_once(p, DEBIT_CALL[upstream], -TAKE, before)
    assert p.till.points(await p.till.balance(JUAN)) == START[JUAN] - TAKE


@pytest.mark.parametrize("client, upstream", [p for p in PAIRS if p.values[1] != "imonggo" or p.values[0] == "imonggo"])
async def test_a_credit_becomes_the_vendors_own_operation_once(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)
    before = moved(await p.vendor_entries(JUAN))

    answer = await p.till.credit(JUAN, GIVE)

    assert answer.status in (200, 201), answer
    assert len(writes(await p.vendor_requests(), CREDIT_CALL[upstream])) == 1
    await assert_once(p, CREDIT_CALL[upstream], GIVE, before)


@pytest.mark.parametrize("client", ["memberpoints", "pomelo"])
async def test_crediting_points_to_an_imonggo_upstream_is_refused_naming_its_limit(pair: PairFactory, client: str) -> None:
    p = await pair(client, "imonggo")

    answer = await p.till.credit(JUAN, GIVE)

    assert answer.status == p.till.cannot_express, answer
    message = p.till.error(answer)
    assert "imonggo" in message.lower() and "invoice" in message.lower(), message
    assert writes(await p.vendor_requests(), CREDIT_CALL["imonggo"]) == []
    assert await p.vendor_points(JUAN) == START[JUAN]


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_a_pomelo_clients_retry_under_its_key_gets_the_first_outcome_and_moves_nothing(
    pair: PairFactory, upstream: str
) -> None:
    p = await pair("pomelo", upstream)
    first = await p.till.move(JUAN, "burn", TAKE, key="till-retry-1")

    again = await p.till.move(JUAN, "burn", TAKE, key="till-retry-1")

    assert first.status == again.status == 200, (first, again)
    assert again.json() == first.json()
    assert len(writes(await p.vendor_requests(), DEBIT_CALL[upstream])) == 1
    assert await p.vendor_points(JUAN) == START[JUAN] - TAKE


# -- refusals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_the_vendors_insufficient_points_is_the_clients_own_error(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)

    answer = await p.till.debit(JUAN, Decimal("40000"))  # more than his 30511

    status, words = p.till.insufficient
    assert answer.status == status and words.lower() in p.till.error(answer).lower(), answer
    assert await p.vendor_points(JUAN) == START[JUAN]


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_a_member_the_vendor_does_not_know_is_the_clients_not_found(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)

    read = await p.till.balance(NOBODY)
    write = await p.till.debit(NOBODY, TAKE)

    assert write.status == p.till.unknown, write
    if client == "memberpoints":
        assert p.till.error(write) == "Member not found"
        # memberpointsbalances is a listing: one member the upstream does not know reads as 0.00 in it
        # rather than failing the page for everyone
        assert read.status == 200 and p.till.points(read) == 0, read
    else:
        assert read.status == p.till.unknown, read


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_the_vendor_refusing_the_gateways_credentials_is_a_502_naming_it(pair: PairFactory, client: str, upstream: str) -> None:
    wrong = {"imonggo": {"api_token": "0" * 40}, "memberpoints": {"api_id": "1", "api_key": "wrong"},
             "pomelo": {"client_id": "wrong", "client_secret": "wrong", "audience": "https://api.pomelo.la"}}[upstream]
    p = await pair(client, upstream, credentials=wrong)

    for answer in (await p.till.balance(JUAN), await p.till.debit(JUAN, TAKE)):
        # never a 401: the till's own credentials were fine
        assert answer.status == 502, answer
        message = p.till.error(answer).lower()
        assert upstream in message and "refused the gateway" in message, message


# -- transport trouble ---------------------------------------------------------------------------------


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_a_vendor_slower_than_the_timeout_is_a_504(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)
    slow = await p.fault(effect="latency", latency_ms=1500, method="GET")

    answer = await p.till.balance(JUAN)

    assert answer.status == 504, answer
    assert await p.hits(slow) >= 1
    assert upstream in p.till.error(answer).lower()


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_a_vendor_5xx_is_a_502_with_its_status_and_request_id(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)
    failing = await p.fault(effect="status", status=500, method="GET")

    answer = await p.till.balance(JUAN)
    assert await p.hits(failing) >= 1

    assert answer.status == 502, answer
    message = p.till.error(answer)
    assert "500" in message and upstream in message.lower(), message
    faulted = [r for r in await p.vendor_requests(method="GET") if r["status"] == 500]
    assert faulted and any(r["request_id"] in message for r in faulted), (message, faulted)


@pytest.mark.parametrize("client, upstream", SETTLING)
async def test_an_answer_dropped_after_the_vendor_applied_still_gives_the_real_result_once(
    pair: PairFactory, client: str, upstream: str
) -> None:
    p = await pair(client, upstream)
    before = moved(await p.vendor_entries(JUAN))
    method, path = DEBIT_CALL[upstream]
    dropped = await p.fault(effect="drop", when="after", method=method, path=path + "*", times=1)

    answer = await p.till.debit(JUAN, TAKE)

    assert await p.hits(dropped) == 1  # the vendor applied the write and dropped its answer
    assert answer.status == 200, answer  # settled before the till was answered
    assert p.till.balance_after(answer) in (None, START[JUAN] - TAKE), answer  # the real result
    await assert_once(p, DEBIT_CALL[upstream], -TAKE, before)
    assert p.till.points(await p.till.balance(JUAN)) == START[JUAN] - TAKE


@pytest.mark.parametrize("client, upstream", SETTLING)
async def test_a_write_slower_than_the_timeout_is_settled_and_applied_once(
    pair: PairFactory, client: str, upstream: str
) -> None:
    p = await pair(client, upstream)
    before = moved(await p.vendor_entries(JUAN))
    method, path = DEBIT_CALL[upstream]
    slow = await p.fault(effect="latency", latency_ms=1500, method=method, path=path + "*", times=1)

    answer = await p.till.debit(JUAN, TAKE)
    await asyncio.sleep(1.0)  # the slow first attempt has reached the vendor's handler by now

    assert await p.hits(slow) == 1

    # Either the real result, or "unavailable" while the gateway could not tell yet; never twice.
    assert answer.status in (200, 503), answer
    await assert_once(p, DEBIT_CALL[upstream], -TAKE, before)
    assert await unsettled(p) == []


@pytest.mark.parametrize("client, upstream", TO_IMONGGO)
async def test_an_unclear_imonggo_spend_is_never_resent_and_listed_for_a_person(
    pair: PairFactory, client: str, upstream: str
) -> None:
    p = await pair(client, upstream)
    before = moved(await p.vendor_entries(JUAN))
    dropped = await p.fault(effect="drop", when="after", method="POST", path="/api/rewards*", times=1)

    answer = await p.till.debit(JUAN, TAKE)

    assert await p.hits(dropped) == 1

    assert answer.status == 503, answer  # unavailable in the till's dialect: nobody knows yet
    assert len(writes(await p.vendor_requests(), DEBIT_CALL["imonggo"])) == 1  # sent once, never again
    await assert_once(p, DEBIT_CALL["imonggo"], -TAKE, before)  # it did apply
    (listed,) = await unsettled(p)
    assert Decimal(listed["points"]) == TAKE and listed["direction"] == "debit", listed

    # A person looks at the Imonggo account, sees the spend, and says so: nothing is sent again.
    settled = await call(p.session, "POST", f"{p.gateway_url}/__admin/upstream/unsettled/{listed['id']}/settle",
                         json={"applied": True, "by": "the e2e test"})
    assert settled.status == 200 and settled.json()["state"] == "applied", settled
    assert await unsettled(p) == []
    assert len(writes(await p.vendor_requests(), DEBIT_CALL["imonggo"])) == 1
    assert p.till.points(await p.till.balance(JUAN)) == START[JUAN] - TAKE


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_the_vendors_rate_limit_is_the_clients_rate_limit_with_retry_after(
    pair: PairFactory, client: str, upstream: str
) -> None:
    p = await pair(client, upstream)
    assert (await p.till.balance(JUAN)).status == 200  # a pomelo upstream's token is fetched before the limit
    limited = await call(p.session, "PUT", f"{p.vendor_url}/__admin/rate-limits",
                         json={upstream: {"limit": 1, "window_seconds": 60}})
    assert limited.status == 200, limited

    answers = [await p.till.balance(JUAN) for _ in range(3)]

    refused = [a for a in answers if a.status != 200]
    assert refused, answers
    assert all(a.status == p.till.rate_limited for a in refused), refused
    assert all(int(a.header("Retry-After") or "0") >= 1 for a in refused), [a.headers for a in refused]


# -- seeing it -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_the_journal_lists_the_upstream_exchanges_without_secrets(pair: PairFactory, client: str, upstream: str) -> None:
    p = await pair(client, upstream)
    assert (await p.till.debit(JUAN, TAKE)).status == 200

    requests = await p.gateway_requests()
    method, path = DEBIT_CALL[upstream]
    write = requests[-1]
    exchanges = write["upstream"]
    assert any(x["method"] == method and path.rsplit(".", 1)[0] in x["url"] and x["status"] in (200, 201)
               for x in exchanges), exchanges
    for exchange in exchanges:
        assert exchange["url"].startswith(p.vendor_url) and exchange["duration_ms"] >= 0, exchange
    text = json.dumps(requests, default=str)
    for secret in secrets_of(p):
        assert secret not in text
    listing = await call(p.session, "GET", f"{p.gateway_url}/__admin/tenants")
    for secret in secrets_of(p):
        assert secret not in listing.text


@pytest.mark.parametrize("client, upstream", PAIRS)
async def test_record_mode_writes_each_exchange_as_a_contract_case(
    pair: PairFactory, gateway, client: str, upstream: str  # type: ignore[no-untyped-def]
) -> None:
    p = await pair(client, upstream, record=True)
    assert (await p.till.balance(JUAN)).status == 200
    assert (await p.till.debit(JUAN, TAKE)).status == 200

    recorded = gateway_workdir(gateway) / "recorded" / p.gateway_tenant / upstream / "cases.json"
    text = recorded.read_text(encoding="utf-8")
    method, path = DEBIT_CALL[upstream]
    requests = list(requests_in(json.loads(text)["cases"]))  # each dialect's own case format
    assert any(m == "GET" for m, _ in requests), requests  # the balance read
    assert any(m == method and p_.startswith(path.rsplit(".", 1)[0]) for m, p_ in requests), requests
    for secret in secrets_of(p):
        assert secret not in text


def requests_in(document: object) -> Iterator[tuple[str, str]]:
    """Every (method, path) a recorded case holds, however its dialect's cases.json nests them."""
    if isinstance(document, dict):
        if isinstance(document.get("method"), str) and isinstance(document.get("path"), str):
            yield document["method"], document["path"]
        for value in document.values():
            yield from requests_in(value)
    elif isinstance(document, list):
        for value in document:
            yield from requests_in(value)


async def unsettled(p: Pair) -> list[dict]:
    answer: Answer = await call(p.session, "GET", f"{p.gateway_url}/__admin/upstream/unsettled",
                                params={"tenant": p.gateway_tenant})
    assert answer.status == 200, answer
    body = answer.json()
    rows = body["unsettled"] if isinstance(body, dict) else body
    return [r for r in rows if r.get("tenant") in (None, p.gateway_tenant)]


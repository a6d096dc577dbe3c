"""The memberpoints client, call by call, against a real vendor: a second `loyalty-gateway serve` process
whose demo website (apiID demo-api-id) holds members 1534, 442531 and 445123. Read like the vendor's
page: list balances, read the history, post an adjustment; then what each of its failures becomes."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from gateway import __version__
from gateway.dialects.memberpoints.client import MemberpointsClient, Refused, adjustment_body
from gateway.ledger import UpstreamCredentialsRefused, UpstreamFailed, UpstreamRateLimited, UpstreamTimeout
from tests.memberpoints.upstream_vendor import (  # noqa: F401  (fixtures)
    API_ID,
    API_KEY,
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
from tests import process

pytestmark = pytest.mark.slow


@pytest.fixture
def client(vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor) -> MemberpointsClient:
    return MemberpointsClient(transport_to(vendor.url), API_ID, API_KEY)


# -- List your member points balances ---------------------------------------------------------------


async def test_memberpointsbalances_lists_every_member_with_email_name_id_and_balance(client: MemberpointsClient) -> None:
    page = await client.balances()
    assert [(r.mbr_id, r.email, r.name, r.balance) for r in page.rows] == [
        (JUAN, None, "Juan Cruz", Decimal("30511.00")),
        (JOHNSON, "test@example.com", "Johnson", Decimal("120.00")),
        (JASON, "Jason@exmapleemail.com", "Jason", Decimal("50.00")),
    ]
    assert (page.offset, page.page_size, page.last) == (0, 200, True)


async def test_a_single_members_balance_is_asked_for_with_mbr_id(client: MemberpointsClient, vendor_api: Vendor) -> None:
    page = await client.balances(mbr_id=JOHNSON)
    assert [(r.mbr_id, r.balance) for r in page.rows] == [(JOHNSON, Decimal("120.00"))]
    [seen_by_vendor] = await vendor_api.requests()
    assert (seen_by_vendor["method"], seen_by_vendor["path"], seen_by_vendor["query"]) == (
        "GET", "/webapps/api/memberpointsbalances", f"mbr_id={JOHNSON}")


async def test_every_balance_walks_offset_and_pagesize_until_a_page_comes_back_short(
    client: MemberpointsClient, vendor_api: Vendor,
) -> None:
    rows = [row.mbr_id async for row in client.every_balance(page_size=2)]
    assert rows == [JUAN, JOHNSON, JASON]
    assert [r["query"] for r in await vendor_api.requests()] == ["offset=0&pageSize=2", "offset=2&pageSize=2"]


async def test_a_full_last_page_is_followed_by_one_empty_page_and_no_more(
    client: MemberpointsClient, vendor_api: Vendor,
) -> None:
    rows = [row.mbr_id async for row in client.every_balance(page_size=3)]
    assert rows == [JUAN, JOHNSON, JASON]
    assert [r["query"] for r in await vendor_api.requests()] == ["offset=0&pageSize=3", "offset=3&pageSize=3"]


# -- Create new member points adjustment entry ------------------------------------------------------


async def test_post_memberpoints_adds_points_and_answers_the_saved_row(client: MemberpointsClient, vendor_api: Vendor) -> None:
    saved = await client.adjust(mbr_id=JOHNSON, points=Decimal("10"), note="Product refund through points")
    assert (saved.mbr_id, saved.points, saved.note) == (JOHNSON, Decimal("10.00"), "Product refund through points")
    assert saved.id > 0 and saved.date
    [balance] = (await client.balances(mbr_id=JOHNSON)).rows
    assert balance.balance == Decimal("130.00")


async def test_a_negative_adjustment_deducts_points(client: MemberpointsClient) -> None:
    saved = await client.adjust(mbr_id=JASON, points=Decimal("-12.50"), note="Redeemed voucher")
    assert saved.points == Decimal("-12.50")
    assert (await client.balances(mbr_id=JASON)).rows[0].balance == Decimal("37.50")


async def test_the_post_body_is_the_documented_document_and_the_vendor_saw_exactly_it(
    client: MemberpointsClient, vendor_api: Vendor,
) -> None:
    await client.adjust(mbr_id=JOHNSON, points=Decimal("10"), note="Product refund through points")
    [post] = await vendor_api.requests()
    assert (post["method"], post["path"], post["query"], post["status"]) == ("POST", "/webapps/api/memberpoints", "", 200)
    assert post["request_body"]["text"] == (
        '{"mbr_id":442531,"adjustpoints":10,"adjustmentnote":"Product refund through points"}')


def test_points_are_written_as_json_numbers_never_through_float() -> None:
    assert adjustment_body(1234, Decimal("-0.10"), "x") == b'{"mbr_id":1234,"adjustpoints":-0.1,"adjustmentnote":"x"}'
    assert adjustment_body(1234, Decimal("99999999.99"), "") == (
        b'{"mbr_id":1234,"adjustpoints":99999999.99,"adjustmentnote":""}')
    assert json.loads(adjustment_body(1, Decimal("5"), 'say "hi" \u00e9'))["adjustmentnote"] == 'say "hi" \u00e9'


# -- List your member points adjustment history -----------------------------------------------------


async def test_a_members_history_lists_their_adjustments_oldest_first(client: MemberpointsClient) -> None:
    first = await client.adjust(mbr_id=JOHNSON, points=Decimal("10"), note="Welcome bonus")
    second = await client.adjust(mbr_id=JOHNSON, points=Decimal("-5"), note="Manual correction")
    page = await client.history(mbr_id=JOHNSON)
    assert [(a.note, a.points) for a in page.rows] == [
        ("Opening balance", Decimal("120.00")), ("Welcome bonus", Decimal("10.00")), ("Manual correction", Decimal("-5.00")),
    ]
    assert [a.id for a in page.rows[1:]] == [first.id, second.id]
    assert {a.mbr_id for a in page.rows} == {JOHNSON}


async def test_history_filters_go_in_the_query_string_as_the_vendor_documents_them(
    client: MemberpointsClient, vendor_api: Vendor,
) -> None:
    await client.adjust(mbr_id=JOHNSON, points=Decimal("10"), note="adjustment note")
    page = await client.history(mbr_id=JOHNSON, adjustmentnote="adjustment note")
    assert [a.note for a in page.rows] == ["adjustment note"]
    liked = await client.history(mbr_id=JOHNSON, adjustmentnote="adjust", match_type="like", after="01/01/2021")
    assert [a.note for a in liked.rows] == ["adjustment note"]
    queries = [r["query"] for r in await vendor_api.requests() if r["method"] == "GET"]  # the journal shows them decoded
    assert queries == [
        f"mbr_id={JOHNSON}&adjustmentnote=adjustment note",
        f"mbr_id={JOHNSON}&adjustmentnote=adjust&matchType=like&after=01/01/2021",
    ]


async def test_every_adjustment_pages_through_a_long_history(client: MemberpointsClient, vendor_api: Vendor) -> None:
    for n in range(4):
        await client.adjust(mbr_id=JASON, points=Decimal("1"), note=f"visit {n}")
    notes = [a.note async for a in client.every_adjustment(mbr_id=JASON, page_size=2)]
    assert notes == ["Opening balance", "visit 0", "visit 1", "visit 2", "visit 3"]
    gets = [r["query"] for r in await vendor_api.requests() if r["method"] == "GET"]
    assert gets == [f"mbr_id={JASON}&offset={o}&pageSize=2" for o in (0, 2, 4)]


async def test_one_adjustment_by_id_is_a_single_object_and_an_unknown_id_is_none(client: MemberpointsClient) -> None:
    saved = await client.adjust(mbr_id=JUAN, points=Decimal("3"), note="by id")
    found = await client.adjustment(saved.id)
    assert found is not None and (found.id, found.note, found.points) == (saved.id, "by id", Decimal("3.00"))
    assert await client.adjustment(987654) is None


# -- What a careful integrator sends, byte for byte -------------------------------------------------


async def test_a_get_carries_accept_user_agent_and_the_apiid_apikey_pair_and_nothing_else(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    recorder.reply(200, {"endPoint": "memberpointsbalances", "resultCount": 0, "offset": 0, "data": [],
                         "success": True, "pageSize": 200})
    await MemberpointsClient(transport_to(url), API_ID, API_KEY).balances(offset=0, page_size=200)
    [got] = recorder.requests
    assert (got.method, got.raw_path, got.body) == ("GET", "/webapps/api/memberpointsbalances?offset=0&pageSize=200", b"")
    headers = {name.lower(): value for name, value in got.headers}
    assert headers.pop("host").startswith("127.0.0.1:")
    assert headers.pop("accept-encoding")  # aiohttp's own, so the vendor may compress
    assert re.fullmatch(r"lg-[0-9a-f]{16}", headers.pop("x-request-id"))  # each request's own, for both journals
    assert headers == {"accept": "application/json", "user-agent": f"loyalty-gateway/{__version__}",
                       "apiid": API_ID, "apikey": API_KEY}
    assert [name for name, _ in got.headers if name.lower().startswith("api")] == ["apiID", "apiKey"]


async def test_history_filters_are_query_encoded_in_the_vendors_parameter_names_dates_as_its_examples_write_them(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    recorder.reply(200, {"endPoint": "memberpoints", "resultCount": 0, "data": [], "success": True})
    await MemberpointsClient(transport_to(url), API_ID, API_KEY).history(
        mbr_id=123123, adjustmentnote="adjustment note", adjustdate="01/01/2021", match_type=">",
        include_orders=True, offset=0, page_size=200)
    assert recorder.requests[0].raw_path == (
        "/webapps/api/memberpoints?mbr_id=123123&adjustmentnote=adjustment+note&adjustdate=01/01/2021"
        "&matchType=%3E&includeOrders=1&offset=0&pageSize=200")


async def test_a_post_adds_only_its_json_content_type_and_length(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    recorder.reply(200, {"endPoint": "memberpoints", "resultCount": 1, "success": True, "data": {
        "adjustmentnote": "Product refund through points", "pointsadjustid": 222, "mbr_id": 1234,
        "adjustpoints": "10.00", "id": 222, "adjustdate": "2021-12-20 16:00:30.834896", "cid": 1234}})
    saved = await MemberpointsClient(transport_to(url), API_ID, API_KEY).adjust(
        mbr_id=1234, points=Decimal("10"), note="Product refund through points")
    assert (saved.id, saved.points) == (222, Decimal("10.00"))
    [got] = recorder.requests
    body = b'{"mbr_id":1234,"adjustpoints":10,"adjustmentnote":"Product refund through points"}'
    assert (got.method, got.raw_path, got.body) == ("POST", "/webapps/api/memberpoints", body)
    headers = {name.lower(): value for name, value in got.headers}
    assert {k: headers[k] for k in ("content-type", "content-length", "accept", "user-agent", "apiid", "apikey")} == {
        "content-type": "application/json", "content-length": str(len(body)), "accept": "application/json",
        "user-agent": f"loyalty-gateway/{__version__}", "apiid": API_ID, "apikey": API_KEY,
    }
    assert set(headers) == {"host", "accept-encoding", "content-type", "content-length", "accept", "user-agent",
                            "apiid", "apikey", "x-request-id"}


# -- When the vendor says no ------------------------------------------------------------------------


async def test_a_wrong_apikey_is_the_upstream_refusing_the_gateways_credentials(
    vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor,
) -> None:
    wrong = MemberpointsClient(transport_to(vendor.url), API_ID, "not-the-key")
    with pytest.raises(UpstreamCredentialsRefused, match=r"refused the gateway's apiID/apiKey \(401: Invalid apiID/apiKey\)"):
        await wrong.balances()
    with pytest.raises(UpstreamCredentialsRefused) as refused:
        await wrong.adjust(mbr_id=JOHNSON, points=Decimal("1"), note="never")
    assert refused.value.details["status"] == 401 and not refused.value.sent
    assert (await vendor_api.direct("GET", "memberpointsbalances", params={"mbr_id": JOHNSON}))["data"][0][
        "mbr_points_balance"] == "120.00"


async def test_a_base_url_that_misses_the_api_is_upstream_failed_saying_so(
    vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor,
) -> None:
    astray = MemberpointsClient(transport_to(f"{vendor.url}/shop"), API_ID, API_KEY)
    with pytest.raises(UpstreamFailed, match=r"has no http://127\.0\.0\.1:\d+/shop/webapps/api/memberpoints \(404: .*\): "
                                             r"is its base URL right\?") as missed:
        await astray.adjust(mbr_id=JOHNSON, points=Decimal("1"), note="astray")
    assert not missed.value.sent and missed.value.details["status"] == 404


async def test_an_unknown_member_and_a_balance_below_zero_are_the_vendors_own_refusals(client: MemberpointsClient) -> None:
    with pytest.raises(Refused) as unknown:
        await client.adjust(mbr_id=999999, points=Decimal("1"), note="nobody")
    assert (unknown.value.status, unknown.value.message) == (400, "Member not found")
    with pytest.raises(Refused) as short:
        await client.adjust(mbr_id=JASON, points=Decimal("-50.01"), note="too much")
    assert short.value.status == 400 and "Insufficient points" in short.value.message


async def test_past_100_requests_a_minute_the_429_and_its_retry_after_become_upstream_rate_limited(
    client: MemberpointsClient, vendor_api: Vendor,
) -> None:
    await vendor_api.rate_limit(2)
    await client.balances()
    await client.balances()
    with pytest.raises(UpstreamRateLimited) as limited:
        await client.adjust(mbr_id=JOHNSON, points=Decimal("1"), note="third call")
    assert 55 <= limited.value.details["retry_after"] <= 60
    assert "Rate limit exceeded" in limited.value.message and not limited.value.sent
    await vendor_api.rate_limit(None)
    assert (await client.balances(mbr_id=JOHNSON)).rows[0].balance == Decimal("120.00")  # nothing applied


async def test_a_429_without_retry_after_waits_out_the_vendors_minute(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    recorder.reply(429, {"endPoint": "memberpoints", "success": False, "message": "Too many"})
    recorder.reply(429, {"endPoint": "memberpoints", "success": False, "message": "Too many"},
                   {"Retry-After": "7"})
    client = MemberpointsClient(transport_to(url), API_ID, API_KEY)
    for expected in (60, 7):
        with pytest.raises(UpstreamRateLimited) as limited:
            await client.history(mbr_id=1)
        assert limited.value.details["retry_after"] == expected


async def test_a_server_error_is_upstream_failed_with_its_status_and_message(
    client: MemberpointsClient, vendor_api: Vendor,
) -> None:
    await vendor_api.fault(effect="status", status=503, message="Service temporarily unavailable", times=1)
    with pytest.raises(UpstreamFailed, match=r"at http://127\.0\.0\.1:\d+ answered 503 \(request id lg-[0-9a-f]{16}\): "
                       "Service temporarily unavailable") as failed:
        await client.balances()
    assert failed.value.details["status"] == 503 and failed.value.sent
    # the id in the message is the one the vendor's journal holds for that request
    [answered] = await vendor_api.requests()
    assert answered["request_id"] == failed.value.details["request_id"]


async def test_a_server_errors_request_id_is_named(capture: tuple[CaptureServer, str], transport_to: TransportFor) -> None:
    recorder, url = capture
    recorder.reply(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html", "X-Request-Id": "req-7f3a"})
    with pytest.raises(UpstreamFailed, match=r"answered 502 \(request id req-7f3a\): <html>Bad Gateway</html>") as failed:
        await MemberpointsClient(transport_to(url), API_ID, API_KEY).balances()
    assert failed.value.details["request_id"] == "req-7f3a"
    assert "retry_after" not in failed.value.details  # it said no time: the caller's own backoff decides


async def test_a_server_error_with_retry_after_passes_the_wait_on(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    recorder.reply(503, b'{"success": false, "message": "maintenance"}',
                   {"Content-Type": "application/json", "Retry-After": "9"})
    with pytest.raises(UpstreamFailed) as failed:
        await MemberpointsClient(transport_to(url), API_ID, API_KEY).balances()
    assert failed.value.details["retry_after"] == 9


async def test_a_200_that_says_success_false_is_a_refusal_and_a_200_that_is_not_json_is_unreadable(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    recorder.reply(200, {"endPoint": "memberpoints", "success": False, "message": "adjustpoints must be numeric"})
    recorder.reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html"})
    client = MemberpointsClient(transport_to(url), API_ID, API_KEY)
    with pytest.raises(Refused, match="adjustpoints must be numeric"):
        await client.adjust(mbr_id=1, points=Decimal("1"), note="x")
    with pytest.raises(UpstreamFailed, match=r"answered 200 \(request id lg-[0-9a-f]{16}\) with an answer that is not "
                       "the vendor's JSON envelope") as odd:
        await client.adjust(mbr_id=1, points=Decimal("1"), note="x")
    assert odd.value.sent  # the write may have been applied: its outcome is unclear


async def test_an_answer_slower_than_the_timeout_is_upstream_timeout_with_the_request_sent(
    vendor: process.Server, vendor_api: Vendor, transport_to: TransportFor,
) -> None:
    await vendor_api.fault(effect="latency", latency_ms=1500, times=1)
    slow = MemberpointsClient(transport_to(vendor.url, timeout=0.5), API_ID, API_KEY)
    with pytest.raises(UpstreamTimeout) as timed_out:
        await slow.adjust(mbr_id=JOHNSON, points=Decimal("1"), note="slow")
    assert timed_out.value.sent
    assert (await vendor_api.finished_post())["fault"]["effect"] == "latency"


async def test_a_connection_dropped_after_the_write_is_upstream_failed_and_the_write_did_land(
    client: MemberpointsClient, vendor_api: Vendor,
) -> None:
    await vendor_api.fault(effect="drop", when="after", method="POST", path="/webapps/api/memberpoints", times=1)
    with pytest.raises(UpstreamFailed, match="dropped the connection during POST /webapps/api/memberpoints") as dropped:
        await client.adjust(mbr_id=JOHNSON, points=Decimal("7"), note="dropped answer")
    assert dropped.value.sent
    landed = await vendor_api.finished_post()  # the vendor's journal holds the id the message names
    assert dropped.value.message.endswith(f"(request id {landed['request_id']})")
    assert [a.note for a in (await client.history(mbr_id=JOHNSON)).rows][-1] == "dropped answer"


# -- Secrets ----------------------------------------------------------------------------------------


async def test_no_recorded_exchange_shows_the_apikey(client: MemberpointsClient, vendor_api: Vendor, seen: Seen) -> None:
    await client.balances()
    await client.adjust(mbr_id=JOHNSON, points=Decimal("1"), note=f"the key is {API_KEY}")
    await vendor_api.fault(effect="status", status=500, times=1)
    with pytest.raises(UpstreamFailed):
        await client.history(mbr_id=JOHNSON)
    assert len(seen.exchanges) == 3
    for exchange in seen.exchanges:
        assert API_KEY not in repr(exchange)
        assert exchange.request_headers["apiKey"] == exchange.request_headers["apiID"] == "[FILTERED]"
    assert "the key is [FILTERED]" in seen.exchanges[1].request_body


async def test_the_vendors_words_quoting_the_apikey_reach_no_message(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    recorder.reply(500, {"success": False, "message": f"apiKey {API_KEY} is over quota"})
    recorder.reply(400, f"bad request from {API_KEY}".encode(), {"Content-Type": "text/plain"})
    client = MemberpointsClient(transport_to(url), API_ID, API_KEY)
    with pytest.raises(UpstreamFailed) as failed:
        await client.balances()
    assert API_KEY not in failed.value.message and "apiKey [FILTERED] is over quota" in failed.value.message
    with pytest.raises(Refused) as refused:
        await client.balances()
    assert refused.value.message == "bad request from [FILTERED]"


async def test_a_server_error_without_the_vendors_request_id_names_the_one_the_gateway_sent(
    capture: tuple[CaptureServer, str], transport_to: TransportFor,
) -> None:
    recorder, url = capture
    recorder.reply(502, b"bad gateway", {"Content-Type": "text/plain"})
    with pytest.raises(UpstreamFailed) as failed:
        await MemberpointsClient(transport_to(url), API_ID, API_KEY).balances()
    sent = dict((k.lower(), v) for k, v in recorder.requests[0].headers)["x-request-id"]
    assert failed.value.message.endswith(f"answered 502 (request id {sent}): bad gateway")
    assert failed.value.details["request_id"] == sent

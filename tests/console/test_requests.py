"""The console's Requests page in a real browser: a request made with urllib while the page is open appears
without a reload (one event stream), the filters live in the URL and narrow the list, a request opens to both
bodies pretty-printed and its headers masked, a fault-struck request names its rule; checked against the
admin API, with screenshots, and clean under axe."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.console import browser as kit

TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"  # the demo tenant's imonggo API token (README)
IMONGGO = {"Authorization": "Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode()}
MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
from tests.console.browser import GUARD_TOKEN as ADMIN_TOKEN  # the guarded_server fixture's (conftest)


def call(base: str, method: str, path: str, headers: dict[str, str], body: Any = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    sent = {**headers, **({"Content-Type": "application/json"} if data is not None else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data=data, method=method, headers=sent),
                                    timeout=15) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def spend(base: str, reference: str) -> int:
    return call(base, "POST", f"/api/rewards.xml?q=spend&customer_id=1534&amount=1&reference={reference}", IMONGGO)


def newest(admin: Any, **filters: str) -> dict[str, Any]:
    status, answer = admin("GET", "/requests?limit=1&" + "&".join(f"{k}={v}" for k, v in filters.items()))
    assert status == 200
    return answer["requests"][0]  # type: ignore[no-any-return]


def open_requests(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_text("Live: new requests appear here as they arrive.").wait_for()


def test_a_spend_appears_live_and_opens_to_both_bodies_and_masked_headers(console_server: Any, page: Any, shot: Any,
                                                                          axe: Any, admin: Any) -> None:
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/requests/stream" in r.url else None)
    open_requests(page, console_server.url + "/__admin/console/requests")
    assert spend(console_server.url, "live-1") == 200
    row = page.locator("tbody tr", has_text="/api/rewards.xml").first
    row.wait_for()  # arrived through the stream: no reload
    entry = newest(admin, dialect="imonggo")
    assert row.get_by_role("link").inner_text() == f"#{entry['id']}"
    assert "reference=live-1" in row.inner_text() and "200" in row.inner_text()
    page.get_by_text("Live: 1 new request since this page opened").wait_for()
    assert len(streams) == 1, streams  # one EventSource, no polling

    row.get_by_role("link").click()
    assert f"entry={entry['id']}" in page.url
    detail = page.locator("#detail")
    detail.get_by_role("heading", name=f"Request #{entry['id']}: POST /api/rewards.xml").wait_for()
    headers = detail.get_by_role("table", name="Request headers (secrets masked)")
    assert headers.get_by_role("row", name="Authorization Basic [FILTERED]").count() == 1
    assert TOKEN not in page.content()
    answer = detail.locator("pre[aria-label='Answer body']")
    assert "<points-spent" in answer.inner_text() and "\n  <amount-spent" in answer.inner_text()  # indented XML
    assert detail.get_by_text("No fault rule struck it.").is_visible()
    assert page.evaluate("document.activeElement.id") == "detail-heading"
    shot(page, "requests-detail")
    assert axe(page) == []

    # the link reproduces the view: a fresh tab at the same URL opens the same request
    page.goto(page.url)
    page.locator("#detail").get_by_role("heading", name=f"Request #{entry['id']}: POST /api/rewards.xml").wait_for()


def test_the_filters_are_in_the_url_and_narrow_the_live_list(console_server: Any, page: Any, shot: Any, axe: Any,
                                                             admin: Any) -> None:
    open_requests(page, console_server.url + "/__admin/console/requests")
    page.get_by_label("Dialect").select_option("memberpoints")
    page.get_by_label("Status").fill("2xx")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/requests?**")
    assert "dialect=memberpoints" in page.url and "status=2xx" in page.url
    page.get_by_text("Live: new requests appear here as they arrive.").wait_for()
    assert page.get_by_label("Dialect").input_value() == "memberpoints"

    assert spend(console_server.url, "filtered-out") == 200
    assert call(console_server.url, "GET", "/webapps/api/memberpointsbalances", MEMBERPOINTS) == 200
    page.locator("tbody tr", has_text="/webapps/api/memberpointsbalances").first.wait_for()
    assert page.locator("tbody tr", has_text="/api/rewards.xml").count() == 0
    listed = [cell.inner_text() for cell in page.locator("tbody tr td:nth-child(4)").all()]
    assert listed and set(listed) == {"memberpoints"}
    assert newest(admin, dialect="imonggo")["query"].endswith("reference=filtered-out")  # it was journaled
    shot(page, "requests-filtered")
    assert axe(page) == []


def test_a_fault_struck_request_names_its_rule(console_server: Any, page: Any, shot: Any, axe: Any, admin: Any) -> None:
    status, rule = admin("POST", "/faults", {"effect": "status", "status": 503, "dialect": "memberpoints", "times": 1})
    assert status == 201
    try:
        open_requests(page, console_server.url + "/__admin/console/requests?dialect=memberpoints")
        assert call(console_server.url, "GET", "/webapps/api/memberpointsbalances", MEMBERPOINTS) == 503
        row = page.locator("tbody tr", has_text=rule["id"]).first
        row.wait_for()
        row.get_by_role("link").click()
        struck = page.locator("#fault-struck")
        struck.wait_for()
        assert f"Fault rule {rule['id']} struck: status 503, before the handler" in struck.inner_text()
        assert newest(admin, dialect="memberpoints")["fault"]["id"] == rule["id"]
        shot(page, "requests-fault")
        assert axe(page) == []
    finally:
        admin("DELETE", f"/faults/{rule['id']}")


@pytest.mark.parametrize("entry", ["999999"])
def test_an_entry_no_longer_in_the_journal_says_so(console_server: Any, page: Any, entry: str) -> None:
    page.goto(console_server.url + f"/__admin/console/requests?entry={entry}")
    page.get_by_text("It is no longer in the journal (or never was).").wait_for()



def test_with_an_admin_token_the_page_asks_once_and_follows_the_stream_with_it(guarded_server: Any, page: Any,
                                                                               shot: Any, axe: Any) -> None:
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization")))
            if "/requests/stream" in r.url else None)
    page.goto(guarded_server.url + "/__admin/console/requests")
    page.get_by_role("textbox", name="Admin token").fill(ADMIN_TOKEN)
    shot(page, "requests-token")
    page.get_by_role("button", name="Use this token").click()
    page.get_by_text("Live: new requests appear here as they arrive.").wait_for()
    assert page.get_by_role("textbox", name="Admin token").count() == 0  # asked once, for every call waiting
    assert spend(guarded_server.url, "guarded") == 200
    page.locator("tbody tr", has_text="reference=guarded").first.wait_for()
    assert sent and all(auth == f"Bearer {ADMIN_TOKEN}" for _, auth in sent), sent
    status, _ = kit.admin_call(guarded_server.url, "GET", "/requests/stream?timeout=0")
    assert status == 401  # the stream itself still wants the token
    assert axe(page) == []


def test_a_json_request_opens_to_both_bodies_indented(console_server: Any, page: Any, admin: Any) -> None:
    open_requests(page, console_server.url + "/__admin/console/requests?dialect=memberpoints")
    body = {"mbr_id": 1534, "adjustpoints": "-25", "adjustmentnote": "console"}
    assert call(console_server.url, "POST", "/webapps/api/memberpoints", MEMBERPOINTS, body) == 200
    row = page.locator("tbody tr", has_text="POST").first
    row.wait_for()
    row.get_by_role("link").click()
    sent = page.locator("pre[aria-label='Request body']")
    sent.wait_for()
    assert sent.inner_text() == '{\n  "mbr_id": 1534,\n  "adjustpoints": "-25",\n  "adjustmentnote": "console"\n}'
    answer = page.locator("pre[aria-label='Answer body']").inner_text()
    assert answer.startswith("{\n  ") and '"adjustpoints": "-25.00"' in answer
    entry = newest(admin, dialect="memberpoints", method="POST")
    assert json.loads(entry["request_body"]["text"]) == body


def test_older_requests_are_paged_by_id_and_the_page_is_in_the_url(console_server: Any, page: Any, shot: Any,
                                                                   admin: Any) -> None:
    for n in range(55):
        assert call(console_server.url, "GET", "/api/customers/1534.json", IMONGGO) == 200
    open_requests(page, console_server.url + "/__admin/console/requests?path=/api/customers/")
    rows = page.locator("tbody tr")
    assert rows.count() == 50
    newest_shown = int(rows.first.get_by_role("link").inner_text().lstrip("#"))
    oldest_shown = int(rows.last.get_by_role("link").inner_text().lstrip("#"))
    page.get_by_role("link", name="Older requests").click()
    page.wait_for_url(f"**before={oldest_shown}**")
    assert "path=%2Fapi%2Fcustomers%2F" in page.url or "path=/api/customers/" in page.url
    page.get_by_text("Showing older requests").wait_for()
    older = [int(a.inner_text().lstrip("#")) for a in page.locator("tbody tr td:first-child a").all()]
    _, listed = admin("GET", f"/requests?path=/api/customers/&before={oldest_shown}&limit=50")
    assert older == [e["id"] for e in listed["requests"]] and older and max(older) < oldest_shown < newest_shown
    page.get_by_role("link", name="Newest requests").click()
    page.get_by_text("Live: new requests appear here as they arrive.").wait_for()
    shot(page, "requests-paged")


def test_an_upstream_tenants_request_opens_to_its_upstream_exchanges(console_server: Any, page: Any, shot: Any,
                                                                     axe: Any, admin: Any) -> None:
    """A tenant whose points live upstream (this same server's demo tenant, spoken to in imonggo)."""
    demo = json.loads((kit.ROOT / "gateway" / "data" / "demo.json").read_text(encoding="utf-8"))["tenants"][0]
    juan = {k: v for k, v in demo["members"][0].items() if k != "balances"}
    tenant = {**demo, "members": [juan], "upstream": {
        "dialect": "imonggo", "base_url": console_server.url, "credentials": {"api_token": TOKEN}, "record": False}}
    status, made = admin("POST", "/tenants", {"scenario": {"tenants": [tenant]}, "name": "via-upstream"})
    assert status == 201, made
    mine = {"Authorization": "Basic " + base64.b64encode(f"{made['imonggo']['api_token']}:X".encode()).decode()}
    open_requests(page, console_server.url + "/__admin/console/requests?tenant=via-upstream")
    assert call(console_server.url, "GET", "/api/customers/1534.json", mine) == 200
    row = page.locator("tbody tr", has_text="/api/customers/1534.json").first
    row.wait_for()
    row.get_by_role("link").click()
    exchange = page.locator("#detail .card").first
    exchange.wait_for()
    entry = newest(admin, tenant="via-upstream")
    assert entry["upstream"] and entry["upstream"][0]["url"].startswith(console_server.url + "/api/")
    cards = page.locator("#detail .card")
    assert cards.count() == len(entry["upstream"])
    for card, forwarded in zip(cards.all(), entry["upstream"]):
        assert f"{forwarded['method']} {forwarded['url']} → {forwarded['status']}" in card.inner_text()
    assert made["imonggo"]["api_token"] not in page.content() and TOKEN not in page.content()
    shot(page, "requests-upstream")
    assert axe(page) == []


def test_back_closes_an_opened_request_and_the_skip_link_keeps_it_open(console_server: Any, page: Any) -> None:
    open_requests(page, console_server.url + "/__admin/console/requests")
    assert spend(console_server.url, "back-1") == 200
    row = page.locator("tbody tr", has_text="reference=back-1").first
    row.wait_for()
    row.get_by_role("link").click()
    detail = page.locator("#detail")
    detail.get_by_text("Request headers (secrets masked)").wait_for()
    page.goto(page.url + "#main")  # a hash change only: the opened request stays
    assert detail.is_visible()
    page.go_back()  # to the URL with the request open (the hash gone)
    assert detail.is_visible()
    page.go_back()  # before it was opened
    page.wait_for_function("document.getElementById('detail').hidden === true")
    assert "entry=" not in page.url


def test_a_refused_token_on_the_stream_asks_for_it_instead_of_retrying(guarded_server: Any, page: Any) -> None:
    """The stream answers 401 (the token kept in the tab is wrong for it): the page asks for the token and sends
    nothing more until it is given, then follows the stream with it."""
    streams: list[str | None] = []

    def wrong_first(route: Any) -> None:
        streams.append(route.request.headers.get("authorization"))
        if len(streams) == 1:  # the real server refuses this one: a 401 from the gateway itself
            route.continue_(headers={**route.request.headers, "authorization": "Bearer not-the-token"})
        else:
            route.continue_()

    page.route("**/__admin/requests/stream*", wrong_first)
    page.goto(guarded_server.url + "/__admin/console/requests")
    page.get_by_role("textbox", name="Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Use this token").click()  # the list's own call asks first
    page.get_by_text("Wrong admin token.").wait_for()  # then the stream's 401 asks again, once
    page.wait_for_timeout(3000)
    assert len(streams) == 1, streams  # no retry every second while the token is wanted
    page.get_by_role("textbox", name="Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Use this token").click()
    page.get_by_text("Live: new requests appear here as they arrive.").wait_for()
    assert len(streams) == 2 and page.get_by_role("textbox", name="Admin token").count() == 0

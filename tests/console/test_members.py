"""The console's Members page in a real browser: Juan Cruz (1534) found by customer id and by e-mail; a debit
made from his page changes his balance and its chart in all three dialect views (checked through the admin API
and each dialect's own read); a refused spend shows imonggo's own error and changes nothing; a card purchase
holds pending rewards; the list pages through the tenant; screenshots and axe on each view."""
from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import process
from tests.console import browser as kit

MEMBERS = "/__admin/console/members"
IMONGGO = {"Authorization": "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode()}
MEMBERPOINTS = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
JUAN_CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


def call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    sent = {**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def dialect_reads(base: str) -> dict[str, Decimal]:
    """Juan's points as each dialect's own API answers them (with the demo tenant's credentials)."""
    _, customer = call(f"{base}/api/customers/1534.json", headers=IMONGGO)
    _, balances = call(f"{base}/webapps/api/memberpointsbalances?mbr_id=1534", headers=MEMBERPOINTS)
    _, grant = call(f"{base}/oauth/token", "POST", {"client_id": "demo-client-id", "client_secret": "demo-client-secret",
                                                    "audience": "https://api.pomelo.la", "grant_type": "client_credentials"})
    _, pomelo = call(f"{base}/loyalty/v1/accounts/balance?card_id={JUAN_CARD}",
                     headers={"Authorization": f"Bearer {grant['access_token']}"})
    return {"imonggo": Decimal(customer["available_points"]),
            "memberpoints": Decimal(str(balances["data"][0]["mbr_points_balance"])),
            "pomelo": Decimal(str(pomelo["points"]))}


def admin_points(admin: Any) -> Decimal:
    status, answer = admin("GET", "/members?tenant=demo&member=1534")
    assert status == 200, answer
    (juan,) = answer["members"]
    return Decimal(juan["balances"]["points"]["posted"])


def shown(page: Any) -> dict[str, Decimal]:
    """The three dialect views of the points balance as the member page shows them."""
    cells = {"imonggo": "available_points", "memberpoints": "mbr_points_balance", "pomelo": "points"}
    return {d: Decimal(page.locator(f'[data-dialect="{d}"][data-field="{f}"]').inner_text()) for d, f in cells.items()}


def chart_latest(page: Any) -> tuple[int, Decimal]:
    label = page.locator("#balance-chart svg").get_attribute("aria-label")
    found = re.fullmatch(r"Points balance: (\d+) points, latest (-?[0-9.]+)", label or "")
    assert found, label
    return int(found.group(1)), Decimal(found.group(2))


def open_juan(page: Any, base: str) -> None:
    page.goto(f"{base}{MEMBERS}?tenant=demo&member=1534")
    page.wait_for_selector("body[data-ready=members]")
    page.wait_for_selector('[data-dialect="pomelo"][data-field="points"]')
    page.wait_for_selector("#balance-chart svg")


def find(page: Any, base: str, identity: str) -> None:
    page.goto(base + MEMBERS)
    page.wait_for_selector("body[data-ready=members]")
    page.get_by_label("Tenant", exact=True).fill("demo")
    page.get_by_label("Identity or name", exact=True).fill(identity)
    page.get_by_role("button", name="Find").click()


def test_juan_cruz_is_found_by_customer_id_and_by_email(console_server: Any, page: Any, shot: Any, axe: Any) -> None:
    base = console_server.url
    find(page, base, "1534")
    page.get_by_role("heading", name="Juan Cruz (demo)").wait_for()
    assert "member=id%3A" in page.url or "member=id:" in page.url
    shot(page, "members-juan")
    assert axe(page) == []

    # Juan has no e-mail in the demo: a client gives him one through imonggo's own API, then he is found by it.
    status, _ = call(f"{base}/api/customers/1534.json", "PUT", {"customer": {"email": "juan.cruz@example.com"}},
                     headers=IMONGGO)
    assert status == 200
    find(page, base, "Juan.Cruz@example.com")
    page.get_by_role("heading", name="Juan Cruz (demo)").wait_for()
    assert "memberpoints: mbr_id 1534 · mbr_email juan.cruz@example.com" in page.locator("#member-ids").inner_text()

    find(page, base, "nobody@example.com")
    page.get_by_text("No member of demo is nobody@example.com.").wait_for()
    find(page, base, "not anybody's name")
    page.get_by_text("No member of demo has a name (or id) containing not anybody's name.").wait_for()
    assert page.locator("#member-section").is_hidden()


def test_juan_cruz_is_found_by_name_and_a_wide_search_asks_to_narrow_it(console_server: Any, page: Any, admin: Any) -> None:
    base = console_server.url
    find(page, base, "Juan Cruz")  # not an identity: the names are searched
    page.get_by_role("heading", name="Juan Cruz (demo)").wait_for()
    assert "imonggo: customer_id 1534" in page.locator("#member-ids").inner_text()

    find(page, base, "j")  # Juan Cruz, Johnson, Jason
    page.locator("#find-status", has_text="3 members match j:").wait_for()
    assert page.locator("#find-results li").count() == 3

    status, made = admin("POST", "/tenants", {"name": "crowd", "generate": 45})
    assert status == 201, made
    page.goto(base + MEMBERS)
    page.wait_for_selector("body[data-ready=members]")
    page.get_by_label("Tenant", exact=True).fill("crowd")
    page.get_by_label("Identity or name", exact=True).fill("a")
    page.get_by_role("button", name="Find").click()
    status_line = page.locator("#find-status", has_text="narrow your search")
    status_line.wait_for()
    assert re.match(r"\d+ members match a; the first 20 are shown", status_line.inner_text())
    assert page.locator("#find-results li").count() == 20


def test_a_debit_moves_all_three_views_and_the_chart(console_server: Any, page: Any, admin: Any, shot: Any,
                                                   axe: Any) -> None:
    base = console_server.url
    open_juan(page, base)
    before = admin_points(admin)
    assert shown(page) == dialect_reads(base) == dict.fromkeys(("imonggo", "memberpoints", "pomelo"), before)
    count, latest = chart_latest(page)
    assert latest == before

    debit = page.locator('form[data-kind="debit"][data-dialect="memberpoints"]')
    debit.get_by_label("Points to debit").fill("25")
    debit.get_by_role("button", name="Debit").click()
    debit.get_by_text("Done: 200").wait_for()
    expect(page.locator('[data-dialect="pomelo"][data-field="points"]')).to_have_text(str(int(before - 25)))

    after = admin_points(admin)
    assert after == before - 25
    assert shown(page) == dialect_reads(base) == dict.fromkeys(("imonggo", "memberpoints", "pomelo"), after)
    assert chart_latest(page) == (count + 1, after)
    rows = page.locator("#member-entries tbody tr").all_inner_texts()
    assert any("-25.00" in row and "confirmed" in row and "memberpoints" in row and "console debit" in row
               for row in rows), rows
    shot(page, "members-debit")
    assert axe(page) == []


def test_a_refused_spend_shows_imonggos_error_and_changes_nothing(console_server: Any, page: Any, admin: Any) -> None:
    base = console_server.url
    open_juan(page, base)
    before = admin_points(admin)
    spend = page.locator('form[data-kind="debit"][data-dialect="imonggo"]')
    spend.get_by_label(re.compile("Amount spent")).fill("999999999")
    spend.get_by_role("button", name="Debit").click()
    spend.get_by_text(re.compile(r"Refused: 422 .*Insufficient points")).wait_for()
    assert "Insufficient points" in spend.locator("pre").inner_text()  # the vendor's own body, pretty-printed
    assert admin_points(admin) == before

    spend.get_by_label(re.compile("Amount spent")).fill("ten")
    spend.get_by_role("button", name="Debit").click()
    spend.get_by_text("The amount must be a number such as 25 or 10.50.").wait_for()

    spend.get_by_label(re.compile("Amount spent")).fill("1")  # the README's spend, through the same form
    spend.get_by_role("button", name="Debit").click()
    spend.get_by_text("Done: 200").wait_for()
    assert admin_points(admin) < before


def test_a_card_purchase_holds_pending_rewards(console_server: Any, page: Any, admin: Any, shot: Any, axe: Any) -> None:
    base = console_server.url
    open_juan(page, base)
    _, before = admin("GET", "/entries?tenant=demo&member=1534&limit=0")
    purchase = page.locator('form[data-kind="purchase"]')
    purchase.get_by_label(re.compile("Purchase total")).fill("1500.50")
    purchase.get_by_role("button", name="Purchase").click()
    purchase.get_by_text("Done: accepted by the admin API.").wait_for()
    assert "ctx-" in purchase.locator("pre").inner_text()

    _, entries = admin("GET", f"/entries?tenant=demo&member=1534&offset={before['total']}")
    assert entries["entries"] and all(e["status"] == "pending" and e["kind"] == "reward" for e in entries["entries"])
    page.locator("#member-entries tbody tr", has_text="pending").first.wait_for()
    shot(page, "members-purchase")
    assert axe(page) == []


def test_the_list_pages_through_a_tenant(console_server: Any, page: Any, admin: Any, shot: Any, axe: Any) -> None:
    status, made = admin("POST", "/tenants", {"name": "many", "generate": 45})
    assert status == 201, made
    page.goto(f"{console_server.url}{MEMBERS}?tenant=many")
    page.wait_for_selector("body[data-ready=members]")
    listing = page.locator("#member-list")
    listing.get_by_text("20 members", exact=True).wait_for()
    assert listing.get_by_role("button", name="First page").is_disabled()
    first_page = listing.locator("tbody tr").all_inner_texts()
    _, first = admin("GET", "/members?tenant=many&limit=20")
    listing.get_by_role("button", name="Next").click()
    listing.get_by_text(f"20 members after customer id {first['next']}").wait_for()
    assert f"after={first['next']}" in page.url
    _, second = admin("GET", f"/members?tenant=many&after={first['next']}&limit=20")
    assert [r.split("\t")[0] for r in listing.locator("tbody tr").all_inner_texts()] == [m["name"] for m in second["members"]]
    assert listing.locator("tbody tr").all_inner_texts() != first_page
    listing.get_by_role("button", name="Next").click()
    listing.get_by_text(f"5 members after customer id {second['next']}").wait_for()
    assert listing.get_by_role("button", name="Next").is_disabled()  # a short page is the last
    listing.get_by_role("button", name="First page").click()
    listing.get_by_text("20 members", exact=True).wait_for()
    assert listing.locator("tbody tr").all_inner_texts() == first_page
    shot(page, "members-list")
    assert axe(page) == []

    listing.locator("tbody a").first.click()
    page.get_by_role("heading", name=re.compile(r"\(many\)$")).wait_for()

    page.goto(f"{console_server.url}{MEMBERS}?tenant=nobody")
    page.get_by_text(re.compile("Could not list the members of nobody: no tenant named")).wait_for()


def test_with_an_admin_token_the_page_asks_once_and_its_buttons_send_it(page: Any, tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", f"sqlite:///{tmp_path / 'token.db'}", "--scenario", "demo",
                            "--admin-token", "s3cret-token"], tmp_path, timeout=60)
    try:
        page.goto(f"{server.url}{MEMBERS}?tenant=demo&member=1534")
        page.get_by_label("Admin token", exact=True).fill("s3cret-token")
        page.get_by_role("button", name="Use this token").click()
        page.get_by_role("heading", name="Juan Cruz (demo)").wait_for()
        purchase = page.locator('form[data-kind="purchase"]')  # an admin call: the token goes with it
        purchase.get_by_label(re.compile("Purchase total")).fill("10")
        purchase.get_by_role("button", name="Purchase").click()
        purchase.get_by_text("Done: accepted by the admin API.").wait_for()
        debit = page.locator('form[data-kind="debit"][data-dialect="memberpoints"]')  # a dialect call: credentials
        debit.get_by_label("Points to debit").fill("1")
        debit.get_by_role("button", name="Debit").click()
        debit.get_by_text("Done: 200").wait_for()
        assert page.get_by_label("Admin token", exact=True).count() == 0  # asked once
        status, answer = kit.admin_call(server.url, "GET", "/entries?tenant=demo&member=1534", token="s3cret-token")
        assert status == 200 and [e["kind"] for e in answer["entries"]][-2:] == ["reward", "adjustment"]
        assert kit.admin_call(server.url, "GET", "/members?tenant=demo&member=1534")[0] == 401
    finally:
        server.stop()


@pytest.mark.parametrize("origin", ["http://evil.example"])
def test_the_members_data_is_refused_to_another_origin(console_server: Any, admin: Any, origin: str) -> None:
    status, answer = admin("GET", "/members/actions?tenant=demo&member=1534", headers={"Origin": origin})
    assert status == 403, answer


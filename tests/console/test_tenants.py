"""The Tenants page in a real browser: create a demo copy (its credentials and curl commands shown and the
imonggo one run as a user would paste it), load a pasted scenario, refuse bad ones with the admin API's
words, reset and delete behind a confirmation, page through many tenants; every result checked through the
admin API. And the two admin calls the page relies on, GET /tenants/{name}/credentials and paged GET
/tenants, over real HTTP with their unhappy paths."""
from __future__ import annotations

import copy
import json
import subprocess
from decimal import Decimal
from typing import Any

from playwright.sync_api import expect

from tests.support import FIXTURES

DEMO = json.loads((FIXTURES / "scenarios" / "demo.json").read_text(encoding="utf-8"))
TENANTS = "/__admin/console/tenants"


def scenario(name: str) -> dict[str, Any]:
    spec = copy.deepcopy(DEMO["tenants"][0])
    spec.update(name=name, imonggo={"api_token": f"{name}-token"},
                memberpoints={"api_id": f"{name}-id", "api_key": f"{name}-key", "cid": 7},
                pomelo={"client_id": f"{name}-client", "client_secret": "s"})
    return {"tenants": [spec]}


def balance(admin: Any, tenant: str) -> str:
    status, body = admin("GET", f"/members?tenant={tenant}&q=1534&limit=1")
    assert status == 200, body
    return str(body["members"][0]["balances"]["points"]["posted"])


def test_create_a_demo_copy_see_its_credentials_and_run_its_curl_line(console_server: Any, page: Any, admin: Any,
                                                                      shot: Any, axe: Any) -> None:
    page.goto(console_server.url + TENANTS)
    page.get_by_label("Name of the copy").fill("shop-one")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("#create-status")).to_have_text("Created shop-one with 3 members.")
    status, tenant = admin("GET", "/tenants/shop-one")
    assert status == 200 and tenant["members"] == 3
    # the fresh logins' passwords are shown this once; the stored credentials below, with the curl lines
    expect(page.locator("#created")).to_contain_text("demo+shop-one@example.com")
    status, stored = admin("GET", "/tenants/shop-one/credentials")
    token = stored["dialects"]["imonggo"]["credentials"]["api_token"]
    assert token != "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
    expect(page.locator("#credentials")).to_contain_text("Tenant shop-one:")
    curl = page.locator("#credentials .card", has_text="imonggo").locator("pre").inner_text()
    assert curl.startswith(f"curl -u {token}:X -X POST '{console_server.url}/api/rewards.xml?q=spend")
    for dialect in ("memberpoints", "pomelo"):
        expect(page.locator("#credentials .card", has_text=dialect).locator("pre")).to_contain_text(console_server.url)
    shot(page, "tenants")
    assert axe(page) == []

    before = balance(admin, "shop-one")
    ran = subprocess.run(["bash", "-c", curl + " --silent --fail"], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0 and "<points-spent" in ran.stdout, ran.stdout + ran.stderr
    assert balance(admin, "shop-one") != before  # the line spent on the copy, not on the demo
    assert balance(admin, "demo") == "30511.00"


def test_the_copy_button_puts_the_curl_line_on_the_clipboard(console_server: Any, browser: Any) -> None:
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_server.url)
    page = context.new_page()
    try:
        page.goto(console_server.url + TENANTS)
        card = page.locator("#credentials .card", has_text="memberpoints")
        card.get_by_role("button", name="Copy the memberpoints curl command").click()
        expect(card.get_by_role("button", name="Copy the memberpoints curl command")).to_have_text("Copied")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == card.locator("pre").inner_text()
        assert "-H 'apiID: demo-api-id' -H 'apiKey: demo-api-key'" in copied
    finally:
        context.close()


def test_a_pasted_scenario_is_loaded_and_a_bad_one_is_refused_in_the_admin_apis_words(
        console_server: Any, page: Any, admin: Any) -> None:
    page.goto(console_server.url + TENANTS)
    page.get_by_label("a scenario document pasted below").check()
    box = page.get_by_label("Scenario document (JSON)")
    create = page.get_by_role("button", name="Create tenant")
    status_line = page.locator("#create-status")

    box.fill("{not json")
    create.click()
    expect(status_line).to_contain_text("The scenario is not JSON")
    bad = scenario("pasted")
    bad["tenants"][0]["members"][0]["balances"] = {"points": "1.234"}
    box.fill(json.dumps(bad))
    create.click()
    expect(status_line).to_contain_text("The scenario was refused: ")
    expect(status_line).to_contain_text("tenants[0].members[0].balances.points")
    assert admin("GET", "/tenants/pasted")[0] == 404

    box.fill(json.dumps(scenario("pasted")))
    create.click()
    expect(status_line).to_have_text("Added pasted with the scenario's own credentials.")
    status, stored = admin("GET", "/tenants/pasted/credentials")
    assert status == 200 and stored["dialects"]["imonggo"]["credentials"]["api_token"] == "pasted-token"
    expect(page.get_by_role("button", name="Delete pasted")).to_be_visible()

    create.click()  # the same document again: its name is taken
    expect(status_line).to_have_text("The scenario was refused: a tenant named 'pasted' exists already")


def test_a_taken_name_is_said_and_nothing_is_made(console_server: Any, page: Any, admin: Any) -> None:
    page.goto(console_server.url + TENANTS)
    page.get_by_label("Name of the copy").fill("demo")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("#create-status")).to_contain_text("Could not create the tenant: ")
    expect(page.locator("#create-status")).to_contain_text("'demo'")
    assert admin("GET", "/tenants")[1]["total"] == len(admin("GET", "/tenants")[1]["tenants"])


def test_reset_and_delete_ask_first(console_server: Any, page: Any, admin: Any) -> None:
    assert admin("POST", "/tenants", {"name": "shop-two"})[0] == 201
    status, stored = admin("GET", "/tenants/shop-two/credentials")
    token = stored["dialects"]["imonggo"]["credentials"]["api_token"]
    subprocess.run(["curl", "-sf", "-u", f"{token}:X", "-X", "POST",
                    f"{console_server.url}/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=R"],
                   check=True, capture_output=True, timeout=30)
    spent = balance(admin, "shop-two")
    assert spent != "30511.00"

    page.goto(console_server.url + TENANTS)
    page.get_by_role("button", name="Reset shop-two").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Reset shop-two to the scenario it came from?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    assert balance(admin, "shop-two") == spent
    page.get_by_role("button", name="Reset shop-two").click()
    page.get_by_role("button", name="Yes, reset shop-two").click()
    expect(page.locator("#list-status")).to_have_text("Reset shop-two to its scenario.")
    assert balance(admin, "shop-two") == "30511.00"

    page.get_by_role("button", name="Delete shop-two").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("This cannot be undone.")
    page.get_by_role("button", name="Cancel").click()
    assert admin("GET", "/tenants/shop-two")[0] == 200
    page.get_by_role("button", name="Delete shop-two").click()
    page.get_by_role("button", name="Yes, delete shop-two").click()
    expect(page.locator("#list-status")).to_have_text("Deleted shop-two.")
    assert admin("GET", "/tenants/shop-two")[0] == 404
    expect(page.get_by_role("button", name="Delete shop-two")).to_have_count(0)


def test_the_list_is_paged_through_the_admin_api(console_server: Any, page: Any, admin: Any) -> None:
    for n in range(22):
        assert admin("POST", "/tenants", {"name": f"many-{n:02d}"})[0] == 201
    total = admin("GET", "/tenants?limit=0")[1]["total"]
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/__admin/tenants?" in r.url else None)
    page.goto(console_server.url + TENANTS)
    expect(page.locator("caption")).to_have_text(f"Tenants ({total})")
    pager = page.get_by_role("navigation", name="Tenant pages")
    expect(pager).to_contain_text(f"1–20 of {total}")
    assert page.locator("#tenant-list tbody tr").count() == 20
    pager.get_by_role("button", name="Next").click()
    expect(pager).to_contain_text(f"21–{min(40, total)} of {total}")
    assert all("limit=20" in url for url in asked) and any("offset=20" in url for url in asked)


# -- the admin calls behind the page, over real HTTP --------------------------------------------------------------


def test_credentials_of_an_unknown_tenant_are_a_404(admin: Any) -> None:
    assert admin("GET", "/tenants/nobody/credentials") == (
        404, {"error": {"status": 404, "message": "no tenant named 'nobody'"}})


def test_credentials_show_no_password_and_a_curl_line_per_dialect(admin: Any, console_server: Any) -> None:
    status, body = admin("GET", "/tenants/demo/credentials")
    assert status == 200 and set(body["dialects"]) == {"imonggo", "memberpoints", "pomelo"}
    assert "password" not in json.dumps(body)
    assert body["dialects"]["imonggo"]["credentials"]["users"] == [{"email": "demo@example.com"}]
    assert all(part["curl"] and console_server.url in part["curl"] for part in body["dialects"].values())


def test_tenant_paging_counts_and_refuses_what_is_no_page(admin: Any) -> None:
    everything = admin("GET", "/tenants")[1]
    assert everything["total"] == len(everything["tenants"])
    status, page = admin("GET", "/tenants?offset=1&limit=1")
    assert status == 200 and page["tenants"] == everything["tenants"][1:2] and page["total"] == everything["total"]
    for bad in ("limit=-1", "offset=x", "limit=10001"):
        status, body = admin("GET", "/tenants?" + bad)
        assert status == 400 and "must be a whole number" in body["error"]["message"], bad


def test_a_newcomer_copies_the_spend_runs_it_and_sees_it_counted(console_server: Any, browser: Any,
                                                                 admin: Any) -> None:
    """From / to the Tenants page by the nav, the demo's imonggo curl line off the clipboard into a shell, then
    the Overview's count of imonggo requests and the balance in the admin API both move."""
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_server.url)
    page = context.new_page()
    try:
        page.goto(console_server.url + "/")
        page.get_by_role("navigation", name="Console pages").get_by_role("link", name="Tenants").click()
        page.get_by_role("button", name="Credentials of demo").click()
        expect(page.locator("#credentials")).to_contain_text("Tenant demo:")
        page.get_by_role("button", name="Copy the imonggo curl command").click()
        line = page.evaluate("() => navigator.clipboard.readText()")
        assert "customer_id=1534" in line and "q=spend" in line
        before = balance(admin, "demo")
        ran = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30)
        assert ran.returncode == 0 and "<points-spent" in ran.stdout, ran.stdout + ran.stderr
        assert Decimal(balance(admin, "demo")) < Decimal(before)
        page.get_by_role("navigation", name="Console pages").get_by_role("link", name="Overview").click()
        row = page.locator("#traffic-table tr", has_text="imonggo")
        expect(row).to_be_visible()
        assert int(row.locator("td").nth(1).inner_text()) >= 1
    finally:
        context.close()


def test_secrets_are_masked_until_revealed_and_copy_copies_the_real_value(console_server: Any, browser: Any,
                                                                          admin: Any, axe: Any) -> None:
    """client_secret, webhook_api_secret, api_key and api_token show as dots when the page opens; each has a
    Reveal toggle (aria-pressed) and a Copy button that copies the real value, masked or not."""
    status, stored = admin("GET", "/tenants/demo/credentials")
    assert status == 200
    secrets = {name: str(value) for part in stored["dialects"].values() for name, value in part["credentials"].items()
               if name in ("client_secret", "webhook_api_secret", "api_key", "api_token") and value}
    assert {"api_token", "api_key", "client_secret"} <= set(secrets), secrets
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_server.url)
    page = context.new_page()
    try:
        page.goto(console_server.url + TENANTS)
        expect(page.locator("#credentials")).to_contain_text("Tenant demo:")
        values = page.locator("#credentials dd")
        for name, value in secrets.items():
            code = page.locator(f'#credentials code[data-secret="{name}"]')
            expect(code).to_have_text("••••••••")
            assert not any(value in text for text in values.all_inner_texts()), name
        for name, value in secrets.items():
            dd = page.locator(f'#credentials dd:has(code[data-secret="{name}"])')
            dd.get_by_role("button", name=f"Copy {name}").click()
            assert page.evaluate("() => navigator.clipboard.readText()") == value  # copied while masked
            reveal = dd.get_by_role("button", name=f"Reveal {name}")
            expect(reveal).to_have_attribute("aria-pressed", "false")
            reveal.click()
            expect(reveal).to_have_attribute("aria-pressed", "true")
            expect(dd.locator("code")).to_have_text(value)
            reveal.click()
            expect(dd.locator("code")).to_have_text("••••••••")
        assert axe(page) == []
    finally:
        context.close()

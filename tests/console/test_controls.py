"""The Faults, clock and rate limits page in a real browser: add a fault rule and see it strike a real
request, the banner on every page while it is in force and gone once it is removed; freeze, shift and reset
the clock; set and clear a rate limit; bad input refused in the admin API's words. Each result is checked
through the admin API."""
from __future__ import annotations

import subprocess
from typing import Any

from playwright.sync_api import expect

CONTROLS = "/__admin/console/controls"
DEMO_TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"


def imonggo_status(server: Any) -> int:
    ran = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", f"{DEMO_TOKEN}:X",
                          f"{server.url}/api/customers/1534.xml"], capture_output=True, text=True, timeout=30)
    return int(ran.stdout)


def test_a_fault_rule_added_strikes_shows_a_banner_everywhere_and_goes(console_server: Any, page: Any, admin: Any,
                                                                       shot: Any, axe: Any) -> None:
    page.goto(console_server.url + CONTROLS)
    expect(page.locator("#banner")).to_be_hidden()
    page.get_by_label("Effect").select_option("status")
    page.get_by_label("Status", exact=True).fill("502")
    page.get_by_label("Dialect").select_option("imonggo")
    page.get_by_label("Path (glob)").fill("/api/customers/*")
    page.get_by_role("button", name="Add fault rule").click()
    expect(page.locator("#faults-status")).to_contain_text("Added flt-")
    [rule] = admin("GET", "/faults")[1]["faults"]
    assert (rule["effect"], rule["status"], rule["dialect"], rule["path"]) == ("status", 502, "imonggo", "/api/customers/*")
    expect(page.locator("#banner")).to_contain_text("1 fault rule in force")
    assert imonggo_status(console_server) == 502
    # the hit counted, once the page asks again (every 5 seconds)
    expect(page.get_by_role("row", name=rule["id"])).to_contain_text("1 of ∞", timeout=12_000)
    shot(page, "controls")
    assert axe(page) == []

    page.goto(console_server.url + "/__admin/console/tenants")  # another page: the banner is there too
    expect(page.locator("#banner")).to_contain_text("1 fault rule in force (status 502 on imonggo /api/customers/*)")
    page.locator("#banner").get_by_role("link", name="Change it").click()
    page.get_by_role("button", name=f"Remove {rule['id']}").click()
    expect(page.locator("#faults-status")).to_have_text(f"Removed {rule['id']}.")
    assert admin("GET", "/faults")[1]["faults"] == []
    expect(page.locator("#banner")).to_be_hidden()
    assert imonggo_status(console_server) == 200
    page.goto(console_server.url + "/__admin/console/tenants")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#banner")).to_be_hidden()


def test_a_bad_fault_rule_is_refused_in_the_admin_apis_words(console_server: Any, page: Any, admin: Any) -> None:
    page.goto(console_server.url + CONTROLS)
    page.get_by_label("Probability (0 to 1)").fill("5")
    page.get_by_role("button", name="Add fault rule").click()
    expect(page.locator("#faults-status")).to_contain_text("Refused: ")
    expect(page.locator("#faults-status")).to_contain_text("probability")
    assert admin("GET", "/faults")[1]["faults"] == []
    page.get_by_label("Probability (0 to 1)").fill("1")
    page.get_by_label("Effect").select_option("drop")
    page.get_by_label("Times (empty: until removed)").fill("1")
    page.get_by_role("button", name="Add fault rule").click()
    page.get_by_label("Effect").select_option("latency")
    page.get_by_label("Latency (ms)").fill("10")
    page.get_by_role("button", name="Add fault rule").click()
    expect(page.get_by_role("button", name="Remove every rule")).to_be_visible()
    expect(page.locator("#faults tbody tr")).to_have_count(2)
    assert [r["effect"] for r in admin("GET", "/faults")[1]["faults"]] == ["drop", "latency"]
    page.get_by_role("button", name="Remove every rule").click()
    expect(page.locator("#faults-status")).to_have_text("Removed every fault rule.")
    assert admin("GET", "/faults")[1]["faults"] == []


def test_freeze_shift_and_reset_the_clock_with_the_banner(console_server: Any, page: Any, admin: Any) -> None:
    page.goto(console_server.url + CONTROLS)
    expect(page.locator("#clock-state")).to_contain_text("Real time: ")
    page.get_by_label("Freeze at").fill("2025-01-31T12:00:00Z")
    page.get_by_role("button", name="Freeze the clock").click()
    expect(page.locator("#clock-state")).to_have_text("Frozen at 2025-01-31T12:00:00Z.")
    assert admin("GET", "/clock")[1]["frozen_at"] == "2025-01-31T12:00:00Z"
    page.goto(console_server.url + "/__admin/console")
    expect(page.locator("#banner")).to_contain_text("The clock is frozen at 2025-01-31T12:00:00Z.")

    page.goto(console_server.url + CONTROLS)
    page.get_by_label("Freeze at").fill("yesterday")
    page.get_by_role("button", name="Freeze the clock").click()
    expect(page.locator("#clock-status")).to_contain_text("Refused: frozen_at")
    assert admin("GET", "/clock")[1]["frozen_at"] == "2025-01-31T12:00:00Z"  # unchanged

    page.get_by_role("button", name="Back to real time").click()
    expect(page.locator("#clock-status")).to_have_text("The clock is back to real time.")
    expect(page.locator("#banner")).to_be_hidden()
    assert admin("GET", "/clock")[1]["frozen_at"] is None

    page.get_by_label("Shift by").fill("3600")
    page.get_by_role("button", name="Shift the clock").click()
    expect(page.locator("#clock-state")).to_contain_text("Shifted by 3600")
    assert admin("GET", "/clock")[1]["offset_seconds"] == 3600
    expect(page.locator("#banner")).to_contain_text("The clock is shifted by 3600 s")
    page.get_by_role("button", name="Back to real time").click()
    expect(page.locator("#banner")).to_be_hidden()
    assert admin("GET", "/clock")[1]["offset_seconds"] == 0


def test_set_and_clear_a_rate_limit(console_server: Any, page: Any, admin: Any) -> None:
    page.goto(console_server.url + CONTROLS)
    form = page.get_by_role("form", name="Rate limit of memberpoints")
    form.get_by_label("Requests").fill("2")
    form.get_by_label("per seconds").fill("60")
    form.get_by_role("button", name="Set the memberpoints rate limit").click()
    expect(page.locator("#limits-status")).to_have_text("memberpoints: at most 2 requests per window.")
    assert admin("GET", "/rate-limits")[1]["memberpoints"] == {"limit": 2, "window_seconds": 60, "status": 429}
    expect(page.get_by_role("row", name="memberpoints")).to_contain_text("2 requests per 60 s, then 429")

    form.get_by_label("Requests").fill("0")
    form.get_by_role("button", name="Set the memberpoints rate limit").click()
    expect(page.locator("#limits-status")).to_contain_text("Refused: memberpoints.limit must be a whole number")
    assert admin("GET", "/rate-limits")[1]["memberpoints"]["limit"] == 2

    page.get_by_role("button", name="Turn the memberpoints rate limit off").click()
    expect(page.locator("#limits-status")).to_have_text("memberpoints: no rate limit.")
    assert admin("GET", "/rate-limits")[1]["memberpoints"] is None

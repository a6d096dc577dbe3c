"""The newcomer's path through the console (issue 16's Done when), in a real browser against a real server: open
/, go to Members, find Juan Cruz by typing 1534, run the README's imonggo spend curl, and see the request arrive
on the Requests page and Juan's balance drop on his member page, all without a reload; screenshots kept."""
from __future__ import annotations

import base64
import re
import shutil
import subprocess
import urllib.request
from decimal import Decimal
from typing import Any

from tests.console import browser as kit

TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"  # the demo tenant's imonggo API token (README)
IMONGGO = {"Authorization": "Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode()}
README = kit.ROOT / "README.md"


def readme_spend_curl() -> str:
    """The README's imonggo spend, exactly as written there (one command over two lines)."""
    text = README.read_text(encoding="utf-8")
    found = re.search(r"^curl -u \S+:X -X POST \\\n\s+\"http://127\.0\.0\.1:8080/api/rewards\.xml\?q=spend[^\"]*\"$", text,
                      re.MULTILINE)
    assert found, "the README's imonggo spend curl line is gone"
    return found.group(0).replace("\\\n", " ")


def posted(admin: Any) -> Decimal:
    status, answer = admin("GET", "/members?tenant=demo&member=1534")
    assert status == 200
    return Decimal(answer["members"][0]["balances"]["points"]["posted"])


def shown_imonggo(page: Any) -> Decimal:
    return Decimal(page.locator('[data-dialect="imonggo"][data-field="available_points"]').inner_text())


def wait_for_shown(page: Any, expected: Decimal) -> None:
    page.wait_for_function(
        "(want) => { const c = document.querySelector('[data-dialect=\"imonggo\"][data-field=\"available_points\"]');"
        " return c && Number(c.textContent) === want; }", arg=float(expected))


def test_the_member_page_follows_a_spend_made_elsewhere(console_server: Any, page: Any, admin: Any) -> None:
    """Juan's page is open; an imonggo spend made with urllib shows on it (balances, chart, entries) unasked."""
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/requests/stream" in r.url else None)
    page.goto(console_server.url + "/__admin/console/members?tenant=demo&member=1534")
    page.wait_for_selector("body[data-ready=members][data-live=members]")
    before = shown_imonggo(page)
    entries_before = page.locator("#member-entries tbody tr").count()
    request = urllib.request.Request(
        console_server.url + "/api/rewards.xml?q=spend&customer_id=1534&amount=3&reference=live-member",
        method="POST", headers=IMONGGO)
    with urllib.request.urlopen(request, timeout=15) as answer:
        assert answer.status == 200
    after = posted(admin)
    assert after < before
    wait_for_shown(page, after)  # no reload: the tenant's request stream made the page read Juan again
    page.locator("#member-entries td", has_text="live-member").first.wait_for()
    label = page.locator("#balance-chart svg").get_attribute("aria-label") or ""
    assert label.endswith(f"latest {after.normalize():f}") or label.endswith(f"latest {after}"), label
    assert page.locator("#member-entries tbody tr").count() >= min(entries_before + 1, 20)
    assert len(streams) == 1 and "tenant=demo" in streams[0], streams  # one stream, of Juan's tenant


def test_a_newcomer_finds_juan_spends_with_the_readme_curl_and_sees_it_live(console_server: Any, page: Any,
                                                                           admin: Any, shot: Any) -> None:
    if not shutil.which("curl"):
        kit.missing("curl", "apt-get install -y curl")
    base = console_server.url
    page.goto(base + "/")
    page.get_by_role("link", name="Members").first.click()
    page.wait_for_selector("body[data-ready=members]")
    page.get_by_label("Tenant", exact=True).fill("demo")
    page.get_by_label("Identity or name", exact=True).fill("1534")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("heading", name="Juan Cruz (demo)").wait_for()
    page.wait_for_selector("body[data-live=members]")
    shot(page, "newcomer-1-juan")
    before = shown_imonggo(page)

    requests_tab = page.context.new_page()
    requests_tab.goto(base + "/__admin/console/requests")
    requests_tab.get_by_text("Live: new requests appear here as they arrive.").wait_for()

    command = readme_spend_curl().replace("http://127.0.0.1:8080", base)
    run = subprocess.run(["bash", "-c", f"set -euo pipefail; {command}"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert "<error" not in run.stdout, run.stdout

    requests_tab.locator("tbody tr", has_text="reference=X-1").first.wait_for()  # arrived live on Requests
    shot(requests_tab, "newcomer-2-requests")
    after = posted(admin)
    assert after < before
    wait_for_shown(page, after)  # and on Juan's page, no reload
    assert page.get_by_role("heading", name="Juan Cruz (demo)").is_visible()
    shot(page, "newcomer-3-balance-dropped")


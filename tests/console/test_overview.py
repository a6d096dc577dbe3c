"""The Overview page in a real browser: requests per second and error rates per dialect drawn from
GET /__admin/metrics samples (one scrape per interval, no polling storm), the totals equal to what the
metrics say, the webhook backlog, and upstream health for tenants served through an upstream (one reachable,
one not)."""
from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from typing import Any

from playwright.sync_api import expect

DEMO_TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
SAMPLE_SECONDS = 5


def curl(*args: str) -> str:
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args], capture_output=True,
                          text=True, timeout=30).stdout


def requests_total(server: Any, dialect: str, errors: bool = False) -> int:
    with urllib.request.urlopen(server.url + "/__admin/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0
    for line in text.splitlines():
        match = re.match(r'loyalty_gateway_http_requests_total\{dialect="(\w+)",.*status="(\w+)"\} (\S+)', line)
        if match and match.group(1) == dialect and (not errors or not match.group(2).isdigit()
                                                    or int(match.group(2)) >= 400):
            total += int(float(match.group(3)))
    return total


def row_cells(page: Any, dialect: str) -> list[str]:
    return page.locator("#traffic-table tr", has_text=dialect).locator("td").all_inner_texts()


def test_rates_and_error_rates_per_dialect_from_the_metrics(console_server: Any, page: Any, shot: Any,
                                                            axe: Any) -> None:
    scrapes: list[float] = []
    page.on("request", lambda r: scrapes.append(time.monotonic()) if r.url.endswith("/__admin/metrics") else None)
    page.goto(console_server.url + "/__admin/console/overview")
    expect(page.locator("#traffic-table caption")).to_be_visible()
    for _ in range(10):
        assert curl("-u", f"{DEMO_TOKEN}:X", console_server.url + "/api/customers/1534.xml") == "200"
        assert curl(console_server.url + "/webapps/api/memberpointsbalances") == "401"  # no credentials: an error
    imonggo, memberpoints = requests_total(console_server, "imonggo"), requests_total(console_server, "memberpoints")
    assert imonggo >= 10 and requests_total(console_server, "memberpoints", errors=True) == memberpoints >= 10
    # the next sample shows the totals the metrics hold, a rate above zero and the error rates
    expect(page.locator("#traffic-table tr", has_text="imonggo")).to_contain_text(str(imonggo), timeout=15_000)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and row_cells(page, "memberpoints")[4] != "100%":
        page.wait_for_timeout(500)
    name, total, errors, rate, error_rate = row_cells(page, "memberpoints")
    assert (total, errors, error_rate) == (str(memberpoints), str(memberpoints), "100%")
    assert float(rate) > 0
    assert row_cells(page, "imonggo")[4] == "0%" and float(row_cells(page, "imonggo")[3]) > 0
    chart = page.locator('figure[data-dialect="memberpoints"][data-kind="errors"] svg')
    assert "latest 100%" in chart.get_attribute("aria-label")
    assert page.locator('figure[data-dialect="imonggo"][data-kind="rate"] polyline').count() == 1
    expect(page.locator("#backlog tr", has_text="pomelo")).to_be_visible()
    expect(page.locator("#tenant-count")).to_have_text("1 tenant.")
    shot(page, "overview")
    assert axe(page) == []
    # one scrape per interval: no polling storm
    gaps = [b - a for a, b in zip(scrapes, scrapes[1:])]
    assert gaps and min(gaps) > SAMPLE_SECONDS - 1.5, gaps


def test_upstream_health_where_a_tenant_has_one(console_server: Any, page: Any, admin: Any) -> None:
    def tenant(name: str, base_url: str) -> dict[str, Any]:
        return {"name": name, "imonggo": {"account": name, "api_token": f"{name}-token"},
                "customer_types": [{"id": 8, "name": "Gold", "point_to_amount_ratio": "200", "amount_per_point": "10"}],
                "members": [{"customer_id": 1534, "mbr_id": 1534, "name": "Juan Cruz", "customer_type_id": 8,
                             "upstream_id": "usr-2ay34WhGUtCeoewakpeJTRuVWlx"}],
                "upstream": {"dialect": "pomelo", "base_url": base_url,
                             "credentials": {"client_id": "demo-client-id", "client_secret": "demo-client-secret",
                                             "audience": "https://api.pomelo.la"}}}

    # the server is its own vendor here (its demo tenant speaks Pomelo); port 9 answers nothing
    status, body = admin("POST", "/scenarios", {"tenants": [tenant("via-vendor", console_server.url),
                                                            tenant("via-nowhere", "http://127.0.0.1:9")]})
    assert status == 201, body
    assert curl("-u", "via-vendor-token:X", console_server.url + "/api/customers/1534.xml") == "200"
    assert curl("-u", "via-nowhere-token:X", console_server.url + "/api/customers/1534.xml") != "200"
    page.goto(console_server.url + "/__admin/console/overview")
    expect(page.locator("#upstreams tr", has_text="via-vendor")).to_contain_text("reachable")
    expect(page.locator("#upstreams tr", has_text="via-nowhere")).to_contain_text("unreachable")
    listed = {u["tenant"]: u for u in admin("GET", "/upstream")[1]["upstreams"]}
    assert listed["via-vendor"]["reachable"] is True and listed["via-nowhere"]["reachable"] is False
    cells = page.locator("#upstreams tr", has_text="via-nowhere").locator("td").all_inner_texts()
    assert cells[3] == str(listed["via-nowhere"]["calls"]) and cells[4] == str(listed["via-nowhere"]["errors"])
    for name in ("via-vendor", "via-nowhere"):
        assert admin("DELETE", f"/tenants/{name}")[0] == 200

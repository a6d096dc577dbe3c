"""The console's frame in a real browser: every page has the nav, the skip link, one <h1> and <main>; the
first page opens at /__admin/console and from / on a loopback server; it passes axe's WCAG 2 AA check."""
from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from gateway.console import PAGES


def test_the_console_opens_from_the_root_and_passes_axe(console_server: Any, page: Any, shot: Any, axe: Any) -> None:
    page.goto(console_server.url + "/")
    assert page.url == console_server.url + "/__admin/console"
    assert page.locator("h1").inner_text() == PAGES[0].title
    nav = page.get_by_role("navigation", name="Console pages")
    assert [a.inner_text() for a in nav.get_by_role("link").all()] == [p.nav_label for p in PAGES]
    page.wait_for_function("document.getElementById('tenant-count').textContent === '1 tenant.'")
    shot(page, "frame")
    assert axe(page) == []


@pytest.mark.parametrize("slug", [p.slug for p in PAGES])
def test_every_page_has_the_frame_and_passes_axe(console_server: Any, page: Any, shot: Any, axe: Any,
                                                 slug: str) -> None:
    found = next(p for p in PAGES if p.slug == slug)
    page.goto(f"{console_server.url}/__admin/console/{slug}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title() == f"{found.title} · loyalty-gateway console"
    assert page.locator("h1").all_inner_texts() == [found.title]
    nav = page.get_by_role("navigation", name="Console pages")
    assert nav.locator('[aria-current="page"]').inner_text() == found.nav_label
    page.keyboard.press("Tab")  # the first stop is the skip link, which takes focus to <main>
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.wait_for_load_state("networkidle")
    shot(page, f"page-{slug}")
    assert axe(page) == []


def test_an_unknown_page_says_so_in_the_frame(console_server: Any, page: Any) -> None:
    response = page.goto(console_server.url + "/__admin/console/nowhere")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "No such page"
    expect(page.locator("main")).to_contain_text("The console has no page nowhere.")
    expect(page.get_by_role("navigation", name="Console pages").get_by_role("link")).to_have_count(len(PAGES))


README_SHOT = Path(__file__).resolve().parent.parent.parent / "docs" / "console.png"


def test_the_readmes_screenshot_is_the_tenants_page(console_server: Any, page: Any) -> None:
    """docs/console.png, shown by the README: LOYALTY_GATEWAY_WRITE_DOCUMENTS=1 takes it again (after a page
    changes); otherwise it must be there, a PNG of the size taken here."""
    page.set_viewport_size({"width": 1200, "height": 860})
    page.goto(console_server.url + "/__admin/console/tenants")
    expect(page.locator("#credentials .card").first).to_be_visible()
    if os.environ.get("LOYALTY_GATEWAY_WRITE_DOCUMENTS") == "1":
        page.screenshot(path=str(README_SHOT))
    data = README_SHOT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 860)
    assert "(docs/console.png)" in (README_SHOT.parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_shared_helpers_in_the_browser(console_server: Any, page: Any) -> None:
    """console.js's helpers as the pages use them: text stays text, bodies are indented without a number
    changed, the pager counts, the chart says its latest value."""
    page.goto(console_server.url + "/__admin/console/nowhere")  # a page whose own script does nothing
    results = page.evaluate("""async () => {
        const c = await import('/__admin/console/static/console.js');
        let styled = null;
        try { c.el('p', {style: 'color: red'}); } catch (e) { styled = e.message; }
        const box = document.createElement('div');
        c.lineChart(box, [{x: 1, y: 2}, {x: 2, y: 4}], {label: 'rps'});
        const pager = c.pager({offset: 20, limit: 20, total: 45, shown: 20, onPage: () => {}});
        return {
            text: c.el('p', {}, '<b>x</b>').innerHTML,
            styled,
            json: c.pretty('{"a":12.50,"s":"a,b{c\\\\"}","b":[1,2],"c":{}}', 'application/json'),
            xml: c.pretty('<?xml version="1.0"?><hash><points type="decimal">1.0</points><x/></hash>', 'application/xml'),
            notXml: c.pretty('<unclosed', 'application/xml'),
            chart: box.querySelector('svg').getAttribute('aria-label'),
            points: box.querySelector('polyline').getAttribute('points').split(' ').length,
            pager: pager.textContent,
            query: c.query({a: 1, b: '', c: null, d: 'x y'}),
        };
    }""")
    assert results["text"] == "&lt;b&gt;x&lt;/b&gt;"
    assert "no inline style" in results["styled"]
    assert results["json"] == '{\n  "a": 12.50,\n  "s": "a,b{c\\"}",\n  "b": [\n    1,\n    2\n  ],\n  "c": {}\n}'
    assert results["xml"] == '<?xml version="1.0"?>\n<hash>\n  <points type="decimal">1.0</points>\n  <x/>\n</hash>'
    assert results["notXml"] == "<unclosed"
    assert results["chart"] == "rps: 2 points, latest 4" and results["points"] == 2
    assert results["pager"] == "Previous21–40 of 45Next"
    assert results["query"] == "?a=1&d=x+y"


def test_a_missing_browser_or_axe_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.console import browser as kit

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        kit.missing("/usr/bin/chromium", "apt-get install -y chromium (.ci/run does)")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        kit.missing("/usr/bin/chromium", "apt-get install -y chromium (.ci/run does)")


def test_ci_runs_the_browser_tests_for_real() -> None:
    """.ci/run sets CI before pytest (so a missing Chromium or axe-core fails), and Chromium is looked up on PATH."""
    from tests.console import browser as kit

    run = (kit.ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
    exported = [i for i, line in enumerate(run) if line.startswith('export CI="${CI:-true}"')]
    tests = [i for i, line in enumerate(run) if "-m pytest" in line]
    assert exported and tests and exported[0] < tests[0]
    import shutil
    assert str(kit.CHROMIUM) == (shutil.which("chromium") or "/usr/bin/chromium")

"""The console's frame in a real browser: every page has the nav, the skip link, one <h1> and <main>; the
first page opens at /__admin/console and from / on a loopback server; it passes axe's WCAG 2 AA check."""
from __future__ import annotations

from typing import Any

from gateway.console import PAGES


def test_the_console_opens_from_the_root_and_passes_axe(console_server: Any, page: Any, shot: Any, axe: Any) -> None:
    page.goto(console_server.url + "/")
    assert page.url == console_server.url + "/__admin/console"
    assert page.locator("h1").inner_text() == PAGES[0].title
    nav = page.get_by_role("navigation", name="Console pages")
    assert [a.inner_text() for a in nav.get_by_role("link").all()] == [p.nav_label for p in PAGES]
    page.wait_for_function("document.getElementById('tenant-count').textContent.includes('demo')")
    shot(page, "frame")
    assert axe(page) == []

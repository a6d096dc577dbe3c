"""The console's Overview page: the shell (its charts and tables are filled by static/overview.js)."""
from __future__ import annotations

from aiohttp import web

from .layout import render_page
from .registry import ConsolePage

BODY = """
<p>What the sandbox is doing now. The figures come from the admin API; nothing here changes state.</p>
<section aria-labelledby="tenants-heading">
<h2 id="tenants-heading">Tenants</h2>
<p id="tenant-count">Loading…</p>
</section>
"""


def render(request: web.Request) -> str:
    return render_page(PAGE, BODY)


PAGE = ConsolePage(slug="overview", title="Overview", nav_label="Overview", render=render)

"""The console's Overview page: the shell (static/overview.js samples GET /__admin/metrics every few seconds
and draws requests per second and error rates per dialect, and reads the webhook backlog and upstream health)."""
from __future__ import annotations

from html import escape

from aiohttp import web

from ..keys import DIALECTS
from .layout import render_page
from .registry import ConsolePage

BODY = """
<p>What the sandbox is doing now, sampled from <code>GET /__admin/metrics</code> every {seconds} seconds while this
tab is shown (the console's own admin calls are not counted). Nothing here changes state.</p>
<p id="overview-status" role="status"></p>

<section aria-labelledby="traffic-heading">
<h2 id="traffic-heading">Requests per dialect</h2>
<div id="traffic-table"></div>
<div id="charts" class="charts" data-dialects="{dialects}"></div>
</section>

<section aria-labelledby="webhooks-heading">
<h2 id="webhooks-heading">Webhook backlog</h2>
<div id="backlog"></div>
</section>

<section aria-labelledby="upstream-heading">
<h2 id="upstream-heading">Upstream health</h2>
<div id="upstreams"></div>
</section>

<section aria-labelledby="tenants-heading">
<h2 id="tenants-heading">Tenants</h2>
<p id="tenant-count">Loading…</p>
</section>
"""
SAMPLE_SECONDS = 5


def render(request: web.Request) -> str:
    names = " ".join(dialect.name for dialect in request.config_dict[DIALECTS])
    body = BODY.replace("{dialects}", escape(names)).replace("{seconds}", str(SAMPLE_SECONDS))
    return render_page(PAGE, body)


PAGE = ConsolePage(slug="overview", title="Overview", nav_label="Overview", render=render)

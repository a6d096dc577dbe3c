"""The console's Webhooks page: the shell of the delivery log (static/webhooks.js fills it from GET
/__admin/webhooks/deliveries, paged, and redelivers through POST .../redeliver). Names no vendor."""
from __future__ import annotations

from aiohttp import web

from .layout import render_page
from .registry import ConsolePage

BODY = """
<p>Every webhook the sandbox sent or is still trying to send: its attempts with their status codes, the next
try, the headers it is signed with (signed again when shown, not a record of those sent) and its body. Send one again with <em>Redeliver</em>.</p>
<form id="filters" class="card" method="get" role="search" aria-label="Filter deliveries">
<div class="row">
<div><label for="f-tenant">Tenant</label><input id="f-tenant" name="tenant" autocomplete="off"></div>
<div><button type="submit">Filter</button> <a href="webhooks">Clear the filter</a></div>
</div>
</form>
<p id="message" role="status" aria-live="polite"></p>
<section aria-labelledby="list-heading">
<h2 id="list-heading">Deliveries</h2>
<div id="list"></div>
<div id="pages"></div>
</section>
<section aria-labelledby="detail-heading" id="detail" hidden>
<h2 id="detail-heading" tabindex="-1">Delivery</h2>
<div id="detail-body"></div>
</section>
"""


def render(request: web.Request) -> str:
    return render_page(PAGE, BODY)


PAGE = ConsolePage(slug="webhooks", title="Webhooks", nav_label="Webhooks", render=render)

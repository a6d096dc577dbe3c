"""The console's Requests page: the shell of the journal, live (static/requests.js fills it from GET
/__admin/requests and follows GET /__admin/requests/stream). The filters are a GET form, so the URL holds
them and a link reproduces the view. Names no vendor: the dialect choices are the descriptors' names."""
from __future__ import annotations

from html import escape

from aiohttp import web

from ..keys import DIALECTS
from .layout import render_page
from .registry import ConsolePage


def _dialect_options(request: web.Request) -> str:
    names = [d.name for d in request.config_dict[DIALECTS]]
    return '<option value="">any</option>' + "".join(
        f'<option value="{escape(name)}">{escape(name)}</option>' for name in names)


def render(request: web.Request) -> str:
    body = f"""
<p>Every request a client made to a dialect, newest first. New ones appear as they arrive; pick one to see
both bodies, the headers (secrets masked), the fault that struck it and what it exchanged with an upstream.</p>
<form id="filters" class="card" method="get" role="search" aria-label="Filter requests">
<div class="row">
<div><label for="f-tenant">Tenant</label><input id="f-tenant" name="tenant" autocomplete="off"></div>
<div><label for="f-dialect">Dialect</label><select id="f-dialect" name="dialect">{_dialect_options(request)}</select></div>
<div><label for="f-status">Status</label><input id="f-status" name="status" size="5" autocomplete="off"
 aria-describedby="f-status-help"><span id="f-status-help" class="muted"> 404 or 4xx</span></div>
<div><label for="f-path">Path</label><input id="f-path" name="path" autocomplete="off"
 aria-describedby="f-path-help"><span id="f-path-help" class="muted"> a prefix, or a glob with *</span></div>
<div><button type="submit">Filter</button> <a href="requests">Clear the filters</a></div>
</div>
</form>
<p id="live" role="status" aria-live="polite">Loading…</p>
<p id="message" role="status"></p>
<section aria-labelledby="list-heading" id="list-section">
<h2 id="list-heading">Journal</h2>
<div id="list"></div>
<div id="pages"></div>
</section>
<section aria-labelledby="detail-heading" id="detail" hidden>
<h2 id="detail-heading" tabindex="-1">Request</h2>
<div id="detail-body"></div>
</section>
"""
    return render_page(PAGE, body)


PAGE = ConsolePage(slug="requests", title="Requests", nav_label="Requests", render=render)

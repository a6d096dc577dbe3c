"""The console's Members page: find a member by any identity or by name, list a tenant's members a page at a time, and a
member's own view (?tenant=&member=): its balance as each dialect shows it, a chart of it, its entries, and the
credit, debit and purchase requests its tenant's dialects offer. The shell only; static/members.js fills it."""
from __future__ import annotations

from aiohttp import web

from .layout import render_page
from .registry import ConsolePage

BODY = """
<form id="find-form" class="card" role="search" aria-labelledby="find-heading">
<h2 id="find-heading">Find a member</h2>
<p class="muted" id="find-help">Any identity a client uses: a customer or member number, an e-mail address, a user
id or a card id (or id:N, the gateway's own id): only that member is read, however big the tenant. Any other text
searches the members' names (every member is read, so slower on a big tenant; the first 20 matches are shown).</p>
<div class="row">
<div><label for="find-tenant">Tenant</label>
<input id="find-tenant" name="tenant" list="tenant-names" autocomplete="off" required></div>
<datalist id="tenant-names"></datalist>
<div><label for="find-member">Identity or name</label>
<input id="find-member" name="member" autocomplete="off" required aria-describedby="find-help"></div>
<div><button type="submit">Find</button></div>
</div>
<p id="find-status" class="muted" aria-live="polite"></p>
<div id="find-results"></div>
</form>

<section id="member-section" aria-labelledby="member-heading" hidden>
<h2 id="member-heading">Member</h2>
<div id="member-ids"></div>
<h3 id="dialect-balances-heading">Balance as each dialect shows it</h3>
<div id="dialect-balances"></div>
<h3 id="chart-heading">Points balance over time</h3>
<figure>
<div id="balance-chart"></div>
<figcaption id="chart-caption" class="muted"></figcaption>
</figure>
<h3 id="actions-heading">Credit, debit, purchase</h3>
<p class="muted">Each button sends the request a client of that dialect sends, with the tenant's credentials: it
shows in the journal as any client's request does, and is refused as a client's would be.</p>
<div id="member-actions"></div>
<h3 id="entries-heading">Entries</h3>
<div id="member-entries"></div>
</section>

<section id="list-section" aria-labelledby="list-heading">
<h2 id="list-heading">Members of the tenant</h2>
<div id="member-list"><p class="muted">Loading…</p></div>
</section>
"""


def render(request: web.Request) -> str:
    return render_page(PAGE, BODY)


PAGE = ConsolePage(slug="members", title="Members", nav_label="Members", render=render)

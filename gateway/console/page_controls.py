"""The console's Faults, clock and rate limits page: the shell with its forms (static/controls.js lists and
changes fault rules, the ledger's clock and the rate-limit emulation through the documented admin calls)."""
from __future__ import annotations

from html import escape

from aiohttp import web

from ..keys import DIALECTS
from .layout import render_page
from .registry import ConsolePage

BODY = """
<p>Make the sandbox misbehave on purpose. While a fault rule or a moved clock is in force, every console page
says so in a banner at the top.</p>

<section aria-labelledby="faults-heading">
<h2 id="faults-heading">Fault rules</h2>
<p id="faults-status" role="status"></p>
<div id="faults"></div>
<form id="fault-form" class="card" aria-labelledby="fault-form-heading" novalidate>
<h3 id="fault-form-heading">Add a fault rule</h3>
<div class="row">
<div><label for="fault-effect">Effect</label>
<select id="fault-effect" name="effect">
<option value="status">status: answer an error</option>
<option value="latency">latency: wait, then answer</option>
<option value="empty">empty: close without a byte</option>
<option value="drop">drop: reset the connection</option>
</select></div>
<div id="status-field"><label for="fault-status">Status</label>
<input id="fault-status" name="status" type="number" min="400" max="599" value="503"></div>
<div id="latency-field" hidden><label for="fault-latency">Latency (ms)</label>
<input id="fault-latency" name="latency_ms" type="number" min="0" max="120000" value="2000"></div>
<div><label for="fault-when">When</label>
<select id="fault-when" name="when">
<option value="before">before the handler (nothing is written)</option>
<option value="after">after the handler (the write is kept)</option>
</select></div>
</div>
<div class="row">
<div><label for="fault-dialect">Dialect</label>
<select id="fault-dialect" name="dialect"><option value="">every dialect</option>{dialect_options}</select></div>
<div><label for="fault-tenant">Tenant (empty: every tenant)</label>
<input id="fault-tenant" name="tenant" autocomplete="off"></div>
<div><label for="fault-method">Method (empty: any)</label>
<input id="fault-method" name="method" autocomplete="off" size="8"></div>
<div><label for="fault-path">Path (glob)</label>
<input id="fault-path" name="path" value="*" autocomplete="off"></div>
</div>
<div class="row">
<div><label for="fault-probability">Probability (0 to 1)</label>
<input id="fault-probability" name="probability" type="number" min="0" max="1" step="any" value="1"></div>
<div><label for="fault-times">Times (empty: until removed)</label>
<input id="fault-times" name="times" type="number" min="1"></div>
<div><label for="fault-message">Message (optional)</label>
<input id="fault-message" name="message" autocomplete="off"></div>
</div>
<p><button type="submit">Add fault rule</button></p>
</form>
</section>

<section aria-labelledby="clock-heading">
<h2 id="clock-heading">Clock</h2>
<p id="clock-state" role="status">Loading…</p>
<div class="row">
<form id="freeze-form" class="card" novalidate>
<label for="freeze-at">Freeze at (ISO 8601 with its timezone)</label>
<input id="freeze-at" name="frozen_at" size="28" autocomplete="off" placeholder="2025-01-31T12:00:00Z">
<p><button type="submit">Freeze the clock</button></p>
</form>
<form id="shift-form" class="card" novalidate>
<label for="shift-by">Shift by (seconds; negative goes back)</label>
<input id="shift-by" name="offset_seconds" type="number" step="any" value="86400">
<p><button type="submit">Shift the clock</button></p>
</form>
<div class="card"><p>Real time again:</p><p><button type="button" id="clock-reset">Back to real time</button></p></div>
</div>
<p id="clock-status"></p>
</section>

<section aria-labelledby="limits-heading">
<h2 id="limits-heading">Rate limits</h2>
<p class="muted">Each dialect can answer as its vendor does once a caller is over a limit (the status and
words are the vendor's).</p>
<p id="limits-status" role="status"></p>
<div id="limits"></div>
</section>
"""


def render(request: web.Request) -> str:
    names = [dialect.name for dialect in request.config_dict[DIALECTS]]
    options = "".join(f'<option value="{escape(name)}">{escape(name)}</option>' for name in names)
    return render_page(PAGE, BODY.replace("{dialect_options}", options))


PAGE = ConsolePage(slug="controls", title="Faults, clock and rate limits", nav_label="Faults & clock", render=render)

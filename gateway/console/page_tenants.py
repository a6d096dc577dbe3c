"""The console's Tenants page: the shell (static/tenants.js lists, creates, resets and deletes tenants and
shows each one's credentials and curl commands, all through documented admin API calls)."""
from __future__ import annotations

from aiohttp import web

from .layout import render_page
from .registry import ConsolePage

BODY = """
<section aria-labelledby="list-heading">
<h2 id="list-heading">All tenants</h2>
<p id="list-status" role="status"></p>
<div id="tenant-list"></div>
</section>

<section aria-labelledby="credentials-heading">
<h2 id="credentials-heading" tabindex="-1">Credentials</h2>
<p class="muted">Pick a tenant's <em>Credentials</em> above: its credentials in every dialect, each with a copy
button, and a ready curl command per dialect aimed at this server.</p>
<div id="credentials"></div>
</section>

<section aria-labelledby="create-heading">
<h2 id="create-heading">Create a tenant</h2>
<form id="create-form" class="card" novalidate>
<fieldset>
<legend>Start from</legend>
<div><input type="radio" id="from-demo" name="source" value="demo" checked>
<label for="from-demo" class="inline">a copy of the demo tenant, with fresh credentials (POST /__admin/tenants)</label></div>
<div><input type="radio" id="from-scenario" name="source" value="scenario">
<label for="from-scenario" class="inline">a scenario document pasted below, loaded as it is (POST /__admin/scenarios)</label></div>
</fieldset>
<div id="name-field">
<label for="tenant-name">Name of the copy (optional: letters, digits, <code>_ . -</code>)</label>
<input id="tenant-name" name="name" maxlength="64" pattern="[A-Za-z0-9_.\\-]*" autocomplete="off">
</div>
<div id="scenario-field" hidden>
<label for="scenario-text">Scenario document (JSON)</label>
<textarea id="scenario-text" name="scenario" spellcheck="false"
 placeholder='{"tenants": [{"name": "shop", ...}]}'></textarea>
</div>
<p><button type="submit">Create tenant</button></p>
<p id="create-status"></p>
<div id="created"></div>
</form>
</section>
"""


def render(request: web.Request) -> str:
    return render_page(PAGE, BODY)


PAGE = ConsolePage(slug="tenants", title="Tenants", nav_label="Tenants", render=render)

"""The console uses the admin API's own protection. Without an admin_token it answers loopback only: a page
or file asked with a non-loopback Host or Origin is refused. With one, the shell (HTML and files, which
carry no data) is served, its pages ask for the token once in a labelled form, say clearly when it is wrong,
and send it as the bearer token; no data is had without it. And every call a console script makes is a
documented admin API call, so the console adds no second way to change state."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from gateway.admin.openapi import document
from gateway.app import DIALECT_LIST, create_app
from gateway.console import PAGES
from gateway.console.routes import STATIC_DIR
from gateway.settings import Settings
from tests.console.browser import admin_call

from tests.console.browser import GUARD_TOKEN as TOKEN  # the guarded_server fixture's (conftest)
SHELL = ["/__admin/console", "/__admin/console/", *(f"/__admin/console/{p.slug}" for p in PAGES), "/__admin/console/static/console.js",
         "/__admin/console/static/console.css"]



# -- without an admin_token: loopback only ------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHELL)
@pytest.mark.parametrize("headers", [{"Host": "console.example.org"}, {"Origin": "http://console.example.org"},
                                     {"Origin": "http://192.168.1.5:8080"}], ids=["host", "origin", "lan-origin"])
def test_a_non_loopback_host_or_origin_is_refused(console_server: Any, path: str, headers: dict[str, str]) -> None:
    status, body = admin_call(console_server.url, "GET", path[len("/__admin"):], headers=headers)
    assert status == 403, (path, body)
    assert body == {"error": {"status": 403,
                              "message": "without an admin_token the admin API answers local callers only"}}


@pytest.mark.parametrize("path", SHELL)
def test_a_loopback_caller_gets_the_shell_with_its_security_headers(console_server: Any, path: str) -> None:
    import urllib.request

    with urllib.request.urlopen(console_server.url + path, timeout=10) as response:
        assert response.status == 200
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_page_or_file_that_is_not_there_is_a_404(console_server: Any) -> None:
    status, body = admin_call(console_server.url, "GET", "/console/no-such-page")
    assert status == 404 and "The console has no page" in body and "no-such-page" in body
    for name in ("nothing.js", "..%2Fauth.py", "console.py", ".hidden.js"):
        status, body = admin_call(console_server.url, "GET", f"/console/static/{name}")
        assert status == 404, name


def test_slash_leads_to_the_console_on_loopback_only() -> None:
    def has_root(settings: Settings) -> bool:
        return any(r.canonical == "/" for r in create_app(settings).router.resources())

    assert has_root(Settings.defaults())
    assert not has_root(Settings.defaults().replace(host="0.0.0.0", admin_token=TOKEN))


# -- with an admin_token ------------------------------------------------------------------------------------------


def test_the_shell_carries_no_data(guarded_server: Any) -> None:
    """Served without the token, so it must hold nothing the token guards: no tenant, no credential."""
    assert admin_call(guarded_server.url, "POST", "/tenants", {"name": "zz-private-shop"}, token=TOKEN)[0] == 201
    secrets = ["zz-private-shop", "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa", "demo-api-key", "Juan", "30511"]
    for path in SHELL:
        status, text = admin_call(guarded_server.url, "GET", path[len("/__admin"):],
                                  headers={"Origin": "http://console.example.org"})
        assert status == 200, path
        assert not [s for s in secrets if s in text], path
    status, body = admin_call(guarded_server.url, "GET", "/tenants", headers={"Origin": "http://console.example.org"})
    assert status == 401 and "Bearer" in body["error"]["message"]


def test_the_console_asks_for_the_token_once_says_a_wrong_one_and_sends_it(guarded_server: Any, page: Any,
                                                                           shot: Any, axe: Any) -> None:
    sent: list[str | None] = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization"))
            if "/__admin/" in r.url and "/__admin/console" not in r.url else None)
    page.goto(guarded_server.url + "/__admin/console/tenants")
    form = page.locator("form.token-form")
    expect(form).to_have_count(1)  # one prompt, however many calls were refused
    expect(page.get_by_role("heading", name="Admin token needed")).to_be_visible()
    expect(page.get_by_label("Admin token", exact=True)).to_be_focused()
    shot(page, "token-prompt")
    assert axe(page) == []

    page.get_by_label("Admin token", exact=True).fill("not-the-token")
    page.get_by_role("button", name="Use this token").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong admin token.")
    expect(form).to_have_count(1)
    expect(page.locator("#admin-token-help")).to_contain_text("refused that token (401)")
    assert page.get_by_role("button", name="Delete demo").count() == 0  # nothing shown without the right one

    page.get_by_label("Admin token", exact=True).fill(TOKEN)
    page.get_by_role("button", name="Use this token").click()
    expect(page.get_by_role("button", name="Delete demo")).to_be_visible()
    expect(page.locator("form.token-form")).to_have_count(0)
    assert f"Bearer {TOKEN}" in sent and "Bearer not-the-token" in sent

    sent.clear()
    page.goto(guarded_server.url + "/__admin/console/controls")  # kept for the tab: not asked again
    expect(page.get_by_role("row", name="memberpoints")).to_be_visible()
    expect(page.locator("form.token-form")).to_have_count(0)
    assert sent and set(sent) == {f"Bearer {TOKEN}"}


# -- the rule: a console script calls documented admin routes only -------------------------------------------------

API_CALL = re.compile(r"\bapi\(")


def calls_in(source: str) -> list[tuple[str, str]]:
    """(method, path) of every api(...) call in a script: its first argument's literal part (a template's
    ${...} read as a path parameter, anything after ? or a + dropped) and its method option (GET if none)."""
    found = []
    for match in API_CALL.finditer(source):
        depth, end = 1, match.end()
        while depth and end < len(source):
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            end += 1
        args = source[match.end():end - 1]
        literal = re.match(r"\s*([\"'`])(.*?)\1", args, re.S)
        if literal is None:  # api(path) inside console.js itself: the helper, not a call
            continue
        path = re.sub(r"\$\{[^}]*\}", "{param}", literal.group(2)).split("?")[0]
        if path.endswith("/") and args[literal.end():].lstrip().startswith("+"):  # "/faults/" + id
            path += "{param}"
        method = re.search(r"method:\s*[\"'](\w+)[\"']", args)
        found.append((method.group(1).upper() if method else "GET", path))
    return found


def documented(method: str, path: str, paths: dict[str, Any]) -> bool:
    for route, operations in paths.items():
        pattern = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(route)) + "$"
        if method.lower() in operations and re.match(pattern, path.replace("{param}", "x")):
            return True
    return False


def test_the_call_reader_reads_calls() -> None:
    source = 'api("/faults/" + id, {method: "DELETE"}); api("/faults", { method: "POST", body: x }); api(`/tenants/${encodeURIComponent(n)}/credentials`);' \
             ' api("/tenants" + query({ offset })); api("/requests?limit=1")'
    assert calls_in(source) == [("DELETE", "/faults/{param}"), ("POST", "/faults"), ("GET", "/tenants/{param}/credentials"), ("GET", "/tenants"),
                                ("GET", "/requests")]


def test_every_call_a_console_script_makes_is_a_documented_admin_call() -> None:
    paths = json.loads(json.dumps(document(DIALECT_LIST)))["paths"]
    scripts = sorted(Path(STATIC_DIR).glob("*.js"))
    calls = {(script.name, *call) for script in scripts for call in calls_in(script.read_text(encoding="utf-8"))}
    assert len(calls) >= 10, calls  # the reader still finds the calls
    undocumented = sorted(call for call in calls if not documented(call[1], call[2], paths))
    assert undocumented == [], "a console script calls an admin route the OpenAPI document does not list"


HTML_SINKS = re.compile(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function\(")


def test_no_console_script_parses_text_as_html() -> None:
    """Data reaches a page as text only (textContent, text nodes): no script hands a string to the HTML parser."""
    found = [f"{script.name}: {match.group(0)}" for script in sorted(Path(STATIC_DIR).glob("*.js"))
             for match in HTML_SINKS.finditer(script.read_text(encoding="utf-8"))]
    assert found == []
    assert HTML_SINKS.search("row.innerHTML = name") and HTML_SINKS.search("node.insertAdjacentHTML('x', y)")


def test_the_consoles_files_name_no_vendor() -> None:
    """The console is neutral like the rest outside gateway/dialects/: what a dialect shows comes from its
    descriptor (through the admin API), never from a vendor's name written in a script, style or page."""
    from tests.test_architecture import VENDOR_NAMES

    console = Path(STATIC_DIR).parent
    files = sorted(p for p in console.rglob("*") if p.suffix in (".js", ".css", ".py", ".html"))
    assert any(p.suffix == ".js" for p in files)
    named = [f"{p.name}: {m.group(0)}" for p in files for m in VENDOR_NAMES.finditer(p.read_text(encoding="utf-8"))]
    assert named == [], "move it into the dialect's folder and its descriptor"

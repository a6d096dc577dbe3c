"""What the console's browser tests share: the Chromium the tests drive (Debian's, through Playwright), the
axe-core accessibility check, screenshots kept as test artefacts, and plain admin API calls to check results."""
from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")  # on PATH first (any distribution), else Debian's
AXE = ROOT / ".ci/node/node_modules/axe-core/axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "console"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WCAG = ["wcag2a", "wcag2aa"]
GUARD_TOKEN = "console-admin-token"  # the admin_token of the guarded_server fixture


def missing(what: str, how: str) -> None:
    """Outside CI a missing browser or axe-core skips; in CI (CI set) it fails, so the tests never quietly stop."""
    message = f"{what} is missing: {how}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def shot(page: Any, name: str) -> Path:
    """Save a PNG of the whole page as test-artifacts/console/<name>.png (CI keeps the folder)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe(page: Any, *, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """The page's WCAG 2 A and AA violations by axe-core (labels, contrast, focus, names ...): [] when clean.

    Run through the DevTools protocol, which the console's Content-Security-Policy does not govern (a
    <script> tag with axe's source would be refused by it, as any injected script should be)."""
    if not AXE.is_file():
        missing(str(AXE), "npm install --no-audit --no-fund --prefix .ci/node axe-core@4 (.ci/run does)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    options = {"runOnly": {"type": "tag", "values": WCAG}}
    context = {"exclude": [[selector] for selector in exclude]} if exclude else "document"
    violations = page.evaluate("async ([context, options]) => (await axe.run(context === 'document' ? document : context,"
                               " options)).violations", [context, options])
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in violations]


def admin_call(base_url: str, method: str, path: str, body: Any = None, token: str | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One admin API call from the test (not the browser): (status, JSON answer or text)."""
    data = None if body is None else json.dumps(body).encode()
    sent = {**({"Content-Type": "application/json"} if data is not None else {}),
            **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    request = urllib.request.Request(f"{base_url}/__admin{path}", data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw, kind = response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, raw, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
    return status, (json.loads(raw) if "json" in kind else raw.decode("utf-8", "replace"))

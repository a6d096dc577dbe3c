"""Fixtures for the console's browser tests: a real `loyalty-gateway serve` (fresh SQLite, the demo scenario)
per module, Debian's Chromium driven by Playwright, a page per test, `shot` and `axe` (see browser.py)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import process
from tests.console import browser as kit


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    folder = tmp_path_factory.mktemp("console")
    server = process.start(["--port", "0", "--database", f"sqlite:///{folder / 'console.db'}", "--scenario", "demo"],
                           folder, timeout=60)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not kit.CHROMIUM.is_file():
        kit.missing(str(kit.CHROMIUM), "apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(kit.CHROMIUM), args=kit.CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def shot() -> Callable[[Any, str], Path]:
    return kit.shot


@pytest.fixture
def axe() -> Callable[..., list[dict[str, Any]]]:
    return kit.axe


@pytest.fixture
def admin(console_server: process.Server) -> Callable[..., tuple[int, Any]]:
    """admin("GET", "/tenants") -> (status, answer), against the module's server."""
    return lambda method, path, body=None, **kw: kit.admin_call(console_server.url, method, path, body, **kw)


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    """A server with an admin_token (kit.GUARD_TOKEN): the console asks for it, the admin API wants it."""
    folder = tmp_path_factory.mktemp("guarded")
    server = process.start(["--port", "0", "--database", f"sqlite:///{folder / 'guarded.db'}", "--scenario", "demo",
                            "--admin-token", kit.GUARD_TOKEN], folder, timeout=60)
    try:
        yield server
    finally:
        server.stop()

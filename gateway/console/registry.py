"""The console's pages in nav order: a page is a module page_<slug>.py exporting PAGE, listed once in PAGES."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class ConsolePage:
    slug: str  # its URL: /__admin/console/<slug>; its script: static/<slug>.js
    title: str  # the <title> and the page's <h1>
    nav_label: str  # its link in the nav
    # render(request) -> the whole HTML document (layout.render_page(PAGE, body)); the shell only: no data,
    # since it may be served without the admin token (its script fetches the data through the admin API)
    render: Callable[[web.Request], str]


# Below ConsolePage: each page module imports it from here (gateway.console's __init__ imports this module first).
from . import page_controls, page_members, page_overview, page_requests, page_tenants, page_webhooks  # noqa: E402

PAGES: list[ConsolePage] = [
    page_overview.PAGE,
    page_tenants.PAGE,
    page_members.PAGE,
    page_requests.PAGE,
    page_webhooks.PAGE,
    page_controls.PAGE,
]


def page_named(slug: str) -> ConsolePage | None:
    return next((page for page in PAGES if page.slug == slug), None)

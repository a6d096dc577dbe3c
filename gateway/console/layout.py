"""The HTML frame every console page shares: language, skip link, nav, the banner area, <main>, the scripts.
Every text it writes goes through html.escape; the data a page shows is set later by its script (textContent)."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from . import registry

BASE = "/__admin/console"
STATIC = f"{BASE}/static"


def page_url(slug: str) -> str:
    return f"{BASE}/{slug}"


def _nav(current: str) -> str:
    links = []
    for page in registry.PAGES:
        here = ' aria-current="page"' if page.slug == current else ""
        links.append(f'<li><a href="{escape(page_url(page.slug))}"{here}>{escape(page.nav_label)}</a></li>')
    return '<nav aria-label="Console pages"><ul>' + "".join(links) + "</ul></nav>"


def render_page(page: registry.ConsolePage, body_html: str, *, scripts: Sequence[str] | None = None) -> str:
    """The full document for `page`; `body_html` is the page's own markup (escaped by its author), `scripts`
    its ES modules under static/ (default: <slug>.js), loaded after console.js."""
    names = (f"{page.slug}.js",) if scripts is None else tuple(scripts)
    script_tags = "".join(f'<script type="module" src="{escape(f"{STATIC}/{name}")}"></script>'
                          for name in ("console.js", *names))
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(page.title)} · loyalty-gateway console</title>\n"
        f'<link rel="stylesheet" href="{STATIC}/console.css">\n'
        f'<link rel="icon" href="data:,">\n'
        "</head>\n<body>\n"
        '<a class="skip-link" href="#main">Skip to content</a>\n'
        f'<header class="top"><a class="brand" href="{BASE}">loyalty-gateway console</a>{_nav(page.slug)}</header>\n'
        '<div id="banner" class="banner" role="status" aria-live="polite" hidden></div>\n'
        '<div id="token-area"></div>\n'
        f'<main id="main" tabindex="-1" data-page="{escape(page.slug)}">\n<h1>{escape(page.title)}</h1>\n'
        f"{body_html}\n</main>\n"
        f"{script_tags}\n"
        "</body>\n</html>\n"
    )


def not_found_page(slug: str) -> str:
    """The frame around "no such page", for a console URL that names none."""
    missing = registry.ConsolePage(slug="", title="No such page", nav_label="", render=lambda request: "")
    return render_page(missing, f"<p>The console has no page <code>{escape(slug)}</code>. "
                                "Pick one from the navigation above.</p>", scripts=())

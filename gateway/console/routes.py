"""The console's routes inside the admin app (/__admin/console, /__admin/console/<page>, its static files) and
the redirect from / on a loopback server. Answers HTML and files only: every datum comes from the admin API."""
from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from . import registry
from .layout import BASE, not_found_page

STATIC_DIR = Path(__file__).resolve().parent / "static"
_STATIC_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\.(js|css|png|svg)")
_TYPES = {"js": "text/javascript", "css": "text/css", "png": "image/png", "svg": "image/svg+xml"}
# Scripts and styles from here only (no inline script can run, whatever a page were made to show); data: for the
# favicon; no framing (clickjacking of the reset and delete buttons).
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


async def first_page(request: web.Request) -> web.Response:
    return _html(registry.PAGES[0].render(request))


async def page(request: web.Request) -> web.Response:
    slug = request.match_info["page"]
    found = registry.page_named(slug)
    if found is None:
        return _html(not_found_page(slug), status=404)
    return _html(found.render(request))


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not _STATIC_NAME.fullmatch(name) or not (STATIC_DIR / name).is_file():
        return web.Response(status=404, text=f"the console has no file {name!r}\n", headers=HEADERS)
    kind = name.rpartition(".")[2]
    charset = "utf-8" if kind in ("js", "css", "svg") else None
    return web.Response(body=(STATIC_DIR / name).read_bytes(), content_type=_TYPES[kind], charset=charset,
                        headers=HEADERS)


def add_routes(router: web.UrlDispatcher) -> None:
    """Mounted in the admin app, so its guard applies (see gateway/admin/auth.py for the shell's exception)."""
    router.add_get("/console", first_page)
    router.add_get("/console/", first_page)  # as typed by hand
    router.add_get("/console/static/{name}", static)
    router.add_get("/console/{page}", page)


async def root_redirect(request: web.Request) -> web.Response:
    """`/` on a loopback server: the console (a newcomer's browser lands somewhere useful)."""
    raise web.HTTPFound(BASE)

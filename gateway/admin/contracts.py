"""/__admin/contracts/: the index of every contract document (the admin API's own and each dialect's, from
its descriptor) and each document's bytes, with its media type and a strong ETag; and the old
/__admin/openapi/<x>.json links, which serve the same bytes. Names no vendor."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiohttp import web

from ..dialects.descriptor import Dialect, Document
from .wire import render_error

OPENAPI_SUFFIX = ".openapi.json"


@dataclass(frozen=True)
class Served:
    """A document with its bytes, taken once when the admin API is built (documents do not change)."""

    document: Document
    body: bytes
    sha256: str

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'


CONTRACTS = web.AppKey("contracts", dict)  # name -> Served, in index order


def documents_of(dialects: Iterable[Dialect]) -> list[Document]:
    return [doc for d in dialects if d.documents is not None for doc in d.documents.documents]


def served(documents: Iterable[Document]) -> dict[str, Served]:
    found: dict[str, Served] = {}
    for doc in documents:
        if doc.name in found:
            raise ValueError(f"two contract documents are named {doc.name}")
        body = doc.content()
        found[doc.name] = Served(doc, body, hashlib.sha256(body).hexdigest())
    return found


def legacy_paths(names: Iterable[str]) -> dict[str, str]:
    """The old link of each OpenAPI document: /openapi/<x>.json for <x>.openapi.json."""
    return {f"/openapi/{n[: -len(OPENAPI_SUFFIX)]}.json": n for n in names if n.endswith(OPENAPI_SUFFIX)}


async def index(request: web.Request) -> web.Response:
    contracts: Mapping[str, Served] = request.app[CONTRACTS]
    route = request.app.router["contract"]
    return web.json_response({"contracts": [
        {"name": name, "kind": s.document.kind, "media_type": s.document.media_type, "title": s.document.title,
         "url": str(route.url_for(name=name)), "sha256": s.sha256, "size": len(s.body)}
        for name, s in contracts.items()]})


def _answer(request: web.Request, found: Served) -> web.StreamResponse:
    headers = {"ETag": found.etag}
    if found.etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=found.body, content_type=found.document.media_type, headers=headers)


async def contract(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    found = request.app[CONTRACTS].get(name)
    if found is None:
        return render_error(request, 404, f"no contract document named {name}; GET /__admin/contracts/ lists them",
                            None)
    return _answer(request, found)


def add_routes(app: web.Application, documents: Iterable[Document]) -> None:
    app[CONTRACTS] = served(documents)
    app.router.add_get("/contracts/", index)
    app.router.add_get("/contracts/{name}", contract, name="contract")
    for path, name in legacy_paths(app[CONTRACTS]).items():
        found = app[CONTRACTS][name]

        async def old_link(request: web.Request, found: Served = found) -> web.StreamResponse:
            return _answer(request, found)

        app.router.add_get(path, old_link)

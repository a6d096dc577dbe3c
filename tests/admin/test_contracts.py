"""/__admin/contracts/: the index lists the admin document and every dialect's, each with the sha256 of the
bytes served; a document is served with its media type and ETag; an unknown name is a 404 in the admin
shape; the old /__admin/openapi/<x>.json links serve the same bytes."""
from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

import gateway.app
from gateway.admin.contracts import legacy_paths, served
from gateway.dialects.descriptor import Document, Documents


async def index(client) -> list[dict]:  # type: ignore[no-untyped-def]
    response = await client.get("/__admin/contracts/")
    assert response.status == 200 and response.content_type == "application/json"
    return (await response.json())["contracts"]  # type: ignore[no-any-return]


async def test_the_index_lists_every_document_and_each_is_served_as_listed(sandbox_client) -> None:
    client = await sandbox_client()
    listed = await index(client)
    names = [entry["name"] for entry in listed]
    expected = ["admin.openapi.json", *(doc.name for d in gateway.app.DIALECT_LIST if d.documents is not None
                                         for doc in d.documents.documents)]
    assert names == expected and "pomelo.openapi.json" in names
    for entry in listed:
        assert set(entry) == {"name", "kind", "media_type", "title", "url", "sha256", "size"}
        response = await client.get(entry["url"])
        body = await response.read()
        assert response.status == 200 and response.content_type == entry["media_type"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"] and len(body) == entry["size"]
        assert response.headers["ETag"] == f'"{entry["sha256"]}"'
        if entry["kind"] == "openapi":
            assert json.loads(body)["openapi"] == "3.1.0"


async def test_an_unknown_document_is_a_404_in_the_admin_shape(sandbox_client) -> None:
    client = await sandbox_client()
    response = await client.get("/__admin/contracts/nope.json")
    assert response.status == 404
    assert await response.json() == {"error": {"status": 404, "message": "no contract document named nope.json; "
                                                                          "GET /__admin/contracts/ lists them"}}


async def test_if_none_match_with_the_etag_is_a_304_and_with_another_the_bytes(sandbox_client) -> None:
    client = await sandbox_client()
    url = "/__admin/contracts/admin.openapi.json"
    etag = (await client.get(url)).headers["ETag"]
    not_modified = await client.get(url, headers={"If-None-Match": f'"other", {etag}'})
    assert not_modified.status == 304 and await not_modified.read() == b""
    changed = await client.get(url, headers={"If-None-Match": '"other"'})
    assert changed.status == 200 and (await changed.read()).startswith(b"{")


@pytest.mark.parametrize(("old", "name"), [("admin.json", "admin.openapi.json"), ("pomelo.json", "pomelo.openapi.json")])
async def test_the_old_links_serve_the_same_bytes(sandbox_client, old: str, name: str) -> None:
    client = await sandbox_client()
    before = await client.get(f"/__admin/openapi/{old}")
    now = await client.get(f"/__admin/contracts/{name}")
    assert before.status == now.status == 200 and await before.read() == await now.read()
    assert before.headers["ETag"] == now.headers["ETag"]


async def test_the_contracts_need_the_admin_token_when_one_is_set(sandbox_client) -> None:
    client = await sandbox_client(admin_token="s3cret")
    assert (await client.get("/__admin/contracts/")).status == 401
    allowed = await client.get("/__admin/contracts/", headers={"Authorization": "Bearer s3cret"})
    assert allowed.status == 200


async def test_a_dialects_xsd_is_listed_and_served_as_xml(app_client, monkeypatch: pytest.MonkeyPatch) -> None:
    xsd = Document("thing.xsd", "xsd", "application/xml", "a test schema", lambda: b"<xs:schema/>")
    dialects = tuple(dataclasses.replace(d, documents=Documents((xsd,))) if d.name == "imonggo" else d
                     for d in gateway.app.DIALECT_LIST)
    monkeypatch.setattr(gateway.app, "DIALECT_LIST", dialects)
    client = await app_client("demo")
    assert "thing.xsd" in [entry["name"] for entry in await index(client)]
    response = await client.get("/__admin/contracts/thing.xsd")
    assert response.content_type == "application/xml" and await response.read() == b"<xs:schema/>"
    assert (await client.get("/__admin/openapi/thing.json")).status == 404  # old links: OpenAPI documents only


def test_two_documents_of_one_name_are_refused_at_start() -> None:
    doc = Document("same.json", "openapi", "application/json", "t", lambda: b"{}")
    with pytest.raises(ValueError, match="two contract documents are named same.json"):
        served([doc, doc])


def test_old_links_are_made_for_openapi_documents_only() -> None:
    assert legacy_paths(["admin.openapi.json", "x.xsd", "y.openapi.json"]) == {
        "/openapi/admin.json": "admin.openapi.json", "/openapi/y.json": "y.openapi.json"}

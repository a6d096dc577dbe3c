"""Every OpenAPI document the server lists at /__admin/contracts/ (the admin API's and each dialect's, found
from the index: a new document is picked up here without editing this file) is strict OpenAPI 3.1 with every
$ref resolving and no placeholder schema, and agrees with the server behind it, checked the way a user
would: schemathesis with all its checks and its stateful phase, pointed at a running `loyalty-gateway
serve`. Credentials and the operations where a vendor is lenient on purpose are in tests/schemathesis.toml,
a [[project]] per document title."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from gateway.admin import create_admin_app
from gateway.admin.contracts import CONTRACTS, Served
from gateway.app import DIALECT_LIST
from tests import process

EXAMPLES = 6  # per operation in the fuzzing phase; the coverage phase adds the boundary values
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261129  # fixed, so a failure found once is found again; change it to explore further
# What makes a schema more than a placeholder: anything that says what the value holds.
SAYS_WHAT = {"properties", "additionalProperties", "patternProperties", "propertyNames", "required", "oneOf", "anyOf",
             "allOf", "$ref", "const", "enum", "unevaluatedProperties", "minProperties", "dependentSchemas", "if"}


def openapi_documents() -> dict[str, Served]:
    """The OpenAPI documents the server serves (the same objects the admin API is built with)."""
    served: dict[str, Served] = create_admin_app(DIALECT_LIST)[CONTRACTS]
    return {name: s for name, s in served.items() if s.document.kind == "openapi"}


DOCUMENTS = sorted(openapi_documents())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[process.Server]:
    """A throwaway server per test: fuzzing resets it, deletes tenants, adds fault rules, moves its clock."""
    started = process.start(["--port", "0", "--database", "sqlite:///fuzz.db", "--access-log", "off"], tmp_path)
    yield started
    started.stop()


def fetch(server: process.Server, path: str) -> Any:
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        return json.loads(response.read())


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref}: only references inside the document are served"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve (no {part!r})"
        node = node[part]
    return node


def placeholders(node: Any, where: str = "#") -> Iterator[str]:
    """Where a schema says only "an object" ({"type": "object"}, nothing of what it holds), or a schema is
    empty ("schema": {}): the places a document promises nothing."""
    if isinstance(node, dict):
        kind = node.get("type")
        if (kind == "object" or (isinstance(kind, list) and "object" in kind)) and not SAYS_WHAT & node.keys():
            yield where
        for key, value in node.items():
            if key == "schema" and value == {}:
                yield f"{where}/schema"
            yield from placeholders(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from placeholders(item, f"{where}/{i}")


def test_placeholders_are_found() -> None:
    document = {"components": {"schemas": {
        "Bare": {"type": "object", "description": "anything"}, "Nullable": {"type": ["object", "null"]},
        "Real": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "object"}}},
        "Closed": {"type": "object", "additionalProperties": False}}},
        "paths": {"/x": {"get": {"parameters": [{"name": "q", "in": "query", "schema": {}}]}}}}
    assert list(placeholders(document)) == [
        "#/components/schemas/Bare", "#/components/schemas/Nullable", "#/components/schemas/Real/properties/b",
        "#/paths/~x/get/parameters/0/schema".replace("~x", "/x")]


@pytest.mark.slow
def test_the_index_lists_exactly_the_documents_checked_here(server: process.Server) -> None:
    listed = {entry["name"]: entry for entry in fetch(server, "/__admin/contracts/")["contracts"]}
    assert {name for name, entry in listed.items() if entry["kind"] == "openapi"} == set(DOCUMENTS), \
        "every OpenAPI document the server lists must be validated and fuzzed here"
    for name in DOCUMENTS:
        with urllib.request.urlopen(server.url + listed[name]["url"], timeout=10) as response:
            assert response.read() == openapi_documents()[name].body


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_document_is_strict_openapi_3_1_every_ref_resolves_and_no_schema_is_a_placeholder(name: str) -> None:
    document = json.loads(openapi_documents()[name].body)
    validate(document, cls=OpenAPIV31SpecValidator)
    refs = sorted(set(references(document)))
    assert refs, "the document should share its schemas through components"
    for ref in refs:
        resolve(document, ref)
    assert list(placeholders(document)) == [], "say what these hold"


def schemathesis(server: process.Server, name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`st run` against the served document, in a subprocess like a user's shell; the base URL is the
    server's plus the document's first server path."""
    document = json.loads(openapi_documents()[name].body)
    base = server.url + document.get("servers", [{"url": "/"}])[0]["url"].rstrip("/")
    args = [
        f"{server.url}/__admin/contracts/{name}", "--url", base,
        "--max-examples", str(EXAMPLES), "--seed", str(SEED),
        "--phases", "examples,coverage,fuzzing,stateful", "--generation-database", "none", "--no-color",
        "--request-timeout", "10", "--workers", "1",
    ]
    runner = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"
    return subprocess.run([sys.executable, "-c", runner, "--config-file", str(CONFIG), "run", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_document_agrees_with_the_server(server: process.Server, tmp_path: Path, name: str) -> None:
    result = schemathesis(server, name, tmp_path)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-3000:]
    assert re.search(r"Selected: (\d+)/\1\s+Tested: \1\n", result.stdout), result.stdout[-3000:]

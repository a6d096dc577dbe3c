"""The OpenAPI documents the server publishes under /__admin/openapi/: each is valid OpenAPI 3.1 with every
$ref resolving, and each agrees with the server behind it, checked the way a user would, by pointing
schemathesis at a running `loyalty-gateway serve`: no 5xx, every status documented, every body matching
its documented schema, and input the document allows is not refused."""
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

from gateway.app import create_app
from gateway.settings import Settings
from tests import process

DOCUMENTS = ("admin.json", "pomelo.json")
EXAMPLES = 6  # per operation in the fuzzing phase; the coverage phase adds the boundary values
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261129  # fixed, so a failure found once is found again; change it to explore further


@pytest.fixture
def server(tmp_path: Path) -> Iterator[process.Server]:
    """A throwaway server per test: fuzzing resets it, deletes tenants, adds fault rules, moves its clock."""
    started = process.start(["--port", "0", "--database", "sqlite:///fuzz.db", "--access-log", "off"], tmp_path)
    yield started
    started.stop()


def fetch(server: process.Server, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


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


def test_every_served_document_is_checked_here() -> None:
    app = create_app(Settings.defaults())
    admin = next(r.get_info()["app"] for r in app.router.resources() if r.get_info().get("prefix") == "/__admin")
    served = {r.resource.canonical.rpartition("/")[2] for r in admin.router.routes()
              if r.method == "GET" and r.resource is not None and "/openapi/" in r.resource.canonical}
    assert served == set(DOCUMENTS), "a new served document must be validated and fuzzed here too"


@pytest.mark.slow
@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_document_is_strict_openapi_3_1_and_every_ref_resolves(server: process.Server, name: str) -> None:
    document = fetch(server, f"/__admin/openapi/{name}")
    validate(document, cls=OpenAPIV31SpecValidator)
    refs = sorted(set(references(document)))
    assert refs, "the document should share its schemas through components"
    for ref in refs:
        resolve(document, ref)


def bearer_token(server: process.Server) -> str:
    token = fetch(server, "/oauth/token", {"client_id": "demo-client-id", "client_secret": "demo-client-secret",
                                            "audience": "https://api.pomelo.la", "grant_type": "client_credentials"})
    return str(token["access_token"])


def schemathesis(server: process.Server, name: str, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`st run` against the served document, in a subprocess like a user's shell."""
    args = [
        f"{server.url}/__admin/openapi/{name}", "--url", server.url + ("/__admin" if name == "admin.json" else ""),
        "--max-examples", str(EXAMPLES), "--seed", str(SEED),
        "--phases", "examples,coverage,fuzzing", "--generation-database", "none", "--no-color",
        "--request-timeout", "10", "--workers", "1", *extra,
    ]
    runner = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"
    return subprocess.run([sys.executable, "-c", runner, "--config-file", str(CONFIG), "run", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_admin_document_agrees_with_the_server(server: process.Server, tmp_path: Path) -> None:
    result = schemathesis(server, "admin.json", tmp_path)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-3000:]
    assert re.search(r"Selected: (\d+)/\1\s+Tested: \1\n", result.stdout), result.stdout[-3000:]


@pytest.mark.slow
def test_the_pomelo_document_agrees_with_the_server(server: process.Server, tmp_path: Path) -> None:
    token = bearer_token(server)
    result = schemathesis(server, "pomelo.json", tmp_path, "--header", f"Authorization: Bearer {token}")
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-3000:]
    assert re.search(r"Selected: (\d+)/\1\s+Tested: \1\n", result.stdout), result.stdout[-3000:]

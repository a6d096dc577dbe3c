"""Prism (@stoplight/prism-cli, installed by .ci/run into .ci/node) can mock from every OpenAPI document the
server serves: a proof the documents are standard, read by a tool that is not ours. For each document one GET
operation is asked of `prism mock` (its required parameters and credentials filled from the document) and
the answer must fit the document. Outside CI a missing Prism skips; in CI (CI set) it fails."""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import threading
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gateway.dialects.answer_schema import AnswerSchema
from gateway.dialects.request_schema import server_prefix
from tests.test_openapi import DOCUMENTS, openapi_documents

ROOT = Path(__file__).resolve().parent.parent
PRISM = ROOT / ".ci/node/node_modules/.bin/prism"
STARTUP_SECONDS = 90  # node on a loaded machine


@pytest.fixture(scope="module")
def prism() -> Path:
    if not PRISM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{PRISM} is missing: .ci/run installs it (npm install --prefix .ci/node @stoplight/prism-cli@5)")
        pytest.skip(f"Prism is not installed at {PRISM} (.ci/run installs it)")
    return PRISM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def value_of(schema: dict[str, Any]) -> str:
    """A text a parameter of this schema takes: its example, first enum value or default, else "1"."""
    for key in ("examples", "enum"):
        if schema.get(key):
            return str(schema[key][0])
    return str(schema.get("example", schema.get("default", "1")))


def a_get(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The GET operation with the fewest required parameters (then the shortest path)."""
    found = []
    for path, item in document["paths"].items():
        if "get" in item:
            params = [*item.get("parameters", ()), *item["get"].get("parameters", ())]
            found.append((sum(1 for p in params if p.get("required")), len(path), path, item["get"], params))
    assert found, "the document has no GET operation to ask Prism for"
    _, _, path, operation, params = min(found, key=lambda row: row[:3])
    return path, {**operation, "parameters": params}


def request_for(document: dict[str, Any], path: str, operation: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The path with query for `operation` and the headers its first security requirement asks for."""
    query, headers = {}, {}
    for p in operation["parameters"]:
        p = resolve(document, p)
        if p.get("required") or p["in"] == "path":
            text = value_of(resolve(document, p.get("schema", {})))
            if p["in"] == "path":
                path = path.replace("{" + p["name"] + "}", urllib.parse.quote(text, safe=""))
            elif p["in"] == "query":
                query[p["name"]] = text
            elif p["in"] == "header":
                headers[p["name"]] = text
    schemes = document.get("components", {}).get("securitySchemes", {})
    for name in (operation.get("security", document.get("security")) or [{}])[0]:
        scheme = schemes[name]
        if scheme["type"] == "apiKey":
            (headers if scheme["in"] == "header" else query)[scheme["name"]] = "prism"
        elif scheme["type"] == "http" and scheme["scheme"].lower() == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(b"prism:prism").decode()
        else:  # http bearer, oauth2, openIdConnect
            headers["Authorization"] = "Bearer prism"
    return path + ("?" + urllib.parse.urlencode(query) if query else ""), headers


def resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@pytest.mark.slow
@pytest.mark.parametrize("name", DOCUMENTS)
def test_prism_mocks_from_the_document_and_its_answer_fits(prism: Path, tmp_path: Path, name: str) -> None:
    body = openapi_documents()[name].body
    (tmp_path / name).write_bytes(body)
    document = json.loads(body)
    port = free_port()
    proc = subprocess.Popen(
        [str(prism), "mock", str(tmp_path / name), "--port", str(port), "--host", "127.0.0.1",
         "--dynamic", "--seed", "1", "--json-schema-faker-fillProperties=false"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    listening = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Prism is listening" in line:
                listening.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert listening.wait(STARTUP_SECONDS), "Prism did not start:\n" + "".join(lines)
        path, operation = a_get(document)
        target, headers = request_for(document, path, operation)
        request = urllib.request.Request(f"http://127.0.0.1:{port}{target}", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            status, content_type, answer = response.status, response.headers.get("Content-Type", ""), response.read()
        assert 200 <= status < 300, (target, status, answer)
        # Prism answers at the document's paths; the document's checker expects the server's path in front
        misfits = AnswerSchema(document).check("GET", server_prefix(document) + target, status, content_type, answer)
        assert misfits == [], (target, answer)
        assert not [line for line in lines if "error" in line.lower() and "NO_PATH_MATCHED" not in line], "".join(lines)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()

"""Record mode: each exchange with an upstream declared `"record": true` is appended as a contract case, in
the shape of fixtures/<dialect>/cases.json that the upstream's dialect uses (its case_format), to
<record_dir>/<tenant>/<dialect>/cases.json, secrets masked, the file rewritten atomically. Numbers are
written as the upstream wrote them (never through float)."""
from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..dialects.upstream_transport import Exchange, mask
from ..sandbox.redact import MASK, redact_body, redact_query

log = logging.getLogger("gateway.upstream.record")


class Recorded:
    """An exchange with secrets masked, and what a case needs of it."""

    def __init__(self, exchange: Exchange, secrets: Sequence[str]) -> None:
        def clean(text: str, content_type: str = "") -> str:
            return redact_body(mask(text, secrets).encode(), content_type).decode("utf-8", "replace")

        parts = urlsplit(exchange.url)
        self.exchange = exchange
        self.method = exchange.method
        self.path = clean(parts.path + (f"?{redact_query(parts.query)}" if parts.query else ""))
        self.status = exchange.status
        self.request_type = _header(exchange.request_headers, "content-type")
        self.request_body = clean(exchange.request_body, self.request_type)
        self.response_body = clean(exchange.response_body, _header(exchange.response_headers, "content-type"))
        self.authorized = _header(exchange.request_headers, "authorization") != ""
        self.key = clean(_header(exchange.request_headers, "x-idempotency-key"))

    def request_json(self) -> Any:
        return _json(self.request_body) if "json" in self.request_type.lower() or self.request_body[:1] in "{[" else None

    def response_json(self) -> Any:
        return _json(self.response_body)


def _header(headers: Any, name: str) -> str:
    return next((str(v) for k, v in headers.items() if k.lower() == name), "")


_NOT_JSON = object()


def _json(text: str) -> Any:
    if not text.strip():
        return _NOT_JSON
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return _NOT_JSON


def _slug(r: Recorded) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{r.method} {r.path.partition('?')[0]}".lower()).strip("-")[:60]


def steps_case(case_id: str, r: Recorded, folder: Path) -> dict[str, Any]:
    """{id, steps: [{method, path, status, body?, expect_json | expect_text}]} (one step per exchange)."""
    step: dict[str, Any] = {"method": r.method, "path": r.path, "status": r.status}
    if r.request_body:
        step["body"] = r.request_body
    reply = r.response_json()
    step["expect_json" if reply is not _NOT_JSON else "expect_text"] = reply if reply is not _NOT_JSON else r.response_body
    return {"id": case_id, "steps": [step]}


def request_case(case_id: str, r: Recorded, folder: Path) -> dict[str, Any]:
    """{id, doc, request: {method, path, body: FILE, content_type}, seed, status, volatile, deviations, added,
    ambiguities, expected}; the request body is written to a file beside cases.json, as the samples are."""
    request: dict[str, Any] = {"method": r.method, "path": r.path}
    if r.request_body:
        name = f"bodies/{case_id}.json"
        _write(folder / name, r.request_body)
        request.update(body=name, content_type=r.request_type or "application/json")
    reply = r.response_json()
    return {"id": case_id, "doc": _doc(r), "request": request, "seed": {}, "status": r.status, "volatile": [],
            "deviations": [], "added": {}, "ambiguities": [],
            "expected": reply if reply is not _NOT_JSON else r.response_body}


def flat_case(case_id: str, r: Recorded, folder: Path) -> dict[str, Any]:
    """{id, method, path, status, token, idempotency_key?, json | form | raw, content_type?, expect}."""
    case: dict[str, Any] = {"id": case_id, "method": r.method, "path": r.path, "status": r.status,
                            "token": "full" if r.authorized else "none"}
    if r.key:
        case["idempotency_key"] = r.key
    sent = r.request_json()
    if sent is not None and sent is not _NOT_JSON:
        case["json"] = sent
    elif r.request_body:
        form = "x-www-form-urlencoded" in r.request_type.lower()
        case["form" if form else "raw"] = dict(parse_qsl(r.request_body, keep_blank_values=True)) if form else r.request_body
        if not form:
            case["content_type"] = r.request_type
    reply = r.response_json()
    case["expect"] = reply if isinstance(reply, dict) else {}
    return case


def _doc(r: Recorded) -> str:
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.exchange.started_at))
    return f"recorded from the upstream at {urlsplit(r.exchange.url).netloc} on {moment}"


FORMATS: dict[str, Callable[[str, Recorded, Path], dict[str, Any]]] = {
    "steps": steps_case, "request": request_case, "flat": flat_case,
}


class Recorder:
    """Cases by file, loaded once (so a restart appends), each file rewritten whole after every case."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[Path, dict[str, Any]] = {}
        self._broken: set[Path] = set()

    def folder(self, tenant: str, dialect: str) -> Path:
        return self.root / tenant / dialect

    def record(self, tenant: str, dialect: str, case_format: str, exchange: Exchange, secrets: Sequence[str]) -> None:
        """Append the exchange as a case; one that got no answer (a timeout, a dropped connection) is no
        contract and is not written (the journal and the statistics still show it)."""
        if exchange.status is None:
            return
        folder = self.folder(tenant, dialect)
        path = folder / "cases.json"
        if path in self._broken:
            return
        try:
            document = self._document(path, dialect)
            cases = document["cases"]
            recorded = Recorded(exchange, secrets)
            cases.append(FORMATS[case_format](f"{len(cases) + 1:04d}-{_slug(recorded)}", recorded, folder))
            _write(path, dumps(document) + "\n")
        except (OSError, ValueError) as exc:  # recording must never cost the client its answer
            self._broken.add(path)
            log.warning("recording to %s stopped: %s", path, exc)

    def _document(self, path: Path, dialect: str) -> dict[str, Any]:
        if path not in self._files:
            if path.exists():
                document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
                if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
                    raise ValueError("it is no cases document (an object with a cases list)")
            else:
                document = {"description": f"Exchanges with a {dialect} upstream, recorded by loyalty-gateway "
                                           f"(secrets masked as {MASK}); pin the ones worth keeping.", "cases": []}
            self._files[path] = document
        return self._files[path]


def _write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def dumps(value: Any, indent: str = "") -> str:
    """JSON, two-space indented, Decimals written as the numbers they are (json.dumps cannot)."""
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{inner}{dumps(v, inner)}" for v in value) + f"\n{indent}]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)

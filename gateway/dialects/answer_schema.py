"""Checks an answer (method, path, status, content type, body) against the OpenAPI 3.1 document a dialect
publishes: the status is one the operation lists, the content type one that status lists, and a JSON body
fits its schema. Neutral: names no vendor. For verify's shape mode and the tests."""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema

from .common import BodyError, parse_json
from .request_schema import HTTP_METHODS, Schemas, server_prefix


class AnswerSchema:
    """check(method, path with query, status, content type, body) -> one line per thing that does not fit
    ("/points: 'x' is not of type 'number'"); empty when the answer fits. A request the document does not
    describe fits only as a 405 (its path is there, not its method) or a 404 (no such path); a status an
    operation does not list is one line (a "4XX" range or "default" counts)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.schemas = Schemas(document)
        prefix = server_prefix(document)
        found: list[tuple[int, str, re.Pattern[str], str, Mapping[str, Any]]] = []
        for template, item in (document.get("paths") or {}).items():
            item = self.schemas.resolve(item)
            pattern = re.compile("".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", prefix + template)) + "$")
            for method in HTTP_METHODS:
                if method in item:
                    responses = item[method].get("responses") or {}
                    found.append((template.count("{"), method.upper(), pattern, template, responses))
        found.sort(key=lambda row: row[0])  # a literal path wins over a template that also matches
        self.operations = [row[1:] for row in found]
        self._validator = cache(self._compile)

    def _compile(self, key: tuple[str, str, str, str]) -> jsonschema.protocols.Validator | None:
        method, template, status, media_type = key
        response = self._response(method, template, status)
        schema = response["content"][media_type].get("schema")
        return None if schema is None else self.schemas.validator(schema)

    def _response(self, method: str, template: str, status: str) -> Mapping[str, Any]:
        item = self.schemas.resolve(self.schemas.document["paths"][template])
        return self.schemas.resolve(item[method.lower()]["responses"][status])  # type: ignore[no-any-return]

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
        bare = path.split("?", 1)[0]
        known_path = False
        for verb, pattern, template, responses in self.operations:
            if pattern.match(bare):
                known_path = True
                if verb == method.upper():
                    break
        else:  # outside the document: the only fitting answers say so (a method or a path it does not describe)
            if status == (405 if known_path else 404):
                return []
            return [f"{method} {bare}: no such operation in the document"]
        listed = next((s for s in (str(status), f"{str(status)[0]}XX", "default") if s in responses), None)
        if listed is None:
            return [f"status {status}: not listed for {method} {template} (listed: {', '.join(responses)})"]
        content = self._response(method, template, listed).get("content") or {}
        if not content:
            return [] if not body else [f"status {status}: a body where the document lists none"]
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in content:
            return [f"content type {media_type or 'none'}: not one of {', '.join(content)} for status {status}"]
        validator = self._validator((method.upper(), template, listed, media_type))
        if validator is None or not (media_type == "application/json" or media_type.endswith("+json")):
            return []
        try:
            instance = parse_json(body)
        except BodyError as exc:
            return [f"body: {exc}"]
        return [f"{''.join(f'/{p}' for p in error.absolute_path) or '/'}: {error.message}"
                for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]

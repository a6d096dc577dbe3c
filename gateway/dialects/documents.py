"""A dialect's Documents from an OpenAPI 3.1 document it builds in Python (the one source of truth): the
bytes it is served at /__admin/contracts/<name> and shipped as, the check of incoming requests against it
(refused in the dialect's own shape) and of answers. Neutral: names no vendor."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from aiohttp import web

from .answer_schema import AnswerSchema
from .descriptor import Document, Documents
from .request_schema import Problem, RequestSchema

# refuse(request, problems): the dialect's answer to a request its document does not allow (never empty)
Refusal = Callable[[web.Request, list[Problem]], web.StreamResponse]


def json_bytes(document: Mapping[str, Any]) -> bytes:
    """A JSON document as it is served and shipped: indented, UTF-8, one newline at the end."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def openapi_documents(name: str, title: str, build: Callable[[], Mapping[str, Any]], refuse: Refusal,
                      *others: Document) -> Documents:
    """Documents holding the OpenAPI document `build()` returns (built once, on first use: importing a
    dialect stays cheap) and any `others`; check_request refuses with `refuse`, check_answer reads the same
    document."""
    document = cache(build)
    content = cache(lambda: json_bytes(document()))
    requests = cache(lambda: RequestSchema(document()))
    answers = cache(lambda: AnswerSchema(document()))

    async def check_request(request: web.Request) -> web.StreamResponse | None:
        problems = await requests().check(request)
        return refuse(request, problems) if problems else None

    def check_answer(method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
        return answers().check(method, path, status, content_type, body)

    served = Document(name=name, kind="openapi", media_type="application/json", title=title, content=content)
    return Documents(documents=(served, *others), check_answer=check_answer, check_request=check_request)

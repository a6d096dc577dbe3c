"""check_answer for the imonggo dialect: does an answer fit the published documents? XML answers against
imonggo.xsd with the root (and a <hash>'s first field) the route answers with; JSON answers against the
OpenAPI document's schema for the operation and status. Used by verify's shape mode and the tests."""
from __future__ import annotations

import re
from functools import cache
from urllib.parse import parse_qs, urlsplit

from ..answer_schema import AnswerSchema
from ..common import BodyError
from . import published, xml_in
from .auth import DENIED
from .catalogue import RESOURCES
from .routes import PREFIX

# What a 2xx XML answer's root is, by the path below PREFIX less its suffix: (root, first field of a <hash>).
# A listing answers a <hash> for q=count and q=last_updated_at.
_LISTS = {"customers": "customers", "invoices": "invoices", "customer_types": "customer-types",
          **{r.key: r.root for r in RESOURCES}}
_RECORDS = {"customers": "customer", "invoices": "invoice", "customer_types": "customer_type",
            **{r.key: r.item for r in RESOURCES}}
_SINGLES = {"rewards": ("hash", "points-spent"), "tokens": ("hash", "api_token"), "tax_settings": ("tax_setting", None)}
_CREATES = {"customers": "customer", "invoices": "invoice"}
_SUFFIX = re.compile(r"\.(xml|json)$")


def expected_root(method: str, path: str, query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    """The root a successful XML answer to this request has, or None for a path the dialect does not route."""
    parts = _SUFFIX.sub("", path[len(PREFIX) + 1:]).split("/") if path.startswith(PREFIX + "/") else []
    if len(parts) == 2 and parts[0] in _RECORDS and parts[1].isdigit():
        return _RECORDS[parts[0]], None
    if len(parts) != 1:
        return None
    key = parts[0]
    if key in _SINGLES:
        return _SINGLES[key]
    if method == "POST" and key in _CREATES:
        return _CREATES[key], None
    if key in _LISTS:
        q = (query.get("q") or [""])[0]
        return ("hash", "count") if q == "count" else ("hash", "last_updated_at") if q == "last_updated_at" else (_LISTS[key], None)
    return None


def check_answer(method: str, target: str, status: int, content_type: str, body: bytes) -> list[str]:
    """What does not fit the documents in this answer, one line each; empty when it fits."""
    url = urlsplit(target)
    media = content_type.split(";")[0].strip().lower()
    if status == 401:
        return [] if media == "text/plain" and body.decode("utf-8", "replace") == DENIED else [
            f"401: expected text/plain {DENIED!r}, got {media} {body[:80]!r}"]
    if url.path.endswith(".json"):
        return _json_problems(method, target, status, content_type, body)
    return _xml_problems(method, url.path, parse_qs(url.query), status, media, body)


def _xml_problems(method: str, path: str, query: dict[str, list[str]], status: int, media: str, body: bytes) -> list[str]:
    if media != "application/xml":
        return [f"content type: expected application/xml, got {media or 'none'}"]
    try:
        root = xml_in.parse(body)
    except BodyError as exc:
        return [f"body: {exc}"]
    problems = published.xml_problems(published.xml_schema(published.ANSWERS_XSD), root)
    wanted = ("errors", None) if status >= 400 else expected_root(method, path, query)
    if wanted is None:
        return [*problems, f"{method} {path}: not a route of the documents"]
    first = next((child.tag for child in root if isinstance(child.tag, str)), None)
    if root.tag != wanted[0] or (wanted[1] is not None and first != wanted[1]):
        said = f"<{wanted[0]}>" + (f" holding <{wanted[1]}>" if wanted[1] else "")
        problems.append(f"/{root.tag}: expected {said} for {method} {path}")
    return problems


@cache
def _json_answers() -> AnswerSchema:
    return AnswerSchema(published.openapi())


def _json_problems(method: str, target: str, status: int, content_type: str, body: bytes) -> list[str]:
    """The neutral check of an answer against the OpenAPI document's operation, status and schema."""
    return _json_answers().check(method, target, status, content_type, body)

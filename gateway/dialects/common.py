"""Dialect-neutral helpers: the error-table type, the answer to a failure in a dialect's shape, JSON body
reading.
Nothing vendor-specific lives here."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..keys import REQUEST_JSON, REQUEST_TENANT
from ..ledger import InvalidArgument, LedgerError, Tenant, all_error_classes

log = logging.getLogger("gateway.errors")


@dataclass(frozen=True)
class ErrorSpec:
    """How one dialect shows one ledger error: a status and, optionally, a message (fixed, or worked out
    from the error's details, e.g. which identity was taken) and a code."""

    status: int
    message: str | Callable[[LedgerError], str] | None = None
    code: str | None = None

    def message_for(self, exc: LedgerError) -> str:
        if callable(self.message):
            return self.message(exc)
        return self.message or exc.message


ErrorTable = Mapping[type[LedgerError], ErrorSpec]
# render(request, status, message, code) -> response in the dialect's error shape
ErrorRenderer = Callable[[web.Request, int, str, str | None], web.StreamResponse]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# An absolute http(s) URL (a webhook target): scheme, a host (and port), then anything without white space.
# The admin API's OpenAPI document uses the same pattern.
ABSOLUTE_URL = re.compile(r"^https?://[^\x00-\x20\x7f/?#]+[^\x00-\x20\x7f]*$")

# What the transport-level errors say when a dialect has no better words.
HTTP_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Request body is too large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def remember(request: web.Request, tenant: Tenant) -> None:
    """Name the tenant of a request whose handler found it itself (a login route), for the journal."""
    request[REQUEST_TENANT] = tenant


def tenant_of(request: web.Request) -> Tenant:
    """The tenant the dialect's auth found for this request (see `remember`)."""
    return request[REQUEST_TENANT]


def missing_from(table: ErrorTable) -> list[str]:
    """Names of the concrete LedgerError classes that have no row of their own in a table.

    Exact on purpose: a row for a base class does not count, and the table's `LedgerError` row (the
    catch-all for the unexpected) is never asked about, since all_error_classes() leaves LedgerError out.
    So a new error class, or a subclass of an existing one, fails every dialect's completeness test until
    someone decides how that dialect shows it, instead of silently taking the catch-all's 500 or its
    parent's row."""
    return [cls.__name__ for cls in all_error_classes() if cls not in table]


def lookup(table: ErrorTable, cls: type[BaseException]) -> ErrorSpec | None:
    """The row for an error at run time: its own, else its nearest base class's, ending at the catch-all."""
    for klass in cls.__mro__:
        if klass in table:
            return table[klass]  # type: ignore[index]
    return None


def answer_error(
    request: web.Request, exc: Exception, table: ErrorTable, render: ErrorRenderer, words: Mapping[int, str]
) -> web.StreamResponse:
    """The dialect's answer to a failure: ledger errors through the table, HTTP errors (404, 405, 413 ...)
    and unexpected failures (500) in the dialect's own shape. An HTTP exception below 400 (a redirect) is
    raised again, to be answered as it is."""
    if isinstance(exc, LedgerError):
        spec = lookup(table, type(exc))
        if type(exc) not in table:  # the completeness tests make this unreachable for known errors
            log.error("ledger error %s has no row of its own: %s", type(exc).__name__, exc.message)
        if spec is None:
            return render(request, 500, words[500], None)
        response = render(request, spec.status, spec.message_for(exc), spec.code)
        wait = exc.details.get("retry_after")
        if isinstance(wait, int) and not isinstance(wait, bool):  # an upstream's rate limit, passed on
            response.headers["Retry-After"] = str(wait)
        return response
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        if exc.status == 405:
            response = render(request, 405, words[405], None)
            allow = exc.headers.get("Allow")
            if allow:
                response.headers["Allow"] = allow
            return response
        return render(request, exc.status, words.get(exc.status, exc.reason), None)
    log.error("unexpected failure in %s %s", request.method, request.path, exc_info=exc)
    return render(request, 500, words[500], None)


def error_middleware(
    table: ErrorTable, render: ErrorRenderer, messages: Mapping[int, str] | None = None
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """One middleware for an app of its own (the admin API): every failure through answer_error."""
    words = {**HTTP_MESSAGES, **(messages or {})}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except Exception as exc:
            return answer_error(request, exc, table, render, words)

    return middleware


class BodyError(ValueError):
    """A request body that could not be read as the dialect expects."""


MAX_JSON_DEPTH = 64


def parse_json(raw: bytes | str) -> Any:
    """JSON with fractions (and integers too long for int()) as Decimal (never float), no NaN/Infinity, at
    most MAX_JSON_DEPTH levels deep (deeper documents are refused before any recursive code walks them).
    BodyError otherwise."""
    try:
        value = json.loads(raw, parse_float=Decimal, parse_int=_integer, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise BodyError(f"request body is not valid JSON: {exc}") from None
    level, frontier = 0, [value]
    while frontier:
        level += 1
        if level > MAX_JSON_DEPTH:
            raise BodyError(f"request body is nested more than {MAX_JSON_DEPTH} levels deep")
        frontier = [child for node in frontier if isinstance(node, (dict, list))
                    for child in (node.values() if isinstance(node, dict) else node)
                    if isinstance(child, (dict, list))]
    return value


def parsed_json(request: web.Request, text: bytes | str) -> Any:
    """parse_json(text), parsed once per request: the documents' check and the handler both read a write's
    body, and the second reader gets the first one's value (kept with the text it came from)."""
    kept = request.get(REQUEST_JSON)
    if kept is not None and type(kept[0]) is type(text) and kept[0] == text:
        return kept[1]
    value = parse_json(text)
    request[REQUEST_JSON] = (text, value)
    return value


async def read_json(request: web.Request) -> Any:
    """The body as JSON (see parse_json). BodyError if it is empty or not JSON."""
    raw = await request.read()
    if not raw.strip():
        raise BodyError("request body is empty")
    return parsed_json(request, raw)


async def read_json_object(request: web.Request, *, what: str = "the request body") -> dict[str, Any]:
    """The body as a JSON object; anything else is an InvalidArgument naming `what`."""
    try:
        body = await read_json(request)
    except BodyError as exc:
        raise InvalidArgument(str(exc)) from None
    if not isinstance(body, dict):
        raise InvalidArgument(f"{what} must be a JSON object")
    return body


def _integer(text: str) -> int | Decimal:
    """A JSON integer; one too long for int() (4300 digits) stays a Decimal, so it is refused as too large by
    whoever reads it as a number, rather than the whole body as unreadable."""
    return int(text) if len(text) <= 4000 else Decimal(text)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def strftime(moment: datetime, fmt: str) -> str:
    """strftime with a four-digit year on every platform (glibc writes the year 999 as "999"). Slow (it
    parses the format each call): the wire's fixed layouts use utc_seconds and wall_clock_micro."""
    return moment.strftime(fmt.replace("%Y", f"{moment.year:04d}"))


def utc_seconds(moment: datetime, sep: str = "T") -> str:
    """`2013-05-25T02:24:31`: the moment in UTC to the second, exactly what
    strftime(moment.astimezone(timezone.utc), "%Y-%m-%d{sep}%H:%M:%S") writes, four-digit year included,
    from isoformat at a fraction of strftime's cost."""
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(sep, "seconds")[:19]


def wall_clock_micro(moment: datetime, sep: str = " ") -> str:
    """`2021-12-20 16:00:30.834896`: the moment's own date and time (no conversion, no offset), exactly what
    strftime(moment, "%Y-%m-%d{sep}%H:%M:%S.%f") writes."""
    return moment.isoformat(sep, "microseconds")[:26]


# One encoder made once: json.dumps with options builds a new JSONEncoder per call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON. Decimals must be turned into strings or ints by the dialect first."""
    return _COMPACT_JSON.encode(value).encode()

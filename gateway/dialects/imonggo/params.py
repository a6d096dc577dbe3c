"""Query-string parameters of the imonggo dialect: paging, filters, ids. Bad values are 422s with
Rails-style messages (raised as the ledger's InvalidArgument), never silently ignored."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from aiohttp import web

from ...ledger import InvalidArgument
from ...whole_numbers import json_whole, whole_number
from .scalars import NOT_XML

MAX_PER_PAGE = 1000
MAX_PAGE = 1_000_000_000
TEXT_LIMIT = 255  # the longest free-text parameter (reference, reason)
TRUE = ("1", "true", "t", "yes")


# The dialect's words for a refused parameter, in Rails' full-message style; the handlers' readers here and
# the documents' check of a request (request_check.py) both say them.
def not_whole(label: str) -> str:
    return f"{label} must be a whole number from 1 to {MAX_PAGE}"


def too_many(label: str, most: int) -> str:
    return f"{label} must be at most {most}"


def not_a_time(label: str) -> str:
    return f"{label} is not a valid time"


def unsupported_query(query: str) -> str:
    return f"Invalid query: q={query} is not supported here"


def too_long(label: str, limit: int) -> str:
    return f"{label} is too long (maximum is {limit} characters)"


def not_xml(label: str) -> str:
    return f"{label} holds characters XML cannot carry"


def blank(label: str) -> str:
    return f"{label} can't be blank"


@dataclass(frozen=True)
class Listing:
    offset: int
    limit: int
    active_only: bool
    after: datetime | None
    before: datetime | None
    count: bool
    last_updated: bool = False


def digits(text: str) -> bool:
    """Plain ASCII digits only, and few enough for an id: str.isdigit() also accepts `²` and other digits
    int() refuses, and int() refuses more than 4300 digits. Every integer parameter and field of the
    dialect is read through here before int()."""
    return whole_number(text) is not None


def whole_text(text: str) -> int | None:
    """A whole number as a body field writes it: ASCII digits, or a JSON number that is whole (`8.0`, `8E+1`:
    JSON Schema's integer, which the JSON document promises, and what Rails' to_i reads too)."""
    number = whole_number(text)
    if number is None and text.strip()[:1].isdigit() and len(text) <= 64:
        try:
            return json_whole(Decimal(text.strip()))
        except InvalidOperation:
            return None
    return number


def _whole(request: web.Request, name: str, default: int, label: str) -> int:
    text = request.query.get(name, "").strip()
    if not text:
        return default
    number = whole_number(text, low=1, high=MAX_PAGE)
    if number is None:
        raise InvalidArgument(not_whole(label))
    return number


def moment(text: str, label: str) -> datetime:
    """A time as clients send it (`2013-07-13 00:52:24`, `2013-07-13T00:52:24Z`, `2013-07-13`, and the
    way the JSON replies write times, `2013/07/13 00:52:24 +0000`); UTC unless it says otherwise."""
    try:
        value = _slashed(text.strip()) or datetime.fromisoformat(text.strip())
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    except ValueError:
        raise InvalidArgument(not_a_time(label)) from None
    except OverflowError:  # an offset that moves the time past year 1 or 9999
        raise InvalidArgument(f"{label} is out of range") from None


# JSON replies write times as Rails 2 did (scalars.utc_json), and a client syncing with after= sends back
# the last utc_updated_at it saw; Rails' Time.parse reads that form, so it is read here too.
_SLASHED = ("%Y/%m/%d %H:%M:%S %z", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d")


def _slashed(text: str) -> datetime | None:
    if text[4:5] != "/" or not text.isascii():  # strptime would read other scripts' digits too
        return None
    for layout in _SLASHED:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ValueError(text)


def _time(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name, "").strip()
    return moment(text, name.capitalize()) if text else None


def listing(
    request: web.Request, *, per_page: int, counts: bool = True, latest: bool = False,
    max_per_page: int = MAX_PER_PAGE,
) -> Listing:
    """page (1-based), per_page (up to the resource's maximum), active_only, after/before (on the update
    time), q=count (with `counts`) and q=last_updated_at (with `latest`)."""
    query = request.query.get("q")
    allowed = {"count"} if counts else set()
    if latest:
        allowed.add("last_updated_at")
    if query is not None and query not in allowed:
        raise InvalidArgument(unsupported_query(query))
    page = _whole(request, "page", 1, "Page")
    limit = _whole(request, "per_page", per_page, "Per page")
    if limit > max_per_page:
        raise InvalidArgument(too_many("Per page", max_per_page))
    return Listing(
        offset=(page - 1) * limit, limit=limit,
        active_only=request.query.get("active_only", "").strip().lower() in TRUE,
        after=_time(request, "after"), before=_time(request, "before"), count=query == "count",
        last_updated=query == "last_updated_at",
    )


def text(request: web.Request, name: str, *, limit: int = TEXT_LIMIT) -> str | None:
    """A free-text parameter (reference, reason), stripped; None when absent or blank."""
    value = request.query.get(name, "").strip()
    if NOT_XML.search(value):
        raise InvalidArgument(not_xml(name.capitalize()))
    if len(value) > limit:
        raise InvalidArgument(too_long(name.capitalize(), limit))
    return value or None


def record_id(request: web.Request) -> int:
    """The `{id}` of the path (the route only matches digits)."""
    return int(request.match_info["id"])

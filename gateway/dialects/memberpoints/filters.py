"""GET memberpoints filters → a HistoryQuery: id, mbr_id, adjustmentnote, adjustdate with matchType,
before, after and includeOrders. Dates are dd/mm/yyyy or yyyy-mm-dd with an optional time (never read
as mm/dd), in UTC; a value means the whole span it names (a day, a minute, a second or an instant)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ...ledger import MANUAL_KINDS, ORDER_KINDS, Asset, HistoryQuery, Period
from ..common import strftime
from .errors import RequestError
from .paging import PageRequest, page_request, whole

# matchType values: the vendor's example is `>`; the rest follow the SQL-ish convention it implies.
MATCH_TYPES = {
    "=": "=", "==": "=", ">": ">", "<": "<", ">=": ">=", "<=": "<=", "!=": "!=", "<>": "!=", "like": "like",
}

_DATE = re.compile(
    r"^(?:(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})|(?P<Y>\d{4})-(?P<M>\d{1,2})-(?P<D>\d{1,2}))"
    r"(?:[ T](?P<H>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?$"
)
_LIKE_TEXT = re.compile(r"^[0-9 :.\-]+$")


@dataclass(frozen=True)
class When:
    """A parsed date: the span it names, and its canonical text to the precision given."""

    period: Period
    text: str


def parse_when(value: str, name: str) -> When:
    """dd/mm/yyyy or yyyy-mm-dd, optionally followed by HH:MM, HH:MM:SS or HH:MM:SS.ffffff."""
    found = _DATE.match(value.strip())
    if found is None:
        raise RequestError(400, f"{name} must be a date as dd/mm/yyyy or yyyy-mm-dd, optionally with a time")
    g = found.groupdict()
    year, month, day = (int(g["y"]), int(g["m"]), int(g["d"])) if g["y"] else (int(g["Y"]), int(g["M"]), int(g["D"]))
    parts = [int(g["H"] or 0), int(g["mi"] or 0), int(g["s"] or 0), int((g["f"] or "0").ljust(6, "0"))]
    try:
        start = datetime(year, month, day, *parts, tzinfo=timezone.utc)
    except ValueError:
        raise RequestError(400, f"{name} is not a valid date: {value.strip()}") from None
    if g["f"] is not None:
        span, text = timedelta(microseconds=1), strftime(start, "%Y-%m-%d %H:%M:%S.") + g["f"]
    elif g["s"] is not None:
        span, text = timedelta(seconds=1), strftime(start, "%Y-%m-%d %H:%M:%S")
    elif g["H"] is not None:
        span, text = timedelta(minutes=1), strftime(start, "%Y-%m-%d %H:%M")
    else:
        span, text = timedelta(days=1), strftime(start, "%Y-%m-%d")
    try:
        return When(Period(start, start + span), text)
    except OverflowError:
        raise RequestError(400, f"{name} is out of range: {value.strip()}") from None


def _flag(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name, "0").strip().lower()
    if value not in ("0", "1", "true", "false", ""):
        raise RequestError(400, f"{name} must be 1 or 0")
    return value in ("1", "true")


@dataclass(frozen=True)
class HistoryRequest:
    record_id: int | None
    include_orders: bool
    query: HistoryQuery
    page: PageRequest


def history_request(query: Mapping[str, str]) -> HistoryRequest:
    page = page_request(query)
    record_id = whole(query, "id", minimum=1)
    member_no = whole(query, "mbr_id", minimum=1)
    include_orders = _flag(query, "includeOrders")
    if include_orders and member_no is None:
        raise RequestError(400, "includeOrders=1 requires mbr_id")
    raw_match = query.get("matchType", "=").strip().lower() or "="
    if raw_match not in MATCH_TYPES:
        raise RequestError(400, f"Unsupported matchType {query['matchType']!r}: use =, >, <, >=, <=, != or like")
    match = MATCH_TYPES[raw_match]
    fields: dict[str, object] = {}
    if "adjustdate" in query:
        fields.update(_adjustdate(query["adjustdate"], match))
    if "adjustmentnote" in query:
        # matchType goes with adjustdate when both are given; otherwise with the note (= or like only).
        note_match = "=" if "adjustdate" in query else match
        if note_match == "like":
            fields["note_contains"] = query["adjustmentnote"].strip("%")
        elif note_match == "=":
            fields["note"] = query["adjustmentnote"]
        else:
            raise RequestError(400, f"matchType {raw_match} cannot be used with adjustmentnote: use = or like")
    if "after" in query:
        fields["after"] = parse_when(query["after"], "after").period.start
    if "before" in query:
        fields["before"] = parse_when(query["before"], "before").period.start
    kinds = MANUAL_KINDS | ORDER_KINDS if include_orders else MANUAL_KINDS
    history = HistoryQuery(
        member_no=member_no, record_id=record_id, asset=Asset.POINTS, kinds=frozenset(kinds), records_only=True,
        **fields,  # type: ignore[arg-type]
    )
    return HistoryRequest(record_id, include_orders, history, page)


def _adjustdate(value: str, match: str) -> dict[str, object]:
    if match != "like":
        return {"occurred": ((match, parse_when(value, "adjustdate").period),)}
    text = value.strip().strip("%")
    if _DATE.match(text):
        return {"occurred_contains": parse_when(text, "adjustdate").text}
    if not text or not _LIKE_TEXT.match(text):
        raise RequestError(400, "adjustdate with matchType like must be part of a date such as 2021-12 or 2021-12-20")
    return {"occurred_contains": text}

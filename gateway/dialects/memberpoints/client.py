"""The memberpoints (webapps/api) API as a careful integrator calls it: apiID/apiKey headers, balances and
adjustment history paged by offset/pageSize, one POST per adjustment; the vendor's error envelope read
into messages, its 401/429/5xx turned into the Upstream* errors. Knows nothing of the gateway's server side."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from ... import __version__
from ...ledger import UpstreamCredentialsRefused, UpstreamFailed, UpstreamRateLimited
from ..upstream_transport import Reply, Transport, mask, retry_after

PREFIX = "/webapps/api"
USER_AGENT = f"loyalty-gateway/{__version__}"
PAGE_SIZE = 200  # the vendor's documented page (its sample's pageSize); also the most it returns
RATE_WINDOW = 60  # the vendor allows 100 requests a minute: a 429 without Retry-After waits the minute out
MESSAGE_CAP = 300  # characters of a non-JSON error body quoted in a message

T = TypeVar("T")


class Refused(Exception):
    """The vendor would not carry out a request (a 4xx other than credentials or rate limit, or a 200 with
    "success": false); `message` is its own text. What it means is the caller's business."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class BalanceRow:
    mbr_id: int
    email: str | None
    name: str | None
    balance: Decimal


@dataclass(frozen=True)
class Adjustment:
    """One history row: a manual adjustment, or (includeOrders=1) an order's earned/redeemed points."""

    id: int
    mbr_id: int | None
    points: Decimal  # signed
    note: str
    date: str
    order_type: str | None = None  # "earned" / "redeemed" for order rows


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: tuple[T, ...]
    offset: int
    page_size: int  # the size the vendor says it used (it may clamp what was asked)

    @property
    def last(self) -> bool:
        return len(self.rows) < self.page_size or not self.rows


def _json_number(value: Decimal) -> str:
    """A Decimal as a JSON number, never through float: 10, -5, 12.5."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def adjustment_body(mbr_id: int, points: Decimal, note: str) -> bytes:
    """The vendor's documented POST document, field by field: {"mbr_id":1234,"adjustpoints":10,"adjustmentnote":"..."}."""
    return (f'{{"mbr_id":{mbr_id},"adjustpoints":{_json_number(points)},'
            f'"adjustmentnote":{json.dumps(note)}}}').encode("ascii")


class MemberpointsClient:
    """One website's memberpoints API (its apiID/apiKey pair selects the website)."""

    def __init__(self, transport: Transport, api_id: str, api_key: str) -> None:
        self.transport = transport
        self.name = f"the memberpoints upstream at {transport.base_url}"
        self._auth = {"apiID": api_id, "apiKey": api_key}
        self._secrets = (api_key,)  # apiID and apiKey headers are masked by name; the key anywhere else too

    # -- balances (read only) ------------------------------------------------------------------------

    async def balances(self, *, mbr_id: int | None = None, offset: int | None = None,
                       page_size: int | None = None) -> Page[BalanceRow]:
        """GET memberpointsbalances[?mbr_id=][&offset=&pageSize=]: one page of members' balances."""
        params = _params(mbr_id=mbr_id, offset=offset, pageSize=page_size)
        body = await self._get("memberpointsbalances", params)
        return self._page(body, self._balance_row, offset or 0, page_size or PAGE_SIZE)

    async def every_balance(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[BalanceRow]:
        """Every member's balance, page after page, until a page comes back short."""
        offset = 0
        while True:
            page = await self.balances(offset=offset, page_size=page_size)
            for row in page.rows:
                yield row
            if page.last:
                return
            offset += len(page.rows)

    # -- adjustment history --------------------------------------------------------------------------

    async def history(
        self, *, mbr_id: int | None = None, adjustmentnote: str | None = None, adjustdate: str | None = None,
        match_type: str | None = None, after: str | None = None, before: str | None = None,
        include_orders: bool = False, offset: int | None = None, page_size: int | None = None,
    ) -> Page[Adjustment]:
        """GET memberpoints with the vendor's filters (dates as dd/mm/yyyy, as its examples write them)."""
        params = _params(
            mbr_id=mbr_id, adjustmentnote=adjustmentnote, adjustdate=adjustdate, matchType=match_type,
            after=after, before=before, includeOrders=1 if include_orders else None, offset=offset,
            pageSize=page_size,
        )
        body = await self._get("memberpoints", params)
        return self._page(body, self._adjustment, offset or 0, page_size or PAGE_SIZE)

    async def every_adjustment(self, *, mbr_id: int | None = None, page_size: int = PAGE_SIZE,
                               **filters: Any) -> AsyncIterator[Adjustment]:
        """The whole history that matches, oldest first (the vendor's order), page after page."""
        offset = 0
        while True:
            page = await self.history(mbr_id=mbr_id, offset=offset, page_size=page_size, **filters)
            for row in page.rows:
                yield row
            if page.last:
                return
            offset += len(page.rows)

    async def adjustment(self, adjustment_id: int) -> Adjustment | None:
        """GET memberpoints?id=: one adjustment (the vendor answers a single object), None when there is none."""
        body = await self._get("memberpoints", [("id", adjustment_id)], missing=True)
        if body is None:
            return None
        data = body.get("data")
        if isinstance(data, list):  # a vendor that lists even a single id
            data = data[0] if data else None
        return None if data is None else self._adjustment(data)

    async def adjust(self, *, mbr_id: int, points: Decimal, note: str) -> Adjustment:
        """POST memberpoints: add (positive) or deduct (negative) points; the saved row comes back."""
        reply = await self.transport.send(
            "POST", f"{PREFIX}/memberpoints", headers=self._headers(json_body=True),
            body=adjustment_body(mbr_id, points, note), secrets=self._secrets,
        )
        body = self._read(reply)
        data = body.get("data")
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        if not isinstance(data, dict):
            raise self._unreadable(reply, "an adjustment answer without the saved row")
        return self._adjustment(data)

    # -- the wire ------------------------------------------------------------------------------------

    def _headers(self, *, json_body: bool = False) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **self._auth}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    async def _get(self, endpoint: str, params: list[tuple[str, object]], *, missing: bool = False) -> Any:
        """The envelope; with `missing`, None for the vendor's 404 (an `id` that matches nothing)."""
        reply = await self.transport.send(
            "GET", f"{PREFIX}/{endpoint}", params=params or None, headers=self._headers(), secrets=self._secrets,
        )
        if missing and reply.status == 404 and isinstance(_json(reply.body), dict):
            return None
        return self._read(reply)

    def _read(self, reply: Reply) -> dict[str, Any]:
        """The envelope of a successful answer; every other answer raised as what it means."""
        body = _json(reply.body)
        refused = isinstance(body, dict) and body.get("success") is False
        if 200 <= reply.status < 300 and not refused:
            if not isinstance(body, dict):
                raise self._unreadable(reply, "an answer that is not the vendor's JSON envelope")
            return body
        message = _message(body, reply)  # only now: a success's body is never scanned for a message
        named = {"status": reply.status, "request_id": reply.request_id()}
        if reply.status == 404:  # the vendor's endpoints always exist: the upstream's base URL is wrong
            raise UpstreamFailed(
                f"{self.name} has no {reply.url.split('?')[0]} ({reply.status}: {message}): is its base URL right?",
                sent=False, **named,
            )
        if reply.status in (401, 403):
            raise UpstreamCredentialsRefused(
                f"{self.name} refused the gateway's apiID/apiKey ({reply.status}: {message}){reply.naming()}", **named,
            )
        if reply.status == 429:
            wait = retry_after(reply.headers, default=RATE_WINDOW)
            raise UpstreamRateLimited(
                f"{self.name} is rate limited ({message}); retry after {wait} s{reply.naming()}", retry_after=wait,
                **named,
            )
        if reply.status >= 500:  # a Retry-After it sent (a 503 in maintenance) is passed on
            told = {"retry_after": retry_after(reply.headers)} if reply.header("Retry-After") else {}
            raise UpstreamFailed(f"{self.name} answered {reply.status}{reply.naming()}: {message}", sent=True,
                                 **named, **told)
        raise Refused(reply.status, message)

    def _page(self, body: dict[str, Any], read: Callable[[Any], T], offset: int, asked: int) -> Page[T]:
        data = body.get("data")
        if data is None:
            data = []
        if not isinstance(data, list):
            raise UpstreamFailed(f"{self.name} answered a list request without a data list", sent=True)
        size = body.get("pageSize")
        size = size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else asked
        return Page(tuple(read(row) for row in data), offset, min(size, asked))

    def _balance_row(self, row: Any) -> BalanceRow:
        try:
            return BalanceRow(
                mbr_id=_whole(row["mbr_id"]), email=row.get("mbr_email") or None, name=row.get("mbr_name") or None,
                balance=Decimal(str(row["mbr_points_balance"])),
            )
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation):
            raise UpstreamFailed(f"{self.name} answered a balance row that could not be read: {row!r:.200}",
                                 sent=True) from None

    def _adjustment(self, row: Any) -> Adjustment:
        try:
            ident = row.get("pointsadjustid", row.get("id"))
            member = row.get("mbr_id")
            return Adjustment(
                id=_whole(ident), mbr_id=None if member is None else _whole(member),
                points=Decimal(str(row["adjustpoints"])), note=str(row.get("adjustmentnote") or ""),
                date=str(row.get("adjustdate") or ""), order_type=row.get("adjusttype"),
            )
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation):
            raise UpstreamFailed(f"{self.name} answered an adjustment row that could not be read: {row!r:.200}",
                                 sent=True) from None

    def _unreadable(self, reply: Reply, what: str) -> UpstreamFailed:
        # a write's answer that cannot be read leaves its outcome unclear: sent=True, so it is settled
        return UpstreamFailed(f"{self.name} answered {reply.status}{reply.naming()} with {what}",
                              status=reply.status, request_id=reply.request_id(), sent=True)


def _params(**values: object) -> list[tuple[str, object]]:
    return [(name, value) for name, value in values.items() if value is not None]


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_float=Decimal) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None


def _message(body: Any, reply: Reply) -> str:
    """The vendor's own words about an answer (its envelope's message, else the start of the body), secrets masked."""
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"].strip():
        return reply.masked(body["message"].strip())
    text = reply.body.decode("utf-8", "replace").strip()
    return mask(text, reply.secrets, MESSAGE_CAP) if text else "no message"


def _whole(value: Any) -> int:
    """A vendor id: a JSON number or the digit string some replies carry."""
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise ValueError("not an id")

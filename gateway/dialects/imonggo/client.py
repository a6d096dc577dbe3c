"""Imonggo's REST API as a careful hand-written client calls it: HTTP Basic with the API token, XML both
ways (Accept and Content-Type application/xml, as the vendor's guide says), its paging, its error shapes,
its 503 + Retry-After rate limit. Shares only wire formats (the hardened XML reader) with the server side."""
from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any

from lxml import etree

from ... import __version__
from ...ledger import UpstreamCredentialsRefused, UpstreamFailed, UpstreamRateLimited
from ..common import BodyError
from ..upstream_transport import Reply, Transport, retry_after
from . import xml_in

XML = "application/xml"
CUSTOMERS_PER_PAGE = 100  # the Customer API's default page size
PASSWORD = "x"  # Imonggo checks the token only; its guide says "X or some otherwise bogus text"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class ImonggoRefusal(Exception):
    """A 4xx answer other than 401/403: Imonggo's own refusal of the request, its messages read from
    `<errors><error>...</error></errors>`. What it means depends on the call (the adapter's table)."""

    def __init__(self, status: int, messages: Sequence[str], request_id: str | None = None) -> None:
        self.status, self.messages, self.request_id = status, tuple(messages), request_id
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return "; ".join(self.messages)


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str | None
    customer_type_id: str | None
    available_points: Decimal | None
    point_to_amount_ratio: Decimal | None  # shown on the customer record (Reward API page)
    deleted: bool


@dataclass(frozen=True)
class CustomerType:
    id: str
    name: str
    point_to_amount_ratio: Decimal | None  # points equal to one currency unit ("Pay with points")


@dataclass(frozen=True)
class Spent:
    """The Reward API's `<hash>`: what a spend took and what is left."""

    points_spent: Decimal
    amount_spent: Decimal
    points_available: Decimal


@dataclass(frozen=True)
class Invoice:
    id: str
    reference: str | None
    customer_id: str | None
    amount_with_tax: Decimal | None
    status: str | None  # S posted, V voided


@dataclass(frozen=True)
class Product:
    id: str
    name: str


@dataclass(frozen=True)
class NewInvoice:
    """One sale: one line (a product at a given price, quantity 1) paid with one payment of the same amount.
    The price includes any tax, so an account that adds tax cannot make the sale worth more than `amount`."""

    customer_id: str
    product_id: str
    amount: Decimal
    reference: str | None = None
    remark: str | None = None
    payment_type_id: int = 1  # cash


def amount_text(value: Decimal) -> str:
    """A currency amount as the Reward API's example writes it: `10`, `10.5`, never `1E+1`."""
    return format(value.normalize(), "f")


class ImonggoClient:
    """The calls the gateway makes to one Imonggo account. Transport trouble, 401/403, 5xx and the rate
    limit come back as the ledger's Upstream* errors; the vendor's other refusals as ImonggoRefusal."""

    def __init__(self, transport: Transport, api_token: str, *, name: str | None = None) -> None:
        self.transport = transport
        self.name = name or f"the imonggo upstream at {transport.base_url}"
        self._token = api_token
        credentials = base64.b64encode(f"{api_token}:{PASSWORD}".encode()).decode("ascii")
        self._headers = {
            "Accept": XML,
            "Content-Type": XML,
            "User-Agent": f"loyalty-gateway/{__version__}",
            "Authorization": f"Basic {credentials}",
        }

    # -- the calls -----------------------------------------------------------------------------------

    async def customer(self, customer_id: str) -> Customer:
        """GET /api/customers/{id}.xml"""
        path = f"/api/customers/{_id(customer_id)}.xml"
        return self._customer(self._one(await self._send("GET", path), "GET", path, "customer"), path)

    async def customer_type(self, type_id: str) -> CustomerType:
        """GET /api/customer_types/{id}.xml"""
        path = f"/api/customer_types/{_id(type_id)}.xml"
        fields = self._one(await self._send("GET", path), "GET", path, "customer_type")
        return CustomerType(
            id=_text(fields, "id") or type_id, name=_text(fields, "name") or "",
            point_to_amount_ratio=self._decimal(fields, "point_to_amount_ratio", path),
        )

    async def customers(self, *, page: int = 1, per_page: int = CUSTOMERS_PER_PAGE, active_only: bool = True) -> list[Customer]:
        """GET /api/customers.xml?page=&per_page=[&active_only=1]: one page (lists include deleted
        customers unless active_only)."""
        path = "/api/customers.xml"
        params: list[tuple[str, object]] = [("page", page), ("per_page", per_page)]
        if active_only:
            params.append(("active_only", 1))
        reply = await self._send("GET", path, params=params)
        return [self._customer(x, path) for x in self._many(reply, "GET", path, "customers")]

    async def all_customers(self, *, per_page: int = CUSTOMERS_PER_PAGE, active_only: bool = True) -> AsyncIterator[Customer]:
        """Every customer, page by page, until a page comes back shorter than per_page (as the vendor's
        own clients stop)."""
        page = 1
        while True:
            found = await self.customers(page=page, per_page=per_page, active_only=active_only)
            for customer in found:
                yield customer
            if len(found) < per_page:
                return
            page += 1

    async def products(self, *, page: int = 1, per_page: int = 50, active_only: bool = True) -> list[Product]:
        """GET /api/products.xml?page=&per_page=[&active_only=1] (50 a page is the default and maximum)."""
        path = "/api/products.xml"
        params: list[tuple[str, object]] = [("page", page), ("per_page", per_page)]
        if active_only:
            params.append(("active_only", 1))
        reply = await self._send("GET", path, params=params)
        return [Product(id=_text(x, "id") or "", name=_text(x, "name") or "") for x in self._many(reply, "GET", path, "products")]

    async def spend(self, customer_id: str, amount: Decimal, reference: str | None) -> Spent:
        """POST /api/rewards.xml?q=spend&customer_id=&amount=&reference= with an empty body (the Reward
        API takes its parameters from the query string only)."""
        path = "/api/rewards.xml"
        params: list[tuple[str, object]] = [("q", "spend"), ("customer_id", customer_id), ("amount", amount_text(amount))]
        if reference:
            params.append(("reference", reference))
        fields = self._one(await self._send("POST", path, params=params), "POST", path, "hash")
        return Spent(
            points_spent=self._required(fields, "points_spent", path),
            amount_spent=self._required(fields, "amount_spent", path),
            points_available=self._required(fields, "points_available", path),
        )

    async def create_invoice(self, invoice: NewInvoice) -> Invoice:
        """POST /api/invoices.xml with an `<invoice>` document; 201 and the invoice."""
        path = "/api/invoices.xml"
        reply = await self._send("POST", path, body=invoice_document(invoice))
        return self._invoice(self._one(reply, "POST", path, "invoice"), path)

    async def void_invoice(self, invoice_id: str, reason: str | None) -> Invoice:
        """DELETE /api/invoices/{id}.xml?reason=: the invoice, now status V (its points are taken back)."""
        path = f"/api/invoices/{_id(invoice_id)}.xml"
        reply = await self._send("DELETE", path, params=[("reason", reason)] if reason else None)
        return self._invoice(self._one(reply, "DELETE", path, "invoice"), path)

    # -- one exchange --------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, params: Sequence[tuple[str, object]] | None = None,
                    body: bytes | None = None) -> Reply:
        reply = await self.transport.send(method, path, params=params, headers=self._headers, body=body,
                                          secrets=(self._token,))
        self._check(reply, method, path)
        return reply

    def _check(self, reply: Reply, method: str, path: str) -> None:
        status = reply.status
        if 200 <= status < 300:
            return
        message = error_message(reply)
        request_id = reply.request_id()
        said = f"{status} {message}{reply.naming()}"
        if status in (401, 403):
            raise UpstreamCredentialsRefused(f"{self.name} refused the gateway's API token: {said}", sent=False,
                                             status=status, request_id=request_id)
        if status == 503 and (reply.header("Retry-After") or "").strip():
            wait = retry_after(reply.headers)
            raise UpstreamRateLimited(f"{self.name} is limiting the gateway's rate: {said}; retry after {wait} s",
                                      retry_after=wait, sent=False, status=status, request_id=request_id)
        if 400 <= status < 500:
            raise ImonggoRefusal(status, error_messages(reply) or [message], request_id)
        raise UpstreamFailed(f"{self.name} answered {method} {path} with {said}", sent=True, status=status,
                             request_id=request_id)

    # -- reading answers -----------------------------------------------------------------------------

    def _unreadable(self, method: str, path: str, reply: Reply, why: str) -> UpstreamFailed:
        return UpstreamFailed(f"{self.name} answered {method} {path} with {reply.status} but {why}", sent=True,
                              status=reply.status, request_id=reply.request_id())

    def _root(self, reply: Reply, method: str, path: str, root: str) -> etree._Element:
        try:
            element = xml_in.parse(reply.body)
        except BodyError as exc:
            raise self._unreadable(method, path, reply, f"a body that is not readable XML ({exc})") from None
        if element.tag != root:
            raise self._unreadable(method, path, reply, f"<{element.tag}> where <{root}> was expected")
        return element

    def _one(self, reply: Reply, method: str, path: str, root: str) -> dict[str, Any]:
        try:
            fields = xml_in.plain(self._root(reply, method, path, root))
        except BodyError as exc:
            raise self._unreadable(method, path, reply, str(exc)) from None
        return fields if isinstance(fields, dict) else {}

    def _many(self, reply: Reply, method: str, path: str, root: str) -> list[dict[str, Any]]:
        """A list: `<customers type="array"><customer>...`, or `<customers/>` when empty."""
        element = self._root(reply, method, path, root)
        if element.get("type") != "array" and len(element):
            raise self._unreadable(method, path, reply, f'<{root}> is not a type="array" list')
        try:
            return [x for x in (xml_in.plain(child) for child in element if isinstance(child.tag, str))
                    if isinstance(x, dict)]
        except BodyError as exc:
            raise self._unreadable(method, path, reply, str(exc)) from None

    def _decimal(self, fields: Mapping[str, Any], name: str, path: str) -> Decimal | None:
        raw = _text(fields, name)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise UpstreamFailed(f"{self.name} answered {path} with <{name}> {raw[:40]!r}, which is not a number",
                                 sent=True)
        return value

    def _required(self, fields: Mapping[str, Any], name: str, path: str) -> Decimal:
        value = self._decimal(fields, name, path)
        if value is None:
            raise UpstreamFailed(f"{self.name} answered {path} without <{name.replace('_', '-')}>", sent=True)
        return value

    def _customer(self, fields: Mapping[str, Any], path: str) -> Customer:
        return Customer(
            id=_text(fields, "id") or "", name=_text(fields, "name") or "", email=_text(fields, "email"),
            customer_type_id=_text(fields, "customer_type_id"),
            available_points=self._decimal(fields, "available_points", path),
            point_to_amount_ratio=self._decimal(fields, "point_to_amount_ratio", path),
            deleted=_text(fields, "status") == "D",
        )

    def _invoice(self, fields: Mapping[str, Any], path: str) -> Invoice:
        invoice_id = _text(fields, "id")
        if not invoice_id:
            raise UpstreamFailed(f"{self.name} answered {path} with an invoice without an <id>", sent=True)
        return Invoice(
            id=invoice_id, reference=_text(fields, "reference"), customer_id=_text(fields, "customer_id"),
            amount_with_tax=self._decimal(fields, "amount_with_tax", path), status=_text(fields, "status"),
        )


def invoice_document(invoice: NewInvoice) -> bytes:
    """The `<invoice>` the Invoice API documents (Advance Usage of Invoice API), built element by element."""
    root = etree.Element("invoice")

    def add(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
        element = etree.SubElement(parent, name, **attributes)
        if text is not None:
            element.text = text
        return element

    if invoice.reference:
        add(root, "reference", invoice.reference)
    add(root, "customer_id", invoice.customer_id)
    add(root, "tax_inclusive", "true")
    if invoice.remark:
        add(root, "remark", invoice.remark)
    line = add(add(root, "invoice_lines", type="array"), "invoice_line")
    add(line, "product_id", invoice.product_id)
    add(line, "quantity", "1")
    add(line, "retail_price", amount_text(invoice.amount))
    payment = add(add(root, "payments", type="array"), "payment")
    add(payment, "payment_type_id", str(invoice.payment_type_id))
    add(payment, "amount", amount_text(invoice.amount))
    return DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def error_messages(reply: Reply) -> list[str]:
    """Rails' `<errors><error>...</error></errors>` (or `{"error": ...}` from a .json URL), if that is what
    came, secrets masked."""
    return [reply.masked(message) for message in _error_messages(reply)]


def _error_messages(reply: Reply) -> list[str]:
    body = reply.body.strip()
    if body.startswith(b"<"):
        try:
            root = xml_in.parse(body)
        except BodyError:
            return []
        if root.tag == "errors":
            return [(e.text or "").strip() for e in root if e.tag == "error" and (e.text or "").strip()]
        if root.tag == "error" and (root.text or "").strip():
            return [(root.text or "").strip()]
        return []
    if body.startswith(b"{"):
        try:
            found = json.loads(body)
        except ValueError:
            return []
        error = found.get("error") if isinstance(found, dict) else None
        return [error] if isinstance(error, str) and error else []
    return []


def error_message(reply: Reply) -> str:
    """What an error answer says, read from its shape; short plain text as it came; else the status phrase."""
    messages = error_messages(reply)
    if messages:
        return "; ".join(messages)
    text = reply.body[:200].decode("utf-8", "replace").strip()
    if text and not text.startswith(("<", "{")) and "\n" not in text:
        return reply.masked(text)
    try:
        return HTTPStatus(reply.status).phrase
    except ValueError:
        return "error"


def _id(value: str) -> str:
    """An id in a path: digits only, so nothing can be smuggled into the URL."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"an Imonggo id is digits, not {value!r}")
    return text


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None

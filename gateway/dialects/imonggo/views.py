"""Imonggo records written field by field, in the vendor's element order, as (name, value) pairs that
xml_out and json_out serialize. Knows the ledger's records and Imonggo's field names; no XML, no JSON."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...ledger import Member, Order, Programme, SpendResult

Record = list[tuple[str, Any]]

# The profile fields a customer shows as text ("" when never set), in no particular order.
PROFILE_TEXT = (
    "city", "company_name", "country", "fax", "first_name", "last_name", "mobile",
    "remark", "state", "street", "telephone", "tin", "zipcode",
)
PAYMENT_TYPES = {1: "Cash", 2: "Credit Card", 3: "Debit Card", 4: "Gift Certificate", 5: "Check", 6: "Others"}


@dataclass(frozen=True)
class Many:
    """A nested list: `<name type="array"><item>...</item></name>` in XML, an array in JSON."""

    item: str
    records: Sequence[Record]


@dataclass(frozen=True)
class Typed:
    """A value Rails writes with a type attribute (`<count type="integer">`, `type="decimal"`)."""

    value: Any
    type: str


@dataclass(frozen=True)
class Percent:
    """A discount fraction shown as Rails shows a percentage: 0 -> `0.0%`, 0.1 -> `10.0%`."""

    fraction: Decimal


def default_code(customer_no: int) -> str:
    """The code a customer gets when none was given: 16 digits, like the vendor's `0098420130000033`."""
    return f"{customer_no:016d}"


def customer(member: Member, points: Decimal, programme: Programme | None) -> Record:
    """The seed's GET /api/customers/1534.xml, element for element."""
    p = member.profile

    def text(name: str) -> str:
        value = p.get(name)
        return "" if value is None else str(value)

    return [
        # Customers saved before the code had its own column kept it in the profile.
        ("alternate_code", member.external_ref or text("alternate_code")),
        ("available_points", points),
        ("birthday", p.get("birthday")),
        ("city", text("city")),
        ("code", p.get("code") or default_code(member.customer_no)),
        ("company_name", text("company_name")),
        ("country", text("country")),
        ("customer_type_id", member.programme_no),
        ("email", member.email or ""),
        ("fax", text("fax")),
        ("first_name", text("first_name")),
        ("id", member.customer_no),
        ("last_name", text("last_name")),
        ("mobile", text("mobile")),
        ("name", member.name),
        ("remark", text("remark")),
        ("state", text("state")),
        ("status", "D" if member.deleted else None),
        ("street", text("street")),
        ("tax_exempt", bool(p.get("tax_exempt", False))),
        ("telephone", text("telephone")),
        ("tin", text("tin")),
        ("zipcode", text("zipcode")),
        ("customer_type_name", programme.name if programme else None),
        ("discount_text", Percent(programme.discount) if programme else None),
        ("point_to_amount_ratio", programme.spend_ratio if programme else None),
        ("birthdate", p.get("birthdate")),
        ("utc_created_at", member.created_at),
        ("utc_updated_at", member.updated_at),
    ]


def customer_type(programme: Programme) -> Record:
    """The documented customer_type fields, then the point rules (mock-only: the vendor keeps them in
    its UI) so a client can see what a membership earns and spends."""
    return [
        ("discount_percent", programme.discount),
        ("id", programme.number),
        ("name", programme.name),
        ("status", programme.status or ""),
        ("utc_created_at", programme.created_at),
        ("utc_updated_at", programme.updated_at),
        ("point_to_amount_ratio", programme.spend_ratio),
        ("amount_per_point", programme.earn_unit),
    ]


def spend(result: SpendResult) -> Record:
    """The Reward API's reply: a Rails Hash#to_xml with dasherized keys and decimal types."""
    return [
        ("points-spent", Typed(result.points, "decimal")),
        ("amount-spent", Typed(result.value, "decimal")),
        ("points-available", Typed(result.movement.balance.posted, "decimal")),
    ]


def count(number: int) -> Record:
    return [("count", Typed(number, "integer"))]


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def invoice(order: Order, customer_name: str | None) -> Record:
    """An invoice from the order that recorded it; the document itself lives in the order's data.
    `customer_name` is the linked member's name, or None when the invoice has no known customer."""
    d: Mapping[str, Any] = order.data
    linked = customer_name is not None
    return [
        ("id", order.id),
        ("invoice_no", order.number),
        ("reference", order.reference),
        ("customer_id", d.get("customer_id") if linked else None),
        ("customer_name", customer_name if linked else (d.get("customer_name") or "")),
        ("remark", d.get("remark") or ""),
        ("tax_inclusive", bool(d.get("tax_inclusive", False))),
        ("amount", _dec(d.get("amount"))),
        ("tax", _dec(d.get("tax"))),
        ("amount_with_tax", order.value),
        ("discount_text", d.get("discount_text") or ""),
        ("layaway_status", None),
        ("quantity", _dec(d.get("quantity"))),
        ("status", "V" if order.voided else "S"),
        ("voided_reason", order.void_reason if order.voided else None),
        ("utc_invoice_date", order.occurred_at),
        ("utc_post_date", order.created_at),
        ("invoice_lines", Many("invoice_line", [_line(x) for x in d.get("lines", [])])),
        ("payments", Many("payment", [_payment(x) for x in d.get("payments", [])])),
        ("invoice_tax_rates", Many("invoice_tax_rate", [_tax_rate(x) for x in d.get("tax_rates", [])])),
    ]


def _line(x: Mapping[str, Any]) -> Record:
    return [
        ("product_id", x.get("product_id")),
        ("product_name", x.get("product_name") or ""),
        ("product_stock_no", x.get("product_stock_no") or ""),
        ("line_no", x.get("line_no")),
        ("retail_price", _dec(x.get("retail_price"))),
        ("discount_text", x.get("discount_text") or ""),
        ("price", _dec(x.get("price"))),
        ("quantity", _dec(x.get("quantity"))),
        ("subtotal", _dec(x.get("subtotal"))),
        ("remark", x.get("remark") or ""),
    ]


def _payment(x: Mapping[str, Any]) -> Record:
    kind = x.get("payment_type_id")
    return [
        ("payment_type_id", kind),
        ("payment_type_name", PAYMENT_TYPES.get(kind, "")),
        ("amount", _dec(x.get("amount"))),
        ("tender", _dec(x.get("tender"))),
    ]


def _tax_rate(x: Mapping[str, Any]) -> Record:
    return [
        ("tax_rate_id", x.get("tax_rate_id")),
        ("name", x.get("name") or ""),
        ("rate", _dec(x.get("rate"))),
        ("amount", _dec(x.get("amount"))),
    ]

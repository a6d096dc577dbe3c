"""The catalogue's records (products, branches, users, payment types, customer groups, tax settings)
written field by field as the vendor's clients read them, from the plain records a tenant's scenario
declared. Never a password or its hash. No XML, no JSON: xml_out and json_out serialize these."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .views import Many, Record, Typed


def moment(record: Mapping[str, Any], key: str, default: datetime) -> datetime:
    """A record's `created_at`/`updated_at` (scenario time text); records without one date from their
    tenant's creation, when the catalogue was loaded."""
    text = record.get(key)
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) and text else default


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value)


def _stamps(record: Mapping[str, Any], since: datetime) -> Record:
    return [
        ("status", record.get("status")),
        ("utc_created_at", moment(record, "created_at", since)),
        ("utc_updated_at", moment(record, "updated_at", since)),
    ]


def product(record: Mapping[str, Any], since: datetime) -> Record:
    """Product API fields (the Imonggo SDK's Product reads the same names)."""
    return [
        ("id", record["id"]),
        ("stock_no", _text(record, "stock_no")),
        ("name", _text(record, "name")),
        ("description", _text(record, "description")),
        ("cost", _money(record.get("cost", "0"))),
        ("retail_price", _money(record.get("retail_price", "0"))),
        ("wholesale_price", _money(record.get("wholesale_price", "0"))),
        ("tax_exempt", bool(record.get("tax_exempt", False))),
        ("allow_decimal_quantities", bool(record.get("allow_decimal_quantities", False))),
        ("disable_discount", bool(record.get("disable_discount", False))),
        ("disable_inventory", bool(record.get("disable_inventory", False))),
        ("enable_open_price", bool(record.get("enable_open_price", False))),
        ("barcode_list", _text(record, "barcode_list")),
        ("base_unit_name", _text(record, "base_unit_name")),
        ("tag_list", _text(record, "tag_list")),
        *_stamps(record, since),
    ]


def branch(record: Mapping[str, Any], since: datetime) -> Record:
    return [
        ("id", record["id"]),
        ("name", _text(record, "name")),
        ("site_type", _text(record, "site_type")),
        ("street", _text(record, "street")),
        ("city", _text(record, "city")),
        ("state", _text(record, "state")),
        ("zipcode", _text(record, "zipcode")),
        ("country", _text(record, "country")),
        ("tin", _text(record, "tin")),
        *_stamps(record, since),
    ]


def user(record: Mapping[str, Any], since: datetime) -> Record:
    """User API fields; the login's password (hashed in the configuration) is never shown."""
    return [
        ("id", record["id"]),
        ("name", _text(record, "name")),
        ("email", _text(record, "email")),
        ("role_code", _text(record, "role_code")),
        ("home_branch_id", record.get("home_branch_id")),
        *_stamps(record, since),
    ]


def payment_type(record: Mapping[str, Any], since: datetime) -> Record:
    return [("id", record["id"]), ("name", _text(record, "name")), ("code", _text(record, "code")), *_stamps(record, since)]


def customer_group(record: Mapping[str, Any], since: datetime) -> Record:
    return [
        ("id", record["id"]),
        ("name", _text(record, "name")),
        ("discount_text", _text(record, "discount_text")),
        *_stamps(record, since),
    ]


def tax_setting(settings: Mapping[str, Any], since: datetime) -> Record:
    """The account's one tax setting and its rates (`value` is a percentage: 12 is 12%)."""
    rates = [
        [
            ("id", r["id"]),
            ("name", _text(r, "name")),
            ("value", _money(r.get("value", "0"))),
            ("tax_rate_type", r.get("tax_rate_type", 0)),
            ("branch_id", r.get("branch_id")),
            *_stamps(r, since),
        ]
        for r in settings.get("tax_rates", [])
    ]
    return [
        ("compute_tax", bool(settings.get("compute_tax", False))),
        ("tax_inclusive", bool(settings.get("tax_inclusive", False))),
        ("utc_updated_at", moment(settings, "updated_at", since)),
        ("tax_rates", Many("tax_rate", rates)),
    ]


def last_updated(at: datetime | None) -> Record:
    """`q=last_updated_at`: `<hash><last_updated_at type="datetime">`, JSON `{"last_updated_at": ...}` (the
    SDK reads that key); null when nothing matches."""
    return [("last_updated_at", Typed(at, "datetime"))]


def api_token(token: str) -> Record:
    """The Token API's documented reply: `<hash><api_token>...</api_token></hash>`."""
    return [("api_token", token)]

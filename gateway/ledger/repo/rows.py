"""Row-to-model conversion shared by the repository modules."""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..clock import from_text, to_text
from ..models import Asset, Entry, Kind, Member, Order, Programme, Status
from ..money import from_cents


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return to_text(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Made once: json.dumps with any option builds a new encoder per call, a cost a bulk load pays per member.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_default)


def dumps(value: Mapping[str, Any]) -> str:
    return _ENCODER.encode(value)


def loads(text: str | None) -> dict[str, Any]:
    return json.loads(text, parse_float=Decimal) if text else {}


def opt_time(text: str | None) -> datetime | None:
    return from_text(text) if text else None


def opt_cents(value: int | None) -> Decimal | None:
    return None if value is None else from_cents(value)


def member(row: Any, cards: tuple[str, ...]) -> Member:
    return Member(
        id=row["id"],
        tenant_id=row["tenant_id"],
        customer_no=row["customer_no"],
        member_no=row["member_no"],
        email=row["email"],
        user_ref=row["user_ref"],
        card_refs=cards,
        name=row["name"],
        programme_no=row["programme_no"],
        profile=loads(row["profile"]),
        deleted=bool(row["deleted"]),
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        external_ref=row["external_ref"],
        upstream_ref=row["upstream_ref"],
    )


def programme(row: Any) -> Programme:
    return Programme(
        tenant_id=row["tenant_id"],
        number=row["number"],
        name=row["name"],
        spend_ratio=opt_cents(row["spend_ratio"]),
        earn_unit=opt_cents(row["earn_unit"]),
        discount=Decimal(row["discount"]),
        data=loads(row["data"]),
        status=row["status"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
    )


def entry(row: Any) -> Entry:
    keys = row.keys()
    return Entry(
        id=row["id"],
        tenant_id=row["tenant_id"],
        member_id=row["member_id"],
        asset=Asset(row["asset"]),
        amount=from_cents(row["amount"]),
        record_id=row["record_id"] if row["record_id"] is not None else row["id"],
        record_amount=from_cents(row["record_amount"]),
        kind=Kind(row["kind"]),
        status=Status(row["status"]),
        reference=row["reference"],
        note=row["note"],
        origin=row["origin"],
        value=opt_cents(row["value"]),
        order_id=row["order_id"],
        reverses_id=row["reverses_id"],
        public_ref=row["public_ref"],
        occurred_at=from_text(row["occurred_at"]),
        created_at=from_text(row["created_at"]),
        data=loads(row["data"]),
        member_no=row["member_no"] if "member_no" in keys else 0,
        customer_no=row["customer_no"] if "customer_no" in keys else 0,
    )


def order(row: Any) -> Order:
    return Order(
        id=row["id"],
        tenant_id=row["tenant_id"],
        number=row["number"],
        reference=row["reference"],
        member_id=row["member_id"],
        value=from_cents(row["value"]),
        earned=from_cents(row["earned"]),
        voided=bool(row["voided"]),
        void_reason=row["void_reason"],
        data=loads(row["data"]),
        occurred_at=from_text(row["occurred_at"]),
        created_at=from_text(row["created_at"]),
        voided_at=opt_time(row["voided_at"]),
    )

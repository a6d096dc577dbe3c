"""Pomelo's wire format, field by field: JSON where decimals are exact numbers (whole values as ints,
as the SDK fixtures show: {"points": 5000}), never passed through float; timestamps ISO-8601 UTC."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from ...ledger import Asset, Balance, Movement
from ..common import utc_seconds


def number(value: Decimal) -> str:
    """A Decimal as a JSON number literal: 5000, 250.5, 0.01 (no exponent, no trailing zeros)."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _encode(value: Any) -> str:
    kind = type(value)
    if kind is str:  # what json.dumps(value, ensure_ascii=False) returns, without building an encoder per call
        return encode_basestring(value)
    if value is None:
        return "null"
    if kind is Decimal:
        return number(value)
    if kind is dict:
        return "{" + ",".join(f"{encode_basestring_ascii(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    return _encode_by_isinstance(value)


def _encode_by_isinstance(value: Any) -> str:
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("floats never reach Pomelo's wire")
    return json.dumps(value, ensure_ascii=False)


def dumps(value: Any) -> bytes:
    """Compact JSON with Decimals as exact numbers."""
    return _encode(value).encode()


def timestamp(moment: datetime) -> str:
    """2024-05-01T12:00:00Z."""
    return utc_seconds(moment) + "Z"


def balance(found: Balance, *, card_id: str | None) -> dict[str, Any]:
    def posted(asset: Asset) -> Decimal:
        account = found.accounts.get(asset)
        return account.posted if account is not None else Decimal("0")

    points = found.accounts.get(Asset.POINTS)
    return {
        "points": posted(Asset.POINTS),
        "cashback": posted(Asset.CASHBACK),
        "miles": posted(Asset.MILES),
        "pending_points": points.pending if points is not None else Decimal("0"),
        "pending_cashback": _pending(found, Asset.CASHBACK),
        "pending_miles": _pending(found, Asset.MILES),
        "user_id": found.member.user_ref,
        "card_id": card_id if card_id is not None else (found.member.card_refs[0] if found.member.card_refs else None),
        "updated_at": timestamp(found.updated_at),
    }


def _pending(found: Balance, asset: Asset) -> Decimal:
    account = found.accounts.get(asset)
    return account.pending if account is not None else Decimal("0")


def movement(moved: Movement, *, operation: str, reason: str, card_id: str | None) -> dict[str, Any]:
    """Mint/burn reply: the SDK fixture's points, cashback, updatedBalance first, then Pomelo-style fields."""
    asset = moved.entry.asset
    applied = abs(moved.entry.amount)
    return {
        "points": applied if asset is Asset.POINTS else Decimal("0"),
        "cashback": applied if asset is Asset.CASHBACK else Decimal("0"),
        "miles": applied if asset is Asset.MILES else Decimal("0"),
        "updatedBalance": moved.balance.posted,
        "updated_balance": moved.balance.posted,
        "id": moved.entry.public_ref,
        "account_type": asset.value,
        "operation": operation,
        "amount": applied,
        "reason": reason,
        "user_id": moved.member.user_ref,
        "card_id": card_id,
        "created_at": timestamp(moved.entry.created_at),
    }

"""memberpoints JSON written field by field, in the seed's field order: adjustment rows, order rows
(earned/redeemed with adjustvalue), balance rows, and the list / single-object envelopes."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from aiohttp import web

from ...ledger import MANUAL_KINDS, BalanceRow, Entry
from ..common import json_bytes, wall_clock_micro

# Dates are written as strftime("%Y-%m-%d %H:%M:%S.%f") would: 2021-12-20 16:00:30.834896, UTC.


def points(value: Decimal | None) -> str:
    return format(value if value is not None else Decimal("0"), ".2f")


def adjustment_row(entry: Entry, cid: int | None) -> dict[str, Any]:
    return {
        "adjustmentnote": entry.note or "",
        "pointsadjustid": entry.record_id,
        "mbr_id": entry.member_no,
        "adjustpoints": points(entry.record_amount),
        "id": entry.record_id,
        "adjustdate": wall_clock_micro(entry.occurred_at),
        "cid": cid,
    }


def order_row(entry: Entry) -> dict[str, Any]:
    """An order movement: points earned (invoice, card reward) or redeemed (reward spend, reversal)."""
    return {
        "adjustvalue": points(entry.value),
        "adjusttype": "earned" if entry.amount >= 0 else "redeemed",
        "adjustmentnote": entry.note or entry.reference or "",
        "adjustpoints": points(entry.amount),
        "id": entry.id,
        "adjustdate": wall_clock_micro(entry.occurred_at),
    }


def history_row(entry: Entry, cid: int | None) -> dict[str, Any]:
    return adjustment_row(entry, cid) if entry.kind in MANUAL_KINDS else order_row(entry)


def balance_row(row: BalanceRow) -> dict[str, Any]:
    return {
        "mbr_email": row.member.email or "",
        "mbr_name": row.member.name,
        "mbr_id": row.member.member_no,
        "mbr_points_balance": points(row.balance),
    }


def respond(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(body=json_bytes(body), status=status, content_type="application/json")


def listing(end_point: str, rows: Sequence[dict[str, Any]], offset: int, size: int) -> web.Response:
    return respond(
        {"endPoint": end_point, "resultCount": len(rows), "offset": offset, "data": list(rows), "success": True,
         "pageSize": size}
    )


def single(end_point: str, row: dict[str, Any]) -> web.Response:
    return respond({"endPoint": end_point, "resultCount": 1, "data": row, "success": True})

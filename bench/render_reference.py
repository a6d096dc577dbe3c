"""The renderers as they were before rendering was made cheap (frozen copies): the reference the render
bench times against and the equivalence tests compare with, byte for byte. Never used by the server."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from lxml import etree

from gateway.dialects.imonggo.scalars import xml_safe
from gateway.dialects.imonggo.views import Many, Percent, Record, Typed
from gateway.ledger import MANUAL_KINDS, BalanceRow, Entry


def strftime(moment: datetime, fmt: str) -> str:
    return moment.strftime(fmt.replace("%Y", f"{moment.year:04d}"))


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# imonggo scalars -------------------------------------------------------------------------------------

def ruby_decimal(value: Decimal) -> str:
    text = format((value + Decimal(0)).normalize(), "f")
    if text in ("-0", "-0.0"):
        text = "0"
    return text if "." in text else text + ".0"


def percent(value: Percent) -> str:
    return ruby_decimal(value.fraction * 100) + "%"


def utc_xml(moment: datetime) -> str:
    return strftime(moment.astimezone(timezone.utc), "%Y-%m-%dT%H:%M:%SZ")


def utc_json(moment: datetime) -> str:
    return strftime(moment.astimezone(timezone.utc), "%Y/%m/%d %H:%M:%S +0000")


# imonggo XML: an lxml tree per response ---------------------------------------------------------------

def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return ruby_decimal(value)
    if isinstance(value, datetime):
        return utc_xml(value)
    if isinstance(value, Percent):
        return percent(value)
    return xml_safe(str(value))


def _field(parent: etree._Element, name: str, value: Any) -> None:
    element = etree.SubElement(parent, name)
    if isinstance(value, Typed):
        element.set("type", value.type)
        value = value.value
    if value is None:
        element.set("nil", "true")
        element.text = ""
    elif isinstance(value, Many):
        element.set("type", "array")
        for record in value.records:
            _fill(etree.SubElement(element, value.item), record)
    else:
        element.text = _text(value)


def _fill(element: etree._Element, record: Record) -> None:
    for name, value in record:
        _field(element, name, value)


def _bytes(root: etree._Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", xml_declaration=False, pretty_print=True)


def xml_document(root: str, record: Record) -> bytes:
    element = etree.Element(root)
    _fill(element, record)
    return _bytes(element)


def xml_listing(root: str, item: str, records: Sequence[Record]) -> bytes:
    element = etree.Element(root)
    if records:
        element.set("type", "array")
    for record in records:
        _fill(etree.SubElement(element, item), record)
    return _bytes(element)


def xml_errors(messages: Sequence[str]) -> bytes:
    element = etree.Element("errors")
    for message in messages:
        etree.SubElement(element, "error").text = xml_safe(message)
    return _bytes(element)


# imonggo JSON -----------------------------------------------------------------------------------------

def _value(value: Any) -> Any:
    if isinstance(value, Typed):
        value = value.value
    if isinstance(value, Decimal):
        return ruby_decimal(value)
    if isinstance(value, datetime):
        return utc_json(value)
    if isinstance(value, Percent):
        return percent(value)
    if isinstance(value, Many):
        return [_obj(record) for record in value.records]
    return value


def _obj(record: Record) -> dict[str, Any]:
    return {name: _value(value) for name, value in record}


def json_document(record: Record) -> bytes:
    return json_bytes(_obj(record))


def json_listing(records: Sequence[Record]) -> bytes:
    return json_bytes([_obj(r) for r in records])


# memberpoints -----------------------------------------------------------------------------------------

def _points(value: Decimal | None) -> str:
    return format(value if value is not None else Decimal("0"), ".2f")


def memberpoints_history_row(entry: Entry, cid: int | None) -> dict[str, Any]:
    if entry.kind in MANUAL_KINDS:
        return {
            "adjustmentnote": entry.note or "", "pointsadjustid": entry.record_id, "mbr_id": entry.member_no,
            "adjustpoints": _points(entry.record_amount), "id": entry.record_id,
            "adjustdate": strftime(entry.occurred_at, "%Y-%m-%d %H:%M:%S.%f"), "cid": cid,
        }
    return {
        "adjustvalue": _points(entry.value), "adjusttype": "earned" if entry.amount >= 0 else "redeemed",
        "adjustmentnote": entry.note or entry.reference or "", "adjustpoints": _points(entry.amount),
        "id": entry.id, "adjustdate": strftime(entry.occurred_at, "%Y-%m-%d %H:%M:%S.%f"),
    }


def memberpoints_balance_row(row: BalanceRow) -> dict[str, Any]:
    return {"mbr_email": row.member.email or "", "mbr_name": row.member.name, "mbr_id": row.member.member_no,
            "mbr_points_balance": _points(row.balance)}


def memberpoints_listing(end_point: str, rows: Sequence[dict[str, Any]], offset: int, size: int) -> bytes:
    return json_bytes({"endPoint": end_point, "resultCount": len(rows), "offset": offset, "data": list(rows),
                       "success": True, "pageSize": size})


# pomelo -----------------------------------------------------------------------------------------------

def pomelo_number(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return pomelo_number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("floats never reach Pomelo's wire")
    return json.dumps(value, ensure_ascii=False)


def pomelo_dumps(value: Any) -> bytes:
    return _encode(value).encode()


def pomelo_timestamp(moment: datetime) -> str:
    return strftime(moment.astimezone(timezone.utc), "%Y-%m-%dT%H:%M:%SZ")

"""Records to JSON as Imonggo's clients read them: flat objects, bare arrays for lists, decimals as
Ruby prints them (strings, as Rails 2 wrote BigDecimal), times as `2013/05/25 02:24:31 +0000`."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..common import json_bytes
from .scalars import percent, ruby_decimal, utc_json
from .views import Many, Percent, Record, Typed

CONTENT_TYPE = "application/json"


_AS_IS = frozenset({str, int, bool, type(None)})


def _value(value: Any) -> Any:
    if isinstance(value, Typed):
        value = value.value
    kind = type(value)
    if kind in _AS_IS:
        return value
    convert = _CONVERT.get(kind)
    return convert(value) if convert is not None else _value_by_isinstance(value)


def _many(value: Many) -> list[dict[str, Any]]:
    return [obj(record) for record in value.records]


# The conversion for each exact type, decided once; other types (subclasses) take the isinstance path.
_CONVERT: dict[type, Any] = {Decimal: ruby_decimal, datetime: utc_json, Percent: percent, Many: _many}


def _value_by_isinstance(value: Any) -> Any:
    if isinstance(value, Decimal):
        return ruby_decimal(value)
    if isinstance(value, datetime):
        return utc_json(value)
    if isinstance(value, Percent):
        return percent(value)
    if isinstance(value, Many):
        return [obj(record) for record in value.records]
    return value


def obj(record: Record) -> dict[str, Any]:
    # Most fields are text, numbers or null, kept as they are: no call for them.
    return {name: value if type(value) in _AS_IS else _value(value) for name, value in record}


def document(record: Record) -> bytes:
    return json_bytes(obj(record))


def listing(records: Sequence[Record]) -> bytes:
    return json_bytes([obj(r) for r in records])


def errors(messages: Sequence[str]) -> bytes:
    """`{"error": "Name can't be blank", "errors": {"base": ["Name can't be blank"]}}`. Imonggo's SDK
    checks has("error"); ActiveResource clients (Ruby's, every version, and pyactiveresource) read
    `errors` as attribute -> messages, where `base` holds full messages. The `errors` array form would
    crash Ruby ActiveResource 5/6, whose from_json only reads the object form (fixtures/imonggo/README.md)."""
    return json_bytes({"error": "; ".join(messages), "errors": {"base": list(messages)}})

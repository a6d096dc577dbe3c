"""Whole numbers in parsed JSON bodies, read the way JSON Schema reads them (10 and 10.0 alike)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any


def json_whole(value: Any) -> int | None:
    """A JSON whole number as an int, or None. JSON Schema's "integer" counts 10.0 as one (and bodies read
    10.0 as Decimal), so it is one here too; booleans are not numbers, and an exponent past 4,000 digits
    is refused before int() would spend time on it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() <= 4000 and value == value.to_integral_value():
        return int(value)
    return None

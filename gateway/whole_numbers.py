"""Whole numbers as requests write them: in text (query strings, paths, form fields) and in parsed JSON
bodies. Every dialect and the admin API read them here, so the limits are the same everywhere."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

# The largest whole number any id, offset or count may be: the stores' integers are signed 64-bit.
MAX_WHOLE = 2**63 - 1


def whole_number(text: str, *, low: int = 0, high: int = MAX_WHOLE) -> int | None:
    """A whole number written in plain ASCII digits (leading zeros allowed) within [low, high], or None.
    Bounded before int(): int() refuses more than 4300 digits and reads other scripts' digits ("²", "١")."""
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text.lstrip("0")) > 19:
        return None
    value = int(text)
    return value if low <= value <= high else None


def json_whole(value: Any, *, low: int = 0, high: int = MAX_WHOLE) -> int | None:
    """A JSON whole number within [low, high] as an int, or None. JSON Schema's "integer" counts 10.0 as one
    (and bodies read 10.0 as Decimal), so it is one here too; booleans are not numbers, and an exponent past
    4,000 digits is refused before int() would spend time on it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() <= 4000 and value == value.to_integral_value():
        value = int(value)
    return value if isinstance(value, int) and low <= value <= high else None

"""Whole numbers read the same way wherever a request carries them: text in plain ASCII digits, JSON numbers
with no fraction (10.0 is 10, as JSON Schema's "integer" says), never booleans, never past the stores'
signed 64-bit integers."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.dialects.common import parse_json
from gateway.whole_numbers import MAX_WHOLE, json_whole, whole_number


@pytest.mark.parametrize(("text", "read"), [
    ("0", 0), (" 007 ", 7), (str(MAX_WHOLE), MAX_WHOLE), (str(MAX_WHOLE + 1), None), ("0" * 30 + "5", 5),
    ("²", None), ("١٢", None), ("-1", None), ("1.0", None), ("", None), ("9" * 5000, None),
])
def test_text(text: str, read: int | None) -> None:
    assert whole_number(text) == read


@pytest.mark.parametrize(("doc", "read"), [
    ("10", 10), ("10.0", 10), ("1E+2", 100), (str(MAX_WHOLE), MAX_WHOLE), (str(MAX_WHOLE + 1), None),
    ("10.5", None), ("-1", None), ("true", None), ('"10"', None), ("1e999999", None), ("null", None),
])
def test_json(doc: str, read: int | None) -> None:
    assert json_whole(parse_json(doc)) == read


def test_both_take_the_same_bounds() -> None:
    assert (whole_number("0", low=1), json_whole(Decimal("0.0"), low=1)) == (None, None)
    assert (whole_number("11", high=10), json_whole(11, high=10)) == (None, None)
    assert (whole_number("10", low=1, high=10), json_whole(Decimal("10.00"), low=1, high=10)) == (10, 10)

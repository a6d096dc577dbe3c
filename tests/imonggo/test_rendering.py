"""Rendering as Rails 2 did it: Ruby's decimal text, the error table's completeness, percentages."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.dialects.common import missing_from
from gateway.dialects.imonggo.errors import ERRORS
from gateway.dialects.imonggo.scalars import percent, ruby_decimal
from gateway.dialects.imonggo.views import Percent


def test_every_ledger_error_has_a_row_in_the_imonggo_table() -> None:
    assert missing_from(ERRORS) == []


@pytest.mark.parametrize(
    "value,text",
    [("30511", "30511.0"), ("30511.00", "30511.0"), ("10.50", "10.5"), ("0.90", "0.9"), ("0", "0.0"),
     ("-0.00", "0.0"), ("200.00", "200.0"), ("1E+3", "1000.0"), ("0.01", "0.01"), ("-2.50", "-2.5")],
)
def test_decimals_print_as_ruby_prints_them(value: str, text: str) -> None:
    assert ruby_decimal(Decimal(value)) == text


@pytest.mark.parametrize("fraction,text", [("0", "0.0%"), ("0.1", "10.0%"), ("0.055", "5.5%")])
def test_discounts_print_as_percentages(fraction: str, text: str) -> None:
    assert percent(Percent(Decimal(fraction))) == text

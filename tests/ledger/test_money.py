"""Decimal input at the edge of the ledger: what is accepted, what is refused, and that no float passes."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger import InvalidAmount, from_cents, parse_amount, parse_number, round_down, round_half_up, to_cents


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("10", Decimal("10.00")),
        ("10.5", Decimal("10.50")),
        (" 0.01 ", Decimal("0.01")),
        ("1.230", Decimal("1.23")),
        ("1E+3", Decimal("1000.00")),
        ("2.5e1", Decimal("25.00")),
        (7, Decimal("7.00")),
        (Decimal("3.10"), Decimal("3.10")),
        ("999999999999.99", Decimal("999999999999.99")),
    ],
)
def test_accepted_amounts_have_exactly_two_places(given: object, expected: Decimal) -> None:
    parsed = parse_amount(given)
    assert parsed == expected
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("NaN", "finite"),
        ("sNaN", "finite"),
        ("Infinity", "finite"),
        ("-inf", "finite"),
        ("1.001", "two decimal places"),
        ("1e-5", "two decimal places"),
        ("0.1000000000000000000000000000000000001", "two decimal places"),
        ("1000000000000", "too large"),
        ("1E+12", "too large"),
        ("0." + "0" * 58 + "1", "two decimal places"),
        ("1e999999999", "too large"),
        ("-1e999999999", "too large"),
        ("", "decimal number"),
        ("ten", "decimal number"),
        ("1,000", "decimal number"),
        ("0x10", "decimal number"),
        ("١٠", "decimal number"),
        ("１０", "decimal number"),
        ("1" * 100, "decimal number"),
        (1.5, "decimal number"),
        (True, "decimal number"),
        (None, "decimal number"),
        (b"10", "decimal number"),
        ("0", "zero"),
        ("-0", "zero"),
        ("-0.00", "zero"),
        ("-5", "positive"),
    ],
)
def test_refused_amounts_name_the_problem(given: object, reason: str) -> None:
    with pytest.raises(InvalidAmount, match=reason):
        parse_amount(given)


def test_negative_zero_is_plain_zero_when_zero_is_allowed() -> None:
    parsed = parse_amount("-0.00", allow_zero=True, allow_negative=True)
    assert parsed == 0 and not parsed.is_signed()


def test_negative_amounts_when_allowed() -> None:
    assert parse_amount("-12.5", allow_negative=True) == Decimal("-12.50")


def test_cents_round_trip_is_exact() -> None:
    for text in ("0.01", "30511.00", "999999999999.99", "-42.10"):
        value = parse_amount(text, allow_negative=True)
        assert from_cents(to_cents(value)) == value
    assert to_cents(Decimal("30511.0")) == 3051100


def test_computed_values_round_as_documented() -> None:
    assert round_down(Decimal("9.00") / Decimal("10")) == Decimal("0.90")
    assert round_down(Decimal("0.999")) == Decimal("0.99")
    assert round_half_up(Decimal("0.005")) == Decimal("0.01")
    assert round_half_up(Decimal("2.344")) == Decimal("2.34")


def test_times_before_the_year_1000_round_trip_in_storage() -> None:
    from datetime import datetime, timezone

    from gateway.ledger.clock import from_text, to_text

    for moment in (datetime(1, 1, 1, tzinfo=timezone.utc), datetime(999, 12, 31, 23, 59, 59, 5, tzinfo=timezone.utc),
                   datetime(2021, 12, 20, 16, 0, 30, 834896, tzinfo=timezone.utc)):
        assert from_text(to_text(moment)) == moment
    assert to_text(datetime(999, 1, 2, tzinfo=timezone.utc)) < to_text(datetime(1000, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("1e1000000", "too large"),
        ("-1e1000000", "too large"),
        (Decimal("1E+1000000"), "too large"),
        pytest.param(10**5000, "too large", id="an-int-of-5000-digits"),
        ("1e-1000000", "more than 4 decimal places"),
        (Decimal("1E-1000000"), "more than 4 decimal places"),
        ("0.00001", "more than 4 decimal places"),
        ("NaN", "finite"),
        (Decimal("sNaN"), "finite"),
        (Decimal("-Infinity"), "finite"),
        (True, "decimal number"),
        (1.5, "decimal number"),
        ("9" * 5000, "decimal number"),
        ("-2", "must not be negative"),
    ],
)
def test_parse_number_refuses_what_arithmetic_cannot_take(given: object, reason: str) -> None:
    with pytest.raises(InvalidAmount, match=reason):
        parse_number(given, field="quantity", places=4)


@pytest.mark.parametrize(
    ("given", "expected"), [("2", "2"), ("-0", "0"), ("-0.0000", "0.0000"), ("0.0001", "0.0001"), ("1E+3", "1E+3"), (7, "7")]
)
def test_parse_number_keeps_the_digits_it_was_given_and_folds_negative_zero(given: object, expected: str) -> None:
    assert str(parse_number(given, field="quantity", places=4)) == expected

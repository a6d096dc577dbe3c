"""Decimal quantities for the ledger: parse and validate input, convert to and from integer hundredths.

Nothing here ever touches float; a float handed in is refused rather than silently rounded."""
from __future__ import annotations

from decimal import MAX_EMAX, MIN_EMIN, ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

from .errors import InvalidAmount

CENT = Decimal("0.01")
# Wide enough that "1e999999999" parses and is then refused as too large, not as an arithmetic trap.
_WIDE = Context(prec=100, Emax=MAX_EMAX, Emin=MIN_EMIN)  # prec above the 64-character input cap: exact
# One trillion units: far beyond any loyalty balance, and still exact as int64 hundredths.
MAX_UNITS = Decimal(10) ** 12


def parse_number(
    value: object, *, field: str = "amount", places: int = 2, allow_negative: bool = False
) -> Decimal:
    """Read a number a client sent (a string, int or Decimal) into a Decimal, or raise InvalidAmount: the
    one bounded way into arithmetic, so no input can overflow, trap or exhaust anything later.

    Refused: float, bool, anything else; text longer than 64 characters or not ASCII; NaN, Infinity;
    a magnitude of MAX_UNITS or more (whatever its exponent: "1e1000000", a 5000-digit integer); more
    than `places` decimal places ("1e-1000000" too); a negative value unless allowed. Negative zero is
    zero. The value keeps the digits it was written with ("2" stays 2, not 2.00)."""
    if isinstance(value, (bool, float)) or not isinstance(value, (int, str, Decimal)):
        raise InvalidAmount(f"{field} must be a decimal number", field=field)
    if isinstance(value, str):
        text = value.strip()
        # ASCII only: Decimal() also reads other scripts' digits ("١٠" is 10), which no vendor sends.
        if not text or len(text) > 64 or not text.isascii():
            raise InvalidAmount(f"{field} must be a decimal number", field=field)
        try:
            number = _WIDE.create_decimal(text)
        except InvalidOperation:
            raise InvalidAmount(f"{field} must be a decimal number", field=field) from None
    else:
        number = _WIDE.create_decimal(value)  # an int of any length rounds to 100 digits: no int() limit
    if not number.is_finite():
        raise InvalidAmount(f"{field} must be a finite number", field=field)
    with localcontext(_WIDE):
        if abs(number) >= MAX_UNITS:
            raise InvalidAmount(f"{field} is too large", field=field)
        if number.quantize(Decimal(1).scaleb(-places)) != number:
            words = "two" if places == 2 else str(places)
            raise InvalidAmount(f"{field} has more than {words} decimal places", field=field)
        if number == 0:
            number = abs(number)  # folds -0 into 0
    if number < 0 and not allow_negative:
        raise InvalidAmount(f"{field} must not be negative", field=field)
    return number


def parse_amount(
    value: object, *, field: str = "amount", allow_negative: bool = False, allow_zero: bool = False
) -> Decimal:
    """Turn a string, int or Decimal into a Decimal with exactly two places, or raise InvalidAmount.

    Accepted: plain or exponent notation that is exact to two places ("10", "10.5", "1.230", "1E+3").
    Refused: whatever parse_number refuses, and (unless allowed) zero or negative values."""
    number = parse_number(value, field=field, places=2, allow_negative=True)
    with localcontext(_WIDE):
        quantized = number.quantize(CENT) + Decimal("0.00")  # folds -0.00 into 0.00
    if quantized == 0 and not allow_zero:
        raise InvalidAmount(f"{field} must not be zero", field=field)
    if quantized < 0 and not allow_negative:
        raise InvalidAmount(f"{field} must be positive", field=field)
    return quantized


def to_cents(amount: Decimal) -> int:
    """Exact integer hundredths of an amount that parse_amount or a rounding helper produced."""
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise InvalidAmount("amount has more than two decimal places")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def round_down(value: Decimal) -> Decimal:
    """Round down to two places: what order earnings use, so the ledger never grants more than earned."""
    with localcontext() as ctx:
        ctx.prec = 40
        return value.quantize(CENT, rounding=ROUND_DOWN)


def round_half_up(value: Decimal) -> Decimal:
    """Computed debits and conversions round half up to two places (decisions.md)."""
    with localcontext() as ctx:
        ctx.prec = 40
        return value.quantize(CENT, rounding=ROUND_HALF_UP)

"""How Imonggo (a Rails 2 app) prints scalar values: decimals as Ruby does (`30511.0`), times in UTC,
percentages as `10.0%`. Shared by xml_out and json_out; knows nothing of requests."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from ..common import utc_seconds
from .views import Percent

# Characters XML 1.0 cannot carry (C0 controls but tab/newline/return, lone surrogates, U+FFFE/U+FFFF).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text lxml can write: characters XML cannot carry become U+FFFD (only ever from a query string
    echoed in an error; bodies with them are refused)."""
    return NOT_XML.sub("\ufffd", text)


def ruby_decimal(value: Decimal) -> str:
    """Ruby's BigDecimal/Float#to_s for our two-place quantities: no trailing zeros, at least `.0`."""
    text = str(value)
    # The common case read off str() (a third of the cost): a finite value str() writes without an
    # exponent, short enough that adding Decimal(0) rounds nothing. Exactly what normalizing writes.
    if len(text) < 24 and "E" not in text and value.is_finite():
        if "." in text:
            text = text.rstrip("0")
            text = text + "0" if text[-1] == "." else text
        else:
            text += ".0"
        return "0.0" if text == "-0.0" else text
    return _ruby_decimal_by_normalizing(value)


def _ruby_decimal_by_normalizing(value: Decimal) -> str:
    text = format((value + Decimal(0)).normalize(), "f")
    if text in ("-0", "-0.0"):
        text = "0"
    return text if "." in text else text + ".0"


def percent(value: Percent) -> str:
    return ruby_decimal(value.fraction * 100) + "%"


def utc_xml(moment: datetime) -> str:
    """`utc_*` fields in XML: 2013-05-25T02:24:31Z."""
    return utc_seconds(moment) + "Z"


def utc_json(moment: datetime) -> str:
    """Times in JSON, as Rails 2 wrote them: 2013/05/25 02:24:31 +0000."""
    return utc_seconds(moment, " ").replace("-", "/") + " +0000"  # years are 1-9999: no minus sign

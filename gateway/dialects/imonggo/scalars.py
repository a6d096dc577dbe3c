"""How Imonggo (a Rails 2 app) prints scalar values: decimals as Ruby does (`30511.0`), times in UTC,
percentages as `10.0%`. Shared by xml_out and json_out; knows nothing of requests."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

from ..common import strftime
from .views import Percent

# Characters XML 1.0 cannot carry (C0 controls but tab/newline/return, lone surrogates, U+FFFE/U+FFFF).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text lxml can write: characters XML cannot carry become U+FFFD (only ever from a query string
    echoed in an error; bodies with them are refused)."""
    return NOT_XML.sub("\ufffd", text)


def ruby_decimal(value: Decimal) -> str:
    """Ruby's BigDecimal/Float#to_s for our two-place quantities: no trailing zeros, at least `.0`."""
    text = format((value + Decimal(0)).normalize(), "f")
    if text in ("-0", "-0.0"):
        text = "0"
    return text if "." in text else text + ".0"


def percent(value: Percent) -> str:
    return ruby_decimal(value.fraction * 100) + "%"


def utc_xml(moment: datetime) -> str:
    """`utc_*` fields in XML: 2013-05-25T02:24:31Z."""
    return strftime(moment.astimezone(timezone.utc), "%Y-%m-%dT%H:%M:%SZ")


def utc_json(moment: datetime) -> str:
    """Times in JSON, as Rails 2 wrote them: 2013/05/25 02:24:31 +0000."""
    return strftime(moment.astimezone(timezone.utc), "%Y/%m/%d %H:%M:%S +0000")

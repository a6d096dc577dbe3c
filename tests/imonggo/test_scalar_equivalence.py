"""The cheap scalar writers equal the slow ones they replaced: decimals read off str() against normalizing,
times from isoformat against strftime (four-digit years, any offset, naive times too)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.dialects.common import strftime
from gateway.dialects.imonggo.scalars import _ruby_decimal_by_normalizing, ruby_decimal, utc_json, utc_xml

PROPERTY = settings(max_examples=500, deadline=None, derandomize=True, database=None)

moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
    timezones=st.one_of(st.none(), st.just(timezone.utc),
                        st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)))),
)


@PROPERTY
@given(st.one_of(st.decimals(allow_nan=False, allow_infinity=False),
                 st.decimals(allow_nan=False, allow_infinity=False, places=2),
                 st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{0,10})?", fullmatch=True).map(Decimal)))
@example(Decimal("-0.00"))
@example(Decimal("-0"))
@example(Decimal("1E+3"))
@example(Decimal("0E-7"))
@example(Decimal("123456789012345678901234567.89"))
@example(Decimal("0.0000001"))
def test_decimals_read_off_str_equal_normalizing(value: Decimal) -> None:
    assert ruby_decimal(value) == _ruby_decimal_by_normalizing(value)


@PROPERTY
@given(moments)
@example(datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
@example(datetime(1, 1, 2, tzinfo=timezone(timedelta(hours=23))))
def test_times_equal_strftime(moment: datetime) -> None:
    utc = moment.astimezone(timezone.utc)
    assert utc_xml(moment) == strftime(utc, "%Y-%m-%dT%H:%M:%SZ")
    assert utc_json(moment) == strftime(utc, "%Y/%m/%d %H:%M:%S +0000")

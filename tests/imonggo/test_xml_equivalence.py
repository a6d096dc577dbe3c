"""xml_out writes XML as text: these prove that text is byte for byte lxml's serialization of the same
records (bench/render_reference.py: an lxml tree per response, as xml_out was before), for hostile text in every field a client can set, and that the two refuse the same
text the same way. A difference here is a response that is not what lxml would have escaped."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from bench import render_reference as lxml_tree
from bench import render_samples as samples
from gateway.dialects.imonggo import views, xml_out
from gateway.dialects.imonggo.views import Many, Percent, Typed

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)

# What a hostile client types: markup, quotes, entities, CDATA ends, carriage returns, the controls and
# lone surrogates lxml refuses, U+FFFE/U+FFFF, characters beyond the BMP, and anything else at all.
HOSTILE = [
    "<", ">", "&", "&amp;", "&#0;", '"', "'", "]]>", "<![CDATA[", "<!--", "-->", "<?xml", "\r", "\r\n", "\n",
    "\t", " ", "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\x85", "\u2028", "\ud800", "\udfff",
    "\ud83d\ude00", "\ufffe", "\uffff", "\ufffd", "\U0001f600", "\U0010ffff", "é", "\u202e", "\ufeff",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None),
              st.text(max_size=5)),
    max_size=12,
).map("".join)
moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
    timezones=st.one_of(st.none(), st.just(timezone.utc),
                        st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)))),
)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**12, max_value=10**12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), decimals, hostile_text, moments,
                    decimals.map(lambda d: Percent(d / 100)))


def lxml_text(text: str) -> bytes:
    element = etree.Element("a")
    element.text = text
    return etree.tostring(element, encoding="UTF-8")


def _escaped_like_lxml(text: str) -> None:
    try:
        expected = lxml_text(text)
    except ValueError:
        with pytest.raises(ValueError):
            xml_out.escape(text)
        return
    assert f"<a>{xml_out.escape(text)}</a>".encode() == expected


@PROPERTY
@given(hostile_text)
def test_escaped_text_is_what_lxml_writes_or_both_refuse_it(text: str) -> None:
    _escaped_like_lxml(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_each_hostile_character_alone_is_escaped_or_refused_like_lxml(text: str) -> None:
    _escaped_like_lxml(text)


def test_every_character_is_escaped_or_refused_like_lxml() -> None:
    for code in range(0x110000):
        _escaped_like_lxml(chr(code))


PROFILE_KEYS = (*views.PROFILE_TEXT, "code", "alternate_code", "birthday", "birthdate", "tax_exempt")


@PROPERTY
@given(
    name=hostile_text, email=st.one_of(st.none(), hostile_text), external_ref=st.one_of(st.none(), hostile_text),
    profile=st.dictionaries(st.sampled_from(PROFILE_KEYS), st.one_of(hostile_text, scalars)),
    points=decimals, deleted=st.booleans(), typed=st.booleans(),
)
def test_a_customer_with_hostile_fields_is_what_lxml_writes(
    name: str, email: str | None, external_ref: str | None, profile: dict[str, Any], points: Decimal,
    deleted: bool, typed: bool,
) -> None:
    member = replace(samples.member(name=name, email=email, profile=profile, external_ref=external_ref), deleted=deleted)
    record = views.customer(member, points, samples.PROGRAMME if typed else None)
    assert xml_out.document("customer", record) == lxml_tree.xml_document("customer", record)
    many = [record, views.customer(samples.member(), points, None)]
    assert xml_out.listing("customers", "customer", many) == lxml_tree.xml_listing("customers", "customer", many)


@PROPERTY
@given(texts=st.lists(hostile_text, min_size=8, max_size=8), amount=decimals, voided=st.booleans(),
       linked=st.one_of(st.none(), hostile_text))
def test_an_invoice_with_hostile_fields_is_what_lxml_writes(
    texts: list[str], amount: Decimal, voided: bool, linked: str | None
) -> None:
    order = samples.order(remark=texts[0])
    data = dict(order.data, customer_name=texts[1], discount_text=texts[2])
    data["lines"] = [dict(line, product_name=texts[3], product_stock_no=texts[4], remark=texts[5], price=str(amount))
                     for line in data["lines"]]
    data["tax_rates"] = [dict(rate, name=texts[6]) for rate in data["tax_rates"]]
    order = replace(order, data=data, reference=texts[7], voided=voided, void_reason=texts[0] if voided else None)
    record = views.invoice(order, linked)
    assert xml_out.document("invoice", record) == lxml_tree.xml_document("invoice", record)


@PROPERTY
@given(st.lists(hostile_text, max_size=4))
def test_error_documents_are_what_lxml_writes(messages: list[str]) -> None:
    assert xml_out.errors(messages) == lxml_tree.xml_errors(messages)


names = st.sampled_from(["id", "name", "points-spent", "utc_created_at", "x", "a_b", "hash"])
records = st.recursive(
    st.lists(st.tuples(names, st.one_of(scalars, st.builds(Typed, scalars, st.sampled_from(["decimal", "integer"]))))),
    lambda inner: st.lists(st.tuples(names, st.one_of(scalars, st.builds(Many, names, st.lists(inner, max_size=3))))),
    max_leaves=20,
)


@PROPERTY
@given(records, st.lists(records, max_size=3))
def test_any_record_of_any_shape_is_what_lxml_writes(record: Any, many: Any) -> None:
    """Nulls, typed values, nested lists (empty too), empty records, every scalar type the views use."""
    assert xml_out.document("hash", record) == lxml_tree.xml_document("hash", record)
    assert xml_out.listing("things", "thing", many) == lxml_tree.xml_listing("things", "thing", many)


def test_a_spend_and_a_count_are_what_lxml_writes() -> None:
    for record in (views.spend(samples.spend()), views.count(3), views.customer_type(samples.PROGRAMME)):
        assert xml_out.document("hash", record) == lxml_tree.xml_document("hash", record)


def test_a_name_lxml_refuses_is_refused() -> None:
    with pytest.raises(ValueError):
        xml_out.document("hash", [("not a name", "x")])


def test_text_of_a_type_the_views_never_use_takes_the_reference_path() -> None:
    class Label(str):
        def __str__(self) -> str:
            return "<label & co>"

    record = [("label", Label("plain")), ("when", datetime(2020, 1, 1).date())]
    assert xml_out.document("hash", record) == lxml_tree.xml_document("hash", record)

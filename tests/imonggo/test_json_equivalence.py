"""The cheaper JSON writers equal the ones they replaced (bench/render_reference.py), byte for byte: imonggo
records of any shape, memberpoints history and balance pages, pomelo balances and movements, with hostile
text (quotes, backslashes, controls, lone surrogates, characters beyond the BMP) in every text field."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import render_reference as before
from bench import render_samples as samples
from gateway.dialects.imonggo import json_out, views
from gateway.dialects.memberpoints import wire as memberpoints
from gateway.dialects.pomelo import wire as pomelo
from tests.imonggo.test_xml_equivalence import decimals, hostile_text, moments, records

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)
json_text = st.one_of(hostile_text, st.text(alphabet='"\\/\b\f\n\r\t\x00\x1f\u2028\ud800 é😀', max_size=8))


def _same(new: Any, old: Any) -> None:
    """Equal bytes, or both refuse (a lone surrogate cannot be encoded as UTF-8 by either)."""
    try:
        expected = old()
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            new()
        return
    assert new() == expected


@PROPERTY
@given(records, st.lists(records, max_size=3))
def test_imonggo_records_of_any_shape(record: Any, many: Any) -> None:
    _same(lambda: json_out.document(record), lambda: before.json_document(record))
    _same(lambda: json_out.listing(many), lambda: before.json_listing(many))


@PROPERTY
@given(name=json_text, email=st.one_of(st.none(), json_text), remark=json_text, points=decimals)
def test_imonggo_customers_and_invoices(name: str, email: str | None, remark: str, points: Any) -> None:
    member = samples.member(name=name, email=email, profile={"remark": remark, "city": name})
    record = views.customer(member, points, samples.PROGRAMME)
    _same(lambda: json_out.document(record), lambda: before.json_document(record))
    invoice = views.invoice(samples.order(remark=remark), name)
    _same(lambda: json_out.document(invoice), lambda: before.json_document(invoice))


@PROPERTY
@given(note=st.one_of(st.none(), json_text), reference=st.one_of(st.none(), json_text), name=json_text,
       email=st.one_of(st.none(), json_text), amount=decimals, moment=moments)
def test_memberpoints_pages(note: str | None, reference: str | None, name: str, email: str | None,
                            amount: Any, moment: Any) -> None:
    entries = [replace(e, occurred_at=moment, amount=amount, record_amount=amount)
               for e in samples.history(4)]
    entries = [replace(e, note=note, reference=reference) for e in entries]
    rows = [memberpoints.balance_row(replace(r, member=replace(r.member, name=name, email=email), balance=amount))
            for r in samples.balance_rows(3)]
    old_rows = [before.memberpoints_balance_row(replace(r, member=replace(r.member, name=name, email=email),
                                                        balance=amount)) for r in samples.balance_rows(3)]
    assert rows == old_rows
    new = [memberpoints.history_row(e, 7) for e in entries]
    assert new == [before.memberpoints_history_row(e, 7) for e in entries]
    _same(lambda: memberpoints.listing("memberpoints", new, 0, 50).body,
          lambda: before.memberpoints_listing("memberpoints", new, 0, 50))


@PROPERTY
@given(user=json_text, card=st.one_of(st.none(), json_text), reason=json_text, amount=decimals, moment=moments)
def test_pomelo_balances_and_movements(user: str, card: str | None, reason: str, amount: Any, moment: Any) -> None:
    found = samples.balance()
    found = replace(found, member=replace(found.member, user_ref=user, updated_at=moment))
    _same(lambda: pomelo.dumps(pomelo.balance(found, card_id=card)),
          lambda: before.pomelo_dumps(pomelo.balance(found, card_id=card)))
    moved = samples.movement()
    moved = replace(moved, entry=replace(moved.entry, amount=amount, created_at=moment))
    body = pomelo.movement(moved, operation="mint", reason=reason, card_id=card)
    _same(lambda: pomelo.dumps(body), lambda: before.pomelo_dumps(body))
    assert pomelo.timestamp(moment) == before.pomelo_timestamp(moment)
    odd = {"list": [1, True, None, amount, "x"], "tuple": (user,), 1: {"nested": [reason]}}
    _same(lambda: pomelo.dumps(odd), lambda: before.pomelo_dumps(odd))

"""compare: the judge of verify and diff, read like its contract. Each kind of drift the issue names (a
renamed element, a string turned number, reordered keys, a dropped header, a 500) is caught with the exact
message; masks and subsets work; shape never looks at values."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.contracts import compare
from gateway.contracts.model import Answer, Expectation

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CUSTOMER = (FIXTURES / "imonggo" / "customer-1534.xml").read_bytes()
XML = {"Content-Type": "application/xml; charset=utf-8"}
JSON = {"Content-Type": "application/json"}
HISTORY = b'{"endPoint": "memberpoints", "data": [{"id": 1, "mbr_id": 1234, "adjustpoints": "10.00", ' \
          b'"note": null}], "offset": 0, "resultCount": 1}'


def lines(differences: list) -> list[str]:
    return [str(d) for d in differences]


def xml_case(**kw) -> Expectation:
    return Expectation(status=200, body=CUSTOMER, media="xml", **kw)


def json_case(body: bytes = HISTORY, **kw) -> Expectation:
    return Expectation(status=200, body=body, media="json", **kw)


# -- exact ---------------------------------------------------------------------------------------------

def test_the_pinned_answer_itself_passes_whatever_its_whitespace_and_attribute_order() -> None:
    assert compare.exact(xml_case(), Answer(200, XML, CUSTOMER)) == []
    squeezed = CUSTOMER.replace(b"\n", b"").replace(b'<birthday nil="true">', b'<birthday  nil="true" >')
    assert compare.exact(xml_case(), Answer(200, XML, squeezed)) == []
    assert compare.exact(json_case(), Answer(200, JSON, HISTORY.replace(b", ", b",\n  "))) == []


def test_a_renamed_element_is_named_at_its_path() -> None:
    drifted = CUSTOMER.replace(b"available_points>", b"available-points>")
    assert lines(compare.exact(xml_case(), Answer(200, XML, drifted))) == [
        "/customer/available_points: expected element <available_points>, got <available-points>"]


def test_a_changed_text_is_shown_both_ways() -> None:
    drifted = CUSTOMER.replace(b">30511.0<", b">30511<")
    assert lines(compare.exact(xml_case(), Answer(200, XML, drifted))) == [
        '/customer/available_points: expected "30511.0", got "30511"']


def test_xml_element_order_is_kept() -> None:
    drifted = CUSTOMER.replace(b"<city></city>\n<code>0098420130000033</code>",
                               b"<code>0098420130000033</code>\n<city></city>")
    assert lines(compare.exact(xml_case(), Answer(200, XML, drifted))) == ["element order /customer: <code> before <city>"]


def test_missing_and_unexpected_elements_and_attributes() -> None:
    drifted = CUSTOMER.replace(b"<fax></fax>\n", b"").replace(b"<zipcode></zipcode>", b"<zipcode></zipcode><zip4/>")
    drifted = drifted.replace(b'<status nil="true">', b"<status>")
    assert lines(compare.exact(xml_case(), Answer(200, XML, drifted))) == [
        "/customer/fax: missing", '/customer/status/@nil: missing (expected "true")', "/customer/zip4: unexpected element"]


def test_xml_text_keeps_its_spaces_only_whitespace_between_elements_is_layout() -> None:
    expected = Expectation(200, b"<a>\n  <b>10</b>\n  <c>x y</c>\n</a>", "xml")
    assert compare.exact(expected, Answer(200, XML, b"<a><b>10</b><c>x y</c></a>")) == []
    assert lines(compare.exact(expected, Answer(200, XML, b"<a><b> 10 </b><c>x y</c></a>"))) == [
        '/a/b: expected "10", got " 10 "']
    assert lines(compare.exact(expected, Answer(200, XML, b"<a><b>10</b><c>x  y</c></a>"))) == [
        '/a/c: expected "x y", got "x  y"']


@pytest.mark.parametrize("body", [b"<a><b>1</b>junk</a>", b"<a>junk<b>1</b></a>", b"<a><b>1</b> junk\n</a>"])
def test_xml_text_between_elements_is_content(body: bytes) -> None:
    expected = Expectation(200, b"<a>\n<b>1</b>\n</a>", "xml")
    [d] = compare.exact(expected, Answer(200, XML, body))
    assert d.path == "/a" and d.message.startswith("expected no text among its elements, got ")
    mixed = Expectation(200, body, "xml")
    assert compare.exact(mixed, Answer(200, XML, body)) == []
    assert lines(compare.shape(expected, Answer(200, XML, body))) == ["/a: expected no text among its elements, got text"]
    assert lines(compare.shape(mixed, Answer(200, XML, b"<a><b>2</b></a>"))) == ["/a: expected text among its elements, got none"]


def test_a_string_turned_number_is_a_type_difference() -> None:
    drifted = HISTORY.replace(b'"10.00"', b"10.00")
    assert lines(compare.exact(json_case(), Answer(200, JSON, drifted))) == ["/data/0/adjustpoints: expected string, got number"]


def test_reordered_keys_name_the_first_key_out_of_place() -> None:
    drifted = b'{"endPoint": "memberpoints", "offset": 0, "data": [{"id": 1, "mbr_id": 1234, "adjustpoints": ' \
              b'"10.00", "note": null}], "resultCount": 1}'
    assert lines(compare.exact(json_case(), Answer(200, JSON, drifted))) == ["key order /: offset before data"]


def test_a_key_given_twice_is_caught_where_the_last_value_would_have_passed() -> None:
    assert lines(compare.exact(json_case(b'{"a": 1}'), Answer(200, JSON, b'{"a": 2, "a": 1}'))) == ["/a: key given twice"]
    nested = json_case(b'{"data": [{"id": 1, "at": "x"}]}')
    drifted = b'{"data": [{"id": 1, "at": "y", "at": "x"}]}'
    assert lines(compare.exact(nested, Answer(200, JSON, drifted))) == ["/data/0/at: key given twice"]
    assert lines(compare.shape(nested, Answer(200, JSON, drifted))) == ["/data/0/at: key given twice"]
    assert lines(compare.exact(json_case(b'{"a": 1, "a": 1}'), Answer(200, JSON, b'{"a": 1}'))) == [
        "/a: key given twice in the expected body"]


def test_numbers_are_compared_as_written_never_through_float() -> None:
    money = b'{"balance": 0.1, "ratio": 200.0}'
    assert lines(compare.exact(json_case(money), Answer(200, JSON, b'{"balance": 0.10000000000000001, "ratio": 200}'))) == [
        "/balance: expected 0.1, got 0.10000000000000001", "/ratio: expected 200.0, got 200"]


def test_missing_and_extra_keys_and_array_lengths() -> None:
    drifted = b'{"endPoint": "memberpoints", "data": [], "offset": 0, "resultCount": 1, "next": null}'
    assert lines(compare.exact(json_case(), Answer(200, JSON, drifted))) == [
        "/next: unexpected key (value null)", "/data: expected 1 items, got 0"]


def test_a_dropped_content_type_header_is_caught() -> None:
    assert lines(compare.exact(json_case(), Answer(200, {}, HISTORY))) == [
        "header Content-Type: missing (expected a JSON media type)"]
    assert lines(compare.exact(xml_case(), Answer(200, {"Content-Type": "text/html"}, CUSTOMER))) == [
        'header Content-Type: expected an XML media type, got "text/html"']


def test_the_headers_a_step_names_must_be_there_with_their_value() -> None:
    expected = json_case(headers={"Cache-Control": "no-store"})
    assert lines(compare.exact(expected, Answer(200, JSON, HISTORY))) == ['header Cache-Control: missing (expected "no-store")']
    assert compare.exact(expected, Answer(200, {**JSON, "cache-control": "no-store"}, HISTORY)) == []


def test_a_500_is_one_status_line_not_a_body_diff() -> None:
    assert lines(compare.exact(json_case(), Answer(500, {"Content-Type": "text/plain"}, b"Internal Server Error"))) == [
        "status: expected 200, got 500"]


def test_a_body_that_is_not_its_media_says_so() -> None:
    [d] = compare.exact(json_case(), Answer(200, JSON, b"<html>"))
    assert d.path == "body" and d.message.startswith("not JSON") and '"<html>"' in d.message
    [d] = compare.exact(xml_case(), Answer(200, XML, b"<customer>"))
    assert d.path == "body" and d.message.startswith("XML body is not well-formed")


def test_xml_answers_go_through_the_hardened_parser() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa">]><customer>&a;</customer>'
    [d] = compare.exact(xml_case(), Answer(200, XML, bomb))
    assert (d.path, d.message.partition(":")[0]) == ("body", "XML body must not contain a DTD or entity declarations")


@pytest.mark.parametrize("mask", ["data[*].id", "data.id", "id", "/data/0/id", "*.id", "$.data[*].id"])
def test_every_mask_syntax_the_fixtures_use_masks_the_value(mask: str) -> None:
    drifted = HISTORY.replace(b'"id": 1', b'"id": 7')
    assert lines(compare.exact(json_case(), Answer(200, JSON, drifted))) == ["/data/0/id: expected 1, got 7"]
    assert compare.exact(json_case(volatile=(mask,)), Answer(200, JSON, drifted)) == []


def test_a_mask_hides_the_value_never_the_key() -> None:
    drifted = HISTORY.replace(b'"id": 1, ', b"")
    assert lines(compare.exact(json_case(volatile=("data[*].id",)), Answer(200, JSON, drifted))) == [
        "/data/0/id: missing (expected 1)"]


def test_a_bare_element_name_masks_that_element_anywhere() -> None:
    drifted = CUSTOMER.replace(b"2013-07-13T00:52:24Z", b"2026-11-29T21:00:00Z")
    assert len(compare.exact(xml_case(), Answer(200, XML, drifted))) == 1
    assert compare.exact(xml_case(volatile=("utc_updated_at",)), Answer(200, XML, drifted)) == []
    assert compare.exact(xml_case(volatile=("customer.utc_updated_at",)), Answer(200, XML, drifted)) == []
    assert len(compare.exact(xml_case(volatile=("utc_created_at",)), Answer(200, XML, drifted))) == 1


def test_subset_checks_only_the_expected_keys_in_any_order() -> None:
    expected = json_case(b'{"token_type": "Bearer", "expires_in": 86400}', subset=True)
    answer = b'{"access_token": "t0k", "expires_in": 86400, "token_type": "Bearer"}'
    assert compare.exact(expected, Answer(200, JSON, answer)) == []
    assert lines(compare.exact(expected, Answer(200, JSON, answer.replace(b"86400", b"3600")))) == [
        "/expires_in: expected 86400, got 3600"]
    assert lines(compare.exact(expected, Answer(200, JSON, b'{"expires_in": 86400}'))) == [
        '/token_type: missing (expected "Bearer")']


def test_a_step_that_pins_only_the_status_looks_at_nothing_else() -> None:
    assert compare.exact(Expectation(status=204), Answer(204, {}, b"anything")) == []


# -- shape ---------------------------------------------------------------------------------------------

def test_shape_never_looks_at_values() -> None:
    other = HISTORY.replace(b'"10.00"', b'"99.50"').replace(b"1234", b"9").replace(b'"memberpoints"', b'"x"')
    assert compare.shape(json_case(), Answer(200, JSON, other)) == []
    xml = CUSTOMER.replace(b"Juan", b"Maria").replace(b">30511.0<", b">12.5<").replace(b"2013-05-25T02:24:31Z", b"2020-01-01")
    assert compare.shape(xml_case(), Answer(200, XML, xml)) == []


def test_shape_names_the_kind_of_text_that_changed() -> None:
    drifted = CUSTOMER.replace(b">30511.0<", b">30511<").replace(b">false<", b">no<")
    assert lines(compare.shape(xml_case(), Answer(200, XML, drifted))) == [
        "/customer/available_points: expected decimal text, got integer", "/customer/tax_exempt: expected boolean, got text"]


def test_shape_catches_renames_order_and_types() -> None:
    renamed = CUSTOMER.replace(b"available_points>", b"available-points>")
    assert lines(compare.shape(xml_case(), Answer(200, XML, renamed))) == [
        "/customer/available_points: expected element <available_points>, got <available-points>"]
    drifted = b'{"endPoint": "x", "offset": 0, "data": [{"id": "1", "mbr_id": 1, "adjustpoints": "1", "note": 5}], "resultCount": 1}'
    assert lines(compare.shape(json_case(), Answer(200, JSON, drifted))) == [
        "key order /: offset before data", "/data/0/id: expected number, got string"]


def test_shape_takes_the_first_item_for_every_item_and_an_empty_list_as_a_list() -> None:
    two = b'<customers><customer><id>1</id></customer><customer><id>2</id></customer></customers>'
    expected = Expectation(200, b"<customers><customer><id>9</id></customer></customers>", "xml")
    assert compare.shape(expected, Answer(200, XML, two)) == []
    assert compare.shape(expected, Answer(200, XML, b"<customers></customers>")) == []
    assert compare.shape(json_case(), Answer(200, JSON, HISTORY.replace(b'[{"id": 1, "mbr_id": 1234, "adjustpoints": "10.00", "note": null}]', b"[]"))) == []
    assert lines(compare.shape(expected, Answer(200, XML, b"<customers><customer><id>x1</id></customer></customers>"))) == [
        "/customers/customer/id: expected integer, got text"]


def test_shape_an_element_the_sample_leaves_empty_may_not_hold_children() -> None:
    def shaped(sample: bytes, answer: bytes) -> list[str]:
        return lines(compare.shape(Expectation(200, sample, "xml"), Answer(200, XML, answer)))

    assert shaped(b"<a><b></b><d>x</d></a>", b"<a><b><c>1</c></b><d>y</d></a>") == [
        "/a/b: expected text or empty, got child elements <c>"]
    assert shaped(b"<a><b>1</b></a>", b"<a><b><c>1</c></b></a>") == ["/a/b: expected text, got child elements <c>"]
    # an empty list (Rails' type="array", or a whole body that is an empty list) says nothing of its items
    assert shaped(b'<a><b type="array"/></a>', b'<a><b type="array"><c>1</c></b></a>') == []
    assert shaped(b"<a/>", b"<a><c>1</c></a>") == []
    # a list the sample fills may come back empty: an empty list is a value
    assert shaped(b"<a><b><c>1</c></b></a>", b"<a><b/></a>") == []


def test_shape_compares_attributes_by_name_and_type_by_value() -> None:
    sample = b'<a><n type="integer">1</n><s nil="true"/><t at="x">1</t></a>'
    assert compare.shape(Expectation(200, sample, "xml"), Answer(200, XML, sample.replace(b'"x"', b'"y"'))) == []
    answer = b'<a><n type="decimal">1</n><s/><t at="x" extra="1">1</t></a>'
    assert lines(compare.shape(Expectation(200, sample, "xml"), Answer(200, XML, answer))) == [
        '/a/n/@type: expected "integer", got "decimal"', '/a/s/@nil: missing (expected "true")',
        '/a/t/@extra: unexpected attribute (value "1")']


def test_shape_status_by_class_and_exact_for_an_error() -> None:
    assert compare.shape(Expectation(200), Answer(201)) == []
    assert lines(compare.shape(Expectation(200), Answer(500))) == ["status: expected 200 (any 2xx), got 500"]
    assert lines(compare.shape(Expectation(404), Answer(400))) == ["status: expected 404, got 400"]


def test_shape_compares_error_shapes() -> None:
    expected = Expectation(422, b'{"error": {"code": "x", "message": "y"}}', "json")
    assert compare.shape(expected, Answer(422, JSON, b'{"error": {"code": "z", "message": "w"}}')) == []
    assert lines(compare.shape(expected, Answer(422, JSON, b'{"error": "insufficient"}'))) == ["/error: expected object, got string"]


def test_shape_checks_the_media_type() -> None:
    assert lines(compare.shape(json_case(), Answer(200, XML, CUSTOMER))) == [
        'header Content-Type: expected a JSON media type, got "application/xml; charset=utf-8"']


# -- diff: answers and noise ---------------------------------------------------------------------------

def test_answers_compares_two_live_answers_with_masks() -> None:
    a = Answer(200, JSON, HISTORY, "json")
    b = Answer(200, JSON, HISTORY.replace(b'"id": 1', b'"id": 2'), "json")
    assert lines(compare.answers(a, b, masked=())) == ["/data/0/id: expected 1, got 2"]
    assert compare.answers(a, b, masked=["data[*].id"]) == []
    assert lines(compare.answers(a, Answer(200, {"Content-Type": "text/json"}, HISTORY), masked=())) == [
        'header Content-Type: expected "application/json", got "text/json"']


def test_noise_lists_the_values_that_change_between_two_sends_in_mask_syntax() -> None:
    first = Answer(200, XML, CUSTOMER)
    second = Answer(200, XML, CUSTOMER.replace(b"2013-07-13T00:52:24Z", b"2026-11-29T21:00:00Z"))
    assert compare.noise(first, second) == ["$.customer.utc_updated_at"]
    many = b'{"data": [{"id": 1, "at": "a"}, {"id": 2, "at": "b"}]}'
    again = b'{"data": [{"id": 3, "at": "a"}, {"id": 4, "at": "b"}]}'
    paths = compare.noise(Answer(200, JSON, many), Answer(200, JSON, again))
    assert paths == ["$.data[*].id"]
    assert compare.answers(Answer(200, JSON, many), Answer(200, JSON, again), masked=paths) == []
    assert compare.noise(first, first) == []
    assert compare.noise(first, Answer(500, XML, b"<error/>")) == []


def test_noise_is_anchored_so_a_top_level_id_does_not_hide_an_id_deeper_down() -> None:
    first = b'{"id": 1, "data": [{"id": 5}]}'
    paths = compare.noise(Answer(200, JSON, first), Answer(200, JSON, first.replace(b'"id": 1', b'"id": 2')))
    assert paths == ["$.id"]
    drifted = first.replace(b'"id": 1', b'"id": 3').replace(b'"id": 5', b'"id": 6')
    assert lines(compare.answers(Answer(200, JSON, first), Answer(200, JSON, drifted), masked=paths)) == [
        "/data/0/id: expected 5, got 6"]


def test_a_key_the_dotted_syntax_cannot_spell_comes_out_as_a_slash_path() -> None:
    first = b'{"a.b": {"c": 1}, "a": {"b": {"c": 1}}}'
    paths = compare.noise(Answer(200, JSON, first), Answer(200, JSON, first.replace(b'"c": 1}, "a"', b'"c": 2}, "a"')))
    assert paths == ["/a.b/c"]
    drifted = first.replace(b'{"c": 1}}}', b'{"c": 3}}}')
    assert lines(compare.answers(Answer(200, JSON, first), Answer(200, JSON, drifted), masked=paths)) == [
        "/a/b/c: expected 1, got 3"]


@pytest.mark.parametrize(("first", "second"), [(b'"t0k"', b'"t1k"'), (b"[1, 2]", b"[1, 3]"), (b"7", b'"7"')])
def test_a_body_that_changes_as_a_whole_is_noise_as_a_whole(first: bytes, second: bytes) -> None:
    paths = compare.noise(Answer(200, JSON, first), Answer(200, JSON, second))
    assert paths == ["$"]
    assert compare.answers(Answer(200, JSON, first), Answer(200, JSON, b'"anything"'), masked=paths) == []
    assert lines(compare.answers(Answer(200, JSON, first), Answer(500, JSON, first), masked=paths)) == [
        "status: expected 200, got 500"]


def test_a_text_body_that_changes_between_two_sends_is_all_noise_and_then_not_compared() -> None:
    first, again = (Answer(200, {"Content-Type": "text/plain"}, f"sheet {n}".encode(), "text") for n in (1, 2))
    assert compare.noise(first, first) == []
    assert compare.noise(first, again) == [compare.WHOLE_BODY]
    other = Answer(200, {"Content-Type": "text/plain"}, b"something else", "text")
    assert compare.answers(first, other, masked=[]) != []
    assert compare.answers(first, other, masked=[compare.WHOLE_BODY]) == []
    assert compare.answers(first, Answer(500, {"Content-Type": "text/plain"}, b"x", "text"),
                           masked=[compare.WHOLE_BODY]) != []  # the status is still held

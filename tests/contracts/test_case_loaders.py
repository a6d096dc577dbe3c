"""Each dialect's case loader: the pinned cases.json read whole (writes flagged, states, expected bodies
from the files the cases name), the cases record mode writes in each dialect's format read too, and a file
that is no cases document refused in one line naming it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.app import DIALECT_LIST
from gateway.contracts.cases import PINNED, CasesError
from gateway.dialects.upstream_transport import Exchange
from gateway.upstream.record import Recorder

BY_NAME = {d.name: d for d in DIALECT_LIST}


@pytest.mark.parametrize("dialect", sorted(BY_NAME))
def test_the_pinned_cases_load_whole(dialect: str) -> None:
    cases_of = BY_NAME[dialect].cases
    assert cases_of is not None
    raw = json.loads((PINNED / dialect / "cases.json").read_text(encoding="utf-8"))["cases"]
    cases = cases_of.load(PINNED / dialect / "cases.json")
    assert [c.id for c in cases] == [c["id"] for c in raw]
    for case in cases:
        assert case.dialect == dialect and case.steps and case.state is not None
        assert case.writes <= any(s.request.method != "GET" for s in case.steps)  # a GET-only case never writes
        assert cases_of.provider_state is not None and cases_of.provider_state(case.state) is not None


def test_shape_mode_skips_what_moves_points_and_runs_token_grants_and_refused_methods() -> None:
    """Shape mode (a vendor's own sandbox) runs read-only cases: a token grant or a method the route refuses
    (405) changes no points and runs; a mint, a burn or a spend may, and waits for --allow-writes."""
    pomelo = {c.id: c.writes for c in BY_NAME["pomelo"].cases.load(PINNED / "pomelo" / "cases.json")}
    assert not pomelo["token-json"] and not pomelo["token-v1-path"] and not pomelo["balance-wrong-method"]
    assert pomelo["mint-points-sdk-body"] and pomelo["burn-points"] and pomelo["mint-without-token"]
    imonggo = {c.id: c.writes for c in BY_NAME["imonggo"].cases.load(PINNED / "imonggo" / "cases.json")}
    assert imonggo["seed-spend-10-with-reference-X-1"] and not imonggo["seed-get-customer-1534"]


def test_imonggo_steps_read_their_expected_files_and_mark_what_moves() -> None:
    cases = {c.id: c for c in BY_NAME["imonggo"].cases.load(PINNED / "imonggo" / "cases.json")}
    spend = cases["seed-spend-10-with-reference-X-1"]
    assert spend.steps[0].expect.body == (PINNED / "imonggo" / "seed-spend-10-X-1.xml").read_bytes()
    assert spend.steps[1].expect.volatile == ("utc_updated_at",) and spend.writes
    token = cases["token-xml"].steps[0]
    assert token.request.path == "/api/tokens.xml?email={email}&password={password}"  # the tenant's login fills in
    assert token.expect.contains == ("<api_token>{api_token}</api_token>",)


def test_pomelo_words_become_auth_and_a_refused_write_rereads_the_balance() -> None:
    cases = {c.id: c for c in BY_NAME["pomelo"].cases.load(PINNED / "pomelo" / "cases.json")}
    assert cases["balance-scope-lacking"].steps[0].auth == "scope:arg:loyalty:mint"
    assert cases["balance-bogus-token"].steps[0].auth == "bogus"
    refused = cases["burn-beyond-balance"]
    assert [s.request.method for s in refused.steps] == ["POST", "GET"]
    assert json.loads(refused.steps[0].expect.body) == {"error": {"error_code": "INSUFFICIENT_BALANCE"}}
    assert json.loads(refused.steps[1].expect.body) == {"points": 30511} and refused.steps[1].expect.subset
    assert refused.steps[0].request.headers["x-idempotency-key"] == "case-burn-2"


def test_memberpoints_samples_keep_their_key_order_with_the_deviations_served() -> None:
    cases = {c.id: c for c in BY_NAME["memberpoints"].cases.load(PINNED / "memberpoints" / "cases.json")}
    history = json.loads(cases["history-sample"].steps[0].expect.body)
    assert list(history) == ["endPoint", "resultCount", "offset", "data", "success", "pageSize"]
    assert history["data"][1]["cid"] == 1111112  # the deviation's served value, not the sample's
    assert cases["history-sample"].steps[0].expect.volatile == ("data[*].id", "data[*].pointsadjustid")


EXCHANGES = {
    "imonggo": ("steps", "GET", "/api/customers/1534.json", "", '{"id": 1534, "name": "Juan Cruz"}'),
    "pomelo": ("flat", "POST", "/loyalty/v1/accounts/points/mint", '{"amount": "1.00"}', '{"points": 1}'),
    "memberpoints": ("request", "POST", "/webapps/api/memberpoints", '{"mbr_id": 1, "adjustpoints": 5}',
                     '{"success": true}'),
}


@pytest.mark.parametrize("dialect", sorted(EXCHANGES))
def test_cases_record_mode_wrote_load(tmp_path: Path, dialect: str) -> None:
    case_format, method, path, body, answer = EXCHANGES[dialect]
    assert BY_NAME[dialect].upstream is not None and BY_NAME[dialect].upstream.case_format == case_format
    recorder = Recorder(tmp_path)
    recorder.record("shop", dialect, case_format, Exchange(
        method, "https://vendor.example" + path, 200, 1.0, {"Content-Type": "application/json"}, body,
        {"Content-Type": "application/json"}, answer), [])
    (case,) = BY_NAME[dialect].cases.load(recorder.folder("shop", dialect) / "cases.json")
    assert case.state is None  # recorded from an upstream: no state to set up
    (step,) = case.steps
    assert (step.request.method, step.request.path, step.expect.status) == (method, path, 200)
    assert case.writes == (method != "GET")
    assert json.loads(step.expect.body) == json.loads(answer)
    if body:
        assert json.loads(step.request.body) == json.loads(body)


@pytest.mark.parametrize("text", ["[]", "{", '{"cases": 3}', '{"cases": [{"id": "x"}]}'])
@pytest.mark.parametrize("dialect", sorted(BY_NAME))
def test_a_file_that_is_no_cases_document_is_one_line(tmp_path: Path, dialect: str, text: str) -> None:
    path = tmp_path / "cases.json"
    path.write_text(text)
    with pytest.raises(CasesError) as caught:
        BY_NAME[dialect].cases.load(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)

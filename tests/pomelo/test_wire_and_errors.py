"""Pomelo's wire details: exact decimal numbers (never float), the error envelope, the error table."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from gateway.dialects.common import missing_from
from gateway.dialects.pomelo.errors import ERRORS, error_body
from gateway.dialects.pomelo.rewards import reward_amounts
from gateway.dialects.pomelo.wire import dumps, number
from gateway.ledger import Asset, InvalidArgument


def test_every_ledger_error_has_a_pomelo_status_and_code() -> None:
    assert missing_from(ERRORS) == []
    assert all(spec.code for spec in ERRORS.values())


@pytest.mark.parametrize("value, text", [
    (Decimal("5000.00"), "5000"), (Decimal("250.50"), "250.5"), (Decimal("0.01"), "0.01"), (Decimal("0.00"), "0"),
    (Decimal("1E+3"), "1000"), (Decimal("12345678901234567.89"), "12345678901234567.89"),
])
def test_decimals_are_exact_json_numbers_whole_ones_as_integers(value: Decimal, text: str) -> None:
    assert number(value) == text
    assert json.loads(dumps({"v": value}), parse_float=Decimal)["v"] == value


def test_floats_never_reach_the_wire() -> None:
    with pytest.raises(TypeError):
        dumps({"points": 0.1})


def test_the_sdk_fixture_shape_round_trips() -> None:
    assert dumps({"points": Decimal("5000.00"), "cashback": Decimal("250.00")}) == b'{"points":5000,"cashback":250}'


def test_the_error_envelope_is_pomelos() -> None:
    assert json.loads(error_body(400, "exactly one of card_id or user_id must be provided")) == {
        "error": {"error_code": "INVALID_REQUEST", "details": [
            {"code": "INVALID_PARAMETER", "detail": "exactly one of card_id or user_id must be provided"}]}}
    assert json.loads(error_body(400, "no", "INSUFFICIENT_BALANCE"))["error"]["details"][0]["code"] == "INSUFFICIENT_BALANCE"


def test_the_campaign_rule_rounds_half_up_per_account_type() -> None:
    assert reward_amounts({"points": "1", "miles": "0.005"}, Decimal("100.10")) == {
        Asset.POINTS: Decimal("100.10"), Asset.MILES: Decimal("0.50")}
    assert reward_amounts(None, Decimal("3")) == {Asset.POINTS: Decimal("3.00")}
    with pytest.raises(InvalidArgument):
        reward_amounts({"points": "0.001"}, Decimal("1"))
    with pytest.raises(InvalidArgument):
        reward_amounts({"stars": "1"}, Decimal("1"))

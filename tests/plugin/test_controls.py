"""Faults and the clock as an integrator drives them: a rule live at once and gone after its `with` block, a
tenant's rules touching only it, a rule that does not fit refused with the server's reason, the clock frozen
and advanced (a bearer token is fetched again once the clock has moved), and whatever a test leaves behind
undone before the next one."""
from __future__ import annotations

import pytest

CONTROL_TESTS = '''
from datetime import datetime, timedelta, timezone

import pytest
import requests

from gateway.testing import AdminError

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


def customer(view):
    return requests.get(f"{view.base_url}/api/customers/1534.xml", auth=view.auth)


def test_a_fault_lives_for_its_with_block(loyalty_gateway, loyalty_tenant):
    imonggo = loyalty_tenant.imonggo
    with loyalty_gateway.faults.add(dialect="imonggo", effect="status", status=503, times=1) as rule:
        down = customer(imonggo)
        assert down.status_code == 503 and "<error>" in down.text  # in imonggo's own error shape
        assert customer(imonggo).status_code == 200  # times=1: the rule is spent
        assert rule.hits == 1
    assert loyalty_gateway.faults.list() == []
    (faulted, _) = loyalty_tenant.requests(dialect="imonggo")
    assert faulted.outcome == "fault_status" and faulted.fault["handler_ran"] is False


def test_a_tenants_fault_touches_only_that_tenant(loyalty_gateway, loyalty_tenant):
    other = loyalty_gateway.new_tenant()
    try:
        loyalty_tenant.faults.add({"effect": "status", "status": 500})  # left in place: undone after the test
        assert customer(loyalty_tenant.imonggo).status_code == 500
        assert customer(other.imonggo).status_code == 200
        assert [r["tenant"] for r in loyalty_tenant.faults.list()] == [loyalty_tenant.name]
    finally:
        loyalty_gateway.forget(other)


def test_nothing_is_left_from_the_test_before(loyalty_gateway, loyalty_tenant):
    assert loyalty_gateway.faults.list() == []
    assert customer(loyalty_tenant.imonggo).status_code == 200
    assert abs(loyalty_gateway.clock.now() - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_a_fault_that_does_not_fit_is_refused_with_the_reason(loyalty_gateway):
    with pytest.raises(AdminError) as refused:
        loyalty_gateway.faults.add(effect="explode")
    assert refused.value.status == 400
    assert "POST /__admin/faults answered 400: effect" in str(refused.value)
    assert loyalty_gateway.faults.list() == []


def test_the_clock_freezes_and_advances(loyalty_gateway, loyalty_tenant):
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert loyalty_gateway.clock.freeze(start).now == start
    pomelo = loyalty_tenant.pomelo
    first = pomelo.headers
    assert loyalty_gateway.clock.advance(days=2).now == start + timedelta(days=2)
    assert pomelo.headers != first  # the first token expired a day later: a new one is fetched
    answer = requests.get(f"{pomelo.base_url}/loyalty/v1/accounts/balance", params={"card_id": CARD},
                          headers=pomelo.headers)
    assert answer.status_code == 200, answer.text
    (balance,) = loyalty_tenant.requests(path="/loyalty/v1/accounts/balance")
    assert balance.raw["ledger_time"] == "2030-01-03T00:00:00Z"
    loyalty_gateway.clock.advance(timedelta(hours=1))  # left frozen on purpose: undone after the test


def test_real_time_is_back_after_a_test_that_left_the_clock_frozen(loyalty_gateway, loyalty_tenant):
    assert abs(loyalty_gateway.clock.now() - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_a_with_block_puts_real_time_back(loyalty_gateway):
    with loyalty_gateway.clock.freeze("2031-06-01T12:00:00Z") as frozen:
        assert frozen.frozen and loyalty_gateway.clock.now() == datetime(2031, 6, 1, 12, tzinfo=timezone.utc)
    assert loyalty_gateway.clock.now().year != 2031


def test_a_time_without_a_timezone_is_refused(loyalty_gateway):
    with pytest.raises(ValueError, match="has no timezone"):
        loyalty_gateway.clock.freeze(datetime(2030, 1, 1))
    with pytest.raises(AdminError, match="frozen_at must"):
        loyalty_gateway.clock.freeze("next tuesday")
'''


def test_faults_and_the_clock(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_controls=CONTROL_TESTS)
    result = integrator.runpytest()
    result.assert_outcomes(passed=8)


LEFT_BEHIND = '''
from datetime import datetime, timedelta, timezone

import pytest
import requests


def real_time(gateway):
    return abs(gateway.clock.now() - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_a_gateway_only_test_leaves_a_fault_and_a_frozen_clock(loyalty_gateway):
    loyalty_gateway.faults.add(dialect="imonggo", effect="status", status=503)  # no `with`, no tenant
    loyalty_gateway.clock.freeze("2031-06-01T12:00:00Z")
    assert len(loyalty_gateway.faults.list()) == 1 and not real_time(loyalty_gateway)


def test_a_tenant_test_after_it_finds_none_of_it(loyalty_gateway, loyalty_tenant):
    assert loyalty_gateway.faults.list() == [] and real_time(loyalty_gateway)
    imonggo = loyalty_tenant.imonggo
    assert requests.get(f"{imonggo.base_url}/api/customers/1534.xml", auth=imonggo.auth).status_code == 200
    loyalty_gateway.clock.advance(days=3)  # left moved: undone with the tenant's test too


def test_a_gateway_only_test_after_that_finds_none_of_it(loyalty_gateway):
    assert loyalty_gateway.faults.list() == [] and real_time(loyalty_gateway)


@pytest.fixture(scope="module")
def imonggo_down(loyalty_gateway):
    rule = loyalty_gateway.faults.add(dialect="imonggo", effect="status", status=503)
    yield rule
    rule.remove()


@pytest.mark.parametrize("n", range(2))
def test_a_module_fixtures_rule_lasts_for_its_module(loyalty_gateway, imonggo_down, n):
    assert [rule["id"] for rule in loyalty_gateway.faults.list()] == [imonggo_down.id]
    loyalty_gateway.faults.add(dialect="pomelo", effect="status", status=500)  # this one is the test's own
'''


def test_what_a_test_leaves_is_undone_with_or_without_a_tenant(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_left_behind=LEFT_BEHIND)
    result = integrator.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5)

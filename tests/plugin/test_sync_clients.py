"""An integrator's plain (sync) tests against every dialect through loyalty_tenant, with requests and httpx:
the per-dialect base URL, Basic auth pair and headers work, balances read by any identity, each test gets a
tenant of its own, and the journal counts what was sent."""
from __future__ import annotations

import pytest

SYNC_TESTS = '''
from decimal import Decimal

import httpx
import pytest
import requests

JUAN = 1534


def test_spend_in_imonggo_with_requests(loyalty_tenant):
    imonggo = loyalty_tenant.imonggo
    answer = requests.post(f"{imonggo.base_url}/api/rewards.xml", auth=imonggo.auth,
                           params={"q": "spend", "customer_id": JUAN, "amount": 10, "reference": "INV-1"})
    assert answer.status_code == 200, answer.text
    assert "<points-spent type=\\"decimal\\">2000.0</points-spent>" in answer.text
    assert loyalty_tenant.balance(JUAN) == Decimal("28511")
    (spend,) = loyalty_tenant.verify(1, dialect="imonggo", method="POST", path="/api/rewards")
    assert spend.status == 200 and "points-spent" in spend.response_body and "reference=INV-1" in spend.query


def test_every_test_has_a_fresh_tenant(loyalty_tenant):
    assert loyalty_tenant.balance(JUAN) == Decimal("30511")  # the spend above was another tenant's
    assert loyalty_tenant.requests() == []


def test_adjust_in_memberpoints_with_requests(loyalty_tenant):
    memberpoints = loyalty_tenant.memberpoints
    answer = requests.post(f"{memberpoints.base_url}/webapps/api/memberpoints", headers=memberpoints.headers,
                           json={"mbr_id": JUAN, "adjustpoints": "-25"})
    assert answer.status_code == 200 and answer.json()["success"] is True, answer.text
    assert loyalty_tenant.balance(JUAN) == Decimal("30486")
    assert loyalty_tenant.balance("test@example.com") == Decimal("120")  # Johnson, by e-mail
    (adjust,) = loyalty_tenant.requests(dialect="memberpoints")
    assert adjust.request_json() == {"mbr_id": JUAN, "adjustpoints": "-25"}
    assert adjust.response_json()["data"]["adjustpoints"] == "-25.00"


def test_burn_in_pomelo_with_httpx(loyalty_tenant):
    pomelo = loyalty_tenant.pomelo
    assert pomelo.headers["Authorization"].startswith("Bearer ")
    with httpx.Client(base_url=pomelo.base_url, headers=pomelo.headers) as client:
        burn = client.post("/loyalty/v1/accounts/points/burn", headers={"x-idempotency-key": "burn-1"},
                           json={"card_id": "crd-2ay34Uk2fseMY5l3OwddSRX8iR4", "amount": "11", "reason": "Redeemed"})
        assert burn.status_code == 200 and burn.json()["updatedBalance"] == 30500, burn.text
        balance = client.get("/loyalty/v1/accounts/balance", params={"user_id": "usr-2ay34WhGUtCeoewakpeJTRuVWlx"})
    assert balance.json()["points"] == 30500
    assert loyalty_tenant.balance("crd-2ay34Uk2fseMY5l3OwddSRX8iR4") == Decimal("30500")
    assert loyalty_tenant.balance("usr-2ay34WhGUtCeoewakpeJTRuVWlx") == Decimal("30500")
    loyalty_tenant.verify(1, dialect="pomelo", path="/oauth/token")  # the view's own token request is journaled
    loyalty_tenant.verify(1, method="POST", path="/loyalty/*/burn")
    assert loyalty_tenant.requests(dialect="pomelo").count == 3
    assert loyalty_tenant.requests(dialect="pomelo", status="4xx").count == 0


def test_imonggo_with_httpx_and_a_wrong_password_user(loyalty_tenant):
    imonggo = loyalty_tenant.imonggo
    with httpx.Client(base_url=imonggo.base_url, auth=imonggo.auth) as client:
        assert client.get(f"/api/customers/{JUAN}.xml").status_code == 200
    assert requests.get(f"{imonggo.base_url}/api/customers/{JUAN}.xml", auth=("not-a-token", "X")).status_code == 401
    assert imonggo.headers["Authorization"].startswith("Basic ")
    assert set(imonggo.credentials) >= {"api_token", "email", "password"}
'''


def test_sync_tests_in_every_dialect_pass(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_sync=SYNC_TESTS)
    result = integrator.runpytest()
    result.assert_outcomes(passed=5)

"""The webhook sink as an integrator uses it: a card purchase and its presentment cause a real loyalty-confirm,
signed by the sandbox and checked by the sink with the tenant's own secret; a wait that times out lists
what did arrive; a webhook signed with another secret is received but never counts as the awaited event."""
from __future__ import annotations

import pytest

WEBHOOK_TESTS = '''
from decimal import Decimal

import pytest
import requests

from gateway.testing import WebhookTimeout

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


def purchase(gateway, tenant, amount):
    answer = requests.post(f"{gateway.admin_url}/pomelo/transactions", params={"tenant": tenant.name},
                           json={"card_id": CARD, "amount": amount})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_a_presented_purchase_sends_a_signed_loyalty_confirm(loyalty_gateway, loyalty_tenant):
    transaction = purchase(loyalty_gateway, loyalty_tenant, "1000")
    presented = requests.post(f"{loyalty_gateway.admin_url}/pomelo/transactions/{transaction}/presentment",
                              params={"tenant": loyalty_tenant.name})
    assert presented.status_code == 200, presented.text
    confirm = loyalty_tenant.webhooks.wait_for("loyalty-confirm", timeout=5)
    assert confirm.verified and confirm.headers["X-Signature"].startswith("hmac-sha256 ")
    detail = confirm.json()["event_detail"]
    assert detail["transaction_id"] == transaction and detail["status"] == "CONFIRMED"
    assert Decimal(detail["balance"]) == loyalty_tenant.balance(CARD) == Decimal("31511")
    assert [w.event for w in loyalty_tenant.webhooks.received] == ["loyalty-pending", "loyalty-confirm"]


def test_a_wait_that_times_out_says_what_came(loyalty_gateway, loyalty_tenant):
    purchase(loyalty_gateway, loyalty_tenant, "500")
    loyalty_tenant.webhooks.wait_for("loyalty-pending")
    with pytest.raises(WebhookTimeout) as late:
        loyalty_tenant.webhooks.wait_for("loyalty-confirm", timeout=0.3)
    assert str(late.value) == (f"no loyalty-confirm webhook with a good signature came for tenant {loyalty_tenant.name}"
                               " within 0.3 s; received: loyalty-pending (signature ok)")


def test_a_wait_with_nothing_received_says_so(loyalty_tenant):
    with pytest.raises(WebhookTimeout, match="within 0.1 s; received: nothing$"):
        loyalty_tenant.webhooks.wait_for("loyalty-cancel", timeout=0.1)


def test_a_webhook_signed_with_another_secret_is_refused(loyalty_gateway, loyalty_tenant):
    other = loyalty_gateway.new_tenant()
    try:  # the other tenant's webhooks go to this tenant's address, signed with the other tenant's secret
        loyalty_gateway.admin("PUT", "/pomelo/webhooks", params={"tenant": other.name},
                              json={"url": loyalty_tenant.webhooks.url("pomelo")})
        purchase(loyalty_gateway, other, "100")
        with pytest.raises(WebhookTimeout, match="received: loyalty-pending \\\\(BAD SIGNATURE\\\\)"):
            loyalty_tenant.webhooks.wait_for("loyalty-pending", timeout=1)
        assert other.webhooks.received == []
    finally:
        loyalty_gateway.forget(other)
'''


def test_the_webhook_sink(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_webhooks=WEBHOOK_TESTS)
    result = integrator.runpytest()
    result.assert_outcomes(passed=4)

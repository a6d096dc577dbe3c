"""The loyalty_scenario marker (a document, a JSON or TOML file next to the test, one tenant of several) and
every way an integrator can get it or the helpers wrong, each said in one clear line: a bad marker, a
scenario the server refuses, a file that is not there, an unknown member, a dialect that is not there."""
from __future__ import annotations

import json

import pytest

SHOP = {"tenants": [
    {"name": "shop", "members": [{"customer_id": 7, "mbr_id": 7, "name": "Ana", "email": "ana@example.com",
                                  "balances": {"points": "50"}}]},
    {"name": "outlet", "members": [{"customer_id": 8, "mbr_id": 8, "name": "Ben", "balances": {"points": "8.50"}}]},
]}
SHOP_TOML = """
[[tenants]]
name = "kiosk"
[[tenants.members]]
customer_id = 9
name = "Cy"
balances = { points = "12.25" }
"""

SCENARIO_TESTS = '''
from decimal import Decimal

import pytest

SHOP = %s


@pytest.mark.loyalty_scenario(SHOP)
def test_a_document(loyalty_tenant):
    assert loyalty_tenant.name.startswith("shop-")
    assert loyalty_tenant.balance(7) == loyalty_tenant.balance("ana@example.com") == Decimal("50")


@pytest.mark.loyalty_scenario("scenarios/shop.json", tenant="outlet")
def test_one_tenant_of_a_json_file(loyalty_tenant):
    assert loyalty_tenant.name.startswith("outlet-") and loyalty_tenant.balance(8) == Decimal("8.50")


@pytest.mark.loyalty_scenario(scenario="scenarios/kiosk.toml")
def test_a_toml_file(loyalty_tenant):
    assert loyalty_tenant.balance(9) == Decimal("12.25")


def test_the_demo_without_a_marker(loyalty_tenant):
    assert loyalty_tenant.name.startswith("demo-") and loyalty_tenant.balance(1534) == Decimal("30511")
''' % json.dumps(SHOP)


def test_scenarios_named_by_the_marker(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_scenarios=SCENARIO_TESTS)
    (integrator.path / "scenarios").mkdir()
    (integrator.path / "scenarios" / "shop.json").write_text(json.dumps(SHOP), encoding="utf-8")
    (integrator.path / "scenarios" / "kiosk.toml").write_text(SHOP_TOML, encoding="utf-8")
    integrator.runpytest().assert_outcomes(passed=4)


BAD_MARKERS = '''
import pytest


@pytest.mark.loyalty_scenario("demo", "demo")
def test_two_scenarios(loyalty_tenant):
    pass


@pytest.mark.loyalty_scenario("demo", tenants="demo")
def test_an_unknown_argument(loyalty_tenant):
    pass


@pytest.mark.loyalty_scenario("demo", tenant=3)
def test_a_tenant_that_is_no_name(loyalty_tenant):
    pass


@pytest.mark.loyalty_scenario("missing.json")
def test_a_file_that_is_not_there(loyalty_tenant):
    pass


@pytest.mark.loyalty_scenario({"tenants": [{"name": "x", "members": "none"}]})
def test_a_document_the_server_refuses(loyalty_tenant):
    pass


@pytest.mark.loyalty_scenario("demo", tenant="nobody")
def test_a_tenant_the_scenario_lacks(loyalty_tenant):
    pass


@pytest.mark.loyalty_scenario(42)
def test_a_scenario_of_the_wrong_type(loyalty_tenant):
    pass
'''


def test_bad_markers_error_in_one_line_each(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_bad=BAD_MARKERS)
    result = integrator.runpytest()
    result.assert_outcomes(errors=7)
    result.stdout.fnmatch_lines_random([
        "*@pytest.mark.loyalty_scenario: give one scenario, not 2; use loyalty_scenario(scenario, tenant=None)*",
        "*@pytest.mark.loyalty_scenario: unknown argument(s) tenants; use*",
        "*@pytest.mark.loyalty_scenario: tenant= must be a tenant's name; use*",
        "*loyalty_tenant: cannot make the tenant of scenario 'missing.json': scenario */missing.json: cannot read it"
        " (No such file or directory)",
        "*loyalty_tenant: cannot make the tenant of the scenario document: POST /__admin/tenants answered 400:"
        " scenario request body: field tenants[[]0[]].members: 'none' is not of type 'array'",
        "*loyalty_tenant: cannot make the tenant of scenario 'demo' (tenant 'nobody'): POST /__admin/tenants"
        " answered 400: the scenario has no tenant named 'nobody'",
        '*loyalty_tenant: cannot make the tenant of scenario \'42\': a scenario is "demo", a scenario document (a dict) or'
        ' a file path, not int',
    ])
    assert "Traceback" not in result.stdout.str()


HELPER_MISTAKES = '''
import pytest

from gateway.testing import UnknownMember


def test_an_unknown_member(loyalty_tenant):
    with pytest.raises(UnknownMember, match=f"tenant {loyalty_tenant.name} has no member '999999'"):
        loyalty_tenant.balance(999999)
    with pytest.raises(UnknownMember, match="has no member 'nobody@example.com'"):
        loyalty_tenant.balance("nobody@example.com")


def test_something_that_names_no_member(loyalty_tenant):
    with pytest.raises(ValueError, match="'Juan' names no member: member must be a customer id"):
        loyalty_tenant.balance("Juan")


def test_a_member_with_no_entry_has_nothing(loyalty_tenant):
    assert loyalty_tenant.balance(1534, "miles") == 0


def test_a_dialect_that_is_not_there(loyalty_tenant):
    with pytest.raises(AttributeError, match="has no attribute 'shopify' \\\\(its dialects: imonggo, memberpoints,"
                                             " pomelo\\\\)"):
        loyalty_tenant.shopify
    with pytest.raises(AttributeError, match="the memberpoints dialect takes no Basic auth: send .headers"):
        loyalty_tenant.memberpoints.auth


def test_a_journal_count_that_does_not_match_lists_what_was_recorded(loyalty_tenant):
    import requests

    imonggo = loyalty_tenant.imonggo
    requests.get(f"{imonggo.base_url}/api/customers/1534.xml", auth=imonggo.auth)
    with pytest.raises(AssertionError) as wrong:
        loyalty_tenant.verify(2, dialect="imonggo")
    assert str(wrong.value).endswith("found 1; the journal holds 1 of its requests:\\n"
                                     "  imonggo GET /api/customers/1534.xml -> 200 (answered)")
'''


def test_helper_mistakes_are_said_plainly(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_mistakes=HELPER_MISTAKES)
    integrator.runpytest().assert_outcomes(passed=5)


def test_a_database_url_of_no_known_kind_is_a_usage_error(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_x="def test_x(loyalty_tenant):\n    pass\n")
    result = integrator.runpytest("--loyalty-gateway-database", "mysql://db/x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --loyalty-gateway-database 'mysql://db/x': give a URL starting with"
                                 " postgresql:// or sqlite:///"])


def test_a_database_that_cannot_be_reached_fails_the_fixture_in_one_line(integrator: pytest.Pytester) -> None:
    integrator.makepyfile(test_x="def test_x(loyalty_tenant):\n    pass\n\ndef test_y(loyalty_gateway):\n    pass\n")
    result = integrator.runpytest("--loyalty-gateway-database", "postgresql://nobody:secret@127.0.0.1:1/none")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*loyalty_gateway: the sandbox server did not start on"
                                 " postgresql://nobody:***@127.0.0.1:1/none: *"])
    assert "secret" not in result.stdout.str()

"""A tenant's upstream, as a scenario declares it: a registered dialect, an absolute http(s) base URL,
exactly the credentials that dialect takes, a record flag and nothing else. Each mistake is named by its
field, and no message ever quotes a secret."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gateway.scenario import ScenarioError, check_scenario, read_scenario, tenant_parts
from tests import process
from tests.upstream.conftest import MP_KEY, POMELO_SECRET, SECRETS, scenario, tenant, upstream


def refused(document: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        check_scenario(document, "request body")
    message = str(caught.value)
    assert not [s for s in SECRETS if s in message], message
    return message


def test_a_declared_upstream_is_stored_in_the_tenants_upstream_section_with_record_off_by_default() -> None:
    checked = check_scenario(scenario(tenant(up=upstream("pomelo", "https://api.pomelo.example/"))), "body")
    _, config = tenant_parts(checked["tenants"][0])
    assert config["upstream"] == {
        "dialect": "pomelo", "base_url": "https://api.pomelo.example",
        "credentials": {"client_id": "gw-client", "client_secret": POMELO_SECRET, "audience": "https://api.pomelo.la"},
        "record": False,
    }


def test_record_true_is_kept() -> None:
    checked = check_scenario(scenario(tenant(up=upstream("imonggo", record=True))), "body")
    assert tenant_parts(checked["tenants"][0])[1]["upstream"]["record"] is True


@pytest.mark.parametrize(("change", "words"), [
    ({"dialect": "square"}, "tenants[0].upstream.dialect: 'square' is no upstream dialect (one of imonggo, memberpoints, pomelo)"),
    ({"dialect": None}, "tenants[0].upstream.dialect: required"),
    ({"base_url": "ftp://files.example"}, "tenants[0].upstream.base_url: must be an absolute http:// or https:// URL"),
    ({"base_url": "/loyalty"}, "tenants[0].upstream.base_url: must be an absolute"),
    ({"base_url": "https://user:pw@api.example"}, "tenants[0].upstream.base_url: must not carry a user or password"),
    ({"base_url": "https://api.example/?x=1"}, "tenants[0].upstream.base_url: must have no query"),
    ({"base_url": "https://api.example:http/"}, "tenants[0].upstream.base_url: not a URL"),
    ({"record": "yes"}, "tenants[0].upstream.record: must be true or false"),
    ({"colour": "blue"}, "tenants[0].upstream: unknown field 'colour'"),
])
def test_a_bad_field_is_named(change: dict[str, Any], words: str) -> None:
    assert words in refused(scenario(tenant(up={**upstream("memberpoints"), **change})))


def test_credentials_must_be_exactly_the_dialects_names() -> None:
    up = upstream("memberpoints")
    del up["credentials"]["api_key"]
    assert "field tenants[0].upstream.credentials.api_key: required (the memberpoints upstream takes api_id, api_key)" \
        in refused(scenario(tenant(up=up)))
    up = upstream("memberpoints")
    up["credentials"]["client_secret"] = POMELO_SECRET
    assert "'client_secret' is not a memberpoints credential (it takes api_id, api_key)" in refused(scenario(tenant(up=up)))
    up = upstream("pomelo")
    up["credentials"]["client_secret"] = 12345
    assert "tenants[0].upstream.credentials.client_secret: must be a non-empty string" in refused(scenario(tenant(up=up)))
    assert "tenants[0].upstream.credentials: must be an object with api_token" in refused(
        scenario(tenant(up={**upstream("imonggo"), "credentials": "secret"})))


def test_the_second_tenant_is_named_by_its_index() -> None:
    message = refused(scenario(tenant("a"), tenant("b", up={**upstream("imonggo"), "base_url": ""})))
    assert "scenario request body: field tenants[1].upstream.base_url: required" in message


def test_a_schema_message_that_would_quote_the_tenant_masks_the_upstreams_secrets() -> None:
    # The tenant's name is wrong (the schema speaks), while its upstream is valid and holds secrets.
    bad = tenant(up=upstream("memberpoints"))
    bad["name"] = f"{MP_KEY} shop"  # a bad name holding the secret: the schema quotes it back
    message = refused(scenario(bad))
    assert "[FILTERED]" in message


def test_a_members_upstream_id_needs_an_upstream_and_appears_once() -> None:
    assert "field tenants[0].members[0].upstream_id: the tenant declares no upstream" in refused(scenario(tenant()))
    twice = [{"customer_id": 1, "upstream_id": "u-1"}, {"customer_id": 2, "upstream_id": "u-1"}]
    assert "field tenants[0].members[1].upstream_id: 'u-1' appears twice" in refused(
        scenario(tenant(up=upstream("imonggo"), members=twice)))
    by_case = [{"customer_id": 1, "upstream_id": "usr-Ab"}, {"customer_id": 2, "upstream_id": "usr-aB"}]
    check_scenario(scenario(tenant(up=upstream("pomelo"), members=by_case)), "body")  # two people at pomelo
    assert "field tenants[0].members[0].upstream_id" in refused(
        scenario(tenant(up=upstream("imonggo"), members=[{"customer_id": 1, "upstream_id": ""}])))


def test_a_member_of_an_upstream_tenant_has_no_opening_balance_here() -> None:
    member = {"customer_id": 1, "balances": {"points": "100"}}
    assert "field tenants[0].members[0].balances: the tenant's points live at its upstream" in refused(
        scenario(tenant(up=upstream("pomelo"), members=[member])))


TOML = '''
[[tenants]]
name = "shop"
imonggo = { api_token = "shop-token" }

[tenants.upstream]
dialect = "memberpoints"
base_url = "https://api.website.world"
credentials = { api_id = "900100", api_key = "KEY" }
record = true

[[tenants.members]]
customer_id = 1534
upstream_id = "442531"
'''


def test_a_toml_scenario_declares_an_upstream_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "shop.toml"
    path.write_text(TOML.replace("KEY", MP_KEY), encoding="utf-8")
    _, config = tenant_parts(read_scenario(path)["tenants"][0])
    assert config["upstream"] == {"dialect": "memberpoints", "base_url": "https://api.website.world",
                                  "credentials": {"api_id": "900100", "api_key": MP_KEY}, "record": True}


@pytest.mark.slow
def test_seed_checks_the_upstream_too_and_stores_the_members_upstream_id(tmp_path: Path) -> None:
    path = tmp_path / "shop.toml"
    path.write_text(TOML.replace("KEY", MP_KEY), encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'seeded.db'}"
    done = process.run(["seed", "--scenario", str(path), "--database", database], tmp_path)
    assert done.returncode == 0, done.stderr
    assert MP_KEY not in done.stdout + done.stderr
    with sqlite3.connect(tmp_path / "seeded.db") as conn:
        assert conn.execute("SELECT upstream_ref FROM members").fetchall() == [("442531",)]
    path.write_text(TOML.replace("KEY", MP_KEY).replace('api_id = "900100", ', ""), encoding="utf-8")
    done = process.run(["seed", "--scenario", str(path), "--database", f"sqlite:///{tmp_path / 'other.db'}"], tmp_path)
    assert done.returncode == 1 and MP_KEY not in done.stderr
    assert "field tenants[0].upstream.credentials.api_id: required (the memberpoints upstream takes api_id, api_key)" \
        in done.stderr
